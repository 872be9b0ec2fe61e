/**
 * A `TriggerSource` holding triggers in memory: for tests, benchmarks and embedders that keep triggers
 * elsewhere than in files. `set()` replaces a pipeline's triggers and bumps the version so that the
 * scheduler re-syncs on its next tick, as it would after a file edit.
 */
import type { Trigger } from "../core/triggers-schema";
import type { PipelineTriggers, TriggerSnapshot, TriggerSource } from "../store/trigger-files";

export class StaticTriggerSource implements TriggerSource {
  private readonly pipelines = new Map<string, Trigger[]>();
  private version = 0;

  constructor(initial: Record<string, Trigger[]> = {}) {
    for (const [pipeline, triggers] of Object.entries(initial)) this.pipelines.set(pipeline, triggers);
  }

  set(pipeline: string, triggers: Trigger[]): void {
    this.pipelines.set(pipeline, triggers);
    this.version++;
  }

  delete(pipeline: string): void {
    this.pipelines.delete(pipeline);
    this.version++;
  }

  async load(): Promise<TriggerSnapshot> {
    const pipelines: PipelineTriggers[] = [...this.pipelines.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([pipeline, triggers]) => ({ pipeline, triggers }));
    return { version: String(this.version), pipelines };
  }
}
