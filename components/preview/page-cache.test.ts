/**
 * The preview's page cache over a real 20-column NYC green taxi output: pages load on demand, once each,
 * scrolling far never holds more than a bounded number of pages, and answers for a closed preview are dropped.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { serveApi, type FakeApi } from "@/test/api-fetch";
import { taxiDataDir } from "@/test/taxi-data";
import { loadFirstPage, PAGE_ROWS, PageCache, type OutputPage, type Row } from "./page-cache";

const RUN = "run_20201001_0000_a1b2c3";
const BLOCK = "load_green_taxi";
/** Enough rows for 60 pages: more than the cache keeps. */
const ROWS = 6_000;

/** The first `count` trips of October 2020, each a row keyed by the file's 20 column names. */
function taxiRows(count: number): { columns: string[]; rows: Row[] } {
  const text = gunzipSync(readFileSync(path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz"))).toString("utf8");
  const lines = text.split("\n", count + 1);
  const columns = (lines[0] ?? "").trim().split(",");
  const rows = lines.slice(1).map((line) => {
    const values = line.trim().split(",");
    return Object.fromEntries(columns.map((name, i) => [name, values[i] === "" ? null : values[i]]));
  });
  return { columns, rows };
}

const { columns, rows } = taxiRows(ROWS);

/** GET /api/runs/:id/blocks/:b/output?offset=&limit= as the runs API answers it. */
function outputPage(offset: number, limit: number): OutputPage {
  return { schema: columns.map((name) => ({ name, type: "Utf8" })), total_rows: ROWS, offset, rows: rows.slice(offset, offset + limit), stats: [], bytes: 0 };
}

let api: FakeApi;
let failing: Set<number>;

beforeEach(() => {
  failing = new Set();
  api = serveApi((request) => {
    const url = new URL(request.path, "http://sluice.test");
    if (request.method !== "GET" || url.pathname !== `/api/runs/${RUN}/blocks/${BLOCK}/output`) return undefined;
    const offset = Number(url.searchParams.get("offset"));
    if (failing.has(offset / PAGE_ROWS)) return { status: 500, body: { error: { code: "unexpected", message: "output store unavailable" } } };
    return { status: 200, body: outputPage(offset, Number(url.searchParams.get("limit"))) };
  });
});

afterEach(() => api.restore());

/** Lets the fake API's answers arrive (it answers without timers, so one macrotask is enough). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const pagesAsked = () => api.requests.map((r) => Number(new URL(r.path, "http://sluice.test").searchParams.get("offset")) / PAGE_ROWS);

async function openCache(): Promise<{ cache: PageCache; loads: () => number }> {
  const first = await loadFirstPage(RUN, BLOCK);
  if (!first.ok) throw new Error(first.error.message);
  let loads = 0;
  const cache = new PageCache(RUN, BLOCK, first.data, () => loads++);
  return { cache, loads: () => loads };
}

it("serves the first page at once and loads a later page when it comes into view, once", async () => {
  const { cache, loads } = await openCache();
  expect(cache.row(0)).toEqual(rows[0]);
  expect(Object.keys(cache.row(0) ?? {})).toHaveLength(20);
  expect(cache.row(150)).toBeUndefined();

  cache.want(140, 160);
  cache.want(145, 165);
  await settle();
  expect(cache.row(150)).toEqual(rows[150]);
  expect(cache.row(150)?.lpep_pickup_datetime).toBe(rows[150]?.lpep_pickup_datetime);
  expect(loads()).toBe(1);
  expect(pagesAsked()).toEqual([0, 1]);
});

it("loads both pages of a window that straddles a page boundary", async () => {
  const { cache } = await openCache();
  cache.want(390, 410);
  await settle();
  expect(cache.row(399)).toEqual(rows[399]);
  expect(cache.row(400)).toEqual(rows[400]);
  expect(pagesAsked()).toEqual([0, 3, 4]);
});

it("keeps a bounded number of pages while scrolling through the whole output, never the ones in view", async () => {
  const { cache } = await openCache();
  for (let first = 0; first < ROWS; first += PAGE_ROWS) {
    cache.want(first, first + 15);
    await settle();
    expect(cache.row(first + 15)).toEqual(rows[first + 15]);
  }
  const held = Array.from({ length: ROWS / PAGE_ROWS }, (_, page) => page).filter((page) => cache.row(page * PAGE_ROWS) !== undefined);
  expect(held.length).toBeLessThanOrEqual(41);
  expect(held).toContain(ROWS / PAGE_ROWS - 1);
  // The oldest pages were dropped; scrolling back loads them again.
  expect(cache.row(0)).toBeUndefined();
  cache.want(0, 15);
  await settle();
  expect(cache.row(0)).toEqual(rows[0]);
});

it("tries a page again after a failed answer", async () => {
  const { cache, loads } = await openCache();
  failing.add(2);
  cache.want(200, 220);
  await settle();
  expect(cache.row(210)).toBeUndefined();
  expect(loads()).toBe(0);
  failing.clear();
  cache.want(200, 220);
  await settle();
  expect(cache.row(210)).toEqual(rows[210]);
});

it("drops answers that arrive after the preview moved on to another output", async () => {
  const { cache, loads } = await openCache();
  cache.want(500, 520);
  cache.close();
  await settle();
  expect(cache.row(510)).toBeUndefined();
  expect(loads()).toBe(0);
});
