"use client";

import { useEffect, useMemo, useState } from "react";
import type { LayoutResponse } from "./layout.worker";
import { recordMetric } from "../editor/editor-store";
import { layeredLayout, layoutGraph, type LayoutInput } from "./graph-layout";

export type Positions = ReadonlyMap<string, { x: number; y: number }>;

/** Up to this many blocks dagre runs in the render (a few ms); above it, in a Web Worker. */
export const WORKER_LAYOUT_ABOVE = 50;

let worker: Worker | null = null;
let nextRequest = 0;

/** One layout worker for the page, started on first use. Null where workers cannot start (the caller lays out in place). */
function layoutWorker(): Worker | null {
  if (worker) return worker;
  try {
    worker = new Worker(new URL("./layout.worker.ts", import.meta.url));
  } catch {
    return null;
  }
  return worker;
}

/**
 * Positions of the graph's nodes for a structure (names and edges: `structure` is its key, so run states
 * never trigger a layout). Small graphs are laid out during render; big ones in a worker. Until the
 * worker's first answer a linear-time layered layout stands in (the graph shows at once); after an edit,
 * the previous positions stay until the new ones arrive.
 */
export function useGraphLayout(nodes: readonly LayoutInput[], structure: string): Positions | null {
  const inWorker = nodes.length > WORKER_LAYOUT_ABOVE;
  // `structure` stands for what of `nodes` the layout depends on (names, edges).
  const inline = useMemo(() => (inWorker ? null : layoutGraph(nodes)), [structure, inWorker]);
  const [fromWorker, setFromWorker] = useState<Positions | null>(null);
  const provisional = useMemo(() => (inWorker && fromWorker === null ? layeredLayout(nodes) : null), [structure, inWorker, fromWorker === null]);

  useEffect(() => {
    if (!inWorker) return;
    const input = nodes.map((n) => ({ name: n.name, upstream: [...n.upstream] }));
    const target = layoutWorker();
    if (!target) {
      setFromWorker(layoutGraph(input));
      return;
    }
    const id = ++nextRequest;
    let live = true;
    const onMessage = (event: MessageEvent<LayoutResponse>) => {
      if (event.data.id !== id || !live) return;
      recordMetric("graph-layout-received", { nodes: input.length });
      setFromWorker(new Map(event.data.positions));
    };
    const onError = () => {
      if (live) setFromWorker(layoutGraph(input));
    };
    target.addEventListener("message", onMessage);
    target.addEventListener("error", onError);
    recordMetric("graph-layout-requested", { nodes: input.length });
    target.postMessage({ id, nodes: input });
    return () => {
      live = false;
      target.removeEventListener("message", onMessage);
      target.removeEventListener("error", onError);
    };
  }, [structure, inWorker]);

  return inWorker ? (fromWorker ?? provisional) : inline;
}
