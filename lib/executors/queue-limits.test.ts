import { KeyedSemaphore, Semaphore } from "./queue-limits";

describe("Semaphore", () => {
  it("grants up to its limit, then hands slots to waiters in order", async () => {
    const semaphore = new Semaphore(2);
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const order: string[] = [];
    const c = semaphore.acquire().then((release) => (order.push("c"), release));
    const d = semaphore.acquire().then((release) => (order.push("d"), release));
    expect(semaphore.inUse).toBe(2);
    expect(semaphore.waiting).toBe(2);
    a();
    a(); // idempotent: does not free a second slot
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    b();
    const releaseD = await d;
    expect(order).toEqual(["c", "d"]);
    releaseC();
    releaseD();
    expect(semaphore.inUse).toBe(0);
  });

  it("drops a waiter whose signal aborts", async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    expect(semaphore.waiting).toBe(0);
    release();
    expect(semaphore.inUse).toBe(0);
  });

  it("refuses a limit below 1", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe("KeyedSemaphore", () => {
  it("caps each key separately and forgets idle keys", async () => {
    const keyed = new KeyedSemaphore(1);
    const a1 = await keyed.acquire("a");
    const b1 = await keyed.acquire("b");
    let a2Granted = false;
    const a2 = keyed.acquire("a").then((release) => ((a2Granted = true), release));
    await Promise.resolve();
    expect(a2Granted).toBe(false);
    expect(keyed.inUse("b")).toBe(1);
    a1();
    (await a2)();
    b1();
    expect(keyed.inUse("a")).toBe(0);
    expect(keyed.inUse("b")).toBe(0);
  });
});
