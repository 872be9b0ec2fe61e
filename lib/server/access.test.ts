import { decideAccess, decideLogin, isLoopbackHost, loginLocation, requestHasToken, safeNextPath, tokenCookie, type RequestHeaders } from "./access";

const TOKEN = "s3cret-token";
const BROWSER: RequestHeaders = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const get = (url: string, headers: RequestHeaders = BROWSER) => decideAccess({ method: "GET", url, headers }, TOKEN);

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
    expect(requestHasToken({ cookie: "sluice_token=%E0%A4%A" }, "s3cret")).toBe(false);
    expect(requestHasToken({}, "s3cret")).toBe(false);
  });

  it("sends an anonymous page view to the login form, remembering where it was going", () => {
    expect(get("/")).toEqual({ action: "redirect", location: "/login" });
    expect(get("/pipelines/hello?x=1")).toEqual({ action: "redirect", location: `/login?next=${encodeURIComponent("/pipelines/hello?x=1")}` });
  });

  it("keeps the API a 401 (no redirect), for browsers and scripts alike", () => {
    expect(get("/api/pipelines")).toEqual({ action: "unauthorized" });
    expect(get("/api/pipelines", { accept: "application/json" })).toEqual({ action: "unauthorized" });
    expect(decideAccess({ method: "POST", url: "/api/pipelines", headers: BROWSER }, TOKEN)).toEqual({ action: "unauthorized" });
    expect(get("/api/runs/r1/events", { accept: "text/event-stream" })).toEqual({ action: "unauthorized" });
    // A script fetching a page gets the 401 too: only navigations (Accept: text/html) are redirected.
    expect(get("/", { accept: "*/*" })).toEqual({ action: "unauthorized" });
  });

  it("serves the login page and Next's static files without a token, and nothing else of Next", () => {
    expect(get("/login")).toEqual({ action: "pass" });
    expect(get("/_next/static/chunks/app.js", { accept: "*/*" })).toEqual({ action: "pass" });
    expect(get("/_next/image?url=x", { accept: "*/*" })).toEqual({ action: "unauthorized" });
  });

  it("passes requests with the token, and sends a logged-in browser away from the login form", () => {
    expect(get("/api/pipelines", { authorization: `Bearer ${TOKEN}` })).toEqual({ action: "pass" });
    expect(get("/pipelines/hello", { ...BROWSER, cookie: `sluice_token=${TOKEN}` })).toEqual({ action: "pass" });
    expect(get("/login?next=%2Fruns", { ...BROWSER, cookie: `sluice_token=${TOKEN}` })).toEqual({ action: "redirect", location: "/runs" });
  });

  it("keeps the ?token= link: right token sets the cookie and drops it from the URL, a wrong one goes to the form with the error", () => {
    expect(get(`/pipelines/hello?token=${TOKEN}&tab=graph`)).toEqual({ action: "set_cookie", location: "/pipelines/hello?tab=graph" });
    expect(get(`/login?token=${TOKEN}&next=%2Fruns`)).toEqual({ action: "set_cookie", location: "/runs" });
    expect(get("/pipelines/hello?token=guess")).toEqual({ action: "redirect", location: `/login?next=${encodeURIComponent("/pipelines/hello")}&error=wrong_token` });
    expect(get("/api/pipelines?token=guess")).toEqual({ action: "unauthorized" });
  });

  it("logs in with the form's token and refuses a wrong or empty one", () => {
    expect(decideLogin(`token=${encodeURIComponent(TOKEN)}&next=${encodeURIComponent("/pipelines/a")}`, TOKEN)).toEqual({ ok: true, location: "/pipelines/a" });
    expect(decideLogin(`token=nope&next=${encodeURIComponent("/pipelines/a")}`, TOKEN)).toEqual({ ok: false, location: `/login?next=${encodeURIComponent("/pipelines/a")}&error=wrong_token` });
    expect(decideLogin("token=&next=%2F", TOKEN)).toEqual({ ok: false, location: "/login?error=wrong_token" });
    expect(decideLogin("", TOKEN).ok).toBe(false);
  });

  it("redirects after login to paths of this server only", () => {
    expect(safeNextPath("/pipelines/a?b=1#c")).toBe("/pipelines/a?b=1#c");
    for (const evil of ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "", null, "/login", "/login?next=/x", "/x\r\nSet-Cookie: a=b"]) {
      expect(safeNextPath(evil)).toBe("/");
    }
    expect(loginLocation("//evil.example")).toBe("/login");
  });

  it("makes the cookie HttpOnly and SameSite=Strict, Secure behind an HTTPS proxy", () => {
    expect(tokenCookie("a b")).toBe("sluice_token=a%20b; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000");
    expect(tokenCookie("t", { "x-forwarded-proto": "https" })).toMatch(/; Secure$/);
    expect(requestHasToken({ cookie: tokenCookie("a b").split(";")[0] }, "a b")).toBe(true);
  });
});
