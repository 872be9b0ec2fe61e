/**
 * The plain table names a SQL query reads (`FROM x`, `JOIN y`, `FROM a, b`), for the check that a SQL block
 * reads only its upstreams. Not a SQL parser: a tokenizer and a walk that knows what is not a table —
 * CTE names, table functions (`read_csv(…)`, `range(10)`), file paths in quotes, subqueries, schema-qualified
 * names (`information_schema.tables`, an attached database), `{{ … }}` templates, and the `FROM` inside
 * `EXTRACT(YEAR FROM ts)`, `SUBSTRING(x FROM 2)` or `TRIM(BOTH ' ' FROM s)`. When unsure it reports nothing.
 */

interface Token {
  kind: "word" | "quoted" | "punct" | "string" | "template";
  text: string;
}

/** Words before `(` that open a subquery or a list rather than a function call. */
const NOT_FUNCTIONS = new Set(["in", "exists", "as", "from", "join", "select", "where", "and", "or", "not", "any", "all", "some", "on", "union", "lateral", "values", "with", "recursive", "over", "using", "then", "else", "when", "intersect", "except", "having", "by"]);
/** Words that end a table reference's alias position. */
const CLAUSE_WORDS = new Set(["where", "group", "order", "limit", "join", "inner", "left", "right", "full", "cross", "natural", "on", "using", "union", "having", "window", "qualify", "select", "offset", "positional", "asof", "anti", "semi", "pivot", "unpivot", "tablesample", "using", "intersect", "except", "returning"]);

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /(--[^\n]*|\/\*[\s\S]*?\*\/|\s+)|('(?:[^']|'')*')|("(?:[^"]|"")*")|(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})|([A-Za-z_][A-Za-z0-9_$]*)|(.)/g;
  for (const match of sql.matchAll(pattern)) {
    if (match[1]) continue;
    if (match[2]) tokens.push({ kind: "string", text: match[2] });
    else if (match[3]) tokens.push({ kind: "quoted", text: match[3].slice(1, -1).replaceAll('""', '"') });
    else if (match[4]) tokens.push({ kind: "template", text: match[4] });
    else if (match[5]) tokens.push({ kind: "word", text: match[5] });
    else tokens.push({ kind: "punct", text: match[6] });
  }
  return tokens;
}

const isWord = (token: Token | undefined, word: string): boolean => token?.kind === "word" && token.text.toLowerCase() === word;
const isPunct = (token: Token | undefined, text: string): boolean => token?.kind === "punct" && token.text === text;
const isName = (token: Token | undefined): boolean => token?.kind === "word" || token?.kind === "quoted";

/** The names a `WITH` clause defines: a name followed by `AS (` or `(columns) AS (`. */
function cteNames(tokens: Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (!isName(tokens[i])) continue;
    let j = i + 1;
    if (isPunct(tokens[j], "(")) {
      let depth = 0;
      for (; j < tokens.length; j++) {
        if (isPunct(tokens[j], "(")) depth++;
        else if (isPunct(tokens[j], ")") && --depth === 0) break;
      }
      j++;
    }
    if (isWord(tokens[j], "as") && (isPunct(tokens[j + 1], "(") || (isWord(tokens[j + 1], "materialized") && isPunct(tokens[j + 2], "(")) || (isWord(tokens[j + 1], "not") && isPunct(tokens[j + 3], "(")))) {
      names.add(tokens[i].text.toLowerCase());
    }
  }
  return names;
}

/**
 * The unqualified table names `sql` reads, lower-cased, first occurrence order, without CTE names. Quoted
 * identifiers keep their case.
 */
export function tablesReadBy(sql: string): string[] {
  const tokens = tokenize(sql);
  const ctes = cteNames(tokens);
  const found: string[] = [];
  // One entry per open parenthesis: whether it is a function call's (where FROM is an argument keyword).
  const parens: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (isPunct(token, "(")) {
      const before = tokens[i - 1];
      parens.push(before?.kind === "word" && !NOT_FUNCTIONS.has(before.text.toLowerCase()));
      continue;
    }
    if (isPunct(token, ")")) {
      parens.pop();
      continue;
    }
    const keyword = token.kind === "word" ? token.text.toLowerCase() : "";
    if (keyword !== "from" && keyword !== "join") continue;
    if (parens.length > 0 && parens[parens.length - 1]) continue;
    let j = i + 1;
    for (;;) {
      const reference = tokens[j];
      if (!isName(reference) || isWord(reference, "lateral")) break;
      const next = tokens[j + 1];
      const qualified = isPunct(next, ".");
      const call = isPunct(next, "(");
      if (!qualified && !call) {
        const name = reference.kind === "quoted" ? reference.text : reference.text.toLowerCase();
        if (!ctes.has(name.toLowerCase()) && !found.includes(name)) found.push(name);
      }
      if (keyword === "join") break;
      // Past the reference (and an alias) to a comma that lists another table.
      j++;
      while (j < tokens.length && (isPunct(tokens[j], ".") || isName(tokens[j])) && !CLAUSE_WORDS.has(tokens[j].text.toLowerCase())) j++;
      if (isPunct(tokens[j], "(")) break;
      if (!isPunct(tokens[j], ",")) break;
      j++;
    }
  }
  return found;
}
