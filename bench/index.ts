import { benchOrchestration } from "./orchestration";
import { benchDynamic } from "./dynamic";
import { benchHandoff } from "./handoff";
import { benchGreenTaxi } from "./green-taxi";
import { benchConnectors } from "./connectors";
import { benchQueue } from "./queue";
import { benchScheduler } from "./scheduler";
import { benchEditorPreview } from "./editor-preview";
import { benchEditorWeight } from "./editor-weight";
import { benchNotebook } from "./notebook";
import { benchStartup } from "./startup";
import { benchHomework } from "./homework";
import { printTable, type BenchRow } from "./report";

/** `npm run bench [name…]`: every benchmark (or the named ones), printed as one table with baselines beside. */
const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  // The issue asks `npm run bench orchestration` to include the dynamic block; `dynamic` runs it alone.
  orchestration: async () => [...(await benchOrchestration()), ...(await benchDynamic())],
  dynamic: benchDynamic,
  handoff: benchHandoff,
  "green-taxi": benchGreenTaxi,
  queue: benchQueue,
  connectors: benchConnectors,
  scheduler: benchScheduler,
  // The editor's page weight and time to interactive run with the preview benches, and alone.
  "editor-preview": async () => [...(await benchEditorWeight()), ...(await benchEditorPreview())],
  "editor-weight": benchEditorWeight,
  notebook: benchNotebook,
  startup: benchStartup,
  homework: benchHomework,
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const rows: BenchRow[] = [];
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench) throw new Error(`unknown bench "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
    console.error(`running ${name}…`);
    rows.push(...(await bench()));
  }
  printTable(rows);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
