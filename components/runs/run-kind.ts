/** What a run ran, in words (pure): the whole pipeline, one block, from a block on, or a block with its upstreams. */
export interface RunKindFields {
  mode: string;
  block: string | null;
}

export function describeRunKind(run: RunKindFields): string {
  switch (run.mode) {
    case "pipeline":
      return "pipeline";
    case "block":
      return `block ${run.block ?? ""}`.trim();
    case "from":
      return `from block ${run.block ?? ""}`.trim();
    case "with_upstream":
      return `${run.block ?? ""} with upstream`.trim();
    default:
      return run.mode;
  }
}
