import { RunsList } from "@/components/runs/RunsList";
import { getServices } from "@/lib/server/global-services";
import { runHistory, type HistoryFilter, type RunRow } from "@/lib/server/api/runs-history-service";
import { messageOf } from "@/lib/core/errors";

export const dynamic = "force-dynamic";

type Search = Promise<Record<string, string | string[] | undefined>>;

const one = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value) || undefined;

/** Run history with filters (?state=&pipeline=&trigger=&from=&to=). */
export default async function RunsPage({ searchParams }: { searchParams: Search }) {
  const search = await searchParams;
  const filter: HistoryFilter = {
    state: one(search.state),
    pipeline: one(search.pipeline),
    trigger: one(search.trigger),
    from: one(search.from),
    to: one(search.to),
  };
  let runs: RunRow[] = [];
  let error: string | null = null;
  try {
    runs = await runHistory(filter);
  } catch (caught) {
    error = messageOf(caught);
  }
  const pipelines = (await getServices().files.list()).map((p) => p.name);
  return <RunsList runs={runs} filter={filter} pipelines={pipelines} error={error} />;
}
