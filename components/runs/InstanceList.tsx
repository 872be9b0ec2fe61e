"use client";

/**
 * The instances of dynamic blocks on the run page (`download[0]`, `download[2020-10]`…), listed under their
 * declared block, collapsible: a run of a 1,000-row dynamic block must not bury the rest of the page. A group
 * opens by itself when one of its instances failed or is still going, so that is what the page shows first.
 */
import type { BlockRunState } from "@/lib/core/run-model";
import type { BlockView } from "@/lib/server/api/runs-history-service";
import { groupInstances, summarizeStates, type InstanceView } from "../graph/instances";
import styles from "../triggers/triggers.module.css";

/** The run's block runs split into declared blocks and, per declared block, its instances in instance order. */
export function splitInstances(blocks: readonly BlockView[]): { declared: BlockView[]; groups: Map<string, InstanceView[]> } {
  // The page's skip reason is the block run's error message (the runner records the reason there).
  const groups = groupInstances(blocks.map((b) => [b.block, { state: b.state as BlockRunState, attempt: b.attempt, error: b.error === null ? null : { code: b.state === "skipped" ? "skipped" : "error", message: b.error } }] as const));
  const instanceNames = new Set([...groups.values()].flat().map((i) => i.name));
  return { declared: blocks.filter((b) => !instanceNames.has(b.block)), groups };
}

const OPEN_STATES = new Set(["failed", "upstream_failed", "up_for_retry", "running", "queued"]);

export function InstanceList({
  block,
  instances,
  views,
  selected,
  onSelect,
}: {
  block: string;
  instances: readonly InstanceView[];
  /** The instances' block runs by name, for their errors. */
  views: ReadonlyMap<string, BlockView>;
  selected: string | null;
  onSelect(name: string, attempt: number): void;
}) {
  const open = instances.some((i) => OPEN_STATES.has(i.state));
  return (
    <details open={open} data-testid={`instances-${block}`}>
      <summary>
        {instances.length} instance{instances.length === 1 ? "" : "s"} of {block}: {summarizeStates(instances)}
      </summary>
      <table className={styles.table} aria-label={`Instances of ${block}`}>
        <thead>
          <tr>
            <th>Instance</th>
            <th>State</th>
            <th>Attempt</th>
            <th>Rows</th>
            <th>Reason or error</th>
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => {
            const view = views.get(i.name);
            return (
              <tr key={i.name} data-testid={`instance-run-${i.name}`}>
                <td>
                  <button type="button" className={styles.button} aria-pressed={selected === i.name} onClick={() => onSelect(i.name, i.attempt)}>
                    {i.name}
                  </button>
                </td>
                <td>
                  <span className={`${styles.badge} ${styles[`state_${i.state}`] ?? ""}`}>{i.state}</span>
                </td>
                <td>{i.attempt}</td>
                <td>{view?.rows ?? ""}</td>
                <td className={i.skipReason ? styles.muted : styles.error}>{i.skipReason ?? view?.error ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}
