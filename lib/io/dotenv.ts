/**
 * A tiny `.env` parser (no dependency for twenty lines): `KEY=value`, `export KEY=value`, `# comments`,
 * single quotes (literal), double quotes (with `\n`, `\"`, `\\` escapes and multiple lines), and unquoted
 * values with trailing ` # comments` removed. Pure: takes text, returns pairs.
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(lines[i]);
    if (match === null) continue;
    const key = match[1];
    let value = match[2];
    if (value.startsWith('"')) {
      let body = value.slice(1);
      while (!/(^|[^\\])(\\\\)*"/.test(body) && i + 1 < lines.length) body += `\n${lines[++i]}`;
      const end = findClosingQuote(body);
      value = body
        .slice(0, end === -1 ? body.length : end)
        .replace(/\\(["\\nrt])/g, (_, ch: string) => ({ n: "\n", r: "\r", t: "\t" })[ch] ?? ch);
    } else if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      value = value.slice(1, end === -1 ? value.length : end);
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out[key] = value;
  }
  return out;
}

function findClosingQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\") i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}
