import { z } from "zod";
import { formatByteSize, parseByteSize } from "../core/byte-size";
import { MIN_BLOCK_MEMORY_BYTES } from "../core/model";
import { messageOf } from "../core/errors";

/**
 * The only reader of process.env. Everything else receives these values.
 */
/** An empty variable counts as unset (as `FOO= cmd` means in a shell). */
const optionalString = z.preprocess((value) => (value === "" ? undefined : value), z.string().optional());
const optionalNumber = z.preprocess((value) => (value === "" ? undefined : value), z.coerce.number().int().min(0).max(65535).optional());

const envSchema = z.object({
  SLUICE_PROJECT_DIR: optionalString,
  SLUICE_HOME: optionalString,
  SLUICE_HOST: optionalString,
  SLUICE_PORT: optionalNumber,
  SLUICE_TOKEN: optionalString,
  /**
   * Comma-separated `name` or `name:port` entries: the `Host` names the server answers to besides the one it
   * is bound to (a proxy's public name, say). Any other `Host` is refused, which stops DNS rebinding.
   */
  SLUICE_ALLOWED_HOSTS: z.preprocess(
    (value) => (typeof value === "string" && value.trim() !== "" ? value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "") : undefined),
    z.array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, "expected comma-separated host names or host:port entries")).optional(),
  ),
  SLUICE_POOL_SIZE: optionalNumber,
  /** Memory limit (`512m`, `2g`) of a TypeScript block without `memory:` in pipeline.yaml; default 2g. */
  SLUICE_BLOCK_MEMORY: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .transform((value, ctx) => {
        try {
          const bytes = parseByteSize(value);
          if (bytes >= MIN_BLOCK_MEMORY_BYTES) return bytes;
          ctx.addIssue({ code: "custom", message: `${value} is below the ${formatByteSize(MIN_BLOCK_MEMORY_BYTES)} a block process needs to start` });
        } catch (error) {
          ctx.addIssue({ code: "custom", message: messageOf(error) });
        }
        return z.NEVER;
      })
      .optional(),
  ),
  /** How long a process's run ownership lasts without a heartbeat (default 30 s); tests shorten it. */
  SLUICE_LEASE_MS: z.preprocess((value) => (value === "" ? undefined : value), z.coerce.number().int().min(200).max(3_600_000).optional()),
  /** How often the lease is renewed (default: a sixth of the lease, at most 5 s). */
  SLUICE_HEARTBEAT_MS: z.preprocess((value) => (value === "" ? undefined : value), z.coerce.number().int().min(50).max(600_000).optional()),
  /** `queue` hands block runs to `sluice worker` processes through BullMQ on REDIS_URL. */
  SLUICE_EXECUTOR: z.preprocess((value) => (value === "" ? undefined : value), z.enum(["local", "queue"]).optional()),
  /** With the queue executor and no DATABASE_URL: every worker is on this machine and shares the data folder. */
  SLUICE_WORKERS_LOCAL: z.preprocess((value) => (value === "" ? undefined : value === "1" || value === "true"), z.boolean().optional()),
  /** BullMQ key prefix of the queue executor, the workers and the workers page (default `sluice`). */
  SLUICE_QUEUE_PREFIX: z.preprocess((value) => (value === "" ? undefined : value), z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "use letters, digits, _ and - only").optional()),
  /**
   * `s3://bucket/prefix` or `gs://bucket/prefix`: block outputs are also kept there, so workers on machines
   * without a shared disk read each other's outputs (lib/store/remote-output-store.ts).
   */
  SLUICE_OUTPUT_URL: z.preprocess((value) => (value === "" ? undefined : value), z.string().regex(/^(s3|gs):\/\/[^/]+(\/.*)?$/, "expected s3://bucket/prefix or gs://bucket/prefix").optional()),
  /** The `sluice.yaml` connection (kind s3 or gcs) used for SLUICE_OUTPUT_URL; default: the `default` or only one of that kind. */
  SLUICE_OUTPUT_CONNECTION: optionalString,
  DATABASE_URL: optionalString,
  REDIS_URL: optionalString,
});

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid environment variable ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** The whole environment, for `{{ env_var('X') }}` in sluice.yaml profiles. */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** Reads one variable for block code (`ctx.env(name)`); kept here so that env access stays in one file. */
export function envVar(name: string): string | undefined {
  return process.env[name];
}
