"use client";

import Editor, { loader, type OnMount } from "@monaco-editor/react";
import { useEffect, useRef, useState } from "react";
import type { BlockLanguage } from "@/lib/core/model";
import { configureMonaco, prefetchBlockTypes } from "./monaco-setup";

// Monaco is served by this app from public/monaco/vs (scripts/copy-monaco.cjs), never from a CDN (DESIGN §12).
loader.config({ paths: { vs: "/monaco/vs" } });

const LINE_HEIGHT = 19;

export interface CodeEditorProps {
  block: string;
  language: BlockLanguage;
  value: string;
  onChange(value: string): void;
  onRun(): void;
  onSave(): void;
  onFocus(): void;
}

/**
 * A Monaco editor sized to its content. Mounted only once the cell comes near the viewport, so a
 * 200-block pipeline does not start 200 editors; until then the code shows as plain text.
 */
export function CodeEditor({ block, language, value, onChange, onRun, onSave, onFocus }: CodeEditorProps) {
  const holder = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  const handlers = useRef({ onRun, onSave, onFocus });
  handlers.current = { onRun, onSave, onFocus };
  const lines = Math.max(4, value.split("\n").length + 1);
  const height = Math.min(lines, 30) * LINE_HEIGHT + 12;

  useEffect(() => {
    if (language === "ts") void prefetchBlockTypes();
  }, [language]);

  useEffect(() => {
    const element = holder.current;
    if (!element || visible) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        setVisible(true);
        observer.disconnect();
      }
    }, { rootMargin: "400px" });
    observer.observe(element);
    return () => observer.disconnect();
  }, [visible]);

  const onMount: OnMount = (editor, monaco) => {
    editor.addAction({ id: "sluice.run-block", label: "Run block", keybindings: [monaco.KeyMod.Shift | monaco.KeyCode.Enter], run: () => handlers.current.onRun() });
    editor.addAction({ id: "sluice.save", label: "Save", keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS], run: () => handlers.current.onSave() });
    editor.onDidFocusEditorText(() => handlers.current.onFocus());
  };

  return (
    <div ref={holder} className="code-editor" data-testid={`code-${block}`} style={{ height }}>
      {visible ? (
        <Editor
          height={height}
          language={language === "sql" ? "sql" : "typescript"}
          path={`file:///${block}.${language}`}
          value={value}
          onChange={(next) => onChange(next ?? "")}
          beforeMount={configureMonaco}
          onMount={onMount}
          loading={<pre className="code-fallback">{value}</pre>}
          options={{ minimap: { enabled: false }, scrollBeyondLastLine: false, fontSize: 13, lineHeight: LINE_HEIGHT, automaticLayout: true, tabSize: 2, renderLineHighlight: "none", scrollbar: { alwaysConsumeMouseWheel: false } }}
        />
      ) : (
        <pre className="code-fallback">{value}</pre>
      )}
    </div>
  );
}
