import { messageOf, UserError } from "./errors";

describe("messageOf", () => {
  it("gives the message of an Error without its name", () => {
    expect(messageOf(new TypeError("bad input"))).toBe("bad input");
    expect(messageOf(new UserError("invalid_value", "retries must be ≥ 0"))).toBe("retries must be ≥ 0");
  });

  it("gives the message of an error-like value that fails instanceof Error (native code, another realm)", () => {
    const foreign: unknown = Object.assign(Object.create(null), { name: "Error", message: "Binder Error: table trips does not exist" });
    expect(foreign instanceof Error).toBe(false);
    expect(messageOf(foreign)).toBe("Binder Error: table trips does not exist");
  });

  it("prints anything else thrown as a string", () => {
    expect(messageOf("plain text")).toBe("plain text");
    expect(messageOf(42)).toBe("42");
    expect(messageOf(undefined)).toBe("undefined");
    expect(messageOf(null)).toBe("null");
    expect(messageOf({ message: 7 })).toBe("[object Object]");
  });
});
