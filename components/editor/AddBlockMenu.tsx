"use client";

import { useEffect, useRef, useState } from "react";
import type { BlockTemplateFile, ResponseOf } from "@/lib/core/api-contract";
import { apiCall } from "../ui/api-client";
import { AddBlockDialog, type TemplateChoice } from "./AddBlockDialog";
import { BLOCK_TEMPLATES } from "./block-templates";
import { useEditor } from "./EditorProvider";
import styles from "./editor.module.css";

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
 * DuckDB, Postgres, GCS, S3, BigQuery, …). Each opens the add-block dialog (name, type, language, upstream).
 */
export function AddBlockMenu() {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const focused = useEditor((s) => s.focused);
  const addBlock = useEditor((s) => s.addBlock);
  const [connectorsOpen, setConnectorsOpen] = useState(false);
  const [choice, setChoice] = useState<TemplateChoice | null>(null);
  const connectors = useConnectorTemplates(connectorsOpen);
  const menu = useRef<HTMLDivElement>(null);

  // The open menu closes on a click elsewhere or Escape, as menus do.
  useEffect(() => {
    if (!connectorsOpen) return;
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !menu.current?.contains(event.target)) setConnectorsOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setConnectorsOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [connectorsOpen]);

  return (
    <div className="add-block" role="group" aria-label="Add block">
      <span className="muted">Add block:</span>
      {BLOCK_TEMPLATES.map((t) => (
        <button key={t.id} type="button" onClick={() => setChoice(t)}>
          + {t.label}
        </button>
      ))}
      <div ref={menu} className={styles.connectors}>
        <button type="button" aria-haspopup="menu" aria-expanded={connectorsOpen} onClick={() => setConnectorsOpen(!connectorsOpen)}>
          + Connector template…
        </button>
        {connectorsOpen && (
          <div className={styles.connectorList} role="menu" aria-label="Connector templates">
            {connectors.error && <p className="error">Templates could not be read: {connectors.error}</p>}
            {!connectors.error && !connectors.templates && <p className="muted">Loading…</p>}
            {connectors.templates?.length === 0 && <p className="muted">templates/io holds no templates.</p>}
            {connectors.templates?.map((t) => (
              <button
                key={t.id}
                type="button"
                role="menuitem"
                title={t.description}
                className={styles.connectorItem}
                onClick={() => {
                  setConnectorsOpen(false);
                  setChoice({ label: t.label, stem: t.stem, type: t.type, language: t.language, expects: t.expects, code: () => t.code, fixedLanguage: true, connection: t.connection });
                }}
              >
                <span className={`badge type-${t.type}`}>{t.type}</span> {t.label}
                {t.description && <small className={styles.connectorDescription}>{t.description}</small>}
              </button>
            ))}
          </div>
        )}
      </div>
      {choice && <AddBlockDialog template={choice} blocks={blocks.map((b) => b.name)} focused={focused} onAdd={addBlock} onClose={() => setChoice(null)} />}
    </div>
  );
}
