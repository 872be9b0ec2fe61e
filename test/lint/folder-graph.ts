/** The folder-level import graph of lib/ (product code; tests may reach across folders). */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** An import between two folders, with one example that makes the edge. */
export interface FolderEdge {
  from: string;
  to: string;
  example: string;
}

const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"'\n]+)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "__fixtures__" ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** `lib/<folder>` of a repository-relative path under lib/ (subfolders such as io/cloud belong to their folder). */
function libFolderOf(repoPath: string): string | null {
  const parts = repoPath.split("/");
  return parts[0] === "lib" && parts.length >= 2 ? `lib/${parts[1]}` : null;
}

export function libFolderEdges(repoRoot: string): FolderEdge[] {
  const edges = new Map<string, FolderEdge>();
  for (const file of sourceFiles(path.join(repoRoot, "lib"))) {
    const repoPath = path.relative(repoRoot, file).split(path.sep).join("/");
    const from = libFolderOf(repoPath);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT_SPECIFIER)) {
      const specifier = match[1];
      let target: string;
      if (specifier.startsWith("@/")) target = specifier.slice(2);
      else if (specifier.startsWith(".")) target = path.posix.normalize(path.posix.join(path.posix.dirname(repoPath), specifier));
      else continue;
      const to = libFolderOf(target);
      if (from === null || to === null || to === from) continue;
      const key = `${from} ${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, example: `${repoPath} imports "${specifier}"` });
    }
  }
  return [...edges.values()];
}

/** One cycle of the graph as its edges in order, or null when the graph is acyclic. */
export function findCycle(edges: FolderEdge[]): FolderEdge[] | null {
  const outgoing = new Map<string, FolderEdge[]>();
  for (const edge of edges) outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge]);
  const done = new Set<string>();
  const path: FolderEdge[] = [];
  const onPath = new Set<string>();

  function visit(folder: string): FolderEdge[] | null {
    if (onPath.has(folder)) {
      const start = path.findIndex((edge) => edge.from === folder);
      return path.slice(start);
    }
    if (done.has(folder)) return null;
    onPath.add(folder);
    for (const edge of outgoing.get(folder) ?? []) {
      path.push(edge);
      const cycle = visit(edge.to);
      if (cycle) return cycle;
      path.pop();
    }
    onPath.delete(folder);
    done.add(folder);
    return null;
  }

  for (const folder of outgoing.keys()) {
    const cycle = visit(folder);
    if (cycle) return cycle;
  }
  return null;
}
