import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServices } from "../lib/server/services";
import { median, ms, type BenchRow } from "./report";

const INSTANCES = 1000;
const FAN = 200;
const TRIVIAL = `export default async function t(input, ctx) { return [{ x: ctx.item ? ctx.item.i : 0 }]; }`;

/**
 * A dynamic block of 1,000 rows: 1,000 instances of a trivial TS block (reduced into one table), on the local
 * executor. Baseline, same services and run: a declared fan of 200 trivial blocks (what a block costs without
 * the dynamic machinery).
 */
function writeProject(dir: string) {
  const dynamicDir = path.join(dir, "pipelines", "dynamic");
  fs.mkdirSync(dynamicDir, { recursive: true });
  fs.writeFileSync(
    path.join(dynamicDir, "pipeline.yaml"),
    `version: 1\nname: dynamic\nblocks:\n  - { name: items, type: loader, language: sql, dynamic: true }\n  - { name: child, type: transformer, language: ts, upstream: [items], reduce: true }\n`,
  );
  fs.writeFileSync(path.join(dynamicDir, "items.sql"), `SELECT range AS i FROM range(${INSTANCES})`);
  fs.writeFileSync(path.join(dynamicDir, "child.ts"), TRIVIAL);
  const fanDir = path.join(dir, "pipelines", "fan");
  fs.mkdirSync(fanDir, { recursive: true });
  const blocks = Array.from({ length: FAN }, (_, i) => `  - { name: b${i}, type: ${i ? "transformer" : "loader"}, language: ts, upstream: [${i ? "b0" : ""}] }`);
  fs.writeFileSync(path.join(fanDir, "pipeline.yaml"), `version: 1\nname: fan\nblocks:\n${blocks.join("\n")}\n`);
  for (let i = 0; i < FAN; i++) fs.writeFileSync(path.join(fanDir, `b${i}.ts`), TRIVIAL.replace("(input, ctx)", i ? "(input, ctx)" : "(ctx)"));
}

export async function benchDynamic(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-dynamic-"));
  writeProject(dir);
  const services = await createServices({ projectDir: dir });
  try {
    await services.runner.run({ pipeline: "fan" }); // warm: compile, start the pool
    const fanStart = performance.now();
    const fan = await services.runner.run({ pipeline: "fan" });
    const fanWall = performance.now() - fanStart;
    if (fan.state !== "success") throw new Error(`fan run ${fan.state}`);
    const fanPerBlock = median(fan.blocks.map((b) => b.durationMs ?? 0));

    const started = performance.now();
    const outcome = await services.runner.run({ pipeline: "dynamic" });
    const wall = performance.now() - started;
    if (outcome.state !== "success") throw new Error(`dynamic run ${outcome.state}`);
    const instances = outcome.blocks.filter((b) => b.name.startsWith("child["));
    const reduced = outcome.blocks.find((b) => b.name === "child");
    if (instances.length !== INSTANCES || reduced?.rows !== INSTANCES) throw new Error(`expected ${INSTANCES} instances reduced, got ${instances.length} and ${reduced?.rows} rows`);
    return [
      {
        bench: `dynamic block, ${INSTANCES} instances`,
        metric: "instance run, median (queue → persisted)",
        value: ms(median(instances.map((b) => b.durationMs ?? 0))),
        baseline: `${ms(fanPerBlock)} (declared block, fan of ${FAN})`,
        target: "≤ 5 ms",
      },
      {
        bench: `dynamic block, ${INSTANCES} instances`,
        metric: "wall time ÷ instances (expand, run, reduce)",
        value: ms(wall / INSTANCES),
        baseline: `${ms(fanWall / FAN)} (declared fan, wall ÷ blocks)`,
        target: "≤ 5 ms",
      },
      {
        bench: `dynamic block, ${INSTANCES} instances`,
        metric: "reduce of all instances",
        value: ms(reduced.durationMs ?? 0),
        baseline: "",
        target: "",
      },
    ];
  } finally {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
