import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isTemplateProblem, leadingComment, parseTemplate, readTemplates } from "./templates";

const REPO_TEMPLATES = path.resolve(__dirname, "..", "..", "..", "templates", "io");

describe("block templates", () => {
  it("takes the type from the name, the language from the extension and the description from the comment", () => {
    const parsed = parseTemplate("http_csv_loader.ts", "/**\n * Loader: a CSV from the web,\n * streamed.\n */\nexport default async function load() {}\n");
    expect(parsed).toEqual({
      id: "io/http_csv_loader.ts",
      stem: "http_csv_loader",
      label: "HTTP CSV loader (TypeScript)",
      type: "loader",
      language: "ts",
      description: "Loader: a CSV from the web, streamed.",
      expects: "nothing",
      code: "/**\n * Loader: a CSV from the web,\n * streamed.\n */\nexport default async function load() {}\n",
    });
    const sql = parseTemplate("bigquery_loader.sql", "-- Loader (SQL): runs in BigQuery\n-- when named.\nSELECT 1\n");
    expect(sql).toMatchObject({ label: "BigQuery loader (SQL)", type: "loader", language: "sql", description: "Loader (SQL): runs in BigQuery when named." });
  });

  it("reads what a template expects from its header, else from its type, and keeps the declaration out of the description", () => {
    const exporter = parseTemplate("lake_exporter.ts", "/**\n * Exporter: to the lake.\n * @sluice expects: table — the upstream's output.\n */\n");
    expect(exporter).toMatchObject({ expects: "table", description: "Exporter: to the lake." });
    expect(parseTemplate("odd_transformer.sql", "-- Transformer: a query of its own.\n-- @sluice expects: nothing\nSELECT 1\n")).toMatchObject({ expects: "nothing" });
    expect(parseTemplate("plain_transformer.ts", "/** Transformer: cleans. */\n")).toMatchObject({ expects: "table" });
  });

  it("falls back on the comment's first word for the type, and names what is wrong otherwise", () => {
    expect(parseTemplate("s3_sink.ts", "/** Exporter: to a bucket. */\n")).toMatchObject({ type: "exporter", label: "S3 sink exporter (TypeScript)" });
    const untyped = parseTemplate("gcs_misc.ts", "/** Something. */\n");
    expect(isTemplateProblem(untyped) && untyped.message).toMatch(/cannot tell the block type/);
    const readme = parseTemplate("README.md", "# templates\n");
    expect(isTemplateProblem(readme) && readme.message).toMatch(/extension must be \.ts or \.sql, not "\.md"/);
    const badName = parseTemplate("My-Loader.ts", "");
    expect(isTemplateProblem(badName) && badName.message).toMatch(/lowercase letters/);
  });

  it("takes a SQL template's connection from its comment, so the added block runs in that warehouse", () => {
    expect(parseTemplate("postgres_loader.sql", "-- Loader (SQL): runs in Postgres\n-- (`connection: default` in pipeline.yaml).\nSELECT 1\n")).toMatchObject({ connection: "default" });
    expect(parseTemplate("plain_loader.sql", "-- Loader (SQL)\nSELECT 1\n")).not.toHaveProperty("connection");
  });

  it("reads comments of both languages", () => {
    expect(leadingComment("\n/**\n * A.\n * B.\n */\nx", "ts")).toBe("A. B.");
    expect(leadingComment("-- one\n--two\nSELECT 1 -- not this", "sql")).toBe("one two");
    expect(leadingComment("SELECT 1", "sql")).toBe("");
  });

  it("lists a folder as it is now, sorted by label", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-templates-"));
    try {
      fs.writeFileSync(path.join(dir, "postgres_loader.sql"), "-- Loader\nSELECT 1\n");
      fs.writeFileSync(path.join(dir, "duckdb_exporter.ts"), "/** Exporter */\n");
      fs.writeFileSync(path.join(dir, "notes.txt"), "x");
      const first = await readTemplates(dir);
      expect(first.templates.map((t) => t.label)).toEqual(["DuckDB exporter (TypeScript)", "Postgres loader (SQL)"]);
      expect(first.problems.map((p) => p.file)).toEqual(["notes.txt"]);
      fs.writeFileSync(path.join(dir, "gcs_loader.ts"), "/** Loader */\n");
      expect((await readTemplates(dir)).templates.map((t) => t.stem)).toContain("gcs_loader");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every file of the project's templates/io is a usable template", async () => {
    const { templates, problems } = await readTemplates(REPO_TEMPLATES);
    expect(problems).toEqual([]);
    expect(templates.map((t) => t.stem)).toEqual(expect.arrayContaining(["http_csv_loader", "postgres_loader", "duckdb_exporter", "parquet_file_loader"]));
  });

  it("the sensor and transfer templates are usable too, each with its folder in its id", async () => {
    const sensors = await readTemplates(path.join(REPO_TEMPLATES, "..", "sensors"), "sensors");
    expect(sensors.problems).toEqual([]);
    expect(sensors.templates.map((t) => [t.id, t.type])).toEqual(expect.arrayContaining([["sensors/file_exists_sensor.ts", "sensor"], ["sensors/sql_true_sensor.ts", "sensor"]]));
    const transfer = await readTemplates(path.join(REPO_TEMPLATES, "..", "transfer"), "transfer");
    expect(transfer.problems).toEqual([]);
    expect(transfer.templates.map((t) => t.id)).toEqual(["transfer/bucket_transfer_loader.ts"]);
  });
});
