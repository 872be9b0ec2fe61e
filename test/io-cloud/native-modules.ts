import nodeModule from "node:module";
import type { BigQueryConnectorDeps } from "../../lib/io/cloud/bigquery";

/** Node's own loader (`Module._load`), which jest's sandbox leaves in place on its `module` shim. */
const nativeLoader = nodeModule as unknown as { _load(request: string, parent: null, isMain: boolean): unknown };

/**
 * The real `@google-cloud/bigquery` and `google-auth-library`, loaded by Node rather than by jest: the
 * client's HTTP layer (teeny-request@10) runs `import("node-fetch")`, which jest's CommonJS runtime
 * rejects without --experimental-vm-modules (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG). Outside jest
 * (CLI, workers, server) the connector's default imports work as they are.
 */
export function nativeBigQueryDeps(): Required<BigQueryConnectorDeps> {
  const bigquery = nativeLoader._load(require.resolve("@google-cloud/bigquery"), null, false) as typeof import("@google-cloud/bigquery");
  const auth = nativeLoader._load(require.resolve("google-auth-library"), null, false) as typeof import("google-auth-library");
  return { BigQuery: bigquery.BigQuery, PassThroughClient: auth.PassThroughClient };
}
