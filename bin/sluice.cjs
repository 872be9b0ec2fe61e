#!/usr/bin/env node
// The `sluice` command. Sluice ships TypeScript sources; tsx compiles them on the fly, so no build step stands
// between a clone and a run.
require("tsx/cjs/api").register();
require("../lib/cli/main.ts")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    // main reports its own failures; this is a failure to load it. The stack only with --debug.
    const debug = process.argv.includes("--debug");
    console.error(debug && error && error.stack ? error.stack : `sluice: ${error && error.message ? error.message : String(error)} (run with --debug for the stack)`);
    process.exitCode = 1;
  });
