/**
 * Run ownership for one process (the server, `sluice run`, `sluice scheduler`, a worker): the process
 * registers itself in the metadata store as an owner with a lease, renews the lease by heartbeat, stamps
 * the runs it creates with its owner id, and polls for cancel requests on its own live runs.
 *
 * Why leases and not "whatever is running at start-up is orphaned": several processes share one store (a
 * CLI run beside the server, the compose scheduler beside the API), so a process may only judge another
 * one dead once that one stopped renewing. Recovery (`lib/scheduler/recovery.ts`) acts on expired leases
 * only. Lease expiry is compared across machines, so their clocks must agree within a fraction of the lease.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { RunState } from "../core/run-model";
import type { RunOwner, RunStore } from "../store/metadata/run-store";
import type { RunnerStore } from "./runner";

/** How long a lease lasts and how often it is renewed and cancel requests are looked for. */
export interface LeaseSettings {
  /** A process that has not renewed for this long is considered dead. Default 30 s. */
  leaseMs: number;
  /** Renewal period; several renewals fit in one lease so one slow write does not lose it. Default 5 s. */
  heartbeatMs: number;
  /** How often the owner looks for cancel requests on its live runs (only while it has some). Default 500 ms. */
  cancelPollMs: number;
}

export const DEFAULT_LEASE_SETTINGS: LeaseSettings = { leaseMs: 30_000, heartbeatMs: 5_000, cancelPollMs: 500 };

/** Lease settings from the optional environment values (`SLUICE_LEASE_MS`, `SLUICE_HEARTBEAT_MS`). */
export function leaseSettingsFrom(values: { leaseMs?: number; heartbeatMs?: number }): LeaseSettings {
  const leaseMs = values.leaseMs ?? DEFAULT_LEASE_SETTINGS.leaseMs;
  // Default: six renewals per lease, never slower than the default period.
  const fitting = Math.max(50, Math.floor(leaseMs / 3)); // at least three renewals per lease
  const heartbeatMs = Math.min(values.heartbeatMs ?? Math.min(DEFAULT_LEASE_SETTINGS.heartbeatMs, Math.floor(leaseMs / 6)), fitting);
  return { leaseMs, heartbeatMs, cancelPollMs: Math.min(DEFAULT_LEASE_SETTINGS.cancelPollMs, heartbeatMs) };
}

/** The store calls an owner makes. */
export type LeaseStore = Pick<RunStore, "registerOwner" | "renewOwnerLease" | "releaseOwner" | "findCancelRequests" | "claimRun">;

/** What the lease does to the runs of its process: stop one (a cancel request arrived). */
export interface LeaseHooks {
  cancel(runId: string): void;
  /** Heartbeat or poll failures (the store is unreachable): reported, retried on the next tick. */
  onError?(error: unknown, where: string): void;
}

const TERMINAL: readonly RunState[] = ["success", "failed", "cancelled"];

/** This process as an owner: host, pid, start time and a random id (a reused pid is another owner). */
export function thisProcessOwner(kind: RunOwner["kind"]): RunOwner {
  const host = os.hostname();
  return {
    id: `${host}-${process.pid}-${randomBytes(6).toString("hex")}`,
    kind,
    host,
    pid: process.pid,
    processStartedAt: new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString(),
  };
}

/** The lease of one process. Create with `RunLease.acquire`, end with `release`. */
export class RunLease {
  /** Runs this process created and has not seen end. */
  private readonly live = new Set<string>();
  private readonly cancelling = new Set<string>();
  private hooks: LeaseHooks | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private released = false;

  private constructor(
    private readonly store: LeaseStore,
    readonly owner: RunOwner,
    readonly settings: LeaseSettings,
    private readonly now: () => Date,
  ) {}

  /** Registers this process as an owner and starts renewing its lease. */
  static async acquire(store: LeaseStore, owner: RunOwner, settings: LeaseSettings = DEFAULT_LEASE_SETTINGS, now: () => Date = () => new Date()): Promise<RunLease> {
    const lease = new RunLease(store, owner, settings, now);
    await store.registerOwner(owner, lease.nextLease());
    lease.heartbeatTimer = setInterval(() => void lease.heartbeat(), settings.heartbeatMs);
    lease.heartbeatTimer.unref();
    lease.pollTimer = setInterval(() => void lease.pollCancelRequests(), settings.cancelPollMs);
    lease.pollTimer.unref();
    return lease;
  }

  /** Connects the lease to what it controls (the runner); cancel requests found before are acted on now. */
  watch(hooks: LeaseHooks): void {
    this.hooks = hooks;
  }

  /** Ids of the runs this process drives now. */
  liveRuns(): string[] {
    return [...this.live];
  }

  /**
   * The runner's store, with every run it creates owned by this process and every block run it starts
   * marked as executed here; run ends are noticed so only live runs are polled for cancel requests. Every
   * other method passes through untouched (a proxy, so methods the runner gains later need no change here).
   */
  ownedStore<S extends RunnerStore>(store: S): S {
    const createRun: RunnerStore["createRun"] = async (input) => {
      const run = await store.createRun({ ...input, ownerId: this.owner.id });
      this.live.add(run.id);
      return run;
    };
    const updateRunState: RunnerStore["updateRunState"] = async (id, state, patch) => {
      if (!TERMINAL.includes(state) && !this.live.has(id)) {
        // A run created elsewhere (a retry re-opening it here): this process drives it from now on.
        await this.store.claimRun(id, this.owner.id);
        this.live.add(id);
      }
      const run = await store.updateRunState(id, state, patch);
      if (TERMINAL.includes(state)) {
        this.live.delete(id);
        this.cancelling.delete(id);
      }
      return run;
    };
    const updateBlockRun: RunnerStore["updateBlockRun"] = (runId, block, patch) =>
      store.updateBlockRun(runId, block, patch.state === "running" ? { ...patch, ownerId: this.owner.id } : patch);
    const overrides: Record<string, unknown> = { createRun, updateRunState, updateBlockRun };
    return new Proxy(store, {
      get(target, property, receiver) {
        if (typeof property === "string" && property in overrides) return overrides[property];
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  private nextLease(): { at: string; leaseExpiresAt: string } {
    const now = this.now();
    return { at: now.toISOString(), leaseExpiresAt: new Date(now.getTime() + this.settings.leaseMs).toISOString() };
  }

  /** Renews the lease now (also called by the timer). */
  async heartbeat(): Promise<void> {
    if (this.released) return;
    try {
      const renewed = await this.store.renewOwnerLease(this.owner.id, this.nextLease());
      if (!renewed && !this.released) {
        // Another process judged this one dead (it stalled past its lease) and failed its runs: stop driving
        // them, and come back as an owner for the runs still to start.
        for (const runId of this.live) this.hooks?.cancel(runId);
        await this.store.registerOwner(this.owner, this.nextLease());
      }
    } catch (error) {
      this.hooks?.onError?.(error, "lease heartbeat");
    }
  }

  /** Looks for cancel requests on this process's live runs (also called by the timer). */
  async pollCancelRequests(): Promise<void> {
    if (this.released || this.polling || this.live.size === 0 || !this.hooks) return;
    this.polling = true;
    try {
      for (const runId of await this.store.findCancelRequests(this.owner.id)) {
        if (!this.live.has(runId) || this.cancelling.has(runId)) continue;
        this.cancelling.add(runId);
        this.hooks.cancel(runId);
      }
    } catch (error) {
      this.hooks.onError?.(error, "cancel poll");
    } finally {
      this.polling = false;
    }
  }

  /** Stops renewing and removes the owner row; call once this process's runs have ended. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.store.releaseOwner(this.owner.id).catch((error: unknown) => this.hooks?.onError?.(error, "lease release"));
  }
}
