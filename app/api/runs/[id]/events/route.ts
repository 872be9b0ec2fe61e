import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { runEvents } from "@/lib/server/api/run-events-stream";

export const dynamic = "force-dynamic";

/** The one streaming route: server-sent events, answered by the stream itself. */
export const GET = route(apiContract.runEvents, ({ params, signal }) => runEvents(params.id, signal));
