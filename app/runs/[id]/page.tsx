import Link from "next/link";
import { RunDetail } from "@/components/runs/RunDetail";
import { runDetail, type RunView } from "@/lib/server/api/runs-history-service";
import { messageOf } from "@/lib/core/errors";

export const dynamic = "force-dynamic";

/** One run: block runs, timeline, logs per attempt, variables, cancel/retry (refreshes while active). */
export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  let view: RunView;
  try {
    view = await runDetail(id);
  } catch (error) {
    return (
      <main>
        <Link href="/runs">← Runs</Link>
        <p role="alert">{messageOf(error)}</p>
      </main>
    );
  }
  return <RunDetail view={view} nowMs={Date.now()} />;
}
