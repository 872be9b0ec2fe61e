import path from "node:path";
import { LocalExecutor } from "../../lib/executors/local-executor";
import { describeExecutorContract } from "./executor-contract";

describeExecutorContract("local", async ({ projectDir, dataDir }) => {
  const executor = new LocalExecutor({ projectDir, cacheDir: path.join(dataDir, "cache"), poolSize: 2 });
  return { executor, close: () => executor.close() };
});
