"use client";

import { Background, Controls, Handle, Position, ReactFlow, type Connection, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useEffect, useMemo } from "react";
import type { BlockType } from "@/lib/core/model";
import type { BlockRunState } from "@/lib/core/run-model";
import { useEditor } from "../editor/EditorProvider";
import { recordMetric } from "../editor/editor-store";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./graph-layout";

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

/**
 * The DAG (DESIGN §8): nodes coloured by block type and run state, laid out with dagre; dragging from a
 * node's bottom handle to another's top handle adds an upstream (a cycle is refused, named); selecting an
 * edge and pressing Delete removes it; clicking a node jumps to its cell.
 */
export function PipelineGraph() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const status = useEditor((s) => s.status);
  const graphError = useEditor((s) => s.graphError);
  const changePipeline = useEditor((s) => s.changePipeline);
  const setFocused = useEditor((s) => s.setFocused);
  const setGraphError = useEditor((s) => s.setGraphError);

  const structure = blocks.map((b) => `${b.name}<${b.upstream.join(",")}`).join(";");
  // The layout depends on names and edges only (`structure`), not on states.
  const positions = useMemo(() => layoutGraph(blocks), [structure]);

  const nodes: BlockNode[] = blocks.map((b) => ({
    id: b.name,
    type: "block",
    position: positions.get(b.name) ?? { x: 0, y: 0 },
    data: { label: b.name, blockType: b.type, state: status[b.name]?.state ?? "idle" },
  }));
  const edges: Edge[] = blocks.flatMap((b) => b.upstream.map((up) => ({ id: `${up}->${b.name}`, source: up, target: b.name, animated: status[b.name]?.state === "running" })));

  useEffect(() => {
    recordMetric("graph-rendered", { nodes: blocks.length });
  }, [blocks.length]);

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
      <ReactFlow
        key={structure}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onConnect={onConnect}
        onEdgesDelete={onEdgesDelete}
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
