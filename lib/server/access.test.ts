import { isLoopbackHost, requestHasToken } from "./access";

describe("access", () => {
  it("treats only loopback addresses as safe without a token", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("::1")).toBe(true);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
    expect(isLoopbackHost("192.168.1.4")).toBe(false);
  });

  it("accepts the token as a bearer header or cookie and nothing else", () => {
    expect(requestHasToken({ authorization: "Bearer s3cret" }, "s3cret")).toBe(true);
    expect(requestHasToken({ cookie: "a=1; sluice_token=s3cret" }, "s3cret")).toBe(true);
    expect(requestHasToken({ authorization: "Bearer s3cre" }, "s3cret")).toBe(false);
    expect(requestHasToken({ cookie: "sluice_token=nope" }, "s3cret")).toBe(false);
    expect(requestHasToken({}, "s3cret")).toBe(false);
  });
});
