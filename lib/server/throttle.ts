/**
 * Throttling of failed credential checks, per client (remote address). Tokens are long random strings, so
 * guessing one is hopeless anyway; this keeps a guesser from even trying at network speed, and keeps the
 * log quiet. Pure: the clock is passed in.
 */

export interface ThrottleOptions {
  /** Failures allowed inside `windowMs` before the client is refused. */
  maxFailures: number;
  windowMs: number;
  /** Clients remembered at most (the oldest are forgotten first), so a flood of addresses cannot grow memory. */
  maxClients: number;
  now?: () => number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { maxFailures: 10, windowMs: 60_000, maxClients: 10_000 };

/** Counts failed credential checks per client in a sliding window. */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Seconds the client must wait before its next credential is even checked, or 0 when it may try now.
   * While it waits, a right credential is refused too: otherwise the refusals would not slow a guesser.
   */
  retryAfterSeconds(client: string): number {
    const recent = this.recent(client);
    if (recent.length < this.options.maxFailures) return 0;
    const oldest = recent[recent.length - this.options.maxFailures];
    return Math.max(1, Math.ceil((oldest + this.options.windowMs - this.now()) / 1000));
  }

  /** Records one failed check by `client`. */
  fail(client: string): void {
    const recent = this.recent(client);
    recent.push(this.now());
    // Only the newest `maxFailures` decide when the client may try again.
    if (recent.length > this.options.maxFailures) recent.splice(0, recent.length - this.options.maxFailures);
    this.failures.delete(client);
    this.failures.set(client, recent);
    if (this.failures.size > this.options.maxClients) {
      const oldestClient = this.failures.keys().next().value;
      if (oldestClient !== undefined) this.failures.delete(oldestClient);
    }
  }

  private recent(client: string): number[] {
    const since = this.now() - this.options.windowMs;
    const kept = (this.failures.get(client) ?? []).filter((at) => at > since);
    if (kept.length === 0) this.failures.delete(client);
    else this.failures.set(client, kept);
    return kept;
  }
}
