/**
 * Lays out big pipeline graphs off the main thread (dagre takes ~0.4 s for 200 blocks, which would freeze the
 * editor while it opens). Started by `use-graph-layout.ts` with `new Worker(new URL(…, import.meta.url))`.
 */
import { layoutGraph, type LayoutInput } from "./graph-layout";

export interface LayoutRequest {
  id: number;
  nodes: LayoutInput[];
}

export interface LayoutResponse {
  id: number;
  positions: [string, { x: number; y: number }][];
}

// The DOM typings describe `self` as a Window; in a worker it is the worker's global scope.
const scope = self as unknown as { onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null; postMessage(message: LayoutResponse): void };

scope.onmessage = (event) => {
  const { id, nodes } = event.data;
  scope.postMessage({ id, positions: [...layoutGraph(nodes)] });
};
