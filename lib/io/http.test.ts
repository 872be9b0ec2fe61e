import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { taxiDataDir } from "../../test/taxi-data";
import { firstDifference } from "../arrow/compare-tables";
import { GREEN_CSV_COLUMNS, loadTaxiReference, ZONE_CSV_COLUMNS, type TaxiReference } from "./connector-contract";
import { HttpConnector } from "./http";

/** A local server standing in for the internet: real files, plus failures on demand. */
function startServer(): Promise<{ server: Server; base: string; hits: Map<string, number> }> {
  const dir = taxiDataDir();
  const green = readFileSync(join(dir, "green_tripdata_2020-10.csv.gz"));
  const zones = readFileSync(join(dir, "taxi_zone_lookup.csv"));
  const parquet = readFileSync(join(dir, "green_tripdata_2024-01.parquet"));
  const badLines = ["a,b", ...Array.from({ length: 3000 }, (_, i) => `${i},${i}`), "1,2,3", "4,5"].join("\n");
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    const send = (body: Buffer | string) => {
      res.writeHead(200, { "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    switch (path) {
      case "/green.csv.gz":
        return send(green);
      case "/zones.csv":
        return send(zones);
      case "/green.parquet":
        return send(parquet);
      case "/flaky.csv":
        if (count <= 2) {
          res.writeHead(503);
          return res.end("busy");
        }
        return send(zones);
      case "/reset.csv.gz":
        if (count === 1) {
          res.writeHead(200, { "content-length": green.length });
          res.write(green.subarray(0, 100_000));
          setTimeout(() => res.destroy(), 20);
          return;
        }
        return send(green);
      case "/truncated.csv.gz":
        return send(green.subarray(0, Math.floor(green.length / 2)));
      case "/bad.csv":
        return send(badLines);
      case "/down.csv":
        res.writeHead(502);
        return res.end();
      default:
        res.writeHead(404, "Not Found");
        return res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits })));
}

describe("http connector", () => {
  let server: Server;
  let base: string;
  let hits: Map<string, number>;
  let reference: TaxiReference;
  const http = () => new HttpConnector({ baseUrl: base, retryDelayMs: 10, retries: 3 });

  beforeAll(async () => {
    ({ server, base, hits } = await startServer());
    reference = await loadTaxiReference();
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("downloads a CSV.gz with progress and parses it with explicit types, values unchanged", async () => {
    const progress: { bytes?: number; totalBytes?: number }[] = [];
    const table = await http().read({ url: "/green.csv.gz", columns: GREEN_CSV_COLUMNS }, { onProgress: (p) => progress.push(p) });
    expect(firstDifference(reference.green2020, table)).toBeNull();
    const last = progress.filter((p) => p.bytes !== undefined).pop();
    expect(last).toEqual(expect.objectContaining({ bytes: 1_709_547, totalBytes: 1_709_547 }));
  });

  it("keeps the zone lookup's NA and N/A as strings, and reads Parquet", async () => {
    expect(firstDifference(reference.zones, await http().read({ url: "/zones.csv", columns: ZONE_CSV_COLUMNS }))).toBeNull();
    expect(firstDifference(reference.green2024, await http().read(`${base}/green.parquet`))).toBeNull();
    const detected = await http().read("/zones.csv");
    expect(detected.numRows).toBe(265);
  });

  it("retries 5xx answers and connection resets with backoff", async () => {
    const messages: string[] = [];
    const table = await http().read("/flaky.csv", { onProgress: (p) => p.message && messages.push(p.message) });
    expect(table.numRows).toBe(265);
    expect(hits.get("/flaky.csv")).toBe(3);
    expect(messages.filter((m) => m.includes("retry"))).toHaveLength(2);
    const green = await http().read({ url: "/reset.csv.gz", columns: GREEN_CSV_COLUMNS });
    expect(green.numRows).toBe(95_120);
    expect(hits.get("/reset.csv.gz")).toBe(2);
  });

  it("gives clear errors naming the URL: 404, 5xx after retries, truncated .gz, wrong column count, unreachable host", async () => {
    await expect(http().read("/nope.csv")).rejects.toMatchObject({ kind: "user", message: `GET ${base}/nope.csv: HTTP 404 Not Found` });
    expect(hits.get("/nope.csv")).toBe(1);
    await expect(http().read("/down.csv")).rejects.toMatchObject({ kind: "operational", message: expect.stringContaining(`GET ${base}/down.csv: HTTP 502`) });
    expect(hits.get("/down.csv")).toBe(4);
    await expect(http().read("/truncated.csv.gz")).rejects.toMatchObject({ kind: "user", message: expect.stringContaining(`GET ${base}/truncated.csv.gz: the .gz file is truncated or damaged`) });
    await expect(http().read("/bad.csv")).rejects.toThrow(`GET ${base}/bad.csv: CSV line 3002: expected 2 columns, found 3`);
    await expect(http().read({ url: "/bad.csv", columns: { a: "INTEGER", b: "INTEGER" } })).rejects.toThrow(`GET ${base}/bad.csv: CSV line 3002: expected 2 columns, found 3`);
    const closed = await closedPort();
    await expect(new HttpConnector({ retries: 1, retryDelayMs: 5 }).read(`http://127.0.0.1:${closed}/x.csv`)).rejects.toMatchObject({
      kind: "operational",
      message: expect.stringMatching(new RegExp(`^GET http://127\\.0\\.0\\.1:${closed}/x\\.csv: cannot reach the server \\(.*ECONNREFUSED`)),
    });
  });

  it("never shows credentials of the URL", async () => {
    const url = base.replace("http://", "http://alice:Sup3r-s3cret@") + "/nope.csv";
    const error = await http().read(url).catch((e: unknown) => e);
    expect(String(error)).toContain("alice:***@");
    expect(String(error)).not.toContain("Sup3r-s3cret");
  });
});

/** A port nothing listens on (opened, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
