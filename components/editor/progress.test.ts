/** Block progress as the editor shows it: cumulative over the files and URLs a block reads, with a total when known. */
import { describeProgress, mergeProgress, type BlockProgressView, type ProgressUpdate } from "./progress";

function fold(updates: ProgressUpdate[], runId = "r1"): BlockProgressView {
  let view: BlockProgressView | undefined;
  for (const update of updates) view = mergeProgress(view, runId, update);
  if (!view) throw new Error("no updates");
  return view;
}

it("adds up the rows of every file a block reads, instead of starting again at each file", () => {
  const view = fold([
    { rows: 40_000, message: "read trips/2020-10.csv" },
    { rows: 95_120, message: "read trips/2020-10.csv" },
    { rows: 30_000, message: "read trips/2020-11.csv" },
    { rows: 88_605, message: "read trips/2020-11.csv" },
  ]);
  expect(view.rows).toBe(95_120 + 88_605);
  expect(describeProgress(view).text).toBe("183,725 rows");
});

it("adds up the bytes of several downloads with their totals, and says the total is unknown once one is", () => {
  const known = fold([
    { bytes: 4 * 1024 * 1024, totalBytes: 4 * 1024 * 1024, message: "GET https://example.test/a.csv.gz" },
    { bytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024, message: "GET https://example.test/b.csv.gz" },
  ]);
  expect(describeProgress(known)).toEqual({ text: "5.0 MiB of 8.0 MiB (62%)", fraction: 5 / 8 });
  const unknown = fold([
    { bytes: 2048, message: "GET https://example.test/a.csv.gz" },
    { bytes: 1024, totalBytes: 4096, message: "GET https://example.test/b.csv.gz" },
  ]);
  expect(describeProgress(unknown)).toEqual({ text: "3.0 KiB downloaded", fraction: null });
});

it("starts a new count for another kind of work, keeps a retry note on the same source, and a new run starts afresh", () => {
  const writing = fold([
    { rows: 1000, message: "read trips.csv" },
    { rows: 400, message: "wrote lake/trips.parquet" },
  ]);
  expect(writing.rows).toBe(400);
  const retried = fold([
    { bytes: 100, totalBytes: 1000, message: "GET https://example.test/a.csv" },
    { message: "GET https://example.test/a.csv: socket hang up; retry 1 of 3 in 500 ms" },
    { bytes: 300, totalBytes: 1000, message: "GET https://example.test/a.csv" },
  ]);
  expect(describeProgress(retried).text).toBe("300 B of 1000 B (30%)");
  // A block's own ctx.progress without a message keeps meaning "so far".
  expect(fold([{ rows: 10 }, { rows: 25 }]).rows).toBe(25);
  expect(mergeProgress(writing, "r2", { rows: 3, message: "read x" })).toEqual({ runId: "r2", rows: 3, message: "read x" });
});
