/**
 * Notifications and callbacks through the real `sluice run`, received by real local endpoints: an HTTP
 * receiver (a signed webhook, a Slack-shaped message), an SMTP server (the failure email, with a login), and
 * a channel that is down, which is retried, reported without its secret URL, and does not change the run.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runSluice } from "../sluice-process";
import { writePipeline } from "../write-pipeline";
import { signatureValid, startHttpReceiver, startSmtpServer } from "./receivers";

const HOOK_SECRET = "hook-secret-5f2a9c";
const SMTP_PASSWORD = "smtp-password-77e1";
const SLACK_TOKEN = "T0SLACKTOKEN991";

describe("notify: and on_* callbacks in sluice run", () => {
  let projectDir: string;
  let http: Awaited<ReturnType<typeof startHttpReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    http = await startHttpReceiver();
    smtp = await startSmtpServer("sluice", SMTP_PASSWORD);
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-notify-cli-"));
    env = { HOOK_SECRET, SMTP_PASSWORD, SLACK_URL: `${http.url}/slack/${SLACK_TOKEN}`, DOWN_URL: `${http.url}/down/${SLACK_TOKEN}`, SLUICE_PUBLIC_URL: "http://sluice.test" };
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      `channels:
  hook: { kind: webhook, url: "${http.url}/hook", secret: "{{ env_var('HOOK_SECRET') }}" }
  team_slack: { kind: slack, url: "{{ env_var('SLACK_URL') }}" }
  broken_slack: { kind: slack, url: "{{ env_var('DOWN_URL') }}", retries: 1 }
  oncall:
    kind: email
    host: 127.0.0.1
    port: ${smtp.port}
    user: sluice
    password: "{{ env_var('SMTP_PASSWORD') }}"
    from: sluice@example.test
    to: [oncall@example.test]
`,
    );
    const recorder = (event: string) => `import fs from "node:fs";
import path from "node:path";
export default async function (ctx) {
  ctx.log.info("callback saw " + ctx.event);
  fs.writeFileSync(path.join(String(ctx.variables.out), "${event}.json"), JSON.stringify({ event: ctx.event, run: ctx.run, error: ctx.error }));
}
`;
    writePipeline(
      projectDir,
      "fails",
      `version: 1
name: fails
variables: { out: ${JSON.stringify(projectDir)} }
notify:
  - { on: [failure, retry], channel: hook }
  - { on: [failure], channel: team_slack }
  - { on: [failure], channel: oncall }
  - { on: [failure], channel: broken_slack }
on_failure: [record_failure]
on_retry: [record_retry]
blocks:
  - { name: boom, type: loader, language: ts, upstream: [], retries: { count: 1, delay: 10ms } }
`,
      {
        "boom.ts": `export default async function load() { throw new Error("disk on fire"); }\n`,
        "record_failure.ts": recorder("failure"),
        "record_retry.ts": recorder("retry"),
      },
    );
    writePipeline(
      projectDir,
      "works",
      `version: 1
name: works
variables: { out: ${JSON.stringify(projectDir)} }
notify: [{ on: [success], channel: hook }]
on_success: [record_success]
on_failure: [record_failure]
blocks:
  - { name: rows, type: loader, language: ts, upstream: [] }
`,
      {
        "rows.ts": `export default async function load() { return [{ a: 1 }]; }\n`,
        "record_success.ts": recorder("success"),
        "record_failure.ts": recorder("never"),
      },
    );
  });

  afterAll(async () => {
    await http.close();
    await smtp.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  test("a failed run: signed webhook, Slack message and email arrive, callbacks run, a channel that is down fails nothing", async () => {
    const result = await runSluice(projectDir, ["run", "fails", "--json"], env);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as { run_id: string; status: string };
    expect(summary.status).toBe("failed");

    const hooks = http.received.filter((r) => r.path === "/hook");
    expect(hooks.map((r) => (JSON.parse(r.body) as { event: string }).event)).toEqual(["retry", "failure"]);
    for (const hook of hooks) expect(signatureValid(hook.headers["x-sluice-signature"], hook.body, HOOK_SECRET)).toBe(true);
    const failure = JSON.parse(hooks[1].body) as Record<string, unknown>;
    expect(failure).toMatchObject({
      pipeline: "fails",
      run_id: summary.run_id,
      state: "failed",
      link: `http://sluice.test/runs/${summary.run_id}`,
      error: { block: "boom", attempt: 2 },
    });
    expect(JSON.stringify(failure.error)).toContain("disk on fire");

    const slack = http.received.filter((r) => r.path.startsWith("/slack/"));
    expect(slack).toHaveLength(1);
    const { text } = JSON.parse(slack[0].body) as { text: string };
    expect(text).toContain("fails");
    expect(text).toContain(`<http://sluice.test/runs/${summary.run_id}|${summary.run_id}>`);
    expect(text).toContain("Failed block: `boom`");
    expect(text).toContain("disk on fire");

    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({ from: "sluice@example.test", to: ["oncall@example.test"], user: "sluice" });
    expect(smtp.mails[0].raw).toMatch(/Subject: Sluice: fails failed/);
    expect(smtp.mails[0].raw).toContain("Failed block: boom");

    // The channel that is down: tried twice (retries: 1), reported, its URL (a secret) never shown.
    expect(http.received.filter((r) => r.path.startsWith("/down/"))).toHaveLength(2);
    expect(result.stderr).toContain("to broken_slack: attempt 2 of 2 failed: HTTP 500");
    expect(result.stderr + result.stdout).not.toContain(SLACK_TOKEN);
    expect(result.stderr + result.stdout).not.toContain(HOOK_SECRET);

    const failed = JSON.parse(fs.readFileSync(path.join(projectDir, "failure.json"), "utf8")) as Record<string, unknown>;
    expect(failed).toMatchObject({ event: "failure", run: { id: summary.run_id, pipeline: "fails", state: "failed" }, error: { block: "boom" } });
    expect(JSON.parse(fs.readFileSync(path.join(projectDir, "retry.json"), "utf8"))).toMatchObject({ event: "retry", error: { block: "boom", attempt: 1 } });
  });

  test("a successful run: on_success runs, the success notice arrives, on_failure does not run", async () => {
    const before = http.received.length;
    const result = await runSluice(projectDir, ["run", "works", "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { run_id: string; status: string };
    expect(summary.status).toBe("success");
    const bodies = http.received.slice(before).map((r) => JSON.parse(r.body) as { event: string; run_id: string });
    expect(bodies).toEqual([expect.objectContaining({ event: "success", run_id: summary.run_id })]);
    expect(JSON.parse(fs.readFileSync(path.join(projectDir, "success.json"), "utf8"))).toMatchObject({ event: "success", run: { id: summary.run_id }, error: null });
    expect(fs.existsSync(path.join(projectDir, "never.json"))).toBe(false);
    expect(result.stderr).toBe("");
  });
});
