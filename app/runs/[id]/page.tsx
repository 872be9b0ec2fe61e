import { RunDetail } from "@/components/runs/RunDetail";
import { runDetail, type RunView } from "@/lib/server/api/runs-history-service";
import { messageOf } from "@/lib/core/errors";
import { PageHeader } from "@/components/ui/PageHeader";

export const dynamic = "force-dynamic";

/** One run: block runs, timeline, logs per attempt, variables, cancel/retry (refreshes while active). */
export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  let view: RunView;
  try {
    view = await runDetail(id);
  } catch (error) {
    return (
      <main className="home">
        <PageHeader title={`Run ${id}`} crumbs={[{ href: "/runs", label: "Runs" }]} />
        <p className="error" role="alert">
          {messageOf(error)}
        </p>
      </main>
    );
  }
  return <RunDetail view={view} nowMs={Date.now()} />;
}
