/** Unit and integration tests; TypeScript is compiled by SWC (type errors are `npm run typecheck`'s job). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/lib", "<rootDir>/test", "<rootDir>/e2e"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.(t|j)sx?$": ["@swc/jest", { jsc: { parser: { syntax: "typescript", tsx: true }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/"],
  moduleNameMapper: {
    "^@sluice/sdk$": "<rootDir>/lib/sdk/index.ts",
    "^@/(.*)$": "<rootDir>/$1",
  },
  testTimeout: 60000,
};
