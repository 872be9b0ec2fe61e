"use client";

import { useState } from "react";
import { BLOCK_TEMPLATES, uniqueBlockName } from "./block-templates";
import { useEditor } from "./EditorProvider";

/** Adds a block from a template; a transformer or exporter gets the focused (or last) block as upstream. */
export function AddBlockMenu() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const focused = useEditor((s) => s.focused);
  const addBlock = useEditor((s) => s.addBlock);
  const [busy, setBusy] = useState(false);
  return (
    <div className="add-block" role="group" aria-label="Add block">
      <span className="muted">Add block:</span>
      {BLOCK_TEMPLATES.map((t) => (
        <button
          key={t.id}
          type="button"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            const names = blocks.map((b) => b.name);
            const upstream = t.type === "loader" ? [] : [focused ?? names[names.length - 1]].filter((n): n is string => n !== undefined);
            await addBlock({ name: uniqueBlockName(t.stem, names), type: t.type, language: t.language, upstream: [], code: t.code(upstream) });
            setBusy(false);
          }}
        >
          + {t.label}
        </button>
      ))}
    </div>
  );
}
