import type { BlockView } from "@/lib/server/api/runs-history-service";
import { formatBytes } from "../editor/progress";
import { describeTests } from "../editor/notebook-memory";
import { formatCount } from "../ui/format";
import styles from "./BlockResult.module.css";

/**
 * What one block run of the run page produced besides a table: its data test, the writes of an exporter
 * (rows, bytes, where), a sensor's pokes, or why there is nothing to preview.
 */
export function BlockResult({ block }: { block: BlockView }) {
  const writes = block.writes ?? [];
  return (
    <div className={styles.result} data-testid={`result-${block.block}`}>
      {block.tests && (
        <p className={block.tests.failed === null ? styles.passed : styles.failed} data-testid={`run-tests-${block.block}`}>
          {describeTests(block.tests)}
        </p>
      )}
      {writes.length > 0 && (
        <ul className={styles.writes} aria-label={`${block.block} wrote`}>
          {writes.map((w, i) => (
            <li key={i}>
              wrote {formatCount(w.rows)} rows{w.bytes !== undefined ? ` (${formatBytes(w.bytes)})` : ""} to {w.connector} <code>{w.location}</code>
            </li>
          ))}
        </ul>
      )}
      {block.pokes > 0 && <p>{formatCount(block.pokes)} pokes before the condition held</p>}
      {!block.has_output && writes.length === 0 && <p className={styles.muted}>{block.state === "success" ? "It returned no table." : `No output: the block run is ${block.state}.`}</p>}
    </div>
  );
}
