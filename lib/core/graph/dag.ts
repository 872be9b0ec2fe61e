/**
 * The shape every graph algorithm works on: a node's name and the names it reads from. Blocks
 * (`BlockSpec`) fit it as they are, so the algorithms need no adapter and no copy of the pipeline.
 */

/** The least a graph algorithm needs from a block. Edges point from each upstream to this node. */
export interface DagNode {
  readonly name: string;
  readonly upstream: readonly string[];
}

/** Adjacency built once per call, so each algorithm is linear in nodes + edges. */
export interface DagIndex {
  /** Position of each node in the file; the tie-breaker that keeps every result deterministic. */
  readonly position: ReadonlyMap<string, number>;
  /** Upstreams that exist in the graph, deduplicated, in the order the node lists them. */
  readonly upstream: ReadonlyMap<string, readonly string[]>;
  /** Downstream nodes of each node, in file order. */
  readonly downstream: ReadonlyMap<string, readonly string[]>;
}

/**
 * Index a list of nodes. Why lenient: validation (`validatePipeline`) is where bad graphs are reported
 * with file and line; the algorithms only need to stay well-defined on them. So upstream names that are
 * not in the graph are ignored and, for a duplicated name, the first node wins.
 */
export function indexDag(nodes: readonly DagNode[]): DagIndex {
  const position = new Map<string, number>();
  nodes.forEach((node, index) => {
    if (!position.has(node.name)) position.set(node.name, index);
  });
  const upstream = new Map<string, string[]>();
  const downstream = new Map<string, string[]>();
  for (const name of position.keys()) downstream.set(name, []);
  nodes.forEach((node, index) => {
    if (position.get(node.name) !== index) return;
    const own: string[] = [];
    for (const up of node.upstream) {
      if (!position.has(up) || own.includes(up)) continue;
      own.push(up);
      downstream.get(up)?.push(node.name);
    }
    upstream.set(node.name, own);
  });
  // Downstream lists were filled in file order of the downstream node already.
  return { position, upstream, downstream };
}
