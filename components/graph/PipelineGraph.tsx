"use client";

import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeProps,
  type ReactFlowInstance,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { BlockType } from "@/lib/core/model";
import type { BlockRunState } from "@/lib/core/run-model";
import { useEditor } from "../editor/EditorProvider";
import { recordMetric } from "../editor/editor-store";
import { NODE_HEIGHT, NODE_WIDTH } from "./graph-layout";
import { useGraphLayout } from "./use-graph-layout";
import { reuseUnchanged } from "./reuse-unchanged";

type BlockNodeData = { label: string; blockType: BlockType; state: BlockRunState | "idle" };
type BlockNode = Node<BlockNodeData, "block">;

const BlockNodeView = memo(function BlockNodeView({ data }: NodeProps<BlockNode>) {
  return (
    <div className={`graph-node type-${data.blockType} state-${data.state}`} style={{ width: NODE_WIDTH, height: NODE_HEIGHT }} data-testid={`node-${data.label}`}>
      <Handle type="target" position={Position.Top} data-testid={`target-${data.label}`} />
      <div className="graph-node-name">{data.label}</div>
      <div className="graph-node-meta">
        {data.blockType} · {data.state}
      </div>
      <Handle type="source" position={Position.Bottom} data-testid={`source-${data.label}`} />
    </div>
  );
});

const nodeTypes = { block: BlockNodeView };
const DELETE_KEYS = ["Delete", "Backspace"];

function sameNode(a: BlockNode, b: BlockNode): boolean {
  return (
    a.position.x === b.position.x &&
    a.position.y === b.position.y &&
    a.hidden === b.hidden &&
    a.data.label === b.data.label &&
    a.data.blockType === b.data.blockType &&
    a.data.state === b.data.state
  );
}

function sameEdge(a: Edge, b: Edge): boolean {
  return a.source === b.source && a.target === b.target && a.animated === b.animated && a.selected === b.selected;
}

/**
 * The DAG: nodes coloured by block type and run state, laid out with dagre; dragging from a
 * node's bottom handle to another's top handle adds an upstream (a cycle is refused, named); selecting an
 * edge and pressing Delete removes it; clicking a node jumps to its cell.
 */
export function PipelineGraph() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  // Only the states, as one string: log lines, progress and row counts change `status` without changing what the graph shows.
  const states = useEditor((s) => blocks.map((b) => s.status[b.name]?.state ?? "idle").join(","));
  const graphError = useEditor((s) => s.graphError);
  const changePipeline = useEditor((s) => s.changePipeline);
  const setFocused = useEditor((s) => s.setFocused);
  const setGraphError = useEditor((s) => s.setGraphError);

  const structure = blocks.map((b) => `${b.name}<${b.upstream.join(",")}`).join(";");
  // The layout depends on names and edges only (`structure`), not on states; above 50 blocks it runs in a worker.
  const positions = useGraphLayout(blocks, structure);
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());

  // Node and edge objects are kept from one render to the next unless what they show changed, so that
  // React Flow (and the memoised node view) only update the nodes whose state changed during a run.
  const previousNodes = useRef(new Map<string, BlockNode>());
  const previousEdges = useRef(new Map<string, Edge>());
  const nodes = useMemo(() => {
    const stateList = states.split(",") as (BlockRunState | "idle")[];
    const next: BlockNode[] = blocks.map((b, i) => {
      const position = positions?.get(b.name);
      return {
        id: b.name,
        type: "block",
        position: position ?? { x: 0, y: 0 },
        // A block added since the last layout waits, hidden, for the worker's next one.
        hidden: position === undefined,
        data: { label: b.name, blockType: b.type, state: stateList[i] ?? "idle" },
      };
    });
    return reuseUnchanged(previousNodes.current, next, sameNode);
  }, [blocks, positions, states]);
  const edges = useMemo(() => {
    const stateList = states.split(",");
    const next: Edge[] = blocks.flatMap((b, i) =>
      b.upstream.map((up) => {
        const id = `${up}->${b.name}`;
        return { id, source: up, target: b.name, animated: stateList[i] === "running", selected: selectedEdges.has(id) };
      }),
    );
    return reuseUnchanged(previousEdges.current, next, sameEdge);
  }, [blocks, states, selectedEdges]);

  // Fit the whole graph in view when its layout changes (opening, a block or an edge added or removed).
  const flow = useRef<ReactFlowInstance<BlockNode, Edge> | null>(null);
  useEffect(() => {
    if (!positions) return;
    recordMetric("graph-rendered", { nodes: blocks.length });
    // React Flow queues this until it has measured the nodes it just got.
    void flow.current?.fitView({ maxZoom: 1.2 });
  }, [positions, blocks.length]);

  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => {
    // Edges are controlled: React Flow's selection has to be kept here for Delete to find the selected edge.
    const selections = changes.filter((c) => c.type === "select");
    if (selections.length === 0) return;
    setSelectedEdges((previous) => {
      const next = new Set(previous);
      for (const change of selections) if (change.selected) next.add(change.id);
      else next.delete(change.id);
      return next;
    });
  }, []);

  const onConnect = (connection: Connection) => {
    if (!connection.source || !connection.target) return;
    void changePipeline([{ type: "add_upstream", block: connection.target, upstream: connection.source }]);
  };

  const onEdgesDelete = (deleted: Edge[]) => {
    void changePipeline(deleted.map((e) => ({ type: "remove_upstream" as const, block: e.target, upstream: e.source })));
  };

  const onNodeClick = (_event: unknown, node: BlockNode) => {
    setFocused(node.id);
    document.getElementById(`cell-${node.id}`)?.scrollIntoView({ behavior: "auto", block: "start" });
  };

  return (
    <div className="graph-panel" data-testid="graph">
      {graphError && (
        <div className="graph-error" role="alert" data-testid="graph-error">
          {graphError}{" "}
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => setGraphError(null)}>
            ✕
          </button>
        </div>
      )}
      {!positions && <div className="graph-loading">laying out {blocks.length} blocks…</div>}
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onInit={(instance) => {
          flow.current = instance;
        }}
        onConnect={onConnect}
        onEdgesChange={onEdgesChange}
        onEdgesDelete={onEdgesDelete}
        deleteKeyCode={DELETE_KEYS}
        onNodeClick={onNodeClick}
        nodesDraggable={false}
        fitView
        fitViewOptions={{ maxZoom: 1.2 }}
        minZoom={0.05}
        onlyRenderVisibleElements={blocks.length > 100}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
