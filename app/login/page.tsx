import styles from "./login.module.css";

export const dynamic = "force-dynamic";
export const metadata = { title: "Log in · Sluice" };

/**
 * The login form of a server that requires a token (bound beyond 127.0.0.1, or SLUICE_TOKEN set). A plain
 * form, no script: it posts to /login, which the HTTP server in front of Next checks (lib/server/http-server.ts),
 * sets the HttpOnly SameSite cookie and redirects back to `next`.
 */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = typeof params.next === "string" ? params.next : "/";
  const wrong = params.error === "wrong_token";
  return (
    <main className={styles.login}>
      <h1>Sluice</h1>
      <p>This server requires its access token (the <code>SLUICE_TOKEN</code> it was started with).</p>
      <form method="post" action="/login" className={styles.form}>
        <label htmlFor="token">Token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required autoFocus aria-invalid={wrong} aria-describedby={wrong ? "login-error" : undefined} />
        <input type="hidden" name="next" value={next} />
        {wrong && (
          <p id="login-error" className={styles.error} role="alert">
            That token is not right. Check the SLUICE_TOKEN the server was started with, and try again.
          </p>
        )}
        <button type="submit" className="primary">
          Log in
        </button>
      </form>
      <p className="muted">Scripts and the API use the same token as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
    </main>
  );
}
