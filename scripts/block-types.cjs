#!/usr/bin/env node
/**
 * Gathers the type declarations block code sees — the SDK (`@sluice/sdk`, i.e. lib/sdk and the files it
 * imports), apache-arrow (with flatbuffers) and Node's own API (@types/node with undici-types: blocks run in
 * Node worker threads) — into public/monaco/block-types.json, which the
 * editor hands to Monaco's TypeScript worker (`addExtraLib`) for IntelliSense. Served by this app, never a
 * CDN. Each file keeps a `file:///node_modules/<package>/…` path so that Monaco resolves `import … from
 * "apache-arrow"` and `"@sluice/sdk"` the way Node resolution does. Called from copy-monaco.cjs (prebuild
 * and every `sluice start`), so the file follows SDK edits.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const target = path.join(root, "public", "monaco", "block-types.json");

/**
 * Every `.d.ts` of an installed package (not its nested node_modules, nor `skip` folders), under
 * `file:///node_modules/<name>/`.
 */
function packageTypes(name, skip = []) {
  // Not require.resolve: apache-arrow's `exports` hides its package.json.
  const dir = path.join(root, "node_modules", name);
  if (!fs.existsSync(path.join(dir, "package.json"))) throw new Error(`${name} is not installed: ${dir}/package.json is missing`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const base = `file:///node_modules/${name}`;
  const files = [];
  const visit = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "src" && !skip.includes(entry.name)) visit(full);
      } else if (entry.name.endsWith(".d.ts")) {
        files.push({ path: `${base}/${path.relative(dir, full).split(path.sep).join("/")}`, content: fs.readFileSync(full, "utf8") });
      }
    }
  };
  visit(dir);
  // Only what module resolution reads: the entry point of the types (Monaco's worker ignores `exports`;
  // `typesVersions` is left out with the folders it points to, for TypeScript versions older than Monaco's).
  const types = manifest.types ?? manifest.typings ?? (manifest.main ? manifest.main.replace(/\.js$/, ".d.ts") : "index.d.ts");
  files.push({ path: `${base}/package.json`, content: JSON.stringify({ name, version: manifest.version, types }) });
  return files;
}

const RELATIVE_IMPORT = /\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/**
 * lib/sdk/index.ts and every file it imports by relative path, as `.ts` sources under
 * `file:///node_modules/@sluice/` (lib/sdk → @sluice/sdk, lib/core → @sluice/core), so the relative imports
 * between them keep working.
 */
function sdkSources() {
  const lib = path.join(root, "lib");
  const seen = new Set();
  const files = [];
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const content = fs.readFileSync(file, "utf8");
    files.push({ path: `file:///node_modules/@sluice/${path.relative(lib, file).split(path.sep).join("/")}`, content });
    for (const match of content.matchAll(RELATIVE_IMPORT)) {
      const base = path.resolve(path.dirname(file), match[1]);
      const resolved = [`${base}.ts`, path.join(base, "index.ts"), base].find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
      if (!resolved) throw new Error(`${path.relative(root, file)} imports ${match[1]}, which is not a .ts file`);
      if (!resolved.startsWith(lib + path.sep)) throw new Error(`${path.relative(root, file)} imports ${match[1]}, outside lib/`);
      visit(resolved);
    }
  };
  visit(path.join(lib, "sdk", "index.ts"));
  return files;
}

/** The libs, in a stable order, with a content hash the editor can log or compare. */
function collectBlockTypes() {
  const libs = [
    ...sdkSources(),
    ...packageTypes("apache-arrow"),
    ...packageTypes("flatbuffers"),
    // @types/node's ts5.6/ serves TypeScript ≤ 5.6 only; Monaco 0.57 ships 5.9.
    ...packageTypes("@types/node", ["ts5.6"]),
    ...packageTypes("undici-types"),
  ];
  const hash = crypto.createHash("sha256");
  for (const lib of libs) hash.update(lib.path).update("\0").update(lib.content).update("\0");
  return { version: hash.digest("hex").slice(0, 16), libs };
}

/** Writes public/monaco/block-types.json when its content changed; returns what it holds. */
function writeBlockTypes() {
  const types = collectBlockTypes();
  const text = JSON.stringify(types);
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
  if (current !== text) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, target);
  }
  return { written: current !== text, version: types.version, files: types.libs.length, bytes: text.length };
}

module.exports = { collectBlockTypes, writeBlockTypes, BLOCK_TYPES_FILE: target };

if (require.main === module) {
  const { written, version, files, bytes } = writeBlockTypes();
  process.stdout.write(`${written ? "wrote" : "kept"} public/monaco/block-types.json (${files} files, ${(bytes / 1024).toFixed(0)} KiB, ${version})\n`);
}
