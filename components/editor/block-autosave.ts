/**
 * Autosave of block code: a block is saved once typing pauses, and saves of one block never overlap — a
 * second save waits for the first, so it is sent with the version the first one returned instead of
 * failing as stale.
 */

/** Pause after the last keystroke before a block is saved. */
export const AUTOSAVE_MS = 800;

export interface BlockAutosave {
  /** (Re)starts the pause after an edit of `block`. */
  edited(block: string): void;
  /** Saves `block` now (after any save of it in flight), cancelling its pending pause. */
  save(block: string, force: boolean): Promise<boolean>;
  /** Cancels every pending pause (the editor unmounts); saves in flight finish. */
  dispose(): void;
}

/** `write` sends one block's code and says whether it was saved (or needed no saving). */
export function createBlockAutosave(write: (block: string, force: boolean) => Promise<boolean>, delayMs = AUTOSAVE_MS): BlockAutosave {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const saving = new Map<string, Promise<boolean>>();

  const cancelPause = (block: string) => {
    const timer = timers.get(block);
    if (!timer) return;
    clearTimeout(timer);
    timers.delete(block);
  };

  const autosave: BlockAutosave = {
    edited(block) {
      cancelPause(block);
      timers.set(
        block,
        setTimeout(() => {
          timers.delete(block);
          void autosave.save(block, false);
        }, delayMs),
      );
    },

    save(block, force) {
      cancelPause(block);
      const queued = (saving.get(block) ?? Promise.resolve(true)).then(() => write(block, force));
      saving.set(block, queued);
      void queued.finally(() => {
        if (saving.get(block) === queued) saving.delete(block);
      });
      return queued;
    },

    dispose() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
  return autosave;
}
