import { PassThrough } from "node:stream";
import { workerCommand } from "../../lib/cli/worker-command";

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { stdout, stderr };
}

describe("sluice worker (command)", () => {
  it("refuses SQLite metadata unless the setup is declared single-machine", async () => {
    await expect(workerCommand([], io(), { env: { REDIS_URL: "redis://127.0.0.1:6379" } })).rejects.toThrow(/SQLite, a file on one machine.*--local/);
  });

  it("needs REDIS_URL", async () => {
    await expect(workerCommand(["--local"], io(), { env: {} })).rejects.toThrow(/set REDIS_URL/);
  });

  it("rejects a bad --concurrency with the usage", async () => {
    await expect(workerCommand(["--local", "--concurrency", "0"], io(), { env: { REDIS_URL: "redis://127.0.0.1:6379" } })).rejects.toThrow(/--concurrency: "0"[\s\S]*usage: sluice worker/);
  });
});
