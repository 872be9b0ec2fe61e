/**
 * Connections over HTTP: the connections page lists, edits, deletes and tests the connections of
 * `sluice.yaml` through here. The work is done by the server's `LiveConnections` (lib/server/live-connections.ts,
 * which validates with the file's own schema and writes atomically, comments kept); these functions only map
 * its answers to the API's snake_case. No answer carries a secret value: secrets are "set" / "not set".
 *
 * Type-only imports from the engine: this module is bundled by Next, the connections live in the server.
 */
import type { ConnectionsListingJson, ConnectionTestJson, ConnectionViewJson, InputOf } from "@/lib/core/api-contract";
import { getServices } from "../global-services";

export type { ConnectionEditJson, ConnectionsListingJson, ConnectionTestJson, ConnectionViewJson } from "@/lib/core/api-contract";

export function listConnections(): Promise<ConnectionsListingJson> {
  return getServices().connections.list();
}

export async function getConnection({ params }: InputOf<"getConnection">): Promise<{ connection: ConnectionViewJson }> {
  return { connection: await getServices().connections.get(params.name) };
}

/** `If-Match: "<version>"` without its quotes; absent → no check (scripts that mean to overwrite). */
function ifMatch(header: string | undefined): string | undefined {
  return header ? header.replace(/^W\//, "").replace(/^"|"$/g, "") : undefined;
}

export function putConnection({ params, body, headers }: InputOf<"putConnection">): Promise<{ connection: ConnectionViewJson; created: boolean }> {
  return getServices().connections.put(params.name, body, ifMatch(headers["if-match"]));
}

export async function deleteConnection({ params, headers }: InputOf<"deleteConnection">): Promise<{ deleted: true }> {
  await getServices().connections.remove(params.name, ifMatch(headers["if-match"]));
  return { deleted: true };
}

export async function testConnection({ params, body }: InputOf<"testConnection">): Promise<ConnectionTestJson> {
  const result = await getServices().connections.test(params.name, body.edit);
  return { ok: result.ok, message: result.message, elapsed_ms: result.elapsedMs };
}
