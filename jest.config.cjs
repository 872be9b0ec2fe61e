/**
 * Unit and integration tests; TypeScript and TSX are compiled by SWC (type errors are `npm run typecheck`'s job).
 * Tests run in Node; a component test opts into a DOM with a `@jest-environment jsdom` docblock, so the engine's
 * tests never pay for (or depend on) jsdom.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/lib", "<rootDir>/components", "<rootDir>/test", "<rootDir>/e2e"],
  testMatch: ["**/*.test.ts", "**/*.test.tsx"],
  transform: {
    "^.+\\.(t|j)sx?$": ["@swc/jest", { jsc: { parser: { syntax: "typescript", tsx: true }, target: "es2022", transform: { react: { runtime: "automatic" } } }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/"],
  moduleNameMapper: {
    "^@sluice/sdk$": "<rootDir>/lib/sdk/index.ts",
    // Components read class names off CSS modules; in tests each name maps to itself (`styles.badge` is "badge").
    "\\.module\\.css$": "<rootDir>/test/style-stub.cjs",
    "^@/(.*)$": "<rootDir>/$1",
  },
  testTimeout: 60000,
  // dist/ (the built CLI, worker and block process entries the tests run) rebuilt when older than the sources.
  globalSetup: "<rootDir>/scripts/build-engine-jest.cjs",
  setupFilesAfterEnv: ["<rootDir>/test/jest-setup.ts"],
};
