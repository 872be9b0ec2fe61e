/**
 * Automatic layout of the pipeline graph with dagre (top to bottom). Pure: names and edges in, positions
 * out, so it can move to a Web Worker for big graphs without changes.
 */
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 170;
export const NODE_HEIGHT = 44;

export interface LayoutInput {
  name: string;
  upstream: readonly string[];
}

export function layoutGraph(nodes: readonly LayoutInput[]): Map<string, { x: number; y: number }> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 50 });
  graph.setDefaultEdgeLabel(() => ({}));
  const names = new Set(nodes.map((n) => n.name));
  for (const node of nodes) graph.setNode(node.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const node of nodes) for (const up of node.upstream) if (names.has(up) && up !== node.name) graph.setEdge(up, node.name);
  dagre.layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const placed = graph.node(node.name);
    positions.set(node.name, { x: placed.x - NODE_WIDTH / 2, y: placed.y - NODE_HEIGHT / 2 });
  }
  return positions;
}

/**
 * A layout in linear time, for the moment before dagre's arrives from the worker: each node on the row
 * of its longest path from a source, in input order across the row. No crossing reduction, but every
 * node has a distinct place at once, so a big graph shows on the first render.
 */
export function layeredLayout(nodes: readonly LayoutInput[]): Map<string, { x: number; y: number }> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  const rankOf = (name: string): number => {
    const known = rank.get(name);
    if (known !== undefined) return known;
    // A cycle cannot be saved, but it must not hang the layout either.
    if (visiting.has(name)) return 0;
    visiting.add(name);
    let row = 0;
    for (const up of byName.get(name)?.upstream ?? []) if (up !== name && byName.has(up)) row = Math.max(row, rankOf(up) + 1);
    visiting.delete(name);
    rank.set(name, row);
    return row;
  };
  const placedInRow = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const row = rankOf(node.name);
    const column = placedInRow.get(row) ?? 0;
    placedInRow.set(row, column + 1);
    positions.set(node.name, { x: column * (NODE_WIDTH + 30), y: row * (NODE_HEIGHT + 50) });
  }
  return positions;
}
