import { UserError } from "../../core/errors";
import { formatObjectUri, joinKey, parseObjectUri } from "./object-uri";

describe("object URIs", () => {
  test("parse bucket and key, the key possibly empty or a prefix", () => {
    expect(parseObjectUri("gs://lake/raw/a.parquet", "gs", 'gcs "x"')).toEqual({ bucket: "lake", key: "raw/a.parquet" });
    expect(parseObjectUri("s3://lake", "s3", 's3 "x"')).toEqual({ bucket: "lake", key: "" });
    expect(parseObjectUri("s3://lake/p/", "s3", 's3 "x"')).toEqual({ bucket: "lake", key: "p/" });
  });

  test("refuse the wrong scheme or a malformed URI, naming the connector", () => {
    expect(() => parseObjectUri("s3://lake/a", "gs", 'gcs "x"')).toThrow(UserError);
    expect(() => parseObjectUri("gs:/lake/a", "gs", 'gcs "x"')).toThrow('gcs "x": "gs:/lake/a" is not a gs://bucket/key URI');
  });

  test("format and join keys with exactly one slash", () => {
    expect(formatObjectUri("gs", { bucket: "b", key: "k/1" })).toBe("gs://b/k/1");
    expect(joinKey("", "a")).toBe("a");
    expect(joinKey("p", "a")).toBe("p/a");
    expect(joinKey("p/", "a")).toBe("p/a");
  });
});
