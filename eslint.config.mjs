import path from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const REPO_ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * Which folders each folder may import (besides itself and npm packages). Dependencies point downward only:
 * app → components, lib/server → lib/runner, lib/scheduler → lib/executors → lib/blocks → lib/io, lib/store →
 * lib/arrow → lib/core. `typeOnly` folders may be imported with `import type` only (erased at build, so no
 * runtime dependency). docs/ARCHITECTURE.md's "may import" column is checked against this table by
 * test/lint/architecture-table.test.ts; the folder graph's lack of cycles by test/lint/folder-cycles.test.ts.
 */
const FOLDER_LAYERS = {
  "lib/core": { allow: [] },
  "lib/sdk": { allow: ["lib/core"] },
  "lib/arrow": { allow: ["lib/core"] },
  "lib/io": { allow: ["lib/arrow", "lib/core", "lib/sdk"] },
  // The output mirror (remote-output-store.ts) speaks the object-store clients' listing and URI formats.
  "lib/store": { allow: ["lib/arrow", "lib/core", "lib/io/cloud"] },
  "lib/blocks": { allow: ["lib/io", "lib/store", "lib/arrow", "lib/core", "lib/sdk"] },
  "lib/executors": { allow: ["lib/blocks", "lib/io", "lib/store", "lib/arrow", "lib/core", "lib/sdk"] },
  "lib/runner": { allow: ["lib/executors", "lib/store", "lib/core"] },
  "lib/scheduler": { allow: ["lib/runner", "lib/store", "lib/core"] },
  // Notifications and callbacks: they listen to the runner's events and compile callback files like blocks.
  "lib/notify": { allow: ["lib/blocks", "lib/runner", "lib/io", "lib/store", "lib/core", "lib/sdk"] },
  "lib/worker": { allow: ["lib/executors", "lib/runner", "lib/scheduler", "lib/store", "lib/core"] },
  "lib/server": {
    allow: ["lib/worker", "lib/notify", "lib/scheduler", "lib/runner", "lib/executors", "lib/blocks", "lib/io", "lib/store", "lib/arrow", "lib/core", "lib/sdk"],
  },
  "lib/cli": {
    allow: ["lib/server", "lib/worker", "lib/notify", "lib/scheduler", "lib/runner", "lib/executors", "lib/blocks", "lib/io", "lib/store", "lib/arrow", "lib/core", "lib/sdk"],
  },
  app: { allow: ["components", "lib/server", "lib/core"] },
  // The browser bundle: pure core code and SDK types; API response types come from the server's services.
  components: { allow: ["lib/core", "lib/sdk"], typeOnly: ["lib/server"] },
};

/** The folder a repository-relative path belongs to: `lib/io/cloud` is a unit of its own inside `lib/io`. */
function folderOf(repoPath) {
  const parts = repoPath.split("/");
  if (parts[0] === "lib" && parts.length > 1) {
    if (parts[1] === "io" && parts[2] === "cloud") return "lib/io/cloud";
    return `lib/${parts[1]}`;
  }
  if (parts[0] === "app" || parts[0] === "components") return parts[0];
  return null;
}

/** The layer whose rules apply to a folder (`lib/io/cloud` follows `lib/io`'s). */
function layerOf(folder) {
  return folder === "lib/io/cloud" ? "lib/io" : folder;
}

const folderBoundaries = {
  meta: {
    type: "problem",
    docs: { description: "Allow imports only downward, per the folder layers" },
    schema: [{ type: "object", properties: { layers: { type: "object" } }, required: ["layers"], additionalProperties: false }],
    messages: {
      upward: "{{from}} may not import {{to}} ('{{specifier}}'); {{from}} may import: {{allowed}}.",
      typeOnly: "{{from}} may import {{to}} for types only: use `import type` ('{{specifier}}').",
    },
  },
  create(context) {
    const layers = context.options[0].layers;
    const fileRepoPath = path.relative(REPO_ROOT, context.filename).split(path.sep).join("/");
    const from = folderOf(fileRepoPath);
    const rules = from === null ? undefined : layers[layerOf(from)];
    if (rules === undefined) return {};

    function targetPath(specifier) {
      if (specifier === "@sluice/sdk") return "lib/sdk/index.ts";
      if (specifier.startsWith("@/")) return specifier.slice(2);
      if (specifier.startsWith(".")) return path.posix.normalize(path.posix.join(path.posix.dirname(fileRepoPath), specifier));
      return null;
    }

    function check(node, source, typeOnlyImport) {
      if (source === null || source === undefined || typeof source.value !== "string") return;
      const target = targetPath(source.value);
      if (target === null) return;
      const to = folderOf(target);
      if (to === null || layerOf(to) === layerOf(from)) return;
      const allowed = rules.allow.includes(to) || (to === "lib/io/cloud" && rules.allow.includes("lib/io"));
      if (allowed) return;
      if ((rules.typeOnly ?? []).includes(to)) {
        if (typeOnlyImport) return;
        context.report({ node: source, messageId: "typeOnly", data: { from, to, specifier: source.value } });
        return;
      }
      context.report({
        node: source,
        messageId: "upward",
        data: { from, to, specifier: source.value, allowed: rules.allow.join(", ") || "nothing but itself" },
      });
    }

    const isTypeOnlyImport = (node) =>
      node.importKind === "type" || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === "type"));
    return {
      ImportDeclaration: (node) => check(node, node.source, isTypeOnlyImport(node)),
      ExportNamedDeclaration: (node) => check(node, node.source, node.exportKind === "type"),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === "type"),
      ImportExpression: (node) => check(node, node.source.type === "Literal" ? node.source : null, false),
      TSImportType: (node) => check(node, node.argument?.type === "TSLiteralType" ? node.argument.literal : node.argument, true),
      CallExpression: (node) => {
        const callee = node.callee;
        const isRequire = callee.type === "Identifier" && callee.name === "require";
        if (isRequire && node.arguments[0]?.type === "Literal") check(node, node.arguments[0], false);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".next/", ".sluice/", "public/monaco/", "next-env.d.ts", "test-results/", "bench/.out/", "lib/**/__fixtures__/**", "test/fixtures/**"] },
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
    // Tests may reach across folders (fixtures, helpers of other layers); the product code may not.
    files: ["lib/**/*.{ts,tsx}", "app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    ignores: ["**/*.test.ts", "**/*.test.tsx"],
    plugins: { sluice: { rules: { "folder-boundaries": folderBoundaries } } },
    rules: { "sluice/folder-boundaries": ["error", { layers: FOLDER_LAYERS }] },
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
