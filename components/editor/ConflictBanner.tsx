"use client";

import { useEditor } from "./EditorProvider";

/** A stale write never overwrites silently: the user chooses to reload the newer file or keep theirs. */
export function ConflictBanner() {
  const conflict = useEditor((s) => s.conflict);
  const resolveConflict = useEditor((s) => s.resolveConflict);
  if (!conflict) return null;
  return (
    <div className="conflict" role="alertdialog" aria-label="Save conflict" data-testid="conflict">
      <strong>Save conflict.</strong> {conflict.message}
      <span className="spacer" />
      <button type="button" onClick={() => void resolveConflict("reload")}>
        Reload their version
      </button>
      <button type="button" className="danger" onClick={() => void resolveConflict("overwrite")}>
        Overwrite with mine
      </button>
    </div>
  );
}
