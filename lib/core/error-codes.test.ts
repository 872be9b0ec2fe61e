import { ERROR_CODES, httpStatusOf, isRetryableCode } from "./error-codes";
import { isRetryable, OperationalError, StaleVersionError, UnexpectedError, UserError } from "./errors";

describe("the error code registry", () => {
  it("gives registered codes their own status, and others their kind's", () => {
    expect(httpStatusOf("user", "run_not_found")).toBe(404);
    expect(httpStatusOf("user", "stale_version")).toBe(409);
    expect(httpStatusOf("operational", "max_active_runs")).toBe(429);
    expect(httpStatusOf("user", "sql_error")).toBe(422);
    expect(httpStatusOf("operational", "db_unreachable")).toBe(503);
    // A bug stays a 500 whatever code it was given.
    expect(httpStatusOf("unexpected", "not_found")).toBe(500);
    // Inherited object keys are not codes.
    expect(httpStatusOf("user", "toString")).toBe(422);
  });

  it("decides retries the same way for the runner: operational and throttled yes, user errors and bugs no", () => {
    expect(isRetryable(new OperationalError("db_unreachable", "down"))).toBe(true);
    expect(isRetryable(new OperationalError("max_active_runs", "busy"))).toBe(true);
    expect(isRetryable(new UserError("sql_error", "bad SQL"))).toBe(false);
    expect(isRetryable(new StaleVersionError("changed", "v2"))).toBe(false);
    expect(isRetryable(new UnexpectedError("max_active_runs", "bug"))).toBe(false);
    expect(isRetryable(new Error("thrown by block code"))).toBe(true);
    expect(isRetryableCode("user", "run_not_found")).toBe(false);
  });

  it("registers client errors as 4xx and only throttling among them as retryable", () => {
    for (const [code, rule] of Object.entries(ERROR_CODES)) {
      expect([code, rule.status >= 400 && rule.status < 600]).toEqual([code, true]);
      if (rule.status >= 400 && rule.status < 500) expect([code, rule.retryable]).toEqual([code, rule.status === 429]);
    }
  });
});
