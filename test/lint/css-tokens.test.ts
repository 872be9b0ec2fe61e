import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../taxi-data";

/**
 * One styling system: colours are written only in the design-token block of app/globals.css; every other
 * stylesheet (the rest of globals.css and every CSS module) and every component reads them through var(--…),
 * so the light and dark themes cover the whole UI. This test is the guard that keeps it so.
 */

const GLOBALS = path.join(REPO_ROOT, "app", "globals.css");
const TOKENS_START = "/* tokens:start */";
const TOKENS_END = "/* tokens:end */";

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : filesUnder(full, keep);
    return keep(entry.name) ? [full] : [];
  });
}

const stylesheets = (): string[] => ["app", "components"].flatMap((dir) => filesUnder(path.join(REPO_ROOT, dir), (name) => name.endsWith(".css")));
const components = (): string[] => ["app", "components"].flatMap((dir) => filesUnder(path.join(REPO_ROOT, dir), (name) => /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)));

function tokenBlock(): string {
  const text = readFileSync(GLOBALS, "utf8");
  const start = text.indexOf(TOKENS_START);
  const end = text.indexOf(TOKENS_END);
  if (start < 0 || end < start) throw new Error(`app/globals.css has no ${TOKENS_START} … ${TOKENS_END} block`);
  return text.slice(start, end);
}

/** A stylesheet without its comments, and globals.css also without its token block: what must hold no colour. */
function styledText(file: string): string {
  let text = readFileSync(file, "utf8");
  if (file === GLOBALS) text = text.slice(0, text.indexOf(TOKENS_START)) + text.slice(text.indexOf(TOKENS_END));
  return text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "));
}

const NAMED = "white|black|red|green|blue|gray|grey|silver|yellow|orange|purple|pink|navy|teal|maroon|olive|lime|aqua|fuchsia|brown|gold|indigo|violet|crimson|tomato|coral|salmon|khaki|beige|ivory|lavender";
const COLOUR = new RegExp(`#[0-9a-fA-F]{3,8}\\b|\\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\\(|:\\s*(?:[^;{}]*\\s)?(?:${NAMED})\\b(?![-\\w])`, "g");

/** Each hard-coded colour as `file:line: text`. */
function colourFindings(file: string, text: string): string[] {
  const lines = text.split("\n");
  return lines.flatMap((line, i) => (line.match(COLOUR) ? [`${path.relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`] : []));
}

/** `--name: value` declarations of one rule body, in order. */
function declarations(body: string): Map<string, string> {
  return new Map([...body.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
}

function ruleBody(block: string, selector: string): string {
  const at = block.indexOf(`${selector} {`);
  if (at < 0) throw new Error(`no rule ${selector} in the token block`);
  return block.slice(at, block.indexOf("}", at));
}

describe("design tokens", () => {
  it("no stylesheet writes a colour outside the token block of app/globals.css", () => {
    const sheets = stylesheets();
    expect(sheets).toEqual(expect.arrayContaining([GLOBALS]));
    expect(sheets.length).toBeGreaterThan(5);
    expect(sheets.flatMap((file) => colourFindings(file, styledText(file)))).toEqual([]);
  });

  it("no component writes a colour in its markup (inline styles, SVG fills)", () => {
    const quoted = /["'`](?:#[0-9a-fA-F]{3,8}|rgba?\([^)]*\))["'`]/;
    const findings = components().flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) => (quoted.test(line) ? [`${path.relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(findings).toEqual([]);
  });

  it("the check finds what it looks for", () => {
    const probe = (css: string) => colourFindings(GLOBALS, css).length;
    expect(probe(".a { color: #fff; }")).toBe(1);
    expect(probe(".a { background: rgb(0 0 0 / 0.1); }")).toBe(1);
    expect(probe(".a { border: 1px solid white; }")).toBe(1);
    expect(probe(".a { color: var(--color-text); background: transparent; }")).toBe(0);
    expect(probe(".a-white-b { color: var(--color-white-ish); }")).toBe(0);
  });

  it("every var(--…) a stylesheet reads is defined (a misspelt token would silently fall back)", () => {
    const defined = new Set([...readFileSync(GLOBALS, "utf8").matchAll(/(--[\w-]+)\s*:/g)].map((m) => m[1]));
    const missing = stylesheets().flatMap((file) => {
      const text = styledText(file);
      const local = new Set([...text.matchAll(/(--[\w-]+)\s*:/g)].map((m) => m[1]));
      return [...text.matchAll(/var\(\s*(--[\w-]+)/g)].map((m) => m[1]).filter((name) => !defined.has(name) && !local.has(name)).map((name) => `${path.relative(REPO_ROOT, file)}: ${name}`);
    });
    expect(missing).toEqual([]);
  });

  it("defines every documented token, each colour in light and dark, the dark values once for the toggle and the system setting alike", () => {
    const block = tokenBlock();
    const light = declarations(ruleBody(block, ":root"));
    const dark = declarations(ruleBody(block, ':root[data-theme="dark"]'));
    const system = declarations(ruleBody(block, ':root:not([data-theme="light"])'));
    const documented = [
      ...["bg", "surface", "surface-raised", "border", "text", "text-muted", "accent", "accent-text", "focus", "success", "warning", "danger", "info"].map((n) => `--color-${n}`),
      ...["success", "warning", "danger", "info"].map((n) => `--color-${n}-bg`),
      ...["success", "failed", "running", "queued", "skipped", "upstream-failed", "idle"].map((n) => `--state-${n}`),
      ...[1, 2, 3, 4, 5, 6].map((n) => `--space-${n}`),
      ...["sm", "md", "lg"].map((n) => `--radius-${n}`),
      "--font-sans",
      "--font-mono",
      ...["xs", "sm", "md", "lg", "xl"].map((n) => `--text-${n}`),
      "--shadow-sm",
      "--shadow-md",
    ];
    expect(documented.filter((name) => !light.has(name))).toEqual([]);
    const colours = [...light.keys()].filter((name) => /^--(color|state|type)-/.test(name));
    expect(colours.filter((name) => !dark.has(name))).toEqual([]);
    expect([...system.entries()]).toEqual([...dark.entries()]);
    expect(light.get("--space-1")).toBe("4px");
    expect(light.get("--space-6")).toBe("32px");
  });
});
