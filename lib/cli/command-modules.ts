/* eslint-disable @typescript-eslint/no-require-imports -- modules loaded on first use, see below */
/**
 * The command implementations, each loaded when its command runs. They pull in the engine (DuckDB, Next,
 * BullMQ, the stores), which takes seconds to load; `sluice --help`, a usage error and `sluice completion` need
 * none of it. `require` rather than `import()`: bin/sluice.cjs compiles TypeScript for CommonJS loading, and
 * `import()` would go to Node's ES module loader, which does not load `.ts` files.
 */
export const commandModules = {
  run: (): typeof import("./run-command") => require("./run-command"),
  retry: (): typeof import("./retry-command") => require("./retry-command"),
  scheduler: (): typeof import("./scheduler-command") => require("./scheduler-command"),
  clean: (): typeof import("./clean-command") => require("./clean-command"),
  start: (): typeof import("./start-command") => require("./start-command"),
  worker: (): typeof import("./worker-command") => require("./worker-command"),
  profile: (): typeof import("./profile-command") => require("./profile-command"),
  services: (): typeof import("./open-services") => require("./open-services"),
};
