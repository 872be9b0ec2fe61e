/**
 * The most frequent values of one column of a block output, for the preview's column stats: computed on
 * request from the persisted output (Arrow through the output store's table cache, Parquet through DuckDB).
 */
import type { InputOf, TopValues } from "@/lib/core/api-contract";
import { ParquetTopValues, UnknownColumnError, topValuesOfArrow, type ColumnTopValues } from "@/lib/arrow/column-top-values";
import { getServices } from "../global-services";
import { ApiError } from "./http";

/** One DuckDB database for every Parquet top-values request of this process, opened on first use. */
let parquetTopValues: ParquetTopValues | null = null;

/** The JSON answer: snake_case like the output page; `distinct` null when the column is too big to count exactly. */
export type TopValuesBody = TopValues;

/**
 * GET /api/runs/:id/blocks/:b/output/columns/:col/top?limit=10.
 * @throws ApiError 400 for a bad id, name or limit, 404 when the block has no output or the output no such column.
 */
export async function getColumnTopValues({ params, query }: InputOf<"getColumnTopValues">): Promise<TopValuesBody> {
  const { id, b: block, col: column } = params;
  const { limit } = query;
  const { outputs } = getServices();
  const record = await outputs.read(id, block);
  if (!record) throw ApiError.of("output_not_found", `block ${block} of run ${id} has no output (it has not finished, failed, or returns nothing)`);
  let top: ColumnTopValues;
  try {
    if (record.ref.format === "arrow") {
      top = topValuesOfArrow(await outputs.readArrowTable(record.ref), column, limit);
    } else {
      if (!(await outputs.ensureLocal(id, block))) throw ApiError.of("output_not_found", `block ${block} of run ${id} has no output file`);
      parquetTopValues ??= new ParquetTopValues();
      top = await parquetTopValues.topValues(record.ref.path, column, limit);
    }
  } catch (error) {
    if (error instanceof UnknownColumnError) {
      throw ApiError.of("column_not_found", `the output of block ${block} in run ${id} has no column ${JSON.stringify(column)}`, { columns: error.available });
    }
    throw error;
  }
  return { column: top.column, type: top.type, total_rows: top.rows, nulls: top.nulls, distinct: top.distinct, values: top.values, exact: top.exact };
}
