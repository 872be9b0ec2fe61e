import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", ".sluice/", "public/monaco/", "next-env.d.ts", "test-results/", "bench/.out/", "lib/**/__fixtures__/**", "test/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", require: "readonly", __dirname: "readonly", module: "writable" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // lib/core is pure: no IO, no framework.
    files: ["lib/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: ["node:*", "fs", "path", "child_process", "worker_threads", "http", "https", "net", "pg", "better-sqlite3", "@duckdb/*", "next", "next/*", "../*/**", "../../*"] },
      ],
    },
  },
);
