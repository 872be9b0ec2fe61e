"use client";

import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { BlockSpec } from "@/lib/core/model";
import { blocksInDependencyOrder } from "@/lib/core/pipeline-changes";
import { AddBlockMenu } from "./AddBlockMenu";
import { BlockCell } from "./BlockCell";
import { editorHeight } from "./CodeEditor";
import type { EditorState } from "./editor-store";
import { useEditor, useEditorStore } from "./EditorProvider";
import styles from "./editor.module.css";

/** Cells closer than this to the visible part of the notebook are mounted; the others are placeholders. */
const NEAR_PX = 800;
/** Before the first measurement (server render, first paint): mount the cells in this much of the top. */
const INITIAL_PX = 1600;
/** A cell's border, header and margin around its code (globals.css `.cell`, `.cell-head`). */
const CELL_CHROME_PX = 58;
const PREVIEW_GUESS_PX = 320;
const LOGS_GUESS_PX = 30;

/** A cell's height before it was ever measured, from what it will show. */
function estimateHeight(state: EditorState, block: string): number {
  const code = state.code[block]?.code ?? "";
  return CELL_CHROME_PX + editorHeight(code) + (state.outputs[block] ? PREVIEW_GUESS_PX : 0) + (state.logs[block]?.length ? LOGS_GUESS_PX : 0);
}

function initiallyNear(state: EditorState, ordered: BlockSpec[]): Set<string> {
  const near = new Set<string>();
  let top = 0;
  for (const spec of ordered) {
    if (top > INITIAL_PX) break;
    near.add(spec.name);
    top += estimateHeight(state, spec.name);
  }
  return near;
}

interface SlotProps {
  spec: BlockSpec;
  mounted: boolean;
  /** The last measured height of the cell, or an estimate: what the placeholder takes. */
  height: number;
  focusRequested: boolean;
  onFocusHandled(): void;
  register(block: string, element: HTMLElement | null): void;
}

/**
 * Where one cell goes. It stays in the page with the cell's id (the graph scrolls to `cell-<name>`) and the
 * cell's last height, so the notebook keeps its length and scroll position while the cell itself is not mounted.
 */
const CellSlot = memo(function CellSlot({ spec, mounted, height, focusRequested, onFocusHandled, register }: SlotProps) {
  const name = spec.name;
  const ref = useCallback((element: HTMLDivElement | null) => register(name, element), [register, name]);
  return (
    <div ref={ref} id={`cell-${name}`} className={styles.slot} data-block={name} style={mounted ? undefined : { height }}>
      {mounted ? (
        <BlockCell spec={spec} focusRequested={focusRequested} onFocusHandled={onFocusHandled} />
      ) : (
        <div className={styles.placeholder} data-testid={`placeholder-${name}`} aria-hidden>
          {name}
        </div>
      )}
    </div>
  );
});

/**
 * The notebook of cells in dependency order, virtualised: only cells near the visible part are mounted (and
 * so only they start Monaco editors). Unsaved code, states, logs and outputs live in the editor store, so a
 * cell that scrolls away and back shows the same thing; the cell that has the focus stays mounted.
 */
export function Notebook() {
  const store = useEditorStore();
  const pipeline = useEditor((s) => s.pipeline);
  const focused = useEditor((s) => s.focused);
  const ordered = useMemo(() => blocksInDependencyOrder(pipeline), [pipeline]);
  const scroller = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState<ReadonlySet<string>>(() => initiallyNear(store.getState(), ordered));
  /** Measured heights by block; a ref, since they only matter when a cell turns into a placeholder. */
  const heights = useRef(new Map<string, number>());
  const slots = useRef(new Map<string, HTMLElement>());
  const blockOf = useRef(new WeakMap<Element, string>());
  const observers = useRef<{ near: IntersectionObserver; size: ResizeObserver } | null>(null);
  const [focusRequest, setFocusRequest] = useState<string | null>(null);

  const register = useCallback((block: string, element: HTMLElement | null) => {
    const previous = slots.current.get(block);
    if (previous && previous !== element) {
      observers.current?.near.unobserve(previous);
      observers.current?.size.unobserve(previous);
      slots.current.delete(block);
    }
    if (!element) return;
    slots.current.set(block, element);
    blockOf.current.set(element, block);
    observers.current?.near.observe(element);
    observers.current?.size.observe(element);
  }, []);

  useEffect(() => {
    const root = scroller.current;
    if (!root) return;
    const nearObserver = new IntersectionObserver(
      (entries) => {
        setNear((previous) => {
          let next: Set<string> | null = null;
          for (const entry of entries) {
            const block = blockOf.current.get(entry.target);
            if (!block || entry.isIntersecting === previous.has(block)) continue;
            next ??= new Set(previous);
            if (entry.isIntersecting) next.add(block);
            else next.delete(block);
          }
          return next ?? previous;
        });
      },
      { root, rootMargin: `${NEAR_PX}px 0px` },
    );
    const sizeObserver = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const block = blockOf.current.get(entry.target);
        // A placeholder has the height it was given; only a mounted cell's height is news.
        if (block && entry.target.firstElementChild?.tagName === "SECTION") heights.current.set(block, entry.borderBoxSize[0]?.blockSize ?? entry.contentRect.height);
      }
    });
    observers.current = { near: nearObserver, size: sizeObserver };
    for (const element of slots.current.values()) {
      nearObserver.observe(element);
      sizeObserver.observe(element);
    }
    return () => {
      nearObserver.disconnect();
      sizeObserver.disconnect();
      observers.current = null;
    };
  }, []);

  // Focus that arrives from outside the cell (a click on its graph node, a block just added): bring the cell
  // on screen and put the caret in its editor, once the editor exists.
  useEffect(() => {
    if (!focused) return;
    const slot = slots.current.get(focused);
    const root = scroller.current;
    if (!slot || !root || slot.contains(document.activeElement)) return;
    const box = slot.getBoundingClientRect();
    const view = root.getBoundingClientRect();
    if (box.bottom <= view.top || box.top >= view.bottom) slot.scrollIntoView({ block: "start" });
    setFocusRequest(focused);
  }, [focused]);

  const onFocusHandled = useCallback(() => setFocusRequest(null), []);
  const state = store.getState();

  return (
    <div ref={scroller} className="notebook" data-testid="notebook">
      {ordered.length === 0 && <p className="muted">No blocks yet. Add a loader to start.</p>}
      {ordered.map((spec) => (
        <CellSlot
          key={spec.name}
          spec={spec}
          mounted={near.has(spec.name) || focused === spec.name}
          height={near.has(spec.name) ? 0 : (heights.current.get(spec.name) ?? estimateHeight(state, spec.name))}
          focusRequested={focusRequest === spec.name}
          onFocusHandled={onFocusHandled}
          register={register}
        />
      ))}
      <AddBlockMenu />
    </div>
  );
}
