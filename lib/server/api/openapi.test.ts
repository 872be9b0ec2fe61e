import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { openApiDocument } from "./openapi";

const API_DIR = path.join(__dirname, "..", "..", "..", "app", "api");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

/** Every `route.ts` under app/api as (OpenAPI path, exported methods), `[p]` folders becoming `{p}`. */
function routeFiles(dir = API_DIR, segments: string[] = []): { path: string; methods: string[] }[] {
  const found: { path: string; methods: string[] }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      found.push(...routeFiles(path.join(dir, entry.name), [...segments, entry.name]));
    } else if (entry.name === "route.ts") {
      const source = readFileSync(path.join(dir, entry.name), "utf8");
      const methods = METHODS.filter((method) => new RegExp(`export (const|async function|function) ${method}\\b`).test(source));
      const urlPath = "/api/" + segments.map((s) => s.replace(/^\[(\w+)\]$/, "{$1}")).join("/");
      found.push({ path: urlPath.replace(/\/$/, ""), methods });
    }
  }
  return found;
}

/**
 * Validates with @seriousme/openapi-schema-validator in a child Node process: the package is ESM only, and
 * the tests run as CommonJS.
 */
function validate(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from "@seriousme/openapi-schema-validator";
    let text = "";
    for await (const chunk of process.stdin) text += chunk;
    const result = await new Validator().validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors ?? null }));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { input: JSON.stringify(document), cwd: path.join(__dirname, "..", "..", ".."), encoding: "utf8" });
  return JSON.parse(output);
}

type Operation = {
  operationId: string;
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};

describe("GET /api/openapi.json", () => {
  const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  it("is a valid OpenAPI 3.1 document", () => {
    expect(document.openapi).toBe("3.1.0");
    const result = validate(document);
    expect(result.errors ?? null).toBeNull();
    expect(result.valid).toBe(true);
    // The validator is real: the same document with an optional path parameter is refused.
    const broken = structuredClone(document);
    broken.paths["/api/runs/{id}"].get.parameters[0].required = false;
    expect(validate(broken).valid).toBe(false);
  });

  it("documents every method of every route under app/api (the catch-all 404 aside), and nothing else", () => {
    const routes = routeFiles().filter((r) => !r.path.includes("[..."));
    expect(routes.length).toBeGreaterThan(20);
    const served = routes.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
    const documented = Object.entries(document.paths)
      .flatMap(([p, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(served);
  });

  it("every $ref points at a schema the document defines", () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components.schemas).toHaveProperty([ref.slice("#/components/schemas/".length)]);
    }
  });

  it("describes parameters, bodies, statuses and error codes as the routes parse and answer them", () => {
    const output = document.paths["/api/runs/{id}/blocks/{b}/output"].get;
    expect(output.parameters.map((p) => [p.name, p.in, p.required])).toEqual([
      ["id", "path", true],
      ["b", "path", true],
      ["offset", "query", false],
      ["limit", "query", false],
    ]);
    expect(output.responses["200"].content?.["application/json"].schema).toMatchObject({ required: expect.arrayContaining(["schema", "total_rows", "rows", "stats"]) });
    expect(Object.keys(output.responses)).toEqual(expect.arrayContaining(["200", "400", "404", "500"]));

    const addBlock = document.paths["/api/pipelines/{p}/blocks"].post;
    expect(addBlock.responses).toHaveProperty("201");
    expect(addBlock.responses).toHaveProperty("409");
    expect(addBlock.parameters.find((p) => p.in === "header")).toMatchObject({ name: "If-Match", required: false });
    expect(addBlock.requestBody?.content["application/json"].schema).toMatchObject({ required: ["name", "type", "language"], additionalProperties: false });

    const events = document.paths["/api/runs/{id}/events"].get;
    expect(events.responses["200"].content).toHaveProperty(["text/event-stream"]);
    expect(document.paths["/api/pipelines/{p}"].delete.responses["204"].content).toBeUndefined();
    expect(document.paths["/api/triggers/{id}/runs"].post).toMatchObject({ security: [{ triggerToken: [] }] });
    expect(Object.keys(document.paths["/api/triggers/{id}/runs"].post.responses)).toEqual(expect.arrayContaining(["401", "409", "422", "429"]));
  });
});
