/**
 * The editor's keyboard shortcuts: one table that both the key handler and the help overlay read, so the
 * overlay can never list a key that does nothing. Pure: a key event's fields in, an action out.
 */

export type ShortcutAction = "run-block" | "run-pipeline" | "add-block" | "save" | "help";

export interface Shortcut {
  action: ShortcutAction;
  /** The key combinations as shown to people ("Mod" is Ctrl, or ⌘ on a Mac). */
  keys: string[];
  description: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: "run-block", keys: ["Shift+Enter", "Mod+Enter"], description: "Run the focused block (on its upstreams' cached outputs)" },
  { action: "run-pipeline", keys: ["Mod+Shift+Enter"], description: "Run the whole pipeline" },
  { action: "add-block", keys: ["B", "Alt+B"], description: "Add a block below the focused one (B only when not typing)" },
  { action: "save", keys: ["Mod+S"], description: "Save every edited block now" },
  { action: "help", keys: ["?"], description: "Show these shortcuts" },
];

/** The fields of a KeyboardEvent the keymap reads, plus whether the user is typing somewhere. */
export interface KeyInput {
  key: string;
  /** The physical key (`KeyB`): Alt+B types "∫" on a Mac, so `key` alone would miss it. */
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** Focus is in a text field, a select or the code editor. */
  typing: boolean;
}

/** The action a key press asks for, or null when it is not a shortcut (then the key does what it normally does). */
export function shortcutFor(input: KeyInput): ShortcutAction | null {
  const mod = input.ctrlKey || input.metaKey;
  if (input.key === "Enter") {
    if (mod && input.shiftKey && !input.altKey) return "run-pipeline";
    if (mod && !input.shiftKey && !input.altKey) return "run-block";
    // In a text field Shift+Enter is a line break; the code editor binds it to run-block itself.
    if (input.shiftKey && !mod && !input.altKey && !input.typing) return "run-block";
    return null;
  }
  if (mod && !input.shiftKey && !input.altKey && input.key.toLowerCase() === "s") return "save";
  const isB = input.code === "KeyB" || input.key.toLowerCase() === "b";
  if (isB && input.altKey && !mod && !input.shiftKey) return "add-block";
  if (input.typing || mod || input.altKey) return null;
  if (input.key === "b" && !input.shiftKey) return "add-block";
  if (input.key === "?") return "help";
  return null;
}

/** How a key combination reads on this platform: Mod is ⌘ on a Mac, Ctrl elsewhere. */
export function keyLabel(keys: string, mac: boolean): string {
  return keys
    .split("+")
    .map((part) => (part === "Mod" ? (mac ? "⌘" : "Ctrl") : part))
    .join("+");
}

/** Where focus is typing: fields, selects, editable content and the Monaco editor (its own textarea or EditContext). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (typeof Element === "undefined" || !(target instanceof Element)) return false;
  if (target.closest(".monaco-editor")) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file"].includes(type);
  }
  return false;
}
