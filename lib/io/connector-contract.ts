/**
 * The one contract every connector passes: the real NYC taxi files go in
 * through `write` and come back through `read` with zero changed values — nulls stay null, the zone
 * lookup's "NA" and "N/A" stay strings, timestamps keep their instant, floats and integers keep their
 * values, row counts match — and the write modes behave (`fail` refuses and keeps the old data,
 * `replace` swaps, `append` adds).
 *
 * Use it from a `*.test.ts` file:
 * ```ts
 * describeConnectorContract("postgres", async () => ({ connector, target: (name) => ({ write: …, read: … }), cleanup }));
 * ```
 * Row order may change on the way (a partitioned lake, a warehouse): the suite adds a `_sluice_row`
 * column before writing and lines rows up by it, so sinks need not preserve order.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Int32, makeData, Table, tableToIPC, Vector, type RecordBatch, type Schema } from "apache-arrow";
import { taxiDataDir } from "../../test/taxi-data";
import { firstDifference } from "../arrow/compare-tables";
import { loadArrowIntoDuckDB, openDuckDB, queryToArrow } from "./duckdb-session";
import type { ArrowConnector, WriteMode } from "./types";

/** Where one data set goes and how to read it back. */
export interface ContractTarget<ReadTarget, WriteTarget> {
  write: WriteTarget;
  read: ReadTarget;
}

/** What a connector's test supplies: the connector, a fresh target per data set name, and cleanup. */
export interface ContractSubject<ReadTarget, WriteTarget> {
  connector: ArrowConnector<ReadTarget, WriteTarget>;
  /** A target no other test uses; `schema` is what will be written (for sinks that need column types, like CSV). */
  target(name: string, schema: Schema): ContractTarget<ReadTarget, WriteTarget>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Write modes the connector supports (default all three). */
  modes?: readonly WriteMode[];
  /** Extra options passed to every write (e.g. `partitionBy` for a lake). */
  partitionBy?: (dataset: string) => string[] | undefined;
  /** The connector also writes an upstream by reference (`ctx.upstream(name)`: a persisted Parquet or Arrow IPC output). */
  upstreamRefs?: boolean;
}

/** The column added before writing so that rows can be matched whatever order a sink returns them in. */
export const ROW_COLUMN = "_sluice_row";

/** Explicit types of the green 2020 CSVs (the Zoomcamp's dtype map): no guessing on the reference side. */
export const GREEN_CSV_COLUMNS: Readonly<Record<string, string>> = {
  VendorID: "INTEGER",
  lpep_pickup_datetime: "TIMESTAMP",
  lpep_dropoff_datetime: "TIMESTAMP",
  store_and_fwd_flag: "VARCHAR",
  RatecodeID: "INTEGER",
  PULocationID: "INTEGER",
  DOLocationID: "INTEGER",
  passenger_count: "INTEGER",
  trip_distance: "DOUBLE",
  fare_amount: "DOUBLE",
  extra: "DOUBLE",
  mta_tax: "DOUBLE",
  tip_amount: "DOUBLE",
  tolls_amount: "DOUBLE",
  ehail_fee: "DOUBLE",
  improvement_surcharge: "DOUBLE",
  total_amount: "DOUBLE",
  payment_type: "INTEGER",
  trip_type: "INTEGER",
  congestion_surcharge: "DOUBLE",
};

/** The zone lookup as text (so "NA" and "N/A" cannot become nulls), except its integer key. */
export const ZONE_CSV_COLUMNS: Readonly<Record<string, string>> = {
  LocationID: "INTEGER",
  Borough: "VARCHAR",
  Zone: "VARCHAR",
  service_zone: "VARCHAR",
};

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** `{'a': 'INTEGER', …}` for DuckDB's `read_csv(columns = …)`. */
export function columnsSql(columns: Readonly<Record<string, string>>): string {
  return `{${Object.entries(columns)
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
    .join(", ")}}`;
}

/** The reference tables: the real files read by DuckDB with explicit types. */
export interface TaxiReference {
  green2020: Table;
  green2024: Table;
  zones: Table;
}

const references = new Map<string, Promise<TaxiReference>>();

/** Reads the reference tables (once per process and folder; about 1 s): every suite compares against the same tables. */
export function loadTaxiReference(dir = taxiDataDir()): Promise<TaxiReference> {
  let loaded = references.get(dir);
  if (loaded === undefined) {
    loaded = readTaxiReference(dir);
    loaded.catch(() => references.delete(dir));
    references.set(dir, loaded);
  }
  return loaded;
}

async function readTaxiReference(dir: string): Promise<TaxiReference> {
  const session = await openDuckDB();
  try {
    const csv = (file: string, columns: Readonly<Record<string, string>>) =>
      `SELECT * FROM read_csv(${sqlString(path.join(dir, file))}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
      `columns = ${columnsSql(columns)}, timestampformat = '%Y-%m-%d %H:%M:%S')`;
    return {
      green2020: await queryToArrow(session.connection, csv("green_tripdata_2020-10.csv.gz", GREEN_CSV_COLUMNS)),
      green2024: await queryToArrow(session.connection, `SELECT * FROM read_parquet(${sqlString(path.join(dir, "green_tripdata_2024-01.parquet"))})`),
      zones: await queryToArrow(session.connection, csv("taxi_zone_lookup.csv", ZONE_CSV_COLUMNS)),
    };
  } finally {
    session.close();
  }
}

/** `table` with a trailing Int32 `_sluice_row` column 0…n-1. */
export function withRowNumbers(table: Table): Table {
  const numbers = new Int32Array(table.numRows);
  for (let i = 0; i < numbers.length; i++) numbers[i] = i;
  const column = new Vector([makeData({ type: new Int32(), length: numbers.length, data: numbers })]);
  return table.assign(new Table({ [ROW_COLUMN]: column }));
}

/** Where each row of the written table sits in what was read back, from its `_sluice_row` column. */
export function rowOrder(actual: Table, rows: number): Int32Array | string {
  const column = actual.getChild(ROW_COLUMN);
  if (column === null) return `column ${ROW_COLUMN} did not come back`;
  const order = new Int32Array(rows).fill(-1);
  for (let i = 0; i < actual.numRows; i++) {
    const value = Number(column.get(i));
    if (!(value >= 0 && value < rows) || order[value] !== -1) return `row ${i} has an unexpected ${ROW_COLUMN} ${String(value)}`;
    order[value] = i;
  }
  return order;
}

async function readBack<R, W>(subject: ContractSubject<R, W>, target: ContractTarget<R, W>): Promise<Table> {
  return subject.connector.read(target.read);
}

async function* batchesOf(table: Table): AsyncIterable<RecordBatch> {
  for (const batch of table.batches) yield batch;
}

/**
 * Declares the jest suite for one connector. `setup` runs once (beforeAll); `cleanup` after all.
 * Tests: three real-file round trips (a Table each, the 2024 Parquet also as a stream of batches),
 * and the three write modes on the zone lookup.
 */
export function describeConnectorContract<R, W>(name: string, setup: () => Promise<ContractSubject<R, W>>, options: ContractOptions = {}): void {
  const modes = options.modes ?? ["replace", "append", "fail"];
  describe(`connector contract: ${name}`, () => {
    let subject: ContractSubject<R, W>;
    let reference: TaxiReference;

    beforeAll(async () => {
      reference = await loadTaxiReference();
      subject = await setup();
    }, 120_000);

    afterAll(async () => {
      await subject?.cleanup();
    });

    it("reads the reference files as the README describes them", () => {
      expect(reference.green2020.numRows).toBe(95_120);
      expect(reference.green2020.getChild("VendorID")?.nullCount).toBe(42_510);
      expect(reference.green2020.getChild("ehail_fee")?.nullCount).toBe(95_120);
      expect(reference.green2024.numRows).toBe(56_551);
      expect(reference.zones.numRows).toBe(265);
      const zone = reference.zones.getChild("Zone");
      const service = reference.zones.getChild("service_zone");
      expect(zone?.get(264)).toBe("NA");
      expect(service?.get(264)).toBe("N/A");
      expect(service?.get(263)).toBe("N/A");
      expect(zone?.nullCount).toBe(0);
    });

    const roundTrip = (dataset: keyof TaxiReference, label: string, asStream = false) =>
      it(
        `round-trips ${label} with zero changed values${asStream ? " (written as a stream of batches)" : ""}`,
        async () => {
          const source = withRowNumbers(reference[dataset]);
          const target = subject.target(`${dataset}${asStream ? "_stream" : ""}`, source.schema);
          const result = await subject.connector.write(asStream ? batchesOf(source) : source, target.write, {
            mode: "replace",
            partitionBy: options.partitionBy?.(dataset),
          });
          expect(result.rows).toBe(source.numRows);
          const actual = await readBack(subject, target);
          expect(actual.numRows).toBe(source.numRows);
          const order = rowOrder(actual, source.numRows);
          if (typeof order === "string") throw new Error(order);
          const columns = reference[dataset].schema.fields.map((f) => f.name);
          expect(firstDifference(source, actual, { columns, order })).toBeNull();
        },
        120_000,
      );

    /** Writes `dataset` as the run would persist an upstream's output (Parquet from DuckDB, or Arrow IPC), then by reference. */
    const refTrip = (dataset: keyof TaxiReference, format: "parquet" | "arrow") =>
      (options.upstreamRefs ? it : it.skip)(
        `round-trips ${dataset} written by reference from a persisted ${format} output with zero changed values`,
        async () => {
          const source = withRowNumbers(reference[dataset]);
          const dir = await mkdtemp(path.join(tmpdir(), "sluice-contract-ref-"));
          try {
            const file = path.join(dir, `${dataset}.${format}`);
            if (format === "arrow") {
              await writeFile(file, tableToIPC(source, "file"));
            } else {
              const session = await openDuckDB();
              try {
                await loadArrowIntoDuckDB(session.connection, "persisted", source);
                await session.connection.run(`COPY persisted TO ${sqlString(file)} (FORMAT parquet)`);
              } finally {
                session.close();
              }
            }
            const target = subject.target(`${dataset}_ref_${format}`, source.schema);
            const ref = { kind: "upstream" as const, name: dataset, path: file, format };
            const result = await subject.connector.write(ref as unknown as Table, target.write, { mode: "replace", partitionBy: options.partitionBy?.(dataset) });
            expect(result.rows).toBe(source.numRows);
            const actual = await readBack(subject, target);
            const order = rowOrder(actual, source.numRows);
            if (typeof order === "string") throw new Error(order);
            expect(firstDifference(source, actual, { columns: reference[dataset].schema.fields.map((f) => f.name), order })).toBeNull();
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
        120_000,
      );

    roundTrip("green2020", "green_tripdata_2020-10.csv.gz (95,120 rows, explicit types)");
    refTrip("green2020", "parquet");
    refTrip("zones", "arrow");
    roundTrip("green2024", "green_tripdata_2024-01.parquet (56,551 rows)");
    roundTrip("green2024", "green_tripdata_2024-01.parquet (56,551 rows)", true);
    roundTrip("zones", "taxi_zone_lookup.csv (\"NA\" and \"N/A\" stay strings)");

    const modeTest = modes.includes("fail") && modes.includes("replace") ? it : it.skip;
    modeTest("fail refuses an existing target and leaves it intact; replace swaps it", async () => {
      const zones = withRowNumbers(reference.zones);
      const target = subject.target("modes", zones.schema);
      await subject.connector.write(zones, target.write, { mode: "fail" });
      await expect(subject.connector.write(zones.slice(0, 3), target.write, { mode: "fail" })).rejects.toThrow(/exists/);
      expect((await readBack(subject, target)).numRows).toBe(265);
      await subject.connector.write(zones.slice(0, 10), target.write, { mode: "replace" });
      expect((await readBack(subject, target)).numRows).toBe(10);
    });

    const appendTest = modes.includes("append") ? it : it.skip;
    appendTest("append adds rows to an existing target and creates a missing one", async () => {
      const zones = withRowNumbers(reference.zones);
      const target = subject.target("append", zones.schema);
      await subject.connector.write(zones.slice(0, 100), target.write, { mode: "append" });
      await subject.connector.write(zones.slice(100), target.write, { mode: "append" });
      const actual = await readBack(subject, target);
      const order = rowOrder(actual, zones.numRows);
      if (typeof order === "string") throw new Error(order);
      expect(firstDifference(zones, actual, { order })).toBeNull();
    });
  });
}
