import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { compileSchedule, type ScheduleSpec } from "../lib/core/schedule";
import type { Trigger } from "../lib/core/triggers-schema";
import { Scheduler } from "../lib/scheduler/scheduler";
import { StaticTriggerSource } from "../lib/scheduler/static-trigger-source";
import { recordingStartRun, scheduleTrigger } from "../lib/scheduler/test-helpers";
import { SqliteRunStore } from "../lib/store/metadata/sqlite-run-store";
import { median, ms, type BenchRow } from "./report";

const TRIGGERS = 10_000;
const ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney"];

/** 10,000 enabled schedules: cron in five zones (every minute … daily) and fixed intervals, none due during the warm ticks. */
function manyTriggers(startMs: number): Trigger[] {
  const triggers: Trigger[] = [];
  for (let i = 0; i < TRIGGERS; i++) {
    const spec: ScheduleSpec =
      i % 2 === 0
        ? { kind: "cron", cron: `${i % 60} ${i % 24} * * *`, timezone: ZONES[i % ZONES.length], startMs, endMs: null }
        : { kind: "interval", everyMs: (5 + (i % 55)) * 60_000, startMs, endMs: null };
    triggers.push(scheduleTrigger(`t${i}`, spec, { missedRunPolicy: "latest" }));
  }
  return triggers;
}

async function sleep(msToWait: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, msToWait));
}

/**
 * The scheduler targets: one tick over 10,000 enabled schedules (≤ 100 ms; baseline: the
 * naive tick that recomputes every cron each time), and the lateness of a due run with the loop running
 * (≤ 1 s; baseline: a bare `setTimeout` aimed at the same instants, i.e. the event loop's own precision).
 */
export async function benchScheduler(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-sched-"));
  const store = await SqliteRunStore.open(path.join(dir, "sluice.db"));
  const rows: BenchRow[] = [];
  try {
    // --- one tick over 10,000 schedules -------------------------------------------------------------
    const now0 = Date.parse("2030-01-01T00:00:30Z");
    const triggers = manyTriggers(now0);
    const minutely = Array.from({ length: 100 }, (_, i) => scheduleTrigger(`m${i}`, { kind: "interval", everyMs: 60_000, startMs: now0, endMs: null }));
    const source = new StaticTriggerSource({ bench: triggers, due: minutely });
    let clock = now0;
    const recorder = recordingStartRun(store);
    const scheduler = new Scheduler({ store: store.triggers, source, startRun: recorder.startRun, now: () => clock });
    const coldStart = performance.now();
    const cold = await scheduler.tick();
    const coldMs = performance.now() - coldStart;
    const total = TRIGGERS + minutely.length;
    if (cold.evaluated !== total) throw new Error(`evaluated ${cold.evaluated} triggers, expected ${total}`);
    const warm: number[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 100;
      const started = performance.now();
      const report = await scheduler.tick();
      warm.push(performance.now() - started);
      if (report.evaluated !== total || report.started.length !== 0) throw new Error("unexpected runs in the warm ticks");
    }
    clock = now0 + 60_000;
    const dueStart = performance.now();
    const dueTick = await scheduler.tick();
    const dueMs = performance.now() - dueStart;
    if (dueTick.started.length !== minutely.length) throw new Error(`started ${dueTick.started.length} runs, expected ${minutely.length}`);
    // A restarted scheduler on the same store: due times come back from the store, no cron maths.
    const restarted = new Scheduler({ store: store.triggers, source, startRun: recorder.startRun, now: () => clock });
    const restartStart = performance.now();
    await restarted.tick();
    const restartMs = performance.now() - restartStart;

    // Baseline: evaluate the same 10,000 schedules by computing each next fire time every tick.
    const compiled = triggers.map((t) => (t.type === "schedule" ? compileSchedule(t.schedule) : null));
    const naive: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      let due = 0;
      for (const schedule of compiled) {
        const next = schedule?.nextTick(clock, true);
        if (next !== null && next !== undefined && next <= clock) due++;
      }
      if (due < 0) throw new Error("unreachable");
      naive.push(performance.now() - started);
    }
    rows.push({
      bench: "scheduler",
      metric: `tick over ${total.toLocaleString("en-US")} enabled schedules, none due (median of 30)`,
      value: ms(median(warm)),
      baseline: `${ms(median(naive))} recomputing every cron per tick`,
      target: "≤ 100 ms",
    });
    rows.push({
      bench: "scheduler",
      metric: `tick over ${total.toLocaleString("en-US")} schedules with 100 due (claim + start 100 runs)`,
      value: ms(dueMs),
      baseline: `${ms(dueMs / minutely.length)} per started run (store writes)`,
      target: "≤ 100 ms (evaluation)",
    });
    rows.push({
      bench: "scheduler",
      metric: "first tick (sync files → store, compute all due times)",
      value: ms(coldMs),
      baseline: `${ms(restartMs)} after a restart (due times from the store)`,
      target: "(once per start)",
    });

    // --- lateness of due runs, loop running with the 10,000 schedules loaded -------------------------
    const latenesses: number[] = [];
    const every = scheduleTrigger("every_second", { kind: "interval", everyMs: 1000, startMs: null, endMs: null }, { missedRunPolicy: "none" });
    // The 10,000 stay loaded (with a new schedule, so their due times are recomputed at the first tick).
    const later = Date.now() + 3_600_000;
    const parked = triggers.map((t) => scheduleTrigger(t.name, { kind: "interval", everyMs: 86_400_000, startMs: later, endMs: null }));
    const liveSource = new StaticTriggerSource({ bench: parked, live: [every] });
    const live = new Scheduler({
      store: store.triggers,
      source: liveSource,
      startRun: async (request) => {
        latenesses.push(Date.now() - Date.parse(request.dataInterval.end));
        return recorder.startRun(request);
      },
    });
    live.start();
    await sleep(8_500);
    await live.stop();
    const firstSkipped = latenesses.slice(1); // the first may include the initial file sync
    const baselineLateness: number[] = [];
    for (let i = 0; i < 5; i++) {
      const target = Math.ceil(Date.now() / 1000) * 1000;
      await sleep(target - Date.now());
      baselineLateness.push(Date.now() - target);
    }
    rows.push({
      bench: "scheduler",
      metric: `lateness of a due run, loop running (${firstSkipped.length} runs, median / max)`,
      value: `${ms(median(firstSkipped))} / ${ms(Math.max(...firstSkipped))}`,
      baseline: `${ms(median(baselineLateness))} / ${ms(Math.max(...baselineLateness))} bare setTimeout; Mage polls every 10 s`,
      target: "≤ 1 s",
    });
    return rows;
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
