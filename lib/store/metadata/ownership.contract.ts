/**
 * The ownership and cancel-request part of the `RunStore` contract, run against every store: owners hold
 * leases, recovery finds only the runs of owners whose lease expired, and a cancel request waits in the
 * store for the owner to notice it — possibly from another process, hence two stores on one database.
 */
import type { RunOwner, RunStore } from "./run-store";

/** A fresh database for one test, on which several stores can be opened (as several processes do). */
export interface OwnershipFixture {
  open(): Promise<RunStore>;
  cleanup(): Promise<void>;
}

const T0 = "2024-05-01T10:00:00.000Z";
const T_LEASE = "2024-05-01T10:00:30.000Z";
const T_AFTER = "2024-05-01T10:00:31.000Z";

function owner(id: string, kind: RunOwner["kind"] = "cli", pid = 4242): RunOwner {
  return { id, kind, host: "test-host", pid, processStartedAt: T0 };
}

function runInput(ownerId?: string) {
  return { pipeline: "etl", trigger: "manual" as const, logicalDate: T0, variables: {}, mode: "pipeline" as const, blocks: ["load", "save"], ownerId };
}

export function ownershipContract(name: string, makeFixture: () => Promise<OwnershipFixture>): void {
  describe(`run ownership contract: ${name}`, () => {
    let fixture: OwnershipFixture;
    let store: RunStore;
    let other: RunStore;
    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
      other = await fixture.open();
    });
    afterEach(async () => {
      await store.close();
      await other.close();
      await fixture.cleanup();
    });

    it("finds only unfinished runs whose owner's lease expired, or that have no owner, as orphaned", async () => {
      await store.registerOwner(owner("live", "server", 1), { at: T0, leaseExpiresAt: "2024-05-01T11:00:00.000Z" });
      await store.registerOwner(owner("dead", "cli", 2), { at: T0, leaseExpiresAt: T_LEASE });
      const live = await store.createRun(runInput("live"));
      const dead = await store.createRun(runInput("dead"));
      const unowned = await store.createRun(runInput());
      const deadButFinished = await store.createRun(runInput("dead"));
      await store.updateRunState(deadButFinished.id, "success", { at: T0 });
      await store.updateRunState(dead.id, "running", { at: T0 });

      // Before the lease runs out, nothing of the dead owner counts as orphaned.
      expect((await other.findOrphanedRuns(T0)).map((o) => o.run.id)).toEqual([unowned.id]);

      const orphaned = await other.findOrphanedRuns(T_AFTER);
      expect(orphaned.map((o) => o.run.id)).toEqual([dead.id, unowned.id]);
      expect(orphaned[0]).toMatchObject({
        ownerId: "dead",
        owner: { id: "dead", kind: "cli", host: "test-host", pid: 2, heartbeatAt: T0, leaseExpiresAt: T_LEASE },
        cancelRequestedAt: null,
        run: { id: dead.id, state: "running" },
      });
      expect(orphaned[1]).toMatchObject({ ownerId: null, owner: null });
      expect(orphaned.some((o) => o.run.id === live.id)).toBe(false);
    });

    it("renews a lease, reports a lease whose row is gone, and removes only expired owners with no unfinished run", async () => {
      await store.registerOwner(owner("a"), { at: T0, leaseExpiresAt: T_LEASE });
      const run = await store.createRun(runInput("a"));
      expect(await store.renewOwnerLease("a", { at: T_LEASE, leaseExpiresAt: "2024-05-01T10:01:00.000Z" })).toBe(true);
      expect(await other.findOrphanedRuns(T_AFTER)).toEqual([]);
      expect((await other.getRunOwnership(run.id))?.owner).toMatchObject({ heartbeatAt: T_LEASE, leaseExpiresAt: "2024-05-01T10:01:00.000Z" });

      const later = "2024-05-01T10:02:00.000Z";
      // Expired but still the owner of an unfinished run: kept, so recovery can say whose run it was.
      expect(await other.removeExpiredOwners(later)).toBe(0);
      await store.updateRunState(run.id, "failed", { at: later });
      expect(await other.removeExpiredOwners(later)).toBe(1);
      expect(await store.renewOwnerLease("a", { at: later, leaseExpiresAt: "2024-05-01T10:03:00.000Z" })).toBe(false);

      await store.registerOwner(owner("b"), { at: T0, leaseExpiresAt: T_LEASE });
      await store.releaseOwner("b");
      expect(await store.renewOwnerLease("b", { at: T0, leaseExpiresAt: T_LEASE })).toBe(false);
    });

    it("keeps a cancel request for the owner to find, only on unfinished runs", async () => {
      await store.registerOwner(owner("cli-1"), { at: T0, leaseExpiresAt: T_LEASE });
      const run = await store.createRun(runInput("cli-1"));
      const finished = await store.createRun(runInput("cli-1"));
      await store.updateRunState(finished.id, "success", { at: T0 });
      expect(await store.findCancelRequests("cli-1")).toEqual([]);

      // Another process (the server's API) writes the request.
      expect(await other.requestCancel(run.id, T0)).toBe(true);
      expect(await other.requestCancel(run.id, T_AFTER)).toBe(true); // the first request's time stands
      expect(await other.requestCancel(finished.id, T0)).toBe(false);
      expect(await other.requestCancel("no-such-run", T0)).toBe(false);

      expect(await store.findCancelRequests("cli-1")).toEqual([run.id]);
      expect(await store.findCancelRequests("someone-else")).toEqual([]);
      expect(await store.getRunOwnership(run.id)).toMatchObject({ ownerId: "cli-1", cancelRequestedAt: T0, owner: { pid: 4242 } });
      expect(await store.getRunOwnership("no-such-run")).toBeNull();

      await store.updateRunState(run.id, "cancelled", { at: T_AFTER });
      expect(await store.findCancelRequests("cli-1")).toEqual([]);
    });

    it("hands a run to the process that re-opens it, dropping an old cancel request", async () => {
      await store.registerOwner(owner("first"), { at: T0, leaseExpiresAt: T_LEASE });
      await other.registerOwner(owner("second", "server", 7), { at: T0, leaseExpiresAt: "2024-05-01T11:00:00.000Z" });
      const run = await store.createRun(runInput("first"));
      await store.requestCancel(run.id, T0);
      await other.claimRun(run.id, "second");
      expect(await other.getRunOwnership(run.id)).toMatchObject({ ownerId: "second", cancelRequestedAt: null, owner: { pid: 7 } });
      expect(await other.findOrphanedRuns(T_AFTER)).toEqual([]); // the first owner's lease expired; the run is no longer its
    });
  });
}
