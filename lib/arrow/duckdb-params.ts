/**
 * Binds template values and `ctx.sql` parameters to DuckDB prepared-statement parameters. Values are never
 * pasted into SQL text, so a variable holding `'; DROP TABLE x; --` stays a string.
 *
 * JS → DuckDB: string → VARCHAR, integer number → INTEGER/BIGINT, other number → DOUBLE, bigint → BIGINT
 * (HUGEINT beyond 64 bits), boolean → BOOLEAN, Date → TIMESTAMPTZ (the instant; run databases use UTC),
 * null → NULL, array → LIST of the above.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  HUGEINT,
  INTEGER,
  LIST,
  SQLNULL,
  TIMESTAMPTZ,
  VARCHAR,
  listValue,
  timestampTZValue,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";
import { UserError } from "../core/errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

interface Bound {
  value: DuckDBValue;
  type: DuckDBType;
}

/** Converts one JS value; `where` names the parameter in error messages. */
export function toDuckDBParam(value: unknown, where: string): Bound {
  if (value === null || value === undefined) return { value: null, type: SQLNULL };
  switch (typeof value) {
    case "string":
      return { value, type: VARCHAR };
    case "boolean":
      return { value, type: BOOLEAN };
    case "number":
      if (Number.isInteger(value)) return { value, type: value >= -2_147_483_648 && value <= 2_147_483_647 ? INTEGER : BIGINT };
      return { value, type: DOUBLE };
    case "bigint":
      return { value, type: value >= INT64_MIN && value <= INT64_MAX ? BIGINT : HUGEINT };
    default:
      break;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new UserError("invalid_value", `${where} is an invalid Date`);
    return { value: timestampTZValue(BigInt(value.getTime()) * 1000n), type: TIMESTAMPTZ };
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => toDuckDBParam(item, `${where}[${i}]`));
    const itemType = items.find((item) => item.type !== SQLNULL)?.type ?? VARCHAR;
    return { value: listValue(items.map((item) => item.value)), type: LIST(itemType) };
  }
  throw new UserError("invalid_value", `${where} cannot be bound as a SQL parameter (${Object.prototype.toString.call(value)})`);
}

/** Binds `params` to `$1…$n` of a prepared statement. */
export function bindParams(prepared: DuckDBPreparedStatement, params: readonly unknown[]): void {
  params.forEach((param, i) => {
    const { value, type } = toDuckDBParam(param, `parameter $${i + 1}`);
    if (value === null) prepared.bindNull(i + 1);
    else prepared.bindValue(i + 1, value, type);
  });
}

/** Prepares, binds and runs one statement. */
export async function runWithParams(connection: DuckDBConnection, sql: string, params: readonly unknown[]): Promise<DuckDBMaterializedResult> {
  if (params.length === 0) return connection.run(sql);
  const prepared = await connection.prepare(sql);
  try {
    bindParams(prepared, params);
    return await prepared.run();
  } finally {
    prepared.destroySync();
  }
}
