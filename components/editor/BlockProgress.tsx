"use client";

import { describeProgress, type BlockProgressView } from "./progress";
import styles from "./editor.module.css";

/** Rows and bytes a running block reported: the text, a bar when the total is known, and the last message. */
export function BlockProgress({ block, progress, showName = false }: { block: string; progress: BlockProgressView; showName?: boolean }) {
  const { text, fraction } = describeProgress(progress);
  return (
    <div className={styles.progress} data-testid={`progress-${block}`}>
      {showName && <strong>{block}</strong>}
      {text && <span data-testid={`progress-text-${block}`}>{text}</span>}
      {fraction !== null && (
        <div className={styles.progressBar} role="progressbar" aria-label={`${block} download`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(fraction * 100)}>
          <div className={styles.progressFill} style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
        </div>
      )}
      {progress.message && <span className={styles.progressMessage}>{progress.message}</span>}
    </div>
  );
}
