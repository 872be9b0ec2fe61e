"use client";

import Link from "next/link";
import { useEffect } from "react";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import { PipelineGraph } from "../graph/PipelineGraph";
import { RunBar } from "../runs/RunBar";
import { ConflictBanner } from "./ConflictBanner";
import { EditorProvider, useEditor, useEditorStore } from "./EditorProvider";
import { Notebook } from "./Notebook";
import { SettingsControls } from "./SettingsPanel";
import { RunAnnouncer } from "./RunAnnouncer";
import { EditorShortcuts, ShortcutsButton } from "./ShortcutsHelp";

function GlobalNotice() {
  const notice = useEditor((s) => (s.notice && !s.notice.block ? s.notice : null));
  const dismiss = useEditor((s) => s.dismissNotice);
  if (!notice) return null;
  return (
    <div className={`notice ${notice.kind}`} role="alert" data-testid="notice">
      {notice.message}{" "}
      <button type="button" className="icon" aria-label="Dismiss" onClick={dismiss}>
        ✕
      </button>
    </div>
  );
}

function Shell() {
  const store = useEditorStore();
  const name = useEditor((s) => s.name);
  const description = useEditor((s) => s.pipeline.description);
  const runPipeline = useEditor((s) => s.runPipeline);
  const saveAll = useEditor((s) => s.saveAll);

  // The notebook remembers: every block's last state, rows, tests and preview, from whichever run ran it.
  useEffect(() => {
    void store.getState().loadLatest();
  }, [store]);

  useEffect(() => {
    // A hand edit (or another tab) shows up when you come back to this tab, unless you have unsaved edits.
    const onVisible = () => {
      if (document.visibilityState !== "visible") return;
      const { code, conflict } = store.getState();
      const dirty = Object.values(code).some((c) => c.code !== c.savedCode);
      if (!dirty && !conflict) void store.getState().reload();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [store]);

  return (
    <div className="editor">
      <header className="editor-head">
        <Link href="/">← Pipelines</Link>
        <h1 data-testid="pipeline-name">{name}</h1>
        <span className="muted">{description}</span>
        <span className="spacer" />
        <Link href={`/pipelines/${encodeURIComponent(name)}/triggers`}>Triggers</Link>
        <Link href={`/runs?pipeline=${encodeURIComponent(name)}`}>Runs</Link>
        <button type="button" onClick={() => void saveAll()} title="Ctrl/Cmd+S">
          Save
        </button>
        <ShortcutsButton />
        <SettingsControls />
        <button type="button" className="primary" onClick={() => void runPipeline()} title="Ctrl/Cmd+Shift+Enter">
          Run pipeline
        </button>
      </header>
      <EditorShortcuts />
      <RunAnnouncer />
      <RunBar />
      <ConflictBanner />
      <GlobalNotice />
      <div className="editor-body">
        <Notebook />
        <PipelineGraph />
      </div>
    </div>
  );
}

/** The pipeline editor: a notebook of block cells in dependency order beside the graph, with live runs. */
export function PipelineEditor({ doc }: { doc: PipelineDocument }) {
  return (
    <EditorProvider doc={doc}>
      <Shell />
    </EditorProvider>
  );
}
