/**
 * The shape of a CSV file, counted byte by byte: how many fields each record has, on which physical line it
 * starts, and which records disagree with the header. DuckDB's dialect sniffer cannot be trusted with this —
 * a file with one short and one long row can be "detected" as a single VARCHAR column, or as headerless rows
 * after a skipped prefix, and then loads as success — so every CSV reader counts the fields itself first and
 * hands DuckDB a fixed dialect. Pure: bytes in, counts out; the IO around it is in csv-verify.ts.
 *
 * Quotes follow RFC 4180 (`"` quotes, `""` inside quotes is a literal quote), so a quoted delimiter or line
 * break does not count. Blank lines are not records (DuckDB skips them too).
 */

/** A record whose field count differs from the header's. */
export interface BadRow {
  /** 1-based physical line where the record starts (the header is line 1). */
  line: number;
  expected: number;
  found: number;
  /** The start of the line as text, for examples in messages. */
  text: string;
}

/** What a whole file looked like. */
export interface CsvShape {
  /** Fields of the first record (the header when there is one). */
  columns: number;
  /** Records after the header (or all of them without one), bad ones included. */
  records: number;
  /** Records with fewer fields than the header. */
  shortRows: number;
  /** Records with more fields than the header. */
  longRows: number;
  /** The first bad rows, in file order (at most the counter's `keepExamples`). */
  examples: BadRow[];
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const EXAMPLE_CHARS = 120;

/** Counts fields per record over chunks of a CSV file; feed every chunk in order, then `finish()`. */
export class CsvShapeCounter {
  private readonly delimiter: number;
  private line = 1;
  private recordLine = 1;
  private inQuotes = false;
  private fields = 1;
  private recordBytes = 0;
  private expected = -1;
  private records = 0;
  private shortRows = 0;
  private longRows = 0;
  private readonly examples: BadRow[] = [];
  /** The current record's first bytes, kept only until we know whether it is bad. */
  private head: number[] = [];

  constructor(
    delimiter: string,
    private readonly hasHeader = true,
    private readonly keepExamples = 3,
  ) {
    if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f) throw new RangeError(`CSV delimiter must be one ASCII character, got ${JSON.stringify(delimiter)}`);
    this.delimiter = delimiter.charCodeAt(0);
  }

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) {
        this.inQuotes = !this.inQuotes;
      } else if (byte === NEWLINE) {
        this.line++;
        if (!this.inQuotes) {
          this.endRecord();
          continue;
        }
      } else if (!this.inQuotes && byte === this.delimiter) {
        this.fields++;
      }
      if (byte !== CARRIAGE_RETURN || this.inQuotes) this.recordBytes++;
      if (this.head.length < EXAMPLE_CHARS) this.head.push(byte);
    }
  }

  /** The counts once the last chunk is in (a last record without a trailing newline counts). */
  finish(): CsvShape {
    this.endRecord();
    return {
      columns: Math.max(this.expected, 0),
      records: this.records,
      shortRows: this.shortRows,
      longRows: this.longRows,
      examples: [...this.examples],
    };
  }

  private endRecord(): void {
    const fields = this.fields;
    const blank = this.recordBytes === 0;
    const line = this.recordLine;
    const head = this.head;
    this.fields = 1;
    this.recordBytes = 0;
    this.recordLine = this.line;
    this.head = [];
    if (blank) return;
    if (this.expected === -1) {
      this.expected = fields;
      if (this.hasHeader) return;
    }
    this.records++;
    if (fields === this.expected) return;
    if (fields < this.expected) this.shortRows++;
    else this.longRows++;
    if (this.examples.length < this.keepExamples) {
      const text = Buffer.from(head).toString("utf8").replace(/\r?\n[\s\S]*$/, "");
      this.examples.push({ line, expected: this.expected, found: fields, text });
    }
  }
}

const DELIMITER_CANDIDATES = [",", ";", "\t", "|"];

/**
 * The delimiter a header line uses when none is given: the candidate appearing most often outside quotes
 * (`,` on a tie or when none appears, so a one-column file reads as one column).
 */
export function detectDelimiter(headerLine: string): string {
  let best = ",";
  let bestCount = 0;
  for (const candidate of DELIMITER_CANDIDATES) {
    let count = 0;
    let inQuotes = false;
    for (const ch of headerLine) {
      if (ch === '"') inQuotes = !inQuotes;
      else if (!inQuotes && ch === candidate) count++;
    }
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** "line 3: expected 3 columns, found 2 (`3,4`)" — one bad row for messages. */
export function describeBadRow(row: BadRow): string {
  return `line ${row.line}: expected ${row.expected} columns, found ${row.found} (${JSON.stringify(row.text)})`;
}
