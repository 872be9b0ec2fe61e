/**
 * Trigger SLAs (`sla: 45m` in triggers.yaml): a run of the trigger still queued or running that long after
 * it was created has missed it, and `sla_miss` is sent once. Once means once across schedulers and restarts:
 * the miss is claimed in the metadata store (the run id is the key) before anyone is told, and only the
 * claimer tells. A notice lost after its claim (the process died right then) is not sent again; a notice
 * sent twice would be the worse failure for the people it wakes up.
 */
import type { Trigger } from "../core/triggers-schema";
import type { TriggerStore } from "../store/metadata/trigger-store";

/** A run that missed its trigger's SLA, told once. */
export interface SlaMiss {
  pipeline: string;
  trigger: Trigger;
  runId: string;
  /** When the run was created (queued), ISO. */
  createdAt: string;
  slaMs: number;
}

export type OnSlaMiss = (miss: SlaMiss) => Promise<unknown> | unknown;

/**
 * Looks at the active runs of every trigger with an SLA and tells `onMiss` about each run past it that no
 * one claimed before. Returns how many this call claimed.
 */
export async function sweepSlaMisses(
  store: Pick<TriggerStore, "listActiveRuns" | "claimSlaMiss">,
  triggers: Iterable<{ pipeline: string; trigger: Trigger }>,
  now: number,
  onMiss: OnSlaMiss,
  onError: (error: unknown, where: string) => void,
): Promise<number> {
  let claimed = 0;
  for (const { pipeline, trigger } of triggers) {
    const slaMs = trigger.slaMs;
    if (slaMs === undefined || !trigger.enabled) continue;
    try {
      for (const run of await store.listActiveRuns(pipeline, trigger.name)) {
        if (now - Date.parse(run.createdAt) <= slaMs) continue;
        if (!(await store.claimSlaMiss({ runId: run.id, pipeline, triggerId: trigger.name, at: new Date(now).toISOString() }))) continue;
        claimed++;
        await onMiss({ pipeline, trigger, runId: run.id, createdAt: run.createdAt, slaMs });
      }
    } catch (error) {
      onError(error, `sla of ${pipeline}/${trigger.name}`);
    }
  }
  return claimed;
}
