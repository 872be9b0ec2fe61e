import { ConnectionsPage } from "@/components/connections/ConnectionsPage";
import { listConnections, type ConnectionsListingJson } from "@/lib/server/api/connections-service";
import { messageOf } from "@/lib/core/errors";

export const dynamic = "force-dynamic";

/** The connections of sluice.yaml: first render on the server, then kept current from /api/connections. */
export default async function ConnectionsRoute() {
  let initial: ConnectionsListingJson | null = null;
  let error: string | null = null;
  try {
    initial = await listConnections();
  } catch (caught) {
    error = messageOf(caught);
  }
  return <ConnectionsPage initial={initial} initialError={error} />;
}
