#!/usr/bin/env node
// The `sluice` command. It runs the engine built to JavaScript in dist/ (scripts/build-engine.cjs: `npm ci`
// builds it, `npm start` and the test suite rebuild it when the sources changed). When dist/ is missing (an
// install that skipped scripts, a clone not built yet) it runs the TypeScript sources through tsx instead:
// the same command, slower to start because tsx transpiles every module it loads.
const { existsSync } = require("node:fs");
const path = require("node:path");

const debug = process.argv.includes("--debug");
// Node 22+ keeps V8's compiled code of the modules it loads on disk: later starts skip parsing them.
require("node:module").enableCompileCache?.();

function loadCli() {
  const built = path.join(__dirname, "..", "dist", "cli.cjs");
  if (existsSync(built)) {
    // Stacks point into the TypeScript sources with --debug (reading the source map costs a start otherwise).
    if (debug) process.setSourceMapsEnabled(true);
    return require(built);
  }
  require("tsx/cjs/api").register();
  return require("../lib/cli/main.ts");
}

Promise.resolve()
  .then(() => loadCli().main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    // main reports its own failures; this is a failure to load it. The stack only with --debug.
    console.error(debug && error && error.stack ? error.stack : `sluice: ${error && error.message ? error.message : String(error)} (run with --debug for the stack)`);
    process.exitCode = 1;
  });
