/**
 * @jest-environment jsdom
 */
import { isTypingTarget, keyLabel, shortcutFor, SHORTCUTS, type KeyInput } from "./keymap";

const press = (key: string, extra: Partial<KeyInput> = {}): KeyInput => ({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, typing: false, ...extra });

describe("shortcutFor", () => {
  it("runs the focused block on Shift+Enter and Ctrl/Cmd+Enter; Ctrl+Enter even while typing in a field", () => {
    expect(shortcutFor(press("Enter", { shiftKey: true }))).toBe("run-block");
    expect(shortcutFor(press("Enter", { shiftKey: true, typing: true }))).toBeNull();
    expect(shortcutFor(press("Enter", { ctrlKey: true, typing: true }))).toBe("run-block");
    expect(shortcutFor(press("Enter", { metaKey: true }))).toBe("run-block");
  });

  it("runs the pipeline on Ctrl/Cmd+Shift+Enter, not the block", () => {
    expect(shortcutFor(press("Enter", { ctrlKey: true, shiftKey: true }))).toBe("run-pipeline");
    expect(shortcutFor(press("Enter", { metaKey: true, shiftKey: true, typing: true }))).toBe("run-pipeline");
  });

  it("leaves a plain Enter alone: it types a new line", () => {
    expect(shortcutFor(press("Enter"))).toBeNull();
    expect(shortcutFor(press("Enter", { typing: true }))).toBeNull();
    expect(shortcutFor(press("Enter", { altKey: true, shiftKey: true }))).toBeNull();
  });

  it("saves on Ctrl/Cmd+S wherever focus is", () => {
    expect(shortcutFor(press("s", { ctrlKey: true, typing: true }))).toBe("save");
    expect(shortcutFor(press("S", { metaKey: true }))).toBe("save");
    expect(shortcutFor(press("s"))).toBeNull();
  });

  it("adds a block on b only when not typing, and on Alt+B always (by physical key: a Mac's Alt+B types ∫)", () => {
    expect(shortcutFor(press("b"))).toBe("add-block");
    expect(shortcutFor(press("b", { typing: true }))).toBeNull();
    expect(shortcutFor(press("B", { shiftKey: true }))).toBeNull();
    expect(shortcutFor(press("∫", { altKey: true, code: "KeyB", typing: true }))).toBe("add-block");
    expect(shortcutFor(press("b", { ctrlKey: true }))).toBeNull();
  });

  it("opens the help on ? when not typing; a ? typed in code stays a character", () => {
    expect(shortcutFor(press("?", { shiftKey: true }))).toBe("help");
    expect(shortcutFor(press("?", { shiftKey: true, typing: true }))).toBeNull();
  });

  it("ignores other keys", () => {
    for (const key of ["a", "x", "Escape", "ArrowDown", "/"]) expect(shortcutFor(press(key))).toBeNull();
  });
});

describe("the shortcut table", () => {
  it("lists every action once, each with a key and a description for the help overlay", () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions.sort()).toEqual(["add-block", "help", "run-block", "run-pipeline", "save"]);
    for (const s of SHORTCUTS) {
      expect(s.keys.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(10);
    }
  });

  it("lists only keys that do what the table says", () => {
    const parse = (keys: string, typing: boolean): KeyInput => {
      const parts = keys.split("+");
      const key = parts[parts.length - 1] === "Enter" ? "Enter" : parts[parts.length - 1] === "?" ? "?" : parts[parts.length - 1].toLowerCase();
      return press(key, { ctrlKey: parts.includes("Mod"), shiftKey: parts.includes("Shift") || key === "?", altKey: parts.includes("Alt"), code: key.length === 1 && /[a-z]/.test(key) ? `Key${key.toUpperCase()}` : undefined, typing });
    };
    for (const s of SHORTCUTS) for (const keys of s.keys) expect([keys, shortcutFor(parse(keys, false))]).toEqual([keys, s.action]);
  });

  it("shows Mod as ⌘ on a Mac and Ctrl elsewhere", () => {
    expect(keyLabel("Mod+Shift+Enter", true)).toBe("⌘+Shift+Enter");
    expect(keyLabel("Mod+S", false)).toBe("Ctrl+S");
    expect(keyLabel("?", false)).toBe("?");
  });
});

describe("isTypingTarget", () => {
  it("counts text fields, selects, editable content and Monaco as typing; buttons and checkboxes not", () => {
    document.body.innerHTML = `
      <input id="text" /><input id="box" type="checkbox" /><textarea id="area"></textarea><select id="sel"></select>
      <div id="editable" contenteditable="true"></div><button id="button">Run</button>
      <div class="monaco-editor"><div id="inside"></div></div>`;
    const byId = (id: string) => document.getElementById(id);
    expect(isTypingTarget(byId("text"))).toBe(true);
    expect(isTypingTarget(byId("area"))).toBe(true);
    expect(isTypingTarget(byId("sel"))).toBe(true);
    expect(isTypingTarget(byId("inside"))).toBe(true);
    expect(isTypingTarget(byId("box"))).toBe(false);
    expect(isTypingTarget(byId("button"))).toBe(false);
    expect(isTypingTarget(document.body)).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
