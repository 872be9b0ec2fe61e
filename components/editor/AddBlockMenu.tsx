"use client";

import { useEffect, useRef, useState } from "react";
import type { BlockLanguage, BlockType } from "@/lib/core/model";
import type { BlockTemplateFile, ResponseOf } from "@/lib/core/api-contract";
import { apiCall } from "../ui/api-client";
import { BLOCK_TEMPLATES, uniqueBlockName } from "./block-templates";
import { useEditor } from "./EditorProvider";
import styles from "./editor.module.css";

interface NewBlock {
  stem: string;
  type: BlockType;
  language: BlockLanguage;
  code: string;
  /** The connection a SQL connector template runs in. */
  connection?: string;
}

/** The connector templates (templates/io), read from the server when the menu first opens. */
function useConnectorTemplates(open: boolean): { templates: BlockTemplateFile[] | null; error: string | null } {
  const [templates, setTemplates] = useState<BlockTemplateFile[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open || templates) return;
    let live = true;
    void apiCall<ResponseOf<"listTemplates">>("/api/templates").then((result) => {
      if (!live) return;
      if (result.ok) setTemplates(result.data.templates);
      else setError(result.error.message);
    });
    return () => {
      live = false;
    };
  }, [open, templates]);
  return { templates, error };
}

/**
 * Adds a block: a blank TS/SQL loader, transformer or exporter, or a connector template (HTTP CSV, Parquet,
 * DuckDB, Postgres, GCS, S3, BigQuery, …) with the template's code.
 */
export function AddBlockMenu() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const focused = useEditor((s) => s.focused);
  const addBlock = useEditor((s) => s.addBlock);
  const [busy, setBusy] = useState(false);
  const [connectorsOpen, setConnectorsOpen] = useState(false);
  const connectors = useConnectorTemplates(connectorsOpen);
  const menu = useRef<HTMLDetailsElement>(null);

  // The open menu closes on a click elsewhere or Escape, as menus do.
  useEffect(() => {
    if (!connectorsOpen) return;
    const close = () => menu.current?.removeAttribute("open");
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !menu.current?.contains(event.target)) close();
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close();
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [connectorsOpen]);

  const add = async (block: NewBlock) => {
    setBusy(true);
    await addBlock({ name: uniqueBlockName(block.stem, blocks.map((b) => b.name)), type: block.type, language: block.language, upstream: [], code: block.code, ...(block.connection ? { connection: block.connection } : {}) });
    setBusy(false);
  };

  return (
    <div className="add-block" role="group" aria-label="Add block">
      <span className="muted">Add block:</span>
      {BLOCK_TEMPLATES.map((t) => (
        <button
          key={t.id}
          type="button"
          disabled={busy}
          onClick={() => {
            // The code names the upstream a transformer will most likely read: the focused (or last) block.
            const names = blocks.map((b) => b.name);
            const upstream = t.type === "loader" ? [] : [focused ?? names[names.length - 1]].filter((n): n is string => n !== undefined);
            void add({ stem: t.stem, type: t.type, language: t.language, code: t.code(upstream) });
          }}
        >
          + {t.label}
        </button>
      ))}
      <details ref={menu} className={styles.connectors} onToggle={(e) => setConnectorsOpen(e.currentTarget.open)}>
        <summary>+ Connector template…</summary>
        <div className={styles.connectorList} role="menu" aria-label="Connector templates">
          {connectors.error && <p className="error">Templates could not be read: {connectors.error}</p>}
          {!connectors.error && !connectors.templates && <p className="muted">Loading…</p>}
          {connectors.templates?.length === 0 && <p className="muted">templates/io holds no templates.</p>}
          {connectors.templates?.map((t) => (
            <button
              key={t.id}
              type="button"
              role="menuitem"
              disabled={busy}
              title={t.description}
              className={styles.connectorItem}
              onClick={() => {
                menu.current?.removeAttribute("open");
                void add({ stem: t.stem, type: t.type, language: t.language, code: t.code, connection: t.connection });
              }}
            >
              <span className={`badge type-${t.type}`}>{t.type}</span> {t.label}
              {t.description && <small className={styles.connectorDescription}>{t.description}</small>}
            </button>
          ))}
        </div>
      </details>
    </div>
  );
}
