"use client";

import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { BlockSpec, BlockType } from "@/lib/core/model";
import { BLOCK_TYPES } from "@/lib/core/model";
import { formatElapsed } from "@/lib/core/duration";
import { OutputPreview } from "../preview/OutputPreview";
import { formatCount } from "../ui/format";
import { BlockIssues } from "./BlockIssues";
import { BlockProgress } from "./BlockProgress";
import { CellFeedback, CellLogs, PreviewOrigin } from "./CellFeedback";
import { CodeEditor } from "./CodeEditor";
import { useEditor, useEditorStore } from "./EditorProvider";

function BlockName({ spec }: { spec: BlockSpec }) {
  const renameBlock = useEditor((s) => s.renameBlock);
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(spec.name);
  if (!editing) {
    return (
      <button type="button" className="block-name" title="Rename" onClick={() => (setValue(spec.name), setEditing(true))}>
        {spec.name}
      </button>
    );
  }
  const commit = async () => {
    setEditing(false);
    if (value !== spec.name) await renameBlock(spec.name, value);
  };
  return (
    <input
      className="block-name-input"
      aria-label="Block name"
      autoFocus
      value={value}
      onChange={(e) => setValue(e.target.value)}
      onBlur={() => void commit()}
      onKeyDown={(e) => {
        if (e.key === "Enter") void commit();
        if (e.key === "Escape") setEditing(false);
      }}
    />
  );
}

function UpstreamPicker({ spec }: { spec: BlockSpec }) {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const changePipeline = useEditor((s) => s.changePipeline);
  const [open, setOpen] = useState(false);
  // The options render only while the picker is open: a 200-block pipeline would otherwise put 40,000 checkboxes in the page.
  const others = open ? blocks.filter((b) => b.name !== spec.name) : [];
  return (
    <details className="upstream-picker" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>upstream: {spec.upstream.length > 0 ? spec.upstream.join(", ") : "none"}</summary>
      <div className="upstream-options" hidden={!open}>
        {others.length === 0 && <em>no other blocks</em>}
        {others.map((b) => (
          <label key={b.name}>
            <input
              type="checkbox"
              checked={spec.upstream.includes(b.name)}
              onChange={(e) => void changePipeline([{ type: e.target.checked ? "add_upstream" : "remove_upstream", block: spec.name, upstream: b.name }])}
            />{" "}
            {b.name}
          </label>
        ))}
      </div>
    </details>
  );
}

export interface BlockCellProps {
  spec: BlockSpec;
  /** Put the caret in this cell's editor as soon as it exists (the cell was jumped to), then call `onFocusHandled`. */
  focusRequested?: boolean;
  onFocusHandled?(): void;
}

/** One notebook cell: header (type, name, language, upstreams, run menu, state), code, error, logs, output. */
export function BlockCell({ spec, focusRequested = false, onFocusHandled }: BlockCellProps) {
  const code = useEditor((s) => s.code[spec.name]);
  const status = useEditor((s) => s.status[spec.name]);
  const output = useEditor((s) => s.outputs[spec.name]);
  const progress = useEditor((s) => s.progress[spec.name]);
  const focused = useEditor((s) => s.focused === spec.name);
  const notice = useEditor((s) => (s.notice?.block === spec.name ? s.notice : null));
  const conflict = useEditor((s) => (s.conflict?.block === spec.name ? s.conflict : null));
  const { setCode, saveAll, runBlock, runFocused, setFocused, removeBlock, changePipeline } = useEditor(
    useShallow((s) => ({ setCode: s.setCode, saveAll: s.saveAll, runBlock: s.runBlock, runFocused: s.runFocused, setFocused: s.setFocused, removeBlock: s.removeBlock, changePipeline: s.changePipeline })),
  );
  const editorStore = useEditorStore();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const state = status?.state ?? "idle";
  const dirty = code ? code.code !== code.savedCode : false;

  return (
    <section className={`cell ${focused ? "focused" : ""}`} data-testid={`cell-${spec.name}`} data-state={state}>
      <header className="cell-head">
        <select
          className={`badge type-${spec.type}`}
          aria-label="Block type"
          value={spec.type}
          onChange={(e) => {
            const blockType = BLOCK_TYPES.find((t) => t === e.target.value);
            if (blockType) void changePipeline([{ type: "set_block_type", block: spec.name, blockType: blockType satisfies BlockType }]);
          }}
        >
          {BLOCK_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <BlockName spec={spec} />
        <span className="lang">{spec.language === "sql" ? "SQL" : "TypeScript"}</span>
        <UpstreamPicker spec={spec} />
        <span className="spacer" />
        <span className={`state state-${state}`} data-testid={`state-${spec.name}`}>
          {state}
        </span>
        {status?.durationMs != null && <span className="muted">{formatElapsed(status.durationMs)}</span>}
        {status?.rows != null && <span className="muted" data-testid={`rows-${spec.name}`}>{formatCount(status.rows)} rows</span>}
        <span className="muted save-state">{code?.saving ? "saving…" : dirty ? "edited" : "saved"}</span>
        <div className="run-menu" role="group" aria-label={`Run ${spec.name}`}>
          <button type="button" title="Run this block on the cached outputs of its upstreams" onClick={() => void runBlock(spec.name, "block")}>
            Run block
          </button>
          <button type="button" title="Run this block and everything upstream of it" onClick={() => void runBlock(spec.name, "with_upstream")}>
            With upstream
          </button>
          <button type="button" title="Run this block and everything downstream of it" onClick={() => void runBlock(spec.name, "from")}>
            From here
          </button>
        </div>
        {confirmDelete ? (
          <span className="confirm">
            Delete {spec.name}?{" "}
            <button type="button" className="danger" onClick={() => void removeBlock(spec.name)}>
              Delete
            </button>{" "}
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="icon" title="Delete block" aria-label={`Delete ${spec.name}`} onClick={() => setConfirmDelete(true)}>
            ✕
          </button>
        )}
      </header>
      <BlockIssues block={spec.name} />
      <CellFeedback block={spec.name} />
      {state === "running" && progress && progress.runId === status?.runId && <BlockProgress block={spec.name} progress={progress} />}
      {code && (
        <CodeEditor
          block={spec.name}
          language={spec.language}
          value={code.code}
          onChange={(value) => setCode(spec.name, value)}
          onRun={() => void runFocused(spec.name)}
          onRunPipeline={() => void editorStore.getState().runPipeline()}
          onSave={() => void saveAll()}
          onFocus={() => setFocused(spec.name)}
          focusRequested={focusRequested}
          onFocusHandled={onFocusHandled}
        />
      )}
      {conflict && <div className="cell-error">{conflict.message}</div>}
      {notice && (
        <div className="cell-error" role="alert">
          {notice.message}
        </div>
      )}
      {status?.error && (
        <div className="cell-error" role="alert" data-testid={`error-${spec.name}`}>
          <strong>{status.error.code}</strong>: {status.error.message}
        </div>
      )}
      <CellLogs block={spec.name} />
      {output && state !== "running" && state !== "queued" && (
        <>
          <PreviewOrigin block={spec.name} />
          <OutputPreview runId={output.runId} block={spec.name} serial={output.serial} endedAt={output.endedAt} />
        </>
      )}
    </section>
  );
}
