import { CsvShapeCounter, detectDelimiter } from "./csv-shape";

/** Counts `text` fed in chunks of `size` bytes, so records and quotes cross chunk boundaries. */
function shapeOf(text: string, size = 3, delimiter = ",", header = true) {
  const counter = new CsvShapeCounter(delimiter, header);
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += size) counter.push(bytes.subarray(i, i + size));
  return counter.finish();
}

describe("CsvShapeCounter", () => {
  it("finds the short and the long row with their physical lines", () => {
    const shape = shapeOf("id,val,name\n1,2,a\n3,4\n5,6,b,7\n8,9,c\n");
    expect(shape).toMatchObject({ columns: 3, records: 4, shortRows: 1, longRows: 1 });
    expect(shape.examples).toEqual([
      { line: 3, expected: 3, found: 2, text: "3,4" },
      { line: 4, expected: 3, found: 4, text: "5,6,b,7" },
    ]);
  });

  it("does not count delimiters or line breaks inside quotes, and reports the line a multi-line record starts on", () => {
    const shape = shapeOf('a,b\r\n"x, y","multi\nline"\r\n"he said ""hi""",2\r\n\r\nshort\r\n');
    expect(shape).toMatchObject({ columns: 2, records: 3, shortRows: 1, longRows: 0 });
    expect(shape.examples[0]).toMatchObject({ line: 6, found: 1 });
  });

  it("counts a last record without a newline, skips blank lines, and knows a header-only file", () => {
    expect(shapeOf("a,b\n\n1,2\n\n3")).toMatchObject({ records: 2, shortRows: 1 });
    expect(shapeOf("a;b;c\n", 1, ";")).toMatchObject({ columns: 3, records: 0 });
    expect(shapeOf("1,2\n3,4\n", 2, ",", false)).toMatchObject({ columns: 2, records: 2, shortRows: 0 });
  });
});

describe("detectDelimiter", () => {
  it("picks the most frequent candidate outside quotes, defaulting to a comma", () => {
    expect(detectDelimiter("a;b;c")).toBe(";");
    expect(detectDelimiter("a\tb\tc")).toBe("\t");
    expect(detectDelimiter('"x;y;z",b')).toBe(",");
    expect(detectDelimiter("single")).toBe(",");
  });
});
