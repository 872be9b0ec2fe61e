"use client";

import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { useStore } from "zustand";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import { createEditorStore, type EditorActions, type EditorState, type EditorStore } from "./editor-store";

const EditorContext = createContext<EditorStore | null>(null);

/** One store per editor instance: created once with useState, disposed on unmount. */
export function EditorProvider({ doc, children }: { doc: PipelineDocument; children: ReactNode }) {
  const [store] = useState(() => createEditorStore(doc));
  useEffect(() => () => store.getState().dispose(), [store]);
  return <EditorContext.Provider value={store}>{children}</EditorContext.Provider>;
}

export function useEditorStore(): EditorStore {
  const store = useContext(EditorContext);
  if (!store) throw new Error("useEditor must be used inside <EditorProvider>");
  return store;
}

export function useEditor<T>(selector: (state: EditorState & EditorActions) => T): T {
  return useStore(useEditorStore(), selector);
}
