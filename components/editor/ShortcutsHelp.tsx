"use client";

import { useEffect, useRef, useState } from "react";
import { BLOCK_TEMPLATES, uniqueBlockName } from "./block-templates";
import { useEditorStore } from "./EditorProvider";
import { isTypingTarget, keyLabel, shortcutFor, SHORTCUTS, type ShortcutAction } from "./keymap";
import styles from "./ShortcutsHelp.module.css";

/** A window event that opens the overlay: the header's "Shortcuts" button sends it. */
export const OPEN_HELP_EVENT = "sluice:shortcuts-help";

const isMac = () => typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** The overlay listing every shortcut; Escape, the close button or a click outside closes it and focus goes back. */
export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  const closeButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement;
    closeButton.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      if (before instanceof HTMLElement) before.focus();
    };
  }, [onClose]);
  const mac = isMac();
  return (
    <div className={styles.backdrop} onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className={styles.dialog} role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts-help">
        <div className={styles.head}>
          <h2 id="shortcuts-title">Keyboard shortcuts</h2>
          <button ref={closeButton} type="button" className="icon" aria-label="Close keyboard shortcuts" onClick={onClose}>
            ✕
          </button>
        </div>
        <table className={styles.table}>
          <tbody>
            {SHORTCUTS.map((shortcut) => (
              <tr key={shortcut.action}>
                <td className={styles.keys}>
                  {shortcut.keys.map((keys, i) => (
                    <span key={keys}>
                      {i > 0 && <span className={styles.or}> or </span>}
                      <kbd>{keyLabel(keys, mac)}</kbd>
                    </span>
                  ))}
                </td>
                <td>{shortcut.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/**
 * The editor's shortcuts (keymap.ts) wired to the editor store's actions, and the help overlay they open.
 * Keys the code editor already handled (it binds run and save itself) arrive with defaultPrevented and are skipped.
 */
export function EditorShortcuts() {
  const store = useEditorStore();
  const [helpOpen, setHelpOpen] = useState(false);
  // While the overlay is open, keys belong to it: a `b` read there must not add a block behind it.
  const helpShown = useRef(false);
  helpShown.current = helpOpen;

  useEffect(() => {
    const perform = (action: ShortcutAction) => {
      const state = store.getState();
      const names = state.pipeline.blocks.map((b) => b.name);
      const current = state.focused ?? names[names.length - 1] ?? null;
      switch (action) {
        case "save":
          return void state.saveAll();
        case "run-pipeline":
          return void state.runPipeline();
        case "run-block":
          if (state.focused) void state.runFocused(state.focused);
          return;
        case "add-block": {
          // Below the focused (or last) block: a transformer reading it; the first block of a pipeline is a loader.
          const template = BLOCK_TEMPLATES.find((t) => t.id === (current ? "ts_transformer" : "ts_loader"));
          if (!template) return;
          const upstream = current ? [current] : [];
          return void state.addBlock({ name: uniqueBlockName(template.stem, names), type: template.type, language: template.language, upstream, code: template.code(upstream) });
        }
        case "help":
          return setHelpOpen(true);
      }
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing || helpShown.current) return;
      const action = shortcutFor({ key: event.key, code: event.code, ctrlKey: event.ctrlKey, metaKey: event.metaKey, shiftKey: event.shiftKey, altKey: event.altKey, typing: isTypingTarget(event.target) });
      if (!action) return;
      event.preventDefault();
      perform(action);
    };
    const onOpenHelp = () => setHelpOpen(true);
    window.addEventListener("keydown", onKey);
    window.addEventListener(OPEN_HELP_EVENT, onOpenHelp);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener(OPEN_HELP_EVENT, onOpenHelp);
    };
  }, [store]);

  return helpOpen ? <ShortcutsHelp onClose={() => setHelpOpen(false)} /> : null;
}

/** The header button that opens the overlay (for those who do not know `?` yet). */
export function ShortcutsButton() {
  return (
    <button type="button" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" aria-haspopup="dialog" onClick={() => window.dispatchEvent(new Event(OPEN_HELP_EVENT))}>
      ?
    </button>
  );
}
