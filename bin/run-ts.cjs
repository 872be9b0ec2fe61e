#!/usr/bin/env node
// Runs a TypeScript entry file of this project (benchmarks, scripts) through tsx's CommonJS hook.
require("tsx/cjs/api").register();
const path = require("node:path");
const entry = process.argv[2];
if (!entry) {
  console.error("usage: run-ts <file.ts> [args…]");
  process.exit(2);
}
process.argv.splice(2, 1);
require(path.resolve(entry));
