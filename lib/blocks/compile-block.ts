/**
 * Compiles a TypeScript block to one CommonJS file with esbuild (bundle, platform node, inline source map)
 * and caches it under the cache directory by content hash, so that re-running an unchanged block costs a
 * hash and a stat, not a build.
 *
 * What is bundled: the block and the local files it imports, plus `@sluice/sdk` (aliased to lib/sdk).
 * What stays external: every package import (`apache-arrow`, `pg`, native addons, parquet-wasm which loads
 * its .wasm by path). The worker resolves those at run time from the block's own folder, so the block sees
 * the project's node_modules, the same apache-arrow as other blocks, and native code is never inlined.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { build, type BuildFailure, type Message, type Plugin } from "esbuild";
// The version from its package.json: a cache hit then never loads esbuild itself (the built CLI loads it lazily).
import { version as esbuildVersion } from "esbuild/package.json";
import { UserError, messageOf } from "../core/errors";

/** Bump when the build options change, to invalidate every cached block. */
const COMPILER_VERSION = 2;

/**
 * The compiled file exports a factory instead of running the block when required: the worker loads it
 * with Node's own loader (the only path where inline source maps apply inside worker threads — a
 * `vm.compileFunction` of the same code keeps .cjs frames) and then calls the factory with a `require`
 * made by `Module.createRequire(<block>.ts)`, so package imports resolve from the block's folder.
 * The banner sits on its own line before the code; the source map accounts for it.
 */
const FACTORY_BANNER = "module.exports = function sluiceBlock(require, module, exports, __filename, __dirname) {";
const FACTORY_FOOTER = "};";

/** Where `@sluice/sdk` points. */
export const SDK_ENTRY = resolve(__dirname, "../sdk/index.ts");

export interface CompileOptions {
  cacheDir: string;
  /** For messages: paths are shown relative to this directory (the project). */
  displayRoot?: string;
  /** Block name, for the error location. */
  block?: string;
}

interface Manifest {
  /** Every file that went into the bundle, with its content hash: a change in any of them is a miss. */
  inputs: { path: string; sha256: string }[];
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function isBareSpecifier(path: string): boolean {
  return !path.startsWith(".") && !isAbsolute(path);
}

function sluicePlugin(): Plugin {
  return {
    name: "sluice-block",
    setup(b) {
      b.onResolve({ filter: /^@sluice\/sdk$/ }, () => ({ path: SDK_ENTRY }));
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point" || !isBareSpecifier(args.path)) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the path of the compiled block (compiling it when the cache has no valid copy).
 * @throws UserError code `compile_error` naming `file:line:column` and esbuild's message.
 */
export async function compileBlock(blockFile: string, options: CompileOptions): Promise<string> {
  const source = await readFile(blockFile);
  const key = sha256(`${COMPILER_VERSION}\0${esbuildVersion}\0${blockFile}\0${sha256(source)}`).slice(0, 32);
  const existing = inFlight.get(key);
  if (existing) return existing;
  const job = compileOrReuse(blockFile, key, options).finally(() => inFlight.delete(key));
  inFlight.set(key, job);
  return job;
}

async function compileOrReuse(blockFile: string, key: string, options: CompileOptions): Promise<string> {
  const dir = join(options.cacheDir, "blocks");
  const outFile = join(dir, `${key}.cjs`);
  const manifestFile = join(dir, `${key}.json`);
  if (await manifestStillValid(manifestFile)) return outFile;

  let result;
  try {
    result = await build({
      entryPoints: [blockFile],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      sourcemap: "inline",
      sourcesContent: true,
      write: false,
      outfile: outFile,
      metafile: true,
      logLevel: "silent",
      plugins: [sluicePlugin()],
      banner: { js: FACTORY_BANNER },
      footer: { js: FACTORY_FOOTER },
    });
  } catch (error) {
    throw compileError(error, blockFile, options);
  }
  const code = result.outputFiles.find((file) => file.path.endsWith(".cjs"))?.contents ?? result.outputFiles[0].contents;
  const inputs = await Promise.all(
    Object.keys(result.metafile.inputs).map(async (input) => {
      const path = resolve(input);
      return { path, sha256: sha256(await readFile(path)) };
    }),
  );
  await mkdir(dir, { recursive: true });
  await writeAtomic(outFile, code);
  await writeAtomic(manifestFile, JSON.stringify({ inputs } satisfies Manifest));
  return outFile;
}

async function manifestStillValid(manifestFile: string): Promise<boolean> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestFile, "utf8")) as Manifest;
  } catch {
    return false;
  }
  for (const input of manifest.inputs) {
    try {
      if (sha256(await readFile(input.path)) !== input.sha256) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray(Reflect.get(error, "errors"));
}

function compileError(error: unknown, blockFile: string, options: CompileOptions): UserError {
  if (!isBuildFailure(error) || error.errors.length === 0) {
    return new UserError("compile_error", `cannot compile ${display(blockFile, options)}: ${messageOf(error)}`, {
      file: blockFile,
      block: options.block,
    });
  }
  const first: Message = error.errors[0];
  const file = first.location ? resolve(first.location.file) : blockFile;
  const line = first.location?.line;
  const column = first.location ? first.location.column + 1 : undefined;
  const where = [display(file, options), line, column].filter((part) => part !== undefined).join(":");
  const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more error${error.errors.length > 2 ? "s" : ""})` : "";
  const excerpt = first.location?.lineText ? `\n  ${first.location.lineText.trim()}` : "";
  return new UserError("compile_error", `${where}: ${first.text}${more}${excerpt}`, { file, line, column, block: options.block });
}

function display(file: string, options: CompileOptions): string {
  if (options.displayRoot === undefined) return file;
  const rel = relative(options.displayRoot, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}
