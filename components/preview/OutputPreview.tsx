"use client";

import { memo, useEffect, useMemo, useState } from "react";
import type { ColumnSummary } from "@/lib/store/output-types";
import { formatCount } from "../ui/format";
import { recordMetric } from "../editor/editor-store";
import { ColumnHistogram } from "./ColumnHistogram";
import { loadFirstPage, PageCache, type OutputPage, type Row } from "./page-cache";
import { useRowWindow } from "./use-row-window";

const ROW_HEIGHT = 24;
/** Name, type, two lines of stats and the histogram; the rows start below it. */
const HEAD_HEIGHT = 92;
const MAX_HEIGHT = 400;

/** A column's stats as the API sends them: the output store's summary. */
export type ColumnStats = ColumnSummary;

const Cell = memo(function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="null">null</span>;
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text.length > 80) return <span title={text}>{text.slice(0, 80)}…</span>;
  return <>{text}</>;
});

function rowsIn(first: number, last: number): number[] {
  const indexes: number[] = [];
  for (let i = first; i <= last; i++) indexes.push(i);
  return indexes;
}

function statText(value: ColumnStats["min"]): string {
  if (value === null) return "—";
  const text = String(value);
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/**
 * One row. Memoised on its data: while scrolling only the rows that come into view (or whose page
 * arrives) render; the others just move.
 */
const PreviewRow = memo(function PreviewRow({ index, top, row, columns, template }: { index: number; top: number; row: Row | undefined; columns: readonly string[]; template: string }) {
  return (
    <div className="preview-row" data-index={index} style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${top}px)` }}>
      <div className="preview-index">{index + 1}</div>
      {columns.map((name) => (
        <div key={name} className="preview-cell">
          {row ? <Cell value={row[name]} /> : <span className="null">…</span>}
        </div>
      ))}
    </div>
  );
});

const PreviewHead = memo(function PreviewHead({ block, schema, stats, template }: { block: string; schema: OutputPage["schema"]; stats: ColumnStats[]; template: string }) {
  const byName = new Map(stats.map((s) => [s.name, s]));
  return (
    <div className="preview-head" style={{ gridTemplateColumns: template, height: HEAD_HEIGHT }}>
      <div className="preview-index">#</div>
      {schema.map((c) => {
        const s = byName.get(c.name);
        return (
          <div key={c.name} className="preview-col" data-testid={`col-${block}-${c.name}`}>
            <div className="col-name">{c.name}</div>
            <div className="col-type">{c.type}</div>
            {s && (
              <div className="col-stats">
                <span>nulls {formatCount(s.nulls)}</span> <span>distinct ≈{formatCount(s.distinct)}</span>
                <br />
                <span>min {statText(s.min)}</span> <span>max {statText(s.max)}</span>
                {s.histogram && <ColumnHistogram histogram={s.histogram} testId={`hist-${block}-${c.name}`} />}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
});

/**
 * A block output, paged from the server (never the whole table in the browser): column names with Arrow
 * types, total rows, per-column stats with histograms, and a virtualised body that fetches the pages that
 * scroll into view (a bounded number of them is kept).
 */
export function OutputPreview({ runId, block, serial, endedAt }: { runId: string; block: string; serial: number; endedAt: string }) {
  const [first, setFirst] = useState<OutputPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cache, setCache] = useState<PageCache | null>(null);
  const [, setLoaded] = useState(0);
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    recordMetric("first-page-requested", { block });
    void loadFirstPage(runId, block).then((result) => {
      if (!live) return;
      if (!result.ok) return setError(result.error.message);
      recordMetric("first-page-received", { block });
      setCache(new PageCache(runId, block, result.data, () => setLoaded((n) => n + 1)));
      setFirst(result.data);
    });
    return () => {
      live = false;
    };
  }, [runId, block, serial]);

  useEffect(() => {
    if (first) recordMetric("first-page", { block, serverEndAt: Date.parse(endedAt), rows: first.total_rows });
  }, [first, block, endedAt]);

  useEffect(() => () => cache?.close(), [cache]);

  const total = first?.total_rows ?? 0;
  const { first: firstRow, last: lastRow } = useRowWindow(scroller, total, ROW_HEIGHT, HEAD_HEIGHT, 8);

  useEffect(() => {
    if (cache && lastRow >= firstRow) cache.want(firstRow, lastRow);
  }, [cache, firstRow, lastRow]);

  const slots = Math.max(1, lastRow - firstRow + 1);
  const columns = useMemo(() => first?.schema.map((c) => c.name) ?? [], [first]);
  const template = `4rem repeat(${columns.length}, minmax(8rem, 1fr))`;

  if (error) return <div className="preview-error">{error}</div>;
  if (!first || !cache) return <div className="preview-loading">loading output…</div>;

  return (
    <div className="preview" data-testid={`preview-${block}`}>
      <div className="preview-meta">
        <strong data-testid={`total-rows-${block}`}>{formatCount(total)} rows</strong> · {columns.length} columns
      </div>
      <div className="preview-scroll" ref={setScroller} data-testid={`preview-scroll-${block}`} style={{ height: Math.min(MAX_HEIGHT, HEAD_HEIGHT + total * ROW_HEIGHT + 2) }}>
        <PreviewHead block={block} schema={first.schema} stats={first.stats} template={template} />
        <div style={{ height: total * ROW_HEIGHT, position: "relative" }}>
          {/* Keyed by slot, not row: the row leaving at one end and the one entering at the other share a key, so
              React rewrites its cells in place instead of destroying and creating ~20 rows of DOM a frame. */}
          {rowsIn(firstRow, lastRow).map((index) => (
            <PreviewRow key={index % slots} index={index} top={index * ROW_HEIGHT} row={cache.row(index)} columns={columns} template={template} />
          ))}
        </div>
      </div>
    </div>
  );
}
