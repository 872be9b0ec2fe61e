import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/**
 * s3rver (an S3-compatible server from npm) started in-process on an OS-chosen port with a temp directory,
 * so the S3 connector is tested with the real `@aws-sdk/client-s3`. s3rver knows one access key, exported
 * here; any other key id is refused with `InvalidAccessKeyId` (403). It does NOT verify SigV4 signatures
 * (its source: "Signature version 4 calculation is unimplemented"), so a wrong secret is accepted.
 */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: the client's `endpoint` (with `forcePathStyle: true`). */
  readonly url: string;
  close(): Promise<void>;
}

/** The only credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export async function startS3Server(buckets: readonly string[] = []): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), "sluice-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const address = await server.run();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
