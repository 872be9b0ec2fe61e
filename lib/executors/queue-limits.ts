/**
 * Concurrency caps of the queue executor. BullMQ's open-source edition has
 * no per-group concurrency, so the caps are enforced where jobs are made:
 * - global: the number of worker slots (`sluice worker --concurrency N` × workers) bounds what runs at once;
 *   `maxInFlight` additionally bounds what one executor keeps enqueued;
 * - per pipeline: at most `maxPerPipeline` jobs of one pipeline enqueued or running, from this executor.
 *
 * A slot is taken before the job is added and given back when its result arrives, so a capped pipeline
 * leaves its waiting blocks in the runner (state `queued`), not in Redis where they would block others.
 */

/** A counting semaphore with FIFO waiters; a waiter whose signal aborts leaves the line. */
export class Semaphore {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`semaphore limit must be ≥ 1, got ${limit}`);
  }

  /** Slots in use. */
  get inUse(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Waits for a slot and returns its release function (idempotent).
   *
   * @throws the signal's reason when it aborts first.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw signal.reason;
    if (this.used < this.limit) {
      this.used += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter: `used` stays the same.
      if (next) next();
      else this.used -= 1;
    };
  }
}

/** One semaphore per key (pipeline name), created on demand and dropped when idle. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(readonly limit: number) {}

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.limit);
      this.byKey.set(key, semaphore);
    }
    const held = semaphore;
    const release = await held.acquire(signal).catch((error: unknown) => {
      this.dropIfIdle(key, held);
      throw error;
    });
    return () => {
      release();
      this.dropIfIdle(key, held);
    };
  }

  /** Slots in use for `key`. */
  inUse(key: string): number {
    return this.byKey.get(key)?.inUse ?? 0;
  }

  private dropIfIdle(key: string, semaphore: Semaphore): void {
    if (semaphore.inUse === 0 && semaphore.waiting === 0 && this.byKey.get(key) === semaphore) this.byKey.delete(key);
  }
}
