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
    console.error(error && error.stack ? error.stack : String(error));
    process.exitCode = 1;
  });
