/**
 * Templates of new blocks: the code a block starts with. Each compiles and runs as is, so a new block
 * can be run at once (a TS loader returns a small table, a SQL transformer selects from its upstream).
 */
import type { BlockLanguage, BlockType } from "@/lib/core/model";

export interface BlockTemplate {
  id: string;
  label: string;
  type: BlockType;
  language: BlockLanguage;
  /** Name stem of the new block (made unique with a number). */
  stem: string;
  /** `table`: the block reads its upstream's output, so it is attached to one; `nothing`: it starts a branch. */
  expects: "table" | "nothing";
  code(upstream: string[]): string;
}

const tsLoader = `import { tableFromArrays, type Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** A loader returns an Arrow table (or an array of plain objects). */
export default async function load(ctx: BlockContext): Promise<Table> {
  ctx.log.info("loading");
  return tableFromArrays({
    id: Int32Array.from([1, 2, 3, 4, 5]),
    city: ["Lisbon", "Porto", "Braga", "Faro", "Coimbra"],
    amount: Float64Array.from([10.5, 20.25, 7, 13.75, 42]),
  });
}
`;

const tsTransformer = (upstream: string[]) => `import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * @sluice expects: table
 * \`input\` is the output of the first upstream${upstream.length > 0 ? ` (${upstream[0]}, also ctx.inputs.${upstream[0]})` : ""}; every upstream is in ctx.inputs.
 */
export default async function transform(input: Table, ctx: BlockContext): Promise<Table> {
  ctx.log.info(\`\${input.numRows} rows in\`);
  return input;
}
`;

const tsExporter = `import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * @sluice expects: table
 * An exporter writes its input (the first upstream's output) somewhere and returns nothing.
 */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  ctx.log.info(\`would export \${input.numRows} rows\`);
}
`;

const sqlLoader = `-- A DuckDB query; its result is the block's output.
SELECT range AS n, range * range AS square FROM range(10)
`;

const sqlTransformer = (upstream: string[]) =>
  upstream.length > 0 ? `-- Every upstream block is a table of its own name.\nSELECT * FROM ${upstream[0]}\n` : `-- Every upstream block is a table of its own name: add an upstream, then select from it.\nSELECT 1 AS one\n`;

export const BLOCK_TEMPLATES: readonly BlockTemplate[] = [
  { id: "ts_loader", label: "TypeScript loader", type: "loader", language: "ts", stem: "load_data", expects: "nothing", code: () => tsLoader },
  { id: "sql_loader", label: "SQL loader", type: "loader", language: "sql", stem: "load_sql", expects: "nothing", code: () => sqlLoader },
  { id: "ts_transformer", label: "TypeScript transformer", type: "transformer", language: "ts", stem: "transform", expects: "table", code: tsTransformer },
  { id: "sql_transformer", label: "SQL transformer", type: "transformer", language: "sql", stem: "transform_sql", expects: "table", code: sqlTransformer },
  { id: "ts_exporter", label: "TypeScript exporter", type: "exporter", language: "ts", stem: "export_data", expects: "table", code: () => tsExporter },
];

/** `stem`, or `stem_2`, `stem_3`… — the first name not taken. */
export function uniqueBlockName(stem: string, taken: readonly string[]): string {
  if (!taken.includes(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.includes(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** The blank template of a type and language, for when the add-block dialog changes them (a SQL exporter has none: SQL returns a table). */
export function blankTemplate(type: BlockType, language: BlockLanguage): BlockTemplate | undefined {
  return BLOCK_TEMPLATES.find((t) => t.type === type && t.language === language);
}

/** Where a new block attaches (Mage's behaviour): below the selected block, else the last one; a block that reads nothing starts a branch. */
export function defaultUpstream(expects: "table" | "nothing", blocks: readonly string[], focused: string | null): string | null {
  if (expects === "nothing") return null;
  if (focused !== null && blocks.includes(focused)) return focused;
  return blocks[blocks.length - 1] ?? null;
}
