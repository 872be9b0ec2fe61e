import { OperationalError, UserError } from "../core/errors";
import { toBlockError } from "../runner/block-error";
import {
  blockJobId,
  blockJobSchema,
  fromRemoteError,
  parseControlMessage,
  parseReplyMessage,
  portablePipelineDir,
  queueOf,
  relocateOutput,
  toRemoteError,
} from "./queue-protocol";
import { redisOptionsFromUrl } from "./queue-redis";

describe("queue protocol", () => {
  it("names a job by run, block and attempt, in BullMQ's three-part custom id form", () => {
    expect(blockJobId("0190a1b2-c3d4", "clean_trips", 2)).toBe("0190a1b2-c3d4:clean_trips:2");
  });

  it("routes to the block's queue, default `default`, and refuses names Redis keys cannot carry", () => {
    expect(queueOf({ name: "a", queue: null })).toBe("default");
    expect(queueOf({ name: "a", queue: "heavy" })).toBe("heavy");
    expect(() => queueOf({ name: "a", queue: "x:y" })).toThrow(/block a: queue "x:y"/);
  });

  it("re-roots outputs under this machine's mount of the shared store", () => {
    const output = { ref: { runId: "r1", block: "b", format: "parquet" as const, path: "/mnt/a/outputs/r1/b.parquet" }, summary: { rows: 1, bytes: 2, columns: [] } };
    expect(relocateOutput(output, "/data/outputs").ref.path).toBe("/data/outputs/r1/b.parquet");
    expect(portablePipelineDir("/p/pipelines/x", "/p")).toBe("pipelines/x");
    expect(portablePipelineDir("/elsewhere/x", "/p")).toBe("/elsewhere/x");
  });

  it("keeps error kinds across processes: user errors stay unretryable, plain throws keep message, code and stack", () => {
    const user = fromRemoteError(toRemoteError(new UserError("sql_error", "bad SQL", { block: "b", file: "b.sql" })));
    expect(user).toBeInstanceOf(UserError);
    expect(user).toMatchObject({ code: "sql_error", message: "bad SQL", location: { block: "b", file: "b.sql" } });
    expect(fromRemoteError(toRemoteError(new OperationalError("timeout", "slow")))).toBeInstanceOf(OperationalError);
    const thrown = Object.assign(new Error("kaboom"), { code: "E_BOOM" });
    const plain = fromRemoteError(toRemoteError(thrown));
    expect(plain).not.toBeInstanceOf(UserError);
    expect(toBlockError(plain)).toMatchObject({ code: "E_BOOM", message: "kaboom", stack: thrown.stack });
  });

  it("validates job payloads and messages at the boundary", () => {
    expect(blockJobSchema.safeParse({ v: 1, runId: "r" }).success).toBe(false);
    expect(parseReplyMessage('{"type":"log","jobId":"j","line":{"at":"t","level":"info","message":"m"}}')).toEqual({
      type: "log",
      jobId: "j",
      line: { at: "t", level: "info", message: "m" },
    });
    expect(parseReplyMessage('{"type":"log"}')).toBeNull();
    expect(parseReplyMessage("not json")).toBeNull();
    expect(parseControlMessage('{"type":"end_run","runId":"r"}')).toEqual({ type: "end_run", runId: "r" });
  });

  it("reads REDIS_URL with BullMQ's required settings", () => {
    expect(redisOptionsFromUrl("redis://:s%40cret@cache:6380/2")).toMatchObject({ host: "cache", port: 6380, password: "s@cret", db: 2, maxRetriesPerRequest: null });
    expect(() => redisOptionsFromUrl("http://x")).toThrow(/must start with redis:\/\//);
  });
});
