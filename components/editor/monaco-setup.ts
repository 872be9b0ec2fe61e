/**
 * TypeScript IntelliSense for block code in Monaco: compiler options that match how blocks compile
 * (lib/blocks/compile-block.ts: esbuild, CommonJS, Node 20, strict) and the declarations block code sees —
 * the SDK (`@sluice/sdk`), apache-arrow, and Node's API (blocks run in Node worker threads) — loaded from this
 * app's public/monaco/block-types.json (written by scripts/block-types.cjs), never from a CDN.
 */
import type { Monaco } from "@monaco-editor/react";
import type { typescript } from "monaco-editor";

export const BLOCK_TYPES_URL = "/monaco/block-types.json";

/**
 * Diagnostics left out: "cannot find module" (2307, 2792). A block may import its pipeline's helper files
 * or packages of the project that the browser does not know; the block compiler reports those for real.
 */
const IGNORED_DIAGNOSTICS = [2307, 2792];

interface BlockTypesFile {
  version: string;
  libs: { path: string; content: string }[];
}

function isBlockTypesFile(value: unknown): value is BlockTypesFile {
  if (typeof value !== "object" || value === null) return false;
  const libs: unknown = Reflect.get(value, "libs");
  return (
    typeof Reflect.get(value, "version") === "string" &&
    Array.isArray(libs) &&
    libs.every((lib: unknown) => typeof lib === "object" && lib !== null && typeof Reflect.get(lib, "path") === "string" && typeof Reflect.get(lib, "content") === "string")
  );
}

type TypescriptApi = typeof typescript;

/** Monaco ≥ 0.55 has the top-level `monaco.typescript`; older builds had `monaco.languages.typescript`. */
function isTypescriptApi(value: unknown): value is TypescriptApi {
  if (typeof value !== "object" || value === null) return false;
  const defaults: unknown = Reflect.get(value, "typescriptDefaults");
  return typeof defaults === "object" && defaults !== null && typeof Reflect.get(defaults, "addExtraLib") === "function";
}

function typescriptApi(monaco: Monaco): TypescriptApi | null {
  const candidates: unknown[] = [Reflect.get(monaco, "typescript"), Reflect.get(monaco.languages, "typescript")];
  return candidates.find(isTypescriptApi) ?? null;
}

let configured = false;
let typesRequest: Promise<BlockTypesFile | null> | null = null;
let typesLoaded: BlockTypesFile | null = null;

/**
 * Starts loading the declarations (once per page) as soon as an editor is on its way, so they are usually
 * there before Monaco is: the TypeScript worker then builds its program once, with them, instead of twice.
 */
export function prefetchBlockTypes(): Promise<BlockTypesFile | null> {
  typesRequest ??= fetch(BLOCK_TYPES_URL, { cache: "no-cache" })
    .then(async (response) => {
      if (!response.ok) throw new Error(`GET ${BLOCK_TYPES_URL}: ${response.status}`);
      const body: unknown = await response.json();
      if (!isBlockTypesFile(body)) throw new Error(`${BLOCK_TYPES_URL} is not a block types file`);
      typesLoaded = body;
      return body;
    })
    .catch((error: unknown) => {
      // The editor still works without IntelliSense; say why it is missing.
      console.warn("Sluice: block code IntelliSense is off:", error instanceof Error ? error.message : error);
      return null;
    });
  return typesRequest;
}

function addBlockTypes(defaults: typescript.LanguageServiceDefaults, types: BlockTypesFile): void {
  for (const lib of types.libs) defaults.addExtraLib(lib.content, lib.path);
  document.documentElement.dataset.sluiceBlockTypes = types.version;
}

/** Once per page, before the first model: compiler options, diagnostics, and the declarations. */
export function configureMonaco(monaco: Monaco): void {
  if (configured) return;
  configured = true;
  const ts = typescriptApi(monaco);
  if (!ts) return;
  const defaults = ts.typescriptDefaults;
  defaults.setCompilerOptions({
    target: ts.ScriptTarget.ESNext,
    // Blocks run in Node: the ECMAScript library plus @types/node (in block-types.json), not the DOM's.
    lib: ["esnext"],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    strict: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    isolatedModules: true,
    allowNonTsExtensions: true,
    noEmit: true,
  });
  defaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false, diagnosticCodesToIgnore: IGNORED_DIAGNOSTICS });
  if (typesLoaded) addBlockTypes(defaults, typesLoaded);
  else
    void prefetchBlockTypes().then((types) => {
      if (types) addBlockTypes(defaults, types);
    });
}
