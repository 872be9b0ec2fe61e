/**
 * Helper process for `sqlite-run-store.test.ts`: writes runs into a SQLite file while the test process
 * writes into the same file. Usage: `tsx sqlite-run-store.child.ts <file> <count>`.
 */
import { SqliteRunStore } from "./sqlite-run-store";

async function main(): Promise<void> {
  const [file, countText] = process.argv.slice(2);
  const store = await SqliteRunStore.open(file);
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    const run = await store.createRun({ pipeline: "child", trigger: "api", logicalDate: "2024-01-01T00:00:00.000Z", variables: { i }, mode: "pipeline", blocks: ["a", "b"] });
    await store.updateBlockRun(run.id, "a", { state: "success", rows: i });
    await store.updateRunState(run.id, "success", { at: new Date().toISOString() });
  }
  await store.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
