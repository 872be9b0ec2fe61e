import {
  Bool,
  DateDay,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Vector,
} from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Microseconds since the epoch, exact (JS Dates stop at milliseconds). */
function micros(iso: string, extraMicros: number): bigint {
  return BigInt(Date.parse(iso)) * 1000n + BigInt(extraMicros);
}

function timestamps(values: (bigint | null)[]): Vector {
  const data = new BigInt64Array(values.length);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((value, i) => {
    if (value === null) nullCount++;
    else {
      data[i] = value;
      bitmap[i >> 3] |= 1 << (i & 7);
    }
  });
  return makeVector(makeData({ type: new TimestampMicrosecond(), length: values.length, nullCount, data, nullBitmap: bitmap }));
}

/** A small NYC-green-taxi-like table with a null in every column. */
export default async function load(ctx: BlockContext): Promise<Table> {
  console.log("loading trips for", ctx.logicalDate.toISOString());
  ctx.log.info("rows", 6);
  ctx.progress({ rows: 6, message: "generated" });
  return new Table({
    vendor_id: vectorFromArray([1, 2, null, 2, 1, 2], new Int32()),
    pickup: timestamps([
      micros("2020-10-01T00:15:30.123Z", 456),
      micros("2020-10-01T01:00:00.000Z", 1),
      micros("2020-10-02T23:59:59.999Z", 999),
      null,
      micros("1969-12-31T23:59:59.000Z", 0),
      micros("2020-12-31T12:00:00.000Z", 0),
    ]),
    store_and_fwd_flag: vectorFromArray(["N", "N", null, "Y", "N", "N"], new Utf8()),
    passenger_count: vectorFromArray([1n, null, 2n, 3n, 9007199254740993n, 1n], new Int64()),
    trip_distance: vectorFromArray([1.5, 0.2, null, 3.25, 10, 0], new Float64()),
    pickup_date: vectorFromArray([new Date("2020-10-01"), new Date("2020-10-01"), new Date("2020-10-02"), null, new Date("1969-12-31"), new Date("2020-12-31")], new DateDay()),
    is_cash: vectorFromArray([true, false, null, true, false, true], new Bool()),
    zone: vectorFromArray(["East Harlem North", "Astoria", null, "Central Park", "JFK Airport — Terminal 4", ""], new Utf8()),
  });
}
