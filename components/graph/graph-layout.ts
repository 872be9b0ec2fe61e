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
