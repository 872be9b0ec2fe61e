/**
 * The workers page against a real `sluice start` in queue mode
 * (SLUICE_EXECUTOR=queue, the real Redis on 6379 under a key prefix of its own) with a real `sluice worker`
 * process: `GET /api/workers` lists the worker with its pid and the queues with their counts; the page shows
 * them live, with the block the worker is running linked to its run. A server on the local executor says
 * so, and how to switch. Screenshots: test-results/screenshots/workers-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { closeRedis, openRedis } from "../lib/executors/queue-redis";
import type { WorkersResponse } from "../lib/server/api/workers";
import { spawnWorker, type SpawnedWorker } from "../lib/worker/spawn-worker";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix, writePipeline } from "../test/distributed/helpers";
import { launchChromium, SCREENSHOT_DIR, startSluice, type StartedServer } from "./server";

jest.setTimeout(180_000);

const SLOW = `
import { tableFromArrays } from "apache-arrow";
export default async function wait() {
  await new Promise((resolve) => setTimeout(resolve, 15000));
  return tableFromArrays({ x: Int32Array.from([1]) });
}`;

async function getWorkers(server: StartedServer): Promise<WorkersResponse> {
  const response = await fetch(`${server.url}/api/workers`);
  expect(response.status).toBe(200);
  return (await response.json()) as WorkersResponse;
}

describe("workers page in queue mode (real server, real worker, real Chromium)", () => {
  const prefix = uniquePrefix("e2e-workers");
  let projectDir: string;
  let server: StartedServer;
  let worker: SpawnedWorker;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-workers-"));
    writePipeline(projectDir, "slow", "version: 1\nname: slow\nblocks:\n  - { name: wait_a_bit, type: loader, language: ts, upstream: [] }\n", { "wait_a_bit.ts": SLOW });
    const env = {
      SLUICE_EXECUTOR: "queue",
      REDIS_URL,
      SLUICE_QUEUE_PREFIX: prefix,
      // Server and worker on this machine, sharing its data directory (SQLite metadata).
      SLUICE_WORKERS_LOCAL: "1",
      SLUICE_HOME: path.join(projectDir, ".sluice"),
      SLUICE_PROJECT_DIR: projectDir,
    };
    [server, worker] = await Promise.all([
      startSluice(projectDir, [], env),
      spawnWorker({ args: ["--local", "--concurrency", "2"], env }),
    ]);
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (worker) {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    const redis = openRedis(REDIS_URL);
    await deleteRedisPrefix(redis, prefix);
    await closeRedis(redis);
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("GET /api/workers: the worker (host, pid, queues, slots, heartbeat) and the queue counts", async () => {
    const body = await getWorkers(server);
    if (body.executor !== "queue") throw new Error(`expected queue mode, got ${JSON.stringify(body)}`);
    expect(body.prefix).toBe(prefix);
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0]).toMatchObject({ id: worker.id, host: os.hostname(), pid: worker.pid, queues: ["default"], concurrency: 2, state: "running", current_jobs: [] });
    expect(Date.parse(body.checked_at) - Date.parse(body.workers[0].last_heartbeat)).toBeLessThan(5000);
    expect(body.queues).toEqual([{ queue: "default", waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 }]);
  });

  it("the page shows the worker and the queue, then the block it runs, linked to the run", async () => {
    await page.goto(server.url);
    await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Workers" }).click();
    await page.getByRole("heading", { name: "Workers", exact: true }).waitFor();
    const row = page.getByTestId("worker-row");
    await row.waitFor();
    expect(await row.getByTestId("worker-pid").innerText()).toBe(String(worker.pid));
    expect(await page.getByTestId("queue-row").first().getAttribute("data-queue")).toBe("default");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "workers-idle.png"), fullPage: true });

    // Start a run: without reloading, the page shows the running block within a couple of polls.
    const started = await fetch(`${server.url}/api/pipelines/slow/runs`, { method: "POST", headers: { "Content-Type": "application/json", Origin: server.url }, body: "{}" });
    expect(started.status).toBeLessThan(300);
    const { run_id: runId } = (await started.json()) as { run_id: string };
    const job = page.getByTestId("worker-job");
    await job.waitFor({ timeout: 15_000 });
    expect(await job.innerText()).toContain("wait_a_bit");
    await page.getByTestId("queue-row").filter({ hasText: "default" }).locator("td").nth(2).filter({ hasText: "1" }).waitFor({ timeout: 10_000 });
    const api = await getWorkers(server);
    expect(api.executor === "queue" && api.workers[0].current_jobs.map((j) => [j.run_id, j.block])).toEqual([[runId, "wait_a_bit"]]);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "workers-busy.png"), fullPage: true });

    await job.getByRole("link", { name: runId }).click();
    await page.waitForURL(`**/runs/${runId}`);
  });
});

describe("workers page on the local executor", () => {
  let projectDir: string;
  let server: StartedServer;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-workers-local-"));
    fs.mkdirSync(path.join(projectDir, "pipelines"));
    server = await startSluice(projectDir, [], { SLUICE_EXECUTOR: "local" });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("answers that the local executor is in use, and the page says how to enable queue mode", async () => {
    const body = await getWorkers(server);
    expect(body).toMatchObject({ executor: "local", message: expect.stringMatching(/local executor/), enable: expect.stringMatching(/SLUICE_EXECUTOR=queue/) });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/workers`);
      const notice = page.getByTestId("local-executor");
      await notice.waitFor();
      expect(await notice.innerText()).toMatch(/local executor[\s\S]*SLUICE_EXECUTOR=queue[\s\S]*sluice worker/);
    } finally {
      await browser.close();
    }
  });
});
