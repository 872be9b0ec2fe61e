"use client";

import Editor, { loader, type OnMount } from "@monaco-editor/react";
import { useEffect, useRef, useState } from "react";
import type { BlockLanguage } from "@/lib/core/model";
import { useResolvedTheme } from "../ui/theme";
import { configureMonaco, prefetchBlockTypes } from "./monaco-setup";

// Monaco is served by this app from public/monaco/vs (scripts/copy-monaco.cjs), never from a CDN.
loader.config({ paths: { vs: "/monaco/vs" } });

const LINE_HEIGHT = 19;
const PADDING = 12;
const MIN_LINES = 4;
/** Above this many lines the editor scrolls inside itself (the notebook takes the wheel at its ends). */
export const MAX_LINES = 40;
/** An editor starts once its cell has been on screen, with the notebook still, this long: scrolling past a cell starts none. */
const SETTLE_MS = 120;

/**
 * The editor's height for this code before Monaco measured it: its lines (at least 4, at most MAX_LINES) and
 * padding. Monaco's own content height (wrapped lines, a horizontal scrollbar) replaces it once it runs.
 */
export function editorHeight(code: string): number {
  const lines = Math.max(MIN_LINES, code.split("\n").length + 1);
  return Math.min(lines, MAX_LINES) * LINE_HEIGHT + PADDING;
}

/** Monaco's content height plus the spare line the estimate has, kept between its minimum and maximum. */
export function clampEditorHeight(contentHeight: number): number {
  return Math.round(Math.min(Math.max(contentHeight + LINE_HEIGHT + PADDING, MIN_LINES * LINE_HEIGHT + PADDING), MAX_LINES * LINE_HEIGHT + PADDING));
}

export interface CodeEditorProps {
  block: string;
  language: BlockLanguage;
  value: string;
  onChange(value: string): void;
  onRun(): void;
  /** Ctrl/Cmd+Shift+Enter in the code: Monaco would otherwise insert a line above. */
  onRunPipeline?(): void;
  onSave(): void;
  onFocus(): void;
  /** Focus the editor as soon as it exists, then call `onFocusHandled`. */
  focusRequested?: boolean;
  onFocusHandled?(): void;
}

/**
 * A Monaco editor sized to its content. Started only once the cell has been on screen for a moment (until
 * then the code shows as plain text), and disposed with its model when the cell unmounts (the notebook
 * unmounts cells far from the viewport; the code itself lives in the editor store).
 */
export function CodeEditor({ block, language, value, onChange, onRun, onRunPipeline, onSave, onFocus, focusRequested = false, onFocusHandled }: CodeEditorProps) {
  const holder = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  const [editor, setEditor] = useState<Parameters<OnMount>[0] | null>(null);
  const handlers = useRef({ onRun, onRunPipeline, onSave, onFocus });
  handlers.current = { onRun, onRunPipeline, onSave, onFocus };
  const [measured, setMeasured] = useState<number | null>(null);
  const height = measured ?? editorHeight(value);
  const theme = useResolvedTheme() === "dark" ? "vs-dark" : "vs";

  useEffect(() => {
    if (language === "ts") void prefetchBlockTypes();
  }, [language]);

  useEffect(() => {
    const element = holder.current;
    if (!element || visible) return;
    const root = element.closest(".notebook");
    let onScreen = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // (Re)starts the wait while the cell is on screen: every scroll of the notebook starts it over.
    const settle = () => {
      if (timer) clearTimeout(timer);
      timer = onScreen ? setTimeout(() => setVisible(true), SETTLE_MS) : null;
    };
    const observer = new IntersectionObserver(
      (entries) => {
        onScreen = entries[entries.length - 1]?.isIntersecting ?? false;
        settle();
      },
      { root, rootMargin: "100px 0px" },
    );
    observer.observe(element);
    root?.addEventListener("scroll", settle, { passive: true });
    return () => {
      observer.disconnect();
      root?.removeEventListener("scroll", settle);
      if (timer) clearTimeout(timer);
    };
  }, [visible]);

  // A requested focus (the cell was jumped to, or its plain text clicked) starts the editor at once and
  // focuses it when it is there.
  const [clicked, setClicked] = useState(false);
  const wantsFocus = focusRequested || clicked;
  useEffect(() => {
    if (wantsFocus && !visible) setVisible(true);
    if (!wantsFocus || !editor) return;
    editor.focus();
    setClicked(false);
    if (focusRequested) onFocusHandled?.();
  }, [wantsFocus, focusRequested, visible, editor, onFocusHandled]);

  const onMount: OnMount = (mounted, monaco) => {
    mounted.addAction({ id: "sluice.run-block", label: "Run block", keybindings: [monaco.KeyMod.Shift | monaco.KeyCode.Enter, monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter], run: () => handlers.current.onRun() });
    mounted.addAction({ id: "sluice.run-pipeline", label: "Run pipeline", keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.Enter], run: () => handlers.current.onRunPipeline?.() });
    // The cell grows with its code (up to MAX_LINES), so the notebook scrolls and the editor mostly does not.
    setMeasured(clampEditorHeight(mounted.getContentHeight()));
    mounted.onDidContentSizeChange((event) => {
      if (event.contentHeightChanged) setMeasured(clampEditorHeight(event.contentHeight));
    });
    mounted.addAction({ id: "sluice.save", label: "Save", keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS], run: () => handlers.current.onSave() });
    mounted.onDidFocusEditorText(() => handlers.current.onFocus());
    setEditor(mounted);
  };

  return (
    <div ref={holder} className="code-editor" data-testid={`code-${block}`} data-editor={editor ? "monaco" : "text"} style={{ height }}>
      {visible ? (
        <Editor
          height={height}
          language={language === "sql" ? "sql" : "typescript"}
          path={`file:///${block}.${language}`}
          value={value}
          onChange={(next) => onChange(next ?? "")}
          beforeMount={configureMonaco}
          onMount={onMount}
          theme={theme}
          loading={<pre className="code-fallback">{value}</pre>}
          options={{ minimap: { enabled: false }, scrollBeyondLastLine: false, fontSize: 13, lineHeight: LINE_HEIGHT, automaticLayout: true, tabSize: 2, renderLineHighlight: "none", scrollbar: { alwaysConsumeMouseWheel: false } }}
        />
      ) : (
        <pre className="code-fallback" onMouseDown={() => setClicked(true)}>
          {value}
        </pre>
      )}
    </div>
  );
}
