"use client";

/**
 * The dialog every new block goes through: its name (a unique default from the template), type and language,
 * and the block it reads from — by default the selected block, else the last one (Mage's behaviour), unless
 * the template reads nothing (a loader starts a branch). A block that expects a table cannot be added without
 * an upstream: it would have no input.
 */
import { useState } from "react";
import { BLOCK_LANGUAGES, BLOCK_TYPES, NAME_PATTERN, type BlockLanguage, type BlockType } from "@/lib/core/model";
import { blankTemplate, defaultUpstream, uniqueBlockName } from "./block-templates";
import type { NewBlockSpec } from "./pipeline-requests";
import styles from "./settings.module.css";

/** What the dialog starts from: a blank template or a connector template of templates/io. */
export interface TemplateChoice {
  label: string;
  stem: string;
  type: BlockType;
  language: BlockLanguage;
  expects: "table" | "nothing";
  /** The code for an upstream list; connector templates ignore it. */
  code(upstream: string[]): string;
  /** Connector templates: their code is fixed, so their language is too. */
  fixedLanguage?: boolean;
  connection?: string;
}

export interface AddBlockDialogProps {
  template: TemplateChoice;
  blocks: readonly string[];
  focused: string | null;
  onAdd(spec: NewBlockSpec): Promise<boolean>;
  onClose(): void;
}

export function AddBlockDialog({ template, blocks, focused, onAdd, onClose }: AddBlockDialogProps) {
  const [name, setName] = useState(() => uniqueBlockName(template.stem, blocks));
  const [type, setType] = useState<BlockType>(template.type);
  const [language, setLanguage] = useState<BlockLanguage>(template.language);
  const [upstream, setUpstream] = useState<string>(() => defaultUpstream(template.expects, blocks, focused) ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const expects = type === "loader" || type === "sensor" ? "nothing" : type === template.type ? template.expects : "table";

  const submit = async () => {
    if (!NAME_PATTERN.test(name)) return setError(`"${name}" is not a block name: use lowercase letters, digits and _ only`);
    if (blocks.includes(name)) return setError(`there is already a block named "${name}"`);
    if (expects === "table" && upstream === "") return setError(`a ${type} reads its upstream's output: choose the block it reads from`);
    const upstreams = upstream === "" ? [] : [upstream];
    // A changed type or language takes that blank template's code; a connector template keeps its own.
    const source = template.fixedLanguage || (type === template.type && language === template.language) ? template : blankTemplate(type, language);
    const code = source ? source.code(upstreams) : language === "sql" ? `SELECT * FROM ${upstreams[0] ?? "range(10)"}\n` : "";
    setError(null);
    setBusy(true);
    const added = await onAdd({ name, type, language, upstream: upstreams, code, ...(template.connection ? { connection: template.connection } : {}) });
    setBusy(false);
    if (added) onClose();
  };

  return (
    <div className={styles.dialogBackdrop} onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby="add-block-title"
        className={styles.dialog}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="add-block-title">Add {template.label}</h2>
        <div className={styles.field}>
          <label htmlFor="add-block-name">Name</label>
          <input id="add-block-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} />
        </div>
        <div className={styles.inline}>
          <div className={styles.field}>
            <label htmlFor="add-block-type">Type</label>
            <select id="add-block-type" value={type} onChange={(e) => setType(e.target.value as BlockType)}>
              {BLOCK_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div className={styles.field}>
            <label htmlFor="add-block-language">Language</label>
            <select id="add-block-language" value={language} disabled={template.fixedLanguage} onChange={(e) => setLanguage(e.target.value as BlockLanguage)}>
              {BLOCK_LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {l === "ts" ? "TypeScript" : "SQL"}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className={styles.field}>
          <label htmlFor="add-block-upstream">Reads from (upstream)</label>
          <select id="add-block-upstream" value={upstream} onChange={(e) => setUpstream(e.target.value)}>
            <option value="">(nothing: starts a branch)</option>
            {blocks.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </div>
        {error && (
          <p className={styles.error} role="alert">
            {error}
          </p>
        )}
        <div className={styles.actions}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Add block
          </button>
        </div>
      </form>
    </div>
  );
}
