import { UnexpectedError } from "./errors";
import type { RetryPolicy } from "./model";
import { attemptsLeft, retryDelayMs } from "./retry";

const exponential: RetryPolicy = { count: 10, delayMs: 1000, backoff: "exponential", maxDelayMs: 10_000 };
const constant: RetryPolicy = { count: 3, delayMs: 5000, backoff: "constant", maxDelayMs: 60_000 };

describe("retryDelayMs", () => {
  it("doubles from delay and stops at max_delay", () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(exponential, a))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it("does not overflow for huge attempt numbers", () => {
    expect(retryDelayMs(exponential, 5000)).toBe(10_000);
  });

  it("keeps a constant delay", () => {
    expect([1, 2, 3].map((a) => retryDelayMs(constant, a))).toEqual([5000, 5000, 5000]);
  });

  it("caps a constant delay longer than max_delay", () => {
    expect(retryDelayMs({ ...constant, delayMs: 90_000 }, 1)).toBe(60_000);
  });

  it("allows a zero delay", () => {
    expect(retryDelayMs({ ...exponential, delayMs: 0 }, 3)).toBe(0);
  });

  it.each([0, -1, 1.5])("refuses attempt %p", (attempt) => {
    expect(() => retryDelayMs(exponential, attempt)).toThrow(UnexpectedError);
  });
});

describe("attemptsLeft", () => {
  it("counts the first attempt plus `count` retries", () => {
    expect(attemptsLeft(constant, 1)).toBe(3);
    expect(attemptsLeft(constant, 4)).toBe(0);
    expect(attemptsLeft(constant, 9)).toBe(0);
    expect(attemptsLeft({ ...constant, count: 0 }, 1)).toBe(0);
  });
});
