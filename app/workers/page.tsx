import { WorkersPage } from "@/components/workers/WorkersPage";
import { workersOverview, type WorkersResponse } from "@/lib/server/api/workers";
import { messageOf } from "@/lib/core/errors";

export const dynamic = "force-dynamic";

/** Workers and queues (the Flower of Sluice): first render on the server, then live from /api/workers. */
export default async function WorkersRoute() {
  let initial: WorkersResponse | null = null;
  let error: string | null = null;
  try {
    initial = await workersOverview();
  } catch (caught) {
    error = messageOf(caught);
  }
  return <WorkersPage initial={initial} initialError={error} />;
}
