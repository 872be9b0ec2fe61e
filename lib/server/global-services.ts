import type { Services } from "./services";

/**
 * The running server's services, shared with Next route handlers. The custom server (lib/server/http-server.ts)
 * wires them before Next starts; route code reads them here instead of importing the engine, which keeps native
 * modules (DuckDB, SQLite) and worker threads out of Next's bundles.
 */
const KEY = Symbol.for("sluice.services");

type GlobalWithServices = typeof globalThis & { [KEY]?: Services };

export function setServices(services: Services | undefined): void {
  (globalThis as GlobalWithServices)[KEY] = services;
}

export function getServices(): Services {
  const services = (globalThis as GlobalWithServices)[KEY];
  if (!services) throw new Error("Sluice services are not running: start the app with `sluice start` (npm start)");
  return services;
}
