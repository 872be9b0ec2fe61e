import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tableFromArrays } from "apache-arrow";
import { createServices } from "../lib/server/services";
import { median, ms, type BenchRow } from "./report";

const BLOCKS = 200;
const TRIVIAL = `import { tableFromArrays } from "apache-arrow";
export default async function t() { return tableFromArrays({ x: Int32Array.from([1]) }); }`;

function writeProject(dir: string) {
  const chain = Array.from({ length: BLOCKS }, (_, i) => `  - { name: b${i}, type: ${i ? "transformer" : "loader"}, language: ts, upstream: [${i ? `b${i - 1}` : ""}] }`);
  const fan = Array.from({ length: BLOCKS }, (_, i) => `  - { name: b${i}, type: ${i ? "transformer" : "loader"}, language: ts, upstream: [${i ? "b0" : ""}] }`);
  for (const [name, blocks] of [["chain", chain], ["fan", fan]] as const) {
    const pipelineDir = path.join(dir, "pipelines", name);
    fs.mkdirSync(pipelineDir, { recursive: true });
    fs.writeFileSync(path.join(pipelineDir, "pipeline.yaml"), `version: 1\nname: ${name}\ndescription: ${BLOCKS} trivial blocks\nblocks:\n${blocks.join("\n")}\n`);
    for (let i = 0; i < BLOCKS; i++) fs.writeFileSync(path.join(pipelineDir, `b${i}.ts`), TRIVIAL);
  }
}

/** 200 trivial TS blocks as a chain and as a wide fan, on the local executor; baseline: the same functions called in-process. */
export async function benchOrchestration(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-orch-"));
  writeProject(dir);
  const services = await createServices({ projectDir: dir });
  const rows: BenchRow[] = [];
  try {
    const baselineStart = performance.now();
    for (let i = 0; i < BLOCKS; i++) tableFromArrays({ x: Int32Array.from([1]) });
    const baselinePerBlock = (performance.now() - baselineStart) / BLOCKS;
    for (const shape of ["chain", "fan"] as const) {
      const cold = performance.now();
      await services.runner.run({ pipeline: shape });
      const coldMs = performance.now() - cold;
      const perBlock: number[] = [];
      const walls: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const started = performance.now();
        const outcome = await services.runner.run({ pipeline: shape });
        walls.push(performance.now() - started);
        if (outcome.state !== "success") throw new Error(`${shape} run ${outcome.state}`);
        perBlock.push(...outcome.blocks.map((b) => b.durationMs ?? 0));
      }
      rows.push({
        bench: `${BLOCKS} trivial blocks, ${shape}`,
        metric: "block run, median (queue → persisted)",
        value: ms(median(perBlock)),
        baseline: `${ms(baselinePerBlock)} (fn call)`,
        target: "≤ 5 ms",
      });
      rows.push({
        bench: `${BLOCKS} trivial blocks, ${shape}`,
        metric: "wall time ÷ blocks (warm; cold run incl. compile)",
        value: `${ms(median(walls) / BLOCKS)} (cold ${ms(coldMs / BLOCKS)})`,
        baseline: `${ms(baselinePerBlock)} (fn call)`,
        target: "≤ 5 ms",
      });
    }
  } finally {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
