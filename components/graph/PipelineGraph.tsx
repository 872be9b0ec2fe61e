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
import { useResolvedTheme } from "../ui/theme";
import { recordMetric } from "../editor/editor-store";
import { NODE_HEIGHT, NODE_WIDTH } from "./graph-layout";
import { useGraphLayout } from "./use-graph-layout";
import { reuseUnchanged } from "./reuse-unchanged";
import { groupInstances, skipReasonOf, summarizeStates, withExpandedInstances, type InstanceStatus } from "./instances";
import styles from "./graph.module.css";

type BlockNodeData = {
  label: string;
  blockType: BlockType;
  state: BlockRunState | "idle";
  /** Condition blocks gating this one (`conditions:`), drawn as dashed edges and named on the node. */
  conditions: string;
  /** `dynamic: true`: its rows fan out into instances of its downstream blocks. */
  dynamic: boolean;
  /** Dynamic instances of this block in the run shown (`fetch[0]`…), collapsed into this one node. */
  instances: number;
  /** Their states in a few words ("2 success, 1 failed"), the count's tooltip. */
  instanceSummary: string;
  /** Whether the instances are shown as nodes of their own. */
  expanded: boolean;
  /** Why the block was skipped (a false condition, no dynamic rows, its trigger rule), shown on hover. */
  reason: string;
};
type BlockNode = Node<BlockNodeData, "block">;
type InstanceNodeData = { label: string; block: string; state: BlockRunState; attempt: number; reason: string };
type InstanceNode = Node<InstanceNodeData, "instance">;
type GraphNode = BlockNode | InstanceNode;

const BlockNodeView = memo(function BlockNodeView({ data }: NodeProps<BlockNode>) {
  return (
    <div
      className={`graph-node type-${data.blockType} state-${data.state}${data.state === "skipped" ? ` ${styles.skipped}` : ""}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      title={data.state === "skipped" ? `skipped: ${data.reason || "not run"}` : undefined}
      data-testid={`node-${data.label}`}
    >
      <Handle type="target" position={Position.Top} data-testid={`target-${data.label}`} />
      <div className="graph-node-name">{data.label}</div>
      <div className="graph-node-meta">
        {data.blockType} · {data.state}
        {data.dynamic && <span data-testid={`dynamic-${data.label}`}> · dynamic</span>}
        {data.instances > 0 && (
          <>
            {" · "}
            {/* Handled by the graph's node click (the node view has no store access); `nodrag` keeps it a plain click. */}
            <button
              type="button"
              className={`nodrag ${styles.expand}`}
              data-expand={data.label}
              aria-expanded={data.expanded}
              aria-label={`${data.expanded ? "Hide" : "Show"} ${data.instances} instances of ${data.label}`}
              title={data.instanceSummary}
              data-testid={`instances-${data.label}`}
            >
              ×{data.instances}
            </button>
          </>
        )}
        {data.conditions && <span data-testid={`conditions-${data.label}`}> · if {data.conditions}</span>}
      </div>
      <Handle type="source" position={Position.Bottom} data-testid={`source-${data.label}`} />
    </div>
  );
});

const InstanceNodeView = memo(function InstanceNodeView({ data }: NodeProps<InstanceNode>) {
  const detail = data.state === "skipped" ? `skipped: ${data.reason || "not run"}` : `${data.state}${data.attempt > 1 ? `, attempt ${data.attempt}` : ""}`;
  return (
    <div
      className={`graph-node ${styles.instance} state-${data.state}${data.state === "skipped" ? ` ${styles.skipped}` : ""}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      title={`${data.label}: ${detail}`}
      data-testid={`instance-${data.label}`}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="graph-node-name">{data.label}</div>
      <div className="graph-node-meta">{data.state}</div>
    </div>
  );
});

const nodeTypes = { block: BlockNodeView, instance: InstanceNodeView };
const DELETE_KEYS = ["Delete", "Backspace"];

function sameNode(a: GraphNode, b: GraphNode): boolean {
  if (a.type !== b.type || a.position.x !== b.position.x || a.position.y !== b.position.y || a.hidden !== b.hidden) return false;
  const x = a.data as Record<string, unknown>;
  const y = b.data as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}

function sameEdge(a: Edge, b: Edge): boolean {
  return a.source === b.source && a.target === b.target && a.animated === b.animated && a.selected === b.selected && a.className === b.className;
}

/**
 * The DAG: nodes coloured by block type and run state, laid out with dagre; dragging from a
 * node's bottom handle to another's top handle adds an upstream (a cycle is refused, named); selecting an
 * edge and pressing Delete removes it; clicking a node jumps to its cell.
 */
export function PipelineGraph() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const theme = useResolvedTheme();
  // Only the states, as one string: log lines, progress and row counts change `status` without changing what the graph shows.
  const states = useEditor((s) => blocks.map((b) => s.status[b.name]?.state ?? "idle").join(","));
  // Dynamic instances (`fetch[0]`, `fetch[2020-10]`) have statuses of their own; the graph shows them as a count on their block.
  const instanceCounts = useEditor((s) => {
    const counts = new Map<string, number>();
    for (const name of Object.keys(s.status)) {
      const bracket = name.indexOf("[");
      if (bracket > 0 && name.endsWith("]")) counts.set(name.slice(0, bracket), (counts.get(name.slice(0, bracket)) ?? 0) + 1);
    }
    return blocks.map((b) => counts.get(b.name) ?? 0).join(",");
  });
  // One string, so that only a change of what the graph shows re-renders: skip reasons of the blocks, and
  // each instance's state, attempt and skip reason.
  const reasons = useEditor((s) => blocks.map((b) => (s.status[b.name] ? (skipReasonOf(s.status[b.name]) ?? "") : "")).join("\u0000"));
  const instanceJson = useEditor((s) =>
    JSON.stringify(
      Object.entries(s.status)
        .filter(([name]) => name.endsWith("]"))
        .map(([name, st]) => [name, { state: st.state, attempt: st.attempt, error: st.error?.code === "skipped" ? st.error : null }]),
    ),
  );
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const groups = useMemo(() => groupInstances(JSON.parse(instanceJson) as [string, InstanceStatus][]), [instanceJson]);
  const graphError = useEditor((s) => s.graphError);
  const changePipeline = useEditor((s) => s.changePipeline);
  const setFocused = useEditor((s) => s.setFocused);
  const setGraphError = useEditor((s) => s.setGraphError);

  // Conditions are laid out like upstreams: a condition sits above the blocks it gates.
  // Expanded instances are laid out as nodes under their block.
  const layoutNodes = useMemo(
    () => withExpandedInstances(blocks.map((b) => ({ name: b.name, upstream: [...b.upstream, ...(b.conditions ?? [])] })), groups, expanded),
    [blocks, groups, expanded],
  );
  // The layout depends on names and edges only (`structure`), not on states; above 50 nodes it runs in a worker.
  const structure = layoutNodes.map((n) => `${n.name}<${n.upstream.join(",")}`).join(";");
  const positions = useGraphLayout(layoutNodes, structure);
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());

  // Node and edge objects are kept from one render to the next unless what they show changed, so that
  // React Flow (and the memoised node view) only update the nodes whose state changed during a run.
  const previousNodes = useRef(new Map<string, GraphNode>());
  const previousEdges = useRef(new Map<string, Edge>());
  const nodes = useMemo(() => {
    const stateList = states.split(",") as (BlockRunState | "idle")[];
    const countList = instanceCounts.split(",").map(Number);
    const reasonList = reasons.split("\u0000");
    const next: GraphNode[] = blocks.map((b, i): GraphNode => {
      const position = positions?.get(b.name);
      return {
        id: b.name,
        type: "block",
        position: position ?? { x: 0, y: 0 },
        // A block added since the last layout waits, hidden, for the worker's next one.
        hidden: position === undefined,
        data: {
          label: b.name,
          blockType: b.type,
          state: stateList[i] ?? "idle",
          conditions: (b.conditions ?? []).join(", "),
          dynamic: b.dynamic === true,
          instances: countList[i] ?? 0,
          instanceSummary: summarizeStates(groups.get(b.name) ?? []),
          expanded: expanded.has(b.name),
          reason: reasonList[i] ?? "",
        },
      };
    });
    // An expanded block's instances: nodes under it, each with its own state.
    for (const b of blocks) {
      const instances = groups.get(b.name);
      if (!instances || !expanded.has(b.name)) continue;
      for (const instance of instances) {
        const position = positions?.get(instance.name);
        next.push({
          id: instance.name,
          type: "instance",
          position: position ?? { x: 0, y: 0 },
          hidden: position === undefined,
          connectable: false,
          data: { label: instance.name, block: b.name, state: instance.state, attempt: instance.attempt, reason: instance.skipReason ?? "" },
        });
      }
    }
    return reuseUnchanged(previousNodes.current, next, sameNode);
  }, [blocks, positions, states, instanceCounts, reasons, groups, expanded]);
  const edges = useMemo(() => {
    const stateList = states.split(",");
    const next: Edge[] = blocks.flatMap((b, i) =>
      b.upstream.map((up) => {
        const id = `${up}->${b.name}`;
        return { id, source: up, target: b.name, animated: stateList[i] === "running", selected: selectedEdges.has(id) };
      }),
    );
    // A condition's edge is dashed (`condition-edge`) and not deletable as an upstream: it is not one.
    for (const b of blocks) {
      for (const condition of b.conditions ?? []) {
        next.push({ id: `${condition}?->${b.name}`, source: condition, target: b.name, className: "condition-edge", deletable: false, selectable: false });
      }
    }
    // An expanded block to its instances: part of the picture, not of the pipeline, so not editable.
    for (const block of expanded) {
      for (const instance of groups.get(block) ?? []) {
        next.push({ id: `${block}=>${instance.name}`, source: block, target: instance.name, className: "instance-edge", deletable: false, selectable: false });
      }
    }
    return reuseUnchanged(previousEdges.current, next, sameEdge);
  }, [blocks, states, selectedEdges, groups, expanded]);
  const toggleInstances = useCallback((block: string) => {
    setExpanded((previous) => {
      const next = new Set(previous);
      if (!next.delete(block)) next.add(block);
      return next;
    });
  }, []);

  // Fit the whole graph in view when its layout changes (opening, a block or an edge added or removed).
  const flow = useRef<ReactFlowInstance<GraphNode, Edge> | null>(null);
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

  const onNodeClick = (event: React.MouseEvent, node: GraphNode) => {
    if (node.type === "block" && event.target instanceof Element && event.target.closest("[data-expand]")) return toggleInstances(node.id);
    // An instance's code is its block's cell.
    const block = node.type === "instance" ? node.data.block : node.id;
    setFocused(block);
    document.getElementById(`cell-${block}`)?.scrollIntoView({ behavior: "auto", block: "start" });
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
        colorMode={theme}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
