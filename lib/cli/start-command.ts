import net from "node:net";
import { OperationalError, UserError } from "../core/errors";
import { isLoopbackHost, weakTokenMessage } from "../server/access";
import { readEnv } from "../server/env";
import { startServer } from "../server/http-server";
import { defineStartCommand, type StartOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import { errorCode } from "./failure-report";
import { openServices } from "./open-services";
import type { CliIo } from "./run-command";

/** `sluice start`: the editor, the API and the local executor in one process, until Ctrl+C. */
export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const { options: values } = parseCommandLine<StartOptions>("start", defineStartCommand, argv);
  const env = readEnv();
  const port = values.port ?? env.SLUICE_PORT ?? 3000;
  const host = values.host ?? env.SLUICE_HOST ?? "127.0.0.1";
  // Refusals come before anything opens (and before a production build, which can take minutes).
  const weakToken = env.SLUICE_TOKEN === undefined ? null : weakTokenMessage(env.SLUICE_TOKEN);
  if (weakToken !== null) throw new UserError("weak_token", weakToken);
  if (!isLoopbackHost(host) && !env.SLUICE_TOKEN) {
    throw new UserError("token_required", `refusing to listen on ${host} without a token: block code runs with this server's rights. Set SLUICE_TOKEN, or bind 127.0.0.1`);
  }
  if (port !== 0) await listenProbe(host, port);
  const services = await openServices({ env });
  // Block processes boot while Next starts: the first run's first block does not wait for them.
  services.executor.warm?.();
  const server = await startServer({ host, port, dev: values.dev ?? false, token: env.SLUICE_TOKEN, allowedHosts: env.SLUICE_ALLOWED_HOSTS ?? [], services }).catch(async (error: unknown) => {
    await services.close();
    throw listenError(error, host, port);
  });
  // Only runs whose owner stopped heartbeating (a dead process's), now and every lease period.
  await services.startRecoveryLoop((recovered) => {
    for (const run of recovered) io.stdout.write(`recovered run ${run.runId} (${run.pipeline}): ${run.previousState} → ${run.state}: ${run.reason}\n`);
  });
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

/**
 * Binds `host:port` for a moment and lets it go: a port in use is reported in a second, not after the
 * production build and the services have started. The real listen still reports it if it is taken since.
 *
 * @throws OperationalError from `listenError`.
 */
async function listenProbe(host: string, port: number): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error) => reject(listenError(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A failed listen in words (`EADDRINUSE` and co.); any other error unchanged. */
function listenError(error: unknown, host: string, port: number): unknown {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (errorCode(error)) {
    case "EADDRINUSE":
      return new OperationalError("address_in_use", `${where} is already in use (another sluice start?); choose another --port`, {}, { cause: error });
    case "EACCES":
      return new OperationalError("address_forbidden", `not allowed to listen on ${where} (ports below 1024 need privileges); choose another --port`, {}, { cause: error });
    case "EADDRNOTAVAIL":
      return new OperationalError("address_unavailable", `cannot listen on ${where}: ${host} is not an address of this machine; choose another --host`, {}, { cause: error });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new OperationalError("unknown_host", `cannot listen on ${where}: unknown host ${host}; choose another --host`, {}, { cause: error });
    default:
      return error;
  }
}
