/**
 * `GET /api/openapi.json`: an OpenAPI 3.1 document generated from the API contract's zod schemas (zod's own
 * `z.toJSONSchema`, whose draft 2020-12 output is what OpenAPI 3.1 schema objects are), so the document
 * describes exactly what the routes parse.
 */
import { z } from "zod";
import { apiContract, errorBodySchema, type Endpoint, type FieldsSchema } from "@/lib/core/api-contract";
import { ERROR_CODES, type ErrorCode } from "@/lib/core/error-codes";

type JsonSchema = Record<string, unknown>;

/** Which side of a schema to describe: what a caller sends (defaults optional) or what the server answers. */
type Side = "input" | "output";

/**
 * Converts schemas one at a time and hoists their local definitions (`#/$defs/…`, recursive JSON values)
 * into `components.schemas`, sharing identical ones, so every `$ref` resolves inside the document.
 */
class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};
  private readonly namesByShape = new Map<string, string>();

  convert(schema: z.ZodType, side: Side): JsonSchema {
    const converted: JsonSchema = { ...z.toJSONSchema(schema, { io: side, unrepresentable: "any" }) };
    delete converted.$schema;
    const defs = converted.$defs;
    delete converted.$defs;
    if (typeof defs !== "object" || defs === null) return converted;
    const renames = new Map<string, string>();
    for (const [local, definition] of Object.entries(defs)) {
      const shape = JSON.stringify(definition);
      let name = this.namesByShape.get(shape);
      if (!name) {
        name = `Shared${this.namesByShape.size + 1}`;
        this.namesByShape.set(shape, name);
        this.components[name] = Object.fromEntries(Object.entries(definition));
      }
      renames.set(local, name);
    }
    const rewriteValue = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewriteValue);
      return typeof value === "object" && value !== null ? rewrite(Object.fromEntries(Object.entries(value))) : value;
    };
    const rewrite = (schema: JsonSchema): JsonSchema => {
      const out: JsonSchema = {};
      for (const [key, inner] of Object.entries(schema)) {
        const local = key === "$ref" && typeof inner === "string" ? /^#\/\$defs\/(.+)$/.exec(inner)?.[1] : undefined;
        out[key] = local !== undefined ? `#/components/schemas/${renames.get(local) ?? local}` : rewriteValue(inner);
      }
      return out;
    };
    for (const name of new Set(renames.values())) this.components[name] = rewrite(this.components[name]);
    return rewrite(converted);
  }
}

function parameters(collector: SchemaCollector, schema: FieldsSchema | undefined, location: "path" | "query" | "header"): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const required = location === "path" || !field.safeParse(undefined).success;
    const description = field.description;
    return {
      name: location === "header" && name === "if-match" ? "If-Match" : name,
      in: location,
      required,
      ...(description ? { description } : {}),
      schema: collector.convert(field, "input"),
    };
  });
}

const ERROR_CONTENT = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

function errorResponses(endpoint: Endpoint): Record<string, JsonSchema> {
  const codes: ErrorCode[] = [...(endpoint.errors ?? [])];
  const parses = endpoint.params || endpoint.query || endpoint.headers || endpoint.body;
  if (parses) codes.push("invalid_input");
  if (endpoint.body) codes.push("invalid_json", "json_too_deep");
  codes.push("internal");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  const responses: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = { description: list.map((code) => `\`${code}\`: ${ERROR_CODES[code].meaning}`).join("; "), content: ERROR_CONTENT };
  }
  return responses;
}

function operation(collector: SchemaCollector, name: string, endpoint: Endpoint): JsonSchema {
  const success: JsonSchema = endpoint.stream
    ? { description: "a stream of server-sent events", content: { [endpoint.stream]: { schema: { type: "string" } } } }
    : endpoint.response === null
      ? { description: "no content" }
      : { description: "success", content: { "application/json": { schema: collector.convert(endpoint.response, "output") } } };
  const responses: Record<string, JsonSchema> = { [String(endpoint.status)]: success };
  for (const status of endpoint.otherStatuses ?? []) responses[String(status)] = success;
  const headerParams = endpoint.headers ? parameters(collector, endpoint.headers, "header").filter((p) => p.name !== "authorization") : [];
  return {
    operationId: name,
    summary: endpoint.summary,
    ...(endpoint.triggerToken ? { security: [{ triggerToken: [] }] } : {}),
    parameters: [...parameters(collector, endpoint.params, "path"), ...parameters(collector, endpoint.query, "query"), ...headerParams],
    ...(endpoint.body ? { requestBody: { required: true, content: { "application/json": { schema: collector.convert(endpoint.body, "input") } } } } : {}),
    responses: { ...responses, ...errorResponses(endpoint) },
  };
}

/** The OpenAPI 3.1 document of every endpoint in the contract. Pure: the same contract gives the same document. */
export function openApiDocument(): Record<string, unknown> {
  const collector = new SchemaCollector();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [name, endpoint] of Object.entries(apiContract)) {
    paths[endpoint.path] ??= {};
    paths[endpoint.path][endpoint.method.toLowerCase()] = operation(collector, name, endpoint);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Sluice API",
      version: "1",
      description:
        "The API the Sluice editor uses. Writes need `Content-Type: application/json`, and from a browser the server's own Origin and " +
        "the session's CSRF token. Errors are `{error: {code, message, details?}}`.",
    },
    paths,
    components: {
      schemas: { Error: collector.convert(errorBodySchema, "output"), ...collector.components },
      securitySchemes: {
        serverToken: { type: "http", scheme: "bearer", description: "SLUICE_TOKEN, when the server has one (browsers use the login cookie)" },
        triggerToken: { type: "http", scheme: "bearer", description: "An API trigger's token (issued on the triggers page)" },
      },
    },
    // Open when the server runs without a token (the default on loopback).
    security: [{ serverToken: [] }, {}],
  };
}
