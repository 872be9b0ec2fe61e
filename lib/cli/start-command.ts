import { parseArgs } from "node:util";
import { UserError } from "../core/errors";
import { readEnv } from "../server/env";
import { startServer } from "../server/http-server";
import { createServices } from "../server/services";
import type { CliIo } from "./run-command";

/** `sluice start`: the editor, the API and the local executor in one process, until Ctrl+C. */
export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      dev: { type: "boolean", default: false },
    },
  });
  const env = readEnv();
  const port = values.port !== undefined ? Number(values.port) : (env.SLUICE_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError("usage", `--port: "${values.port}" is not a port number`);
  const host = values.host ?? env.SLUICE_HOST ?? "127.0.0.1";
  const services = await createServices({ env });
  const server = await startServer({ host, port, dev: values.dev ?? false, token: env.SLUICE_TOKEN, services }).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  const recovered = await services.recoverOrphanedRuns();
  if (recovered > 0) io.stdout.write(`marked ${recovered} run(s) left running by a stopped process as failed\n`);
  services.scheduler.start();
  io.stdout.write(`Sluice is serving ${services.projectDir} at ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  io.stdout.write("stopping…\n");
  await server.close();
  await services.close();
  // Nothing should keep the process alive after an orderly stop (a stray timer in a route, a client socket).
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
