/**
 * Jest's globalSetup: the tests spawn `bin/sluice.cjs` and `sluice worker`, and the worker pool forks the block
 * process entry, all of which run the built dist/ when it is there. It is rebuilt here when the sources changed
 * (esbuild: about a second), so the suite never tests a stale build.
 */
const { buildEngine } = require("./build-engine.cjs");

module.exports = async function buildEngineForTests() {
  await buildEngine({ ifStale: true });
};
