/**
 * The exactly-once ledger of block jobs, in Redis: at most one delivery of a job runs its block to the
 * end, even when Redis goes away for longer than the job lock. The locks of running jobs then expire, and
 * BullMQ hands those jobs to a worker again although their first worker is still running them. So a worker
 * records a claim when it starts a job and the job's result before completing it; a later delivery returns
 * the recorded result, or — while the claiming worker is alive and still running the job — waits for it,
 * and runs the block only when that worker is gone (heartbeat expired; after a Redis outage, given one
 * heartbeat period to come back).
 */
import type { Redis } from "ioredis";
import { blockJobResultSchema, queueKeys, type BlockJobResult } from "../executors/queue-protocol";
import { readHeartbeat } from "./workers-info";

/** A job's result is kept this long after it finished, for a late re-delivery to return (BullMQ keeps completed jobs 1 h). */
const RESULT_TTL_S = 3600;
/** A claim must outlive any Redis outage a run survives; it only names the worker that started the job. */
const CLAIM_TTL_S = 24 * 3600;
/** How often a delivery looks again while an earlier one is still running on a live worker. */
const WAIT_POLL_MS = 250;
/** KEYS[1] claim key; ARGV: the claimant to replace ("" for none), this worker's id, TTL in seconds. 1 when the claim is now ours. */
const CLAIM_SCRIPT = `
local current = redis.call("GET", KEYS[1])
if current == ARGV[2] then return 1 end
if (current == false and ARGV[1] == "") or current == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[2], "EX", tonumber(ARGV[3]))
  return 1
end
return 0`;

export interface JobLedgerOptions {
  /** The worker's command connection (not its subscriber). */
  commands: Redis;
  /** BullMQ key prefix, the executor's. */
  prefix: string;
  /** This worker's id, as its heartbeat names it. */
  workerId: string;
  /** The worker's heartbeat period: a claimant's heartbeat lives three of them. */
  heartbeatIntervalMs: number;
}

/** What a delivery of a job may do: return an earlier delivery's result, or run the block (the claim is its). */
export type DeliveryVerdict = { result: BlockJobResult } | { claimed: true };

/** One worker's view of the claims and results of the jobs it is handed. */
export class JobLedger {
  private readonly keys: ReturnType<typeof queueKeys>;
  /** When the command connection last came back after losing Redis (0: never lost). */
  private reconnectedAt = 0;

  constructor(private readonly options: JobLedgerOptions) {
    this.keys = queueKeys(options.prefix);
    let connectedBefore = false;
    options.commands.on("ready", () => {
      if (connectedBefore) this.reconnectedAt = Date.now();
      connectedBefore = true;
    });
  }

  /**
   * Settles a delivery (`delivery`, BullMQ's attempt number) of a job: the result of an earlier delivery
   * when one finished, or once one still running on a live worker does (this waits for it); otherwise
   * claims the job for this worker. Of two deliveries racing for a job, one claims it and the other waits.
   * `notice` tells the block's log why this delivery does not run the block (yet).
   */
  async settle(jobId: string, delivery: number, notice: (message: string) => void): Promise<DeliveryVerdict> {
    for (;;) {
      const verdict = await this.earlierDelivery(jobId, delivery, notice);
      if ("result" in verdict) return verdict;
      if (await this.claim(jobId, verdict.replacing)) return { claimed: true };
      // Another delivery claimed the job in between: wait for that one instead.
    }
  }

  /** Stores a job's result before BullMQ completes the job, for any later delivery to return. */
  async record(jobId: string, result: BlockJobResult): Promise<BlockJobResult> {
    await this.options.commands.set(this.keys.result(jobId), JSON.stringify(result), "EX", RESULT_TTL_S);
    return result;
  }

  /** Drops this worker's claim of a job it hands back to the queue, so that the next worker need not wait for it. */
  async release(jobId: string): Promise<void> {
    await this.options.commands.del(this.keys.claim(jobId));
  }

  /**
   * Makes this worker the job's claimant: when nobody claimed it (`replacing` null), or when the claimant
   * is still `replacing` (a worker found gone). Atomic, so of two deliveries racing for a job one runs it.
   */
  private async claim(jobId: string, replacing: string | null): Promise<boolean> {
    const key = this.keys.claim(jobId);
    const taken = await this.options.commands.eval(CLAIM_SCRIPT, 1, key, replacing ?? "", this.options.workerId, String(CLAIM_TTL_S));
    return taken === 1;
  }

  /**
   * The result of an earlier delivery of this job, if one finished or is still running on a live worker
   * (waits for it then); otherwise `replacing`: the claimant this delivery may take over (null: none).
   */
  private async earlierDelivery(jobId: string, delivery: number, notice: (message: string) => void): Promise<{ result: BlockJobResult } | { replacing: string | null }> {
    const { commands, prefix, workerId } = this.options;
    const ttlMs = this.options.heartbeatIntervalMs * 3;
    let waitingFor: string | null = null;
    let notListedSince: number | null = null;
    for (;;) {
      // One round trip for the usual case: no result, no claim (a first delivery).
      const [text, owner] = await commands.mget(this.keys.result(jobId), this.keys.claim(jobId));
      const result = parseResult(text);
      if (result) {
        notice(`job ${jobId}: delivery ${delivery} on worker ${workerId}: worker ${result.workerId} already finished it; its result stands, the block does not run again`);
        return { result };
      }
      if (owner === null || owner === workerId) return { replacing: owner };
      const heartbeat = await readHeartbeat(commands, prefix, owner);
      const now = Date.now();
      if (heartbeat) {
        // Alive. A claimant lists the job in its next heartbeat and records the result before it drops it:
        // not listed for a whole heartbeat lifetime means it lost the job (its execution ended unrecorded).
        if (heartbeat.currentJobs.some((j) => j.jobId === jobId)) notListedSince = null;
        else notListedSince ??= now;
        if (notListedSince !== null && now - notListedSince >= ttlMs) return { replacing: owner };
      } else if (now >= this.reconnectedAt + ttlMs) {
        // Gone: its heartbeat expired — unless Redis itself was away lately: heartbeats may have expired
        // during the outage, and a live worker writes its next one within a heartbeat period.
        return { replacing: owner };
      }
      if (waitingFor !== owner) {
        waitingFor = owner;
        notice(`job ${jobId}: delivery ${delivery} on worker ${workerId} waits for worker ${owner}, which started it and is still running it`);
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }
}

function parseResult(text: string | null): BlockJobResult | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = blockJobResultSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
