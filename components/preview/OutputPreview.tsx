"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import { apiCall, seg } from "../ui/api-client";
import { formatCount } from "../ui/format";
import { recordMetric } from "../editor/editor-store";

const PAGE = 100;
const ROW_HEIGHT = 24;
const HEAD_HEIGHT = 64;
const MAX_HEIGHT = 360;

interface ColumnStats {
  name: string;
  type: string;
  nulls: number;
  min: string | number | boolean | null;
  max: string | number | boolean | null;
  distinct: number;
}

interface OutputPage {
  schema: { name: string; type: string }[];
  total_rows: number;
  offset: number;
  rows: Record<string, unknown>[];
  stats: ColumnStats[];
}

type Row = Record<string, unknown>;

function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="null">null</span>;
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text.length > 80) return <span title={text}>{text.slice(0, 80)}…</span>;
  return <>{text}</>;
}

function statText(value: ColumnStats["min"]): string {
  if (value === null) return "—";
  const text = String(value);
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/**
 * A block output, paged from the server (never the whole table in the browser): column names with Arrow
 * types, total rows, per-column stats, and a virtualised body that fetches the pages that scroll into view.
 */
export function OutputPreview({ runId, block, serial, endedAt }: { runId: string; block: string; serial: number; endedAt: string }) {
  const [first, setFirst] = useState<OutputPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pages = useRef(new Map<number, Row[]>());
  const loading = useRef(new Set<number>());
  const [, setTick] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    pages.current = new Map();
    loading.current = new Set();
    setError(null);
    void apiCall<OutputPage>(`/api/runs/${seg(runId)}/blocks/${seg(block)}/output?offset=0&limit=${PAGE}`).then((result) => {
      if (!live) return;
      if (!result.ok) return setError(result.error.message);
      pages.current.set(0, result.data.rows);
      setFirst(result.data);
    });
    return () => {
      live = false;
    };
  }, [runId, block, serial]);

  useEffect(() => {
    if (first) recordMetric("first-page", { block, serverEndAt: Date.parse(endedAt), rows: first.total_rows });
  }, [first, block, endedAt]);

  const total = first?.total_rows ?? 0;
  const virtualizer = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const items = virtualizer.getVirtualItems();

  useEffect(() => {
    if (!first) return;
    const wanted = new Set(items.map((item) => Math.floor(item.index / PAGE)));
    for (const page of wanted) {
      if (pages.current.has(page) || loading.current.has(page)) continue;
      loading.current.add(page);
      void apiCall<OutputPage>(`/api/runs/${seg(runId)}/blocks/${seg(block)}/output?offset=${page * PAGE}&limit=${PAGE}`).then((result) => {
        loading.current.delete(page);
        if (result.ok) {
          pages.current.set(page, result.data.rows);
          setTick((t) => t + 1);
        }
      });
    }
  }, [items, first, runId, block]);

  if (error) return <div className="preview-error">{error}</div>;
  if (!first) return <div className="preview-loading">loading output…</div>;
  const columns = first.schema;
  const template = `4rem repeat(${columns.length}, minmax(8rem, 1fr))`;
  const stats = new Map(first.stats.map((s) => [s.name, s]));

  return (
    <div className="preview" data-testid={`preview-${block}`}>
      <div className="preview-meta">
        <strong data-testid={`total-rows-${block}`}>{formatCount(total)} rows</strong> · {columns.length} columns
      </div>
      <div className="preview-scroll" ref={scroller} data-testid={`preview-scroll-${block}`} style={{ height: Math.min(MAX_HEIGHT, HEAD_HEIGHT + total * ROW_HEIGHT + 2) }}>
        <div className="preview-head" style={{ gridTemplateColumns: template }}>
          <div className="preview-index">#</div>
          {columns.map((c) => {
            const s = stats.get(c.name);
            return (
              <div key={c.name} className="preview-col" data-testid={`col-${block}-${c.name}`}>
                <div className="col-name">{c.name}</div>
                <div className="col-type">{c.type}</div>
                {s && (
                  <div className="col-stats">
                    <span>nulls {formatCount(s.nulls)}</span> <span>distinct ≈{formatCount(s.distinct)}</span>
                    <br />
                    <span>min {statText(s.min)}</span> <span>max {statText(s.max)}</span>
                  </div>
                )}
              </div>
            );
          })}
        </div>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const row = pages.current.get(Math.floor(item.index / PAGE))?.[item.index % PAGE];
            return (
              <div
                key={item.key}
                className="preview-row"
                data-index={item.index}
                style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
              >
                <div className="preview-index">{item.index + 1}</div>
                {columns.map((c) => (
                  <div key={c.name} className="preview-cell">
                    {row ? <Cell value={row[c.name]} /> : <span className="null">…</span>}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
