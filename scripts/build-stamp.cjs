/**
 * The fingerprint of the engine's sources that `dist/` was built from (see build-engine.cjs). It hashes the
 * path, size and modification time of every file the bundles are made of (lib/, scripts/*.cjs, package.json),
 * not their contents: a stat of each is a few milliseconds for the whole tree, cheap enough to check
 * before trusting `dist/` (`npm start`, the jest setup, the worker pool running from sources). Any edit
 * changes a file's mtime, so a changed source is never mistaken for the built one; a touched but unchanged
 * file only costs a rebuild.
 */
const { createHash } = require("node:crypto");
const { readdirSync, readFileSync, statSync } = require("node:fs");
const path = require("node:path");

/** Where the built entries go, relative to the repository root. */
const DIST_DIR = "dist";
const STAMP_FILE = "stamp.json";

/** Files outside lib/ and scripts/ (the build scripts, and helpers lib/server bundles) that change what is built. */
const EXTRA_INPUTS = ["package.json", "tsconfig.json"];

/** Source files under `dir`, tests and fixtures left out (they are never bundled). */
function sourceFiles(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "__fixtures__" && entry.name !== "node_modules") sourceFiles(full, out);
    } else if (/\.(ts|tsx|cjs|mjs|js|json)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** The fingerprint of the sources under `root` as they are now. */
function sourceStamp(root) {
  const scripts = readdirSync(path.join(root, "scripts"), { withFileTypes: true }).filter((entry) => entry.isFile() && /\.c?js$/.test(entry.name));
  const files = sourceFiles(path.join(root, "lib"), [])
    .concat(scripts.map((entry) => path.join(root, "scripts", entry.name)))
    .concat(EXTRA_INPUTS.map((file) => path.join(root, file)));
  files.sort();
  const hash = createHash("sha256");
  for (const file of files) {
    let stat = null;
    try {
      stat = statSync(file);
    } catch {
      // a missing extra input is part of the fingerprint too
    }
    hash.update(`${path.relative(root, file)}\0${stat ? `${stat.size}\0${stat.mtimeMs}` : "-"}\n`);
  }
  return hash.digest("hex");
}

/** The fingerprint `dist/` was built from, or null when it was never (completely) built. */
function builtStamp(root) {
  try {
    const value = JSON.parse(readFileSync(path.join(root, DIST_DIR, STAMP_FILE), "utf8"));
    return typeof value.sources === "string" ? value.sources : null;
  } catch {
    return null;
  }
}

/** True when `dist/` holds a build of the sources as they are now. */
function isBuildCurrent(root) {
  const built = builtStamp(root);
  return built !== null && built === sourceStamp(root);
}

/**
 * The built file of an entry (`dist/<name>.cjs`) when `dist/` is a build of the current sources, else null:
 * code running from the sources uses the built entry only when it is the same code.
 */
function currentBuiltEntry(root, name) {
  return isBuildCurrent(root) ? path.join(root, DIST_DIR, `${name}.cjs`) : null;
}

module.exports = { DIST_DIR, STAMP_FILE, sourceStamp, builtStamp, isBuildCurrent, currentBuiltEntry };
