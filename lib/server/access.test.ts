import { authenticatedBy, clearedTokenCookie, csrfTokenFor, decideAccess, decideLogin, hasCsrfToken, isLoopbackHost, loginLocation, presentsCredential, requestHasToken, safeNextPath, tokenCookie, weakTokenMessage, type RequestHeaders } from "./access";

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

describe("credentials, CSRF and token strength", () => {
  const LONG = "x".repeat(40);

  it("tells which credential authenticated a request, the bearer header first", () => {
    expect(authenticatedBy({ authorization: `Bearer ${LONG}`, cookie: `sluice_token=${LONG}` }, LONG)).toBe("bearer");
    expect(authenticatedBy({ cookie: `sluice_token=${LONG}` }, LONG)).toBe("cookie");
    expect(authenticatedBy({ authorization: "Bearer wrong", cookie: `sluice_token=${LONG}` }, LONG)).toBe("cookie");
    expect(authenticatedBy({ authorization: "Bearer wrong" }, LONG)).toBeNull();
  });

  it("sees a credential attempt in a bearer header, the cookie or ?token=, right or wrong", () => {
    expect(presentsCredential({ authorization: "Bearer guess" }, "/api/pipelines")).toBe(true);
    expect(presentsCredential({ cookie: "other=1; sluice_token=guess" }, "/")).toBe(true);
    expect(presentsCredential({}, "/?token=guess")).toBe(true);
    expect(presentsCredential({ cookie: "other=1" }, "/runs?status=failed")).toBe(false);
  });

  it("derives a CSRF token from the server token that a different token does not match", () => {
    const csrf = csrfTokenFor(LONG);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf).not.toContain(LONG);
    expect(hasCsrfToken(csrf, LONG)).toBe(true);
    expect(hasCsrfToken(csrfTokenFor("y".repeat(40)), LONG)).toBe(false);
    expect(hasCsrfToken(undefined, LONG)).toBe(false);
  });

  it("refuses tokens shorter than 32 characters, saying how to make one", () => {
    expect(weakTokenMessage("x".repeat(32))).toBeNull();
    expect(weakTokenMessage("short")).toBe(
      `SLUICE_TOKEN is 5 characters; use at least 32 random ones, e.g. node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  });

  it("logs out with an expired cookie of the same name and attributes", () => {
    expect(clearedTokenCookie()).toBe("sluice_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  });
});
