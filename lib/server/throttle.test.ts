import { FailureThrottle } from "./throttle";

describe("FailureThrottle", () => {
  let now = 0;
  const throttle = () => new FailureThrottle({ maxFailures: 3, windowMs: 60_000, maxClients: 2, now: () => now });

  beforeEach(() => (now = 1_000_000));

  it("refuses a client after too many failures, until the oldest leaves the window", () => {
    const t = throttle();
    t.fail("a");
    now += 10_000;
    t.fail("a");
    expect(t.retryAfterSeconds("a")).toBe(0);
    t.fail("a");
    expect(t.retryAfterSeconds("a")).toBe(50);
    expect(t.retryAfterSeconds("b")).toBe(0);
    now += 50_000;
    expect(t.retryAfterSeconds("a")).toBe(0);
  });

  it("remembers a bounded number of clients", () => {
    const t = throttle();
    for (const client of ["a", "b", "c"]) for (let i = 0; i < 3; i++) t.fail(client);
    expect(t.retryAfterSeconds("a")).toBe(0);
    expect(t.retryAfterSeconds("b")).toBeGreaterThan(0);
    expect(t.retryAfterSeconds("c")).toBeGreaterThan(0);
  });
});
