"use client";

import type { ResponseOf } from "@/lib/core/api-contract";
import { apiCall, seg, type ApiResult } from "../ui/api-client";

/** Rows per request: a screenful is ~15 rows, so one request covers a jump and several frames of scrolling. */
export const PAGE_ROWS = 100;
/** Pages kept in the browser (4,000 rows): scrolling through a big output never accumulates it. */
const KEEP_PAGES = 40;

export type Row = Record<string, unknown>;

/** GET /api/runs/:id/blocks/:b/output: the one `OutputPage` type, from the API contract. */
export type OutputPage = ResponseOf<"getOutputPage">;

function pageUrl(runId: string, block: string, page: number): string {
  return `/api/runs/${seg(runId)}/blocks/${seg(block)}/output?offset=${page * PAGE_ROWS}&limit=${PAGE_ROWS}`;
}

export function loadFirstPage(runId: string, block: string): Promise<ApiResult<OutputPage>> {
  return apiCall<OutputPage>(pageUrl(runId, block, 0));
}

/**
 * The pages of one output the preview holds: the first (with schema and stats), the ones in view, and a
 * bounded number of recently seen ones. `want` fetches what is missing; `onLoad` fires when a page arrives.
 */
export class PageCache {
  /** Insertion order is recency of use (a page is re-inserted when wanted again). */
  private readonly pages = new Map<number, Row[]>();
  private readonly loading = new Set<number>();
  private closed = false;

  constructor(
    private readonly runId: string,
    private readonly block: string,
    first: OutputPage,
    private readonly onLoad: () => void,
  ) {
    this.pages.set(0, first.rows);
  }

  row(index: number): Row | undefined {
    return this.pages.get(Math.floor(index / PAGE_ROWS))?.[index % PAGE_ROWS];
  }

  /** Makes sure rows `first…last` are loaded or loading. */
  want(first: number, last: number): void {
    const from = Math.floor(first / PAGE_ROWS);
    const to = Math.floor(last / PAGE_ROWS);
    for (let page = from; page <= to; page++) {
      const rows = this.pages.get(page);
      if (rows) {
        this.pages.delete(page);
        this.pages.set(page, rows);
      } else if (!this.loading.has(page)) {
        this.load(page);
      }
    }
    for (const page of this.pages.keys()) {
      if (this.pages.size <= KEEP_PAGES) break;
      if (page < from || page > to) this.pages.delete(page);
    }
  }

  private load(page: number): void {
    this.loading.add(page);
    void apiCall<OutputPage>(pageUrl(this.runId, this.block, page)).then((result) => {
      this.loading.delete(page);
      if (this.closed || !result.ok) return;
      this.pages.set(page, result.data.rows);
      this.onLoad();
    });
  }

  /** Drops late answers (the preview moved on to another output). */
  close(): void {
    this.closed = true;
  }
}
