import { describeConnectorContract } from "../../lib/io/connector-contract";
import { BigQueryConnector } from "../../lib/io/cloud/bigquery";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import type { ObjectStoreConnector } from "../../lib/io/cloud/object-connector";
import { S3Connector } from "../../lib/io/cloud/s3";
import { startBigQueryServer } from "../servers/bigquery-server";
import { startGcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server } from "../servers/s3-server";
import { nativeBigQueryDeps } from "./native-modules";

/**
 * The shared connector contract (lib/io/connector-contract.ts) for the cloud connectors: for GCS and S3 each
 * data set is a Parquet dataset under its own prefix; for BigQuery a table loaded from Parquet and SELECTed back.
 */
const partitionBy = (dataset: string): string[] | undefined => (dataset === "green2024" ? ["VendorID", "payment_type"] : dataset === "green2020" ? ["VendorID"] : undefined);

function lakeTargets(connector: ObjectStoreConnector, scheme: "gs" | "s3", cleanup: () => Promise<void>) {
  return {
    connector,
    target: (name: string) => ({ write: `${scheme}://contract/${name}/`, read: `${scheme}://contract/${name}/` }),
    cleanup: async () => {
      await connector.close();
      await cleanup();
    },
  };
}

describeConnectorContract(
  "gcs (local JSON API server)",
  async () => {
    const server = await startGcsServer();
    const gcs = new GcsConnector({ name: "contract", projectId: "local-project", apiEndpoint: server.url });
    await gcs.storage.createBucket("contract");
    return lakeTargets(gcs, "gs", () => server.close());
  },
  { partitionBy },
);

describeConnectorContract(
  "s3 (s3rver)",
  async () => {
    const server = await startS3Server(["contract"]);
    const s3 = new S3Connector({ name: "contract", endpoint: server.url, forcePathStyle: true, ...S3RVER_CREDENTIALS });
    return lakeTargets(s3, "s3", () => server.close());
  },
  { partitionBy },
);

describeConnectorContract(
  "bigquery (local REST server)",
  async () => {
    const server = await startBigQueryServer();
    const bq = new BigQueryConnector({ name: "contract", projectId: "local-project", apiEndpoint: server.url }, nativeBigQueryDeps());
    await bq.ensureDataset("contract");
    return {
      connector: bq,
      target: (name: string) => ({ write: `contract.${name}`, read: `SELECT * FROM \`local-project.contract.${name}\`` }),
      cleanup: async () => {
        await bq.close();
        await server.close();
      },
    };
  },
);
