import { allowedHosts, apiTriggerId, bodyLimitFor, isAllowedHost, isJsonContentType, isStateChanging, originOf } from "./request-guard";

describe("Host names the server answers to", () => {
  const loopback = allowedHosts("127.0.0.1", 3000, [], true);

  it("accepts the loopback names on the bound port only", () => {
    for (const host of ["127.0.0.1:3000", "localhost:3000", "LOCALHOST:3000", "[::1]:3000"]) expect(isAllowedHost(host, loopback)).toBe(true);
    for (const host of ["127.0.0.1:3001", "localhost", "attacker.example:3000", "rebind.127.0.0.1.nip.io:3000", "", "a b"]) expect(isAllowedHost(host, loopback)).toBe(false);
    expect(isAllowedHost(undefined, loopback)).toBe(false);
  });

  it("adds configured names (any port unless given) and the bound name", () => {
    const wide = allowedHosts("10.0.0.5", 8080, ["sluice.example.com", "ops.example.com:8443"], false);
    expect(isAllowedHost("10.0.0.5:8080", wide)).toBe(true);
    expect(isAllowedHost("sluice.example.com", wide)).toBe(true);
    expect(isAllowedHost("ops.example.com:8443", wide)).toBe(true);
    expect(isAllowedHost("ops.example.com", wide)).toBe(false);
    expect(isAllowedHost("127.0.0.1:8080", wide)).toBe(false);
  });

  it("accepts any name on every interface with nothing configured, and pins the names once configured", () => {
    expect(isAllowedHost("whatever.example", allowedHosts("0.0.0.0", 3000, [], false))).toBe(true);
    const pinned = allowedHosts("0.0.0.0", 3000, ["sluice.example.com"], false);
    expect(isAllowedHost("whatever.example", pinned)).toBe(false);
    expect(isAllowedHost("127.0.0.1:3000", pinned)).toBe(true);
  });
});

describe("the origin of a request", () => {
  it("is the same only for this host and port, by Origin or else Referer", () => {
    expect(originOf({ origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000" })).toBe("same");
    expect(originOf({ origin: "https://sluice.example.com", host: "sluice.example.com" })).toBe("same");
    expect(originOf({ referer: "http://localhost:3000/pipelines/x", host: "localhost:3000" })).toBe("same");
    expect(originOf({ origin: "http://127.0.0.1:3001", host: "127.0.0.1:3000" })).toBe("cross");
    expect(originOf({ origin: "http://localhost:3000", host: "127.0.0.1:3000" })).toBe("cross");
    expect(originOf({ origin: "null", host: "127.0.0.1:3000" })).toBe("cross");
    expect(originOf({ origin: "http://evil.example", referer: "http://127.0.0.1:3000/", host: "127.0.0.1:3000" })).toBe("cross");
    expect(originOf({ referer: "file:///tmp/x.html", host: "127.0.0.1:3000" })).toBe("cross");
    expect(originOf({ host: "127.0.0.1:3000" })).toBe("absent");
  });
});

describe("request classes", () => {
  it("treats everything but GET, HEAD and OPTIONS as state-changing", () => {
    expect(["POST", "PUT", "PATCH", "DELETE"].every(isStateChanging)).toBe(true);
    expect(["GET", "HEAD", "OPTIONS"].some(isStateChanging)).toBe(false);
  });

  it("accepts JSON content types only", () => {
    expect(isJsonContentType("application/json")).toBe(true);
    expect(isJsonContentType("Application/JSON; charset=utf-8")).toBe(true);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json-patch+json", undefined]) expect(isJsonContentType(type)).toBe(false);
  });

  it("gives block code saves 5 MB and every other route 1 MB", () => {
    expect(bodyLimitFor("PUT", "/api/pipelines/etl/blocks/load")).toBe(5 * 1024 * 1024);
    expect(bodyLimitFor("POST", "/api/pipelines/etl/blocks")).toBe(5 * 1024 * 1024);
    expect(bodyLimitFor("PUT", "/api/pipelines/etl")).toBe(1024 * 1024);
    expect(bodyLimitFor("POST", "/api/triggers/etl.hook/runs")).toBe(1024 * 1024);
  });

  it("recognises the API-trigger route", () => {
    expect(apiTriggerId("POST", "/api/triggers/etl.hook/runs")).toBe("etl.hook");
    expect(apiTriggerId("GET", "/api/triggers/etl.hook/runs")).toBeNull();
    expect(apiTriggerId("POST", "/api/triggers/etl.hook/runs/extra")).toBeNull();
  });
});
