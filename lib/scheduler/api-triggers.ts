/**
 * API triggers (`POST /api/triggers/:id/runs` with `Authorization: Bearer <token>`): each
 * trigger has one secret token, shown once when issued or rotated; only its sha256 is stored, so a leaked
 * database does not leak tokens. Verification compares hashes in constant time.
 *
 * A trigger's public id is `<pipeline>.<trigger name>` (both `[a-z0-9_]+`, so the dot is unambiguous),
 * which lets the route find the pipeline from the URL alone.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { OperationalError, UserError } from "../core/errors";
import type { VariableValue, Variables } from "../core/model";
import { NAME_PATTERN } from "../core/model";
import type { ApiTrigger, Trigger } from "../core/triggers-schema";
import type { TriggerStore } from "../store/metadata/trigger-store";
import type { StartRun } from "./scheduler";

/** Prefix that makes a Sluice token recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = "slk_";

/** A new random token: 32 bytes of entropy, base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Hex sha256 of a token: what the store keeps. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `token` hashes to `expectedHash`, in time independent of where they differ. */
export function tokenMatches(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), "hex");
  const expected = Buffer.from(expectedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** `<pipeline>.<trigger>`: the id in `/api/triggers/:id/runs`. */
export function publicTriggerId(pipeline: string, triggerId: string): string {
  return `${pipeline}.${triggerId}`;
}

/** @throws UserError `trigger_not_found` when the id is not `<pipeline>.<trigger>`. */
export function parsePublicTriggerId(id: string): { pipeline: string; triggerId: string } {
  const dot = id.indexOf(".");
  const pipeline = id.slice(0, dot);
  const triggerId = id.slice(dot + 1);
  if (dot < 0 || !NAME_PATTERN.test(pipeline) || !NAME_PATTERN.test(triggerId)) throw new UserError("trigger_not_found", `there is no trigger ${JSON.stringify(id)}`);
  return { pipeline, triggerId };
}

/** Reads `Authorization: Bearer <token>`; null when absent or malformed. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1] : null;
}

/** The kinds of value a variable may hold, as a caller's value is checked against its declared default. */
export type VariableKind = "string" | "number" | "boolean" | "array" | "object";

function kindOf(value: VariableValue): VariableKind | null {
  if (value === null) return null;
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "object";
  }
}

/** A variable an API caller may not set, or of the wrong type; `details` says which (the API answers 422 with it). */
export class CallerVariableError extends UserError {
  constructor(
    code: "variable_not_allowed" | "invalid_variable_type",
    message: string,
    readonly details: { variable: string } & Record<string, unknown>,
  ) {
    super(code, message);
  }
}

/**
 * Checks the variables an API caller sent against the trigger's allow-list and the types of the declared
 * defaults (the pipeline's, else the trigger's; a variable declared `null` or not at all takes any type).
 *
 * @throws UserError `variable_not_allowed` naming the first variable the trigger does not list (with the
 *   allowed ones), or `invalid_variable_type` naming the variable, the expected and the given type (both
 *   `CallerVariableError`).
 */
export function checkCallerVariables(trigger: ApiTrigger, declared: Variables, variables: Variables): void {
  const allowed = new Set(trigger.variablesAllowed);
  for (const [name, value] of Object.entries(variables)) {
    if (!allowed.has(name)) {
      const list = trigger.variablesAllowed.length > 0 ? `it allows ${trigger.variablesAllowed.join(", ")}` : "it allows none (add variables_allowed: to the trigger in triggers.yaml)";
      throw new CallerVariableError("variable_not_allowed", `trigger ${trigger.name} does not let callers set variable "${name}"; ${list}`, {
        variable: name,
        allowed: [...trigger.variablesAllowed],
      });
    }
    const reference = name in declared ? declared[name] : trigger.variables[name];
    const expected = reference === undefined ? null : kindOf(reference);
    const given = kindOf(value);
    if (expected !== null && given !== expected) {
      throw new CallerVariableError("invalid_variable_type", `variable "${name}" must be ${expected === "array" || expected === "object" ? "an" : "a"} ${expected}, got ${given ?? "null"}`, {
        variable: name,
        expected,
        got: given ?? "null",
      });
    }
  }
}

export interface ApiTriggersOptions {
  store: TriggerStore;
  startRun: StartRun;
  /** The trigger's current definition (from its triggers file). */
  findTrigger: (pipeline: string, triggerId: string) => Promise<Trigger | null>;
  /** The pipeline's declared variables (defaults in pipeline.yaml): a caller's values must have their types. Default: none declared. */
  pipelineVariables?: (pipeline: string) => Promise<Variables>;
  now?: () => number;
}

/** Issues, rotates, verifies tokens and fires API triggers. */
export class ApiTriggers {
  private readonly now: () => number;

  constructor(private readonly options: ApiTriggersOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Issues a new token for an API trigger, replacing any previous one (rotation). The token is returned
   * once and never stored. @throws UserError `trigger_not_found` when the trigger is not an API trigger.
   */
  async issueToken(pipeline: string, triggerId: string): Promise<string> {
    await this.requireApiTrigger(pipeline, triggerId);
    const token = generateToken();
    await this.options.store.setTokenHash(pipeline, triggerId, hashToken(token), new Date(this.now()).toISOString());
    return token;
  }

  /** Whether the trigger has a token at all (the page shows "generate" or "rotate"). */
  async hasToken(pipeline: string, triggerId: string): Promise<boolean> {
    return (await this.options.store.getTokenHash(pipeline, triggerId)) !== null;
  }

  /** Whether `token` is the trigger's current token. */
  async verify(pipeline: string, triggerId: string, token: string | null): Promise<boolean> {
    if (token === null) return false;
    const hash = await this.options.store.getTokenHash(pipeline, triggerId);
    return hash !== null && tokenMatches(token, hash);
  }

  /** Revokes the token: the trigger can no longer be fired until a new one is issued. */
  async revoke(pipeline: string, triggerId: string): Promise<boolean> {
    return this.options.store.deleteToken(pipeline, triggerId);
  }

  /**
   * Fires an API trigger: checks the token, then the request's variables (`checkCallerVariables`), then
   * starts a run with the trigger's variables overridden by the request's. Logical date = the request time
   * (an empty data interval at that instant).
   *
   * @throws UserError `unauthorized` (401) for a missing or wrong token — also for an unknown trigger, so
   *   that the answer does not reveal which triggers exist; `trigger_disabled` (409);
   *   `variable_not_allowed` or `invalid_variable_type` (422); OperationalError
   *   `max_active_runs` (429) when the trigger's max_active_runs is reached (skip or wait alike).
   */
  async fire(pipeline: string, triggerId: string, token: string | null, variables: Variables = {}): Promise<{ runId: string }> {
    const trigger = await this.options.findTrigger(pipeline, triggerId);
    const valid = await this.verify(pipeline, triggerId, token);
    if (!valid || trigger === null || trigger.type !== "api") throw new UserError("unauthorized", "missing or invalid trigger token");
    if (!trigger.enabled) throw new UserError("trigger_disabled", `trigger ${triggerId} of ${pipeline} is disabled`);
    if (Object.keys(variables).length > 0) checkCallerVariables(trigger, (await this.options.pipelineVariables?.(pipeline)) ?? {}, variables);
    if (trigger.maxActiveRuns !== null && (await this.options.store.listActiveRuns(pipeline, triggerId)).length >= trigger.maxActiveRuns) {
      // An API caller cannot be made to wait: it is told to come back (a retry helps).
      throw new OperationalError("max_active_runs", `trigger ${triggerId} of ${pipeline} already has ${trigger.maxActiveRuns} active run(s)`);
    }
    const at = new Date(this.now()).toISOString();
    return this.options.startRun({
      pipeline,
      trigger: "api",
      triggerId,
      logicalDate: at,
      dataInterval: { start: at, end: at },
      variables: { ...trigger.variables, ...variables },
    });
  }

  private async requireApiTrigger(pipeline: string, triggerId: string): Promise<ApiTrigger> {
    const trigger = await this.options.findTrigger(pipeline, triggerId);
    if (trigger === null || trigger.type !== "api") throw new UserError("trigger_not_found", `pipeline ${pipeline} has no API trigger ${triggerId}`);
    return trigger;
  }
}
