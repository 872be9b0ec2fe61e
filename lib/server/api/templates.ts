/**
 * GET /api/templates — the block templates of templates/: connectors in `io/` (HTTP CSV, Parquet, DuckDB,
 * Postgres, GCS, S3, BigQuery, …), sensors in `sensors/` (a file, an object, a SQL query, a time of day) and the
 * bucket transfer in `transfer/`, for the editor's add-block menu. The folders are listed on every request, so a
 * template added there shows up without a restart.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { BlockTemplateFile } from "@/lib/core/api-contract";
import { BLOCK_TYPES, type BlockLanguage } from "../../core/model";

/** A usable template: `io/<file>` id, name stem, label, type, language, description, connection?, code. */
export type { BlockTemplateFile } from "@/lib/core/api-contract";

/** A file of the folder that is not a usable template, and why. */
export interface TemplateProblem {
  file: string;
  message: string;
}

/** The folders of templates/, in the order the menu lists them. */
export const TEMPLATE_FOLDERS = ["io", "sensors", "transfer"] as const;
export type TemplateFolder = (typeof TEMPLATE_FOLDERS)[number];

const LANGUAGE_BY_EXTENSION: Record<string, BlockLanguage> = { ".ts": "ts", ".sql": "sql" };

const WORDS: Record<string, string> = {
  api: "API",
  bigquery: "BigQuery",
  csv: "CSV",
  duckdb: "DuckDB",
  gcs: "GCS",
  http: "HTTP",
  json: "JSON",
  parquet: "Parquet",
  postgres: "Postgres",
  s3: "S3",
  sql: "SQL",
};

/** The leading `/** … *\/` or `-- …` comment of a template, without its comment markers. */
export function leadingComment(code: string, language: BlockLanguage): string {
  const text = code.trimStart();
  if (language === "sql") {
    const lines: string[] = [];
    for (const line of text.split("\n")) {
      if (!line.trimStart().startsWith("--")) break;
      lines.push(line.trimStart().replace(/^--\s?/, ""));
    }
    return lines.join(" ").replace(/\s+/g, " ").trim();
  }
  const match = /^\/\*\*?([\s\S]*?)\*\//.exec(text);
  if (!match) return "";
  return match[1]
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, ""))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Reads one template file (pure): its language from the extension, its block type from the name
 * (`…_loader.ts`) or else from the first word of its comment (`Loader: …`).
 */
export function parseTemplate(fileName: string, code: string, folder: TemplateFolder = "io"): BlockTemplateFile | TemplateProblem {
  const extension = path.extname(fileName);
  const language = LANGUAGE_BY_EXTENSION[extension];
  if (!language) return { file: fileName, message: `not a block template: the extension must be .ts or .sql, not "${extension}"` };
  const stem = fileName.slice(0, -extension.length);
  if (!/^[a-z0-9_]+$/.test(stem)) return { file: fileName, message: "a template's name must be lowercase letters, digits and _ (it becomes the block's name)" };
  const description = leadingComment(code, language);
  const fromName = BLOCK_TYPES.find((t) => stem.endsWith(`_${t}`));
  const fromComment = BLOCK_TYPES.find((t) => description.toLowerCase().startsWith(t));
  const type = fromName ?? fromComment;
  if (!type) return { file: fileName, message: `cannot tell the block type: end the name with _${BLOCK_TYPES.join(", _")}, or start the comment with "Loader:" (or another type)` };
  const words = (fromName ? stem.slice(0, -fromName.length - 1) : stem).split("_").filter(Boolean);
  const label = `${words.map((w) => WORDS[w] ?? w).join(" ")} ${type} (${language === "sql" ? "SQL" : "TypeScript"})`;
  const connection = language === "sql" ? /`connection: ([A-Za-z0-9_-]+)`/.exec(description)?.[1] : undefined;
  const declared = /@sluice expects:\s*(table|nothing)\b/.exec(code)?.[1];
  // Without a declaration the type says it: a loader or sensor reads nothing, the others their upstream's table.
  const expects = declared === "table" || declared === "nothing" ? declared : type === "loader" || type === "sensor" ? "nothing" : "table";
  return { id: `${folder}/${fileName}`, stem, label, type, language, description: description.replace(/\s*@sluice expects:.*$/, ""), expects, ...(connection ? { connection } : {}), code };
}

export function isTemplateProblem(value: BlockTemplateFile | TemplateProblem): value is TemplateProblem {
  return "message" in value;
}

/** Every template of `dir`, sorted by label; files that are not templates come back as problems. */
export async function readTemplates(dir: string, folder: TemplateFolder = "io"): Promise<{ templates: BlockTemplateFile[]; problems: TemplateProblem[] }> {
  const entries = await readdir(dir, { withFileTypes: true });
  const parsed = await Promise.all(entries.filter((e) => e.isFile() && !e.name.startsWith(".")).map(async (e) => parseTemplate(e.name, await readFile(path.join(dir, e.name), "utf8"), folder)));
  const templates = parsed.filter((t): t is BlockTemplateFile => !isTemplateProblem(t)).sort((a, b) => a.label.localeCompare(b.label));
  return { templates, problems: parsed.filter(isTemplateProblem) };
}

/**
 * Where the Sluice package lives (it holds templates/): set by the custom server before Next starts. A
 * global, like the services (global-services.ts), because route code is bundled apart from the server.
 */
const APP_DIR_KEY = Symbol.for("sluice.appDir");
type GlobalWithAppDir = typeof globalThis & { [APP_DIR_KEY]?: string };

export function setAppDir(dir: string): void {
  (globalThis as GlobalWithAppDir)[APP_DIR_KEY] = dir;
}

export function templatesDir(folder: TemplateFolder = "io"): string {
  const dir = (globalThis as GlobalWithAppDir)[APP_DIR_KEY];
  if (!dir) throw new Error("Sluice is not running: start the app with `sluice start` (npm start)");
  return path.join(dir, "templates", folder);
}

/** GET /api/templates → `{templates: [...], problems: [...]}`. */
export async function listTemplates(): Promise<{ templates: BlockTemplateFile[]; problems: TemplateProblem[] }> {
  const folders = await Promise.all(TEMPLATE_FOLDERS.map((folder) => readTemplates(templatesDir(folder), folder)));
  return { templates: folders.flatMap((f) => f.templates), problems: folders.flatMap((f) => f.problems) };
}
