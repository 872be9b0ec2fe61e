#!/usr/bin/env node
/**
 * Copies Monaco's AMD build (node_modules/monaco-editor/min/vs) to public/monaco/vs, so the editor loads
 * Monaco from this server and never from a CDN. public/monaco/ is gitignored. Next serves
 * only the public files present at build time, so run this before `next build`. Skips the copy when the
 * target is already up to date (same monaco-editor version). Also writes public/monaco/block-types.json, the
 * declarations Monaco needs for IntelliSense in blocks (block-types.cjs), which follow SDK edits.
 */
const fs = require("node:fs");
const path = require("node:path");
const { writeBlockTypes } = require("./block-types.cjs");

const root = path.resolve(__dirname, "..");
const source = path.join(root, "node_modules", "monaco-editor", "min", "vs");
const target = path.join(root, "public", "monaco", "vs");
const stampFile = path.join(root, "public", "monaco", ".version");

function copyMonaco() {
  const copied = copyMonacoBuild();
  writeBlockTypes();
  return copied;
}

function copyMonacoBuild() {
  const version = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "monaco-editor", "package.json"), "utf8")).version;
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === version && fs.existsSync(path.join(target, "loader.js"))) {
    return { copied: false, version };
  }
  if (!fs.existsSync(path.join(source, "loader.js"))) throw new Error(`monaco-editor is not installed: ${source}/loader.js is missing`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.cpSync(source, target, { recursive: true });
  fs.writeFileSync(stampFile, version);
  return { copied: true, version };
}

module.exports = { copyMonaco };

if (require.main === module) {
  const { copied, version } = copyMonaco();
  process.stdout.write(copied ? `copied monaco-editor ${version} to public/monaco/vs\n` : `public/monaco/vs is up to date (monaco-editor ${version})\n`);
}
