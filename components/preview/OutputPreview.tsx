"use client";

import { memo, useCallback, useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent, type PointerEvent as ReactPointerEvent } from "react";
import type { ColumnSummary } from "@/lib/core/output-types";
import { formatCount } from "../ui/format";
import { recordMetric } from "../editor/editor-store";
import { ColumnHistogram } from "./ColumnHistogram";
import { loadFirstPage, PageCache, type OutputPage, type Row } from "./page-cache";
import { clampWidth, distinctText, gridTemplate, gridWidth, initialColumnWidth, isNaiveTimestampType, statValue, truncated, valueText } from "./preview-format";
import { TopValuesPanel } from "./TopValuesPanel";
import { useRowWindow } from "./use-row-window";
import styles from "./OutputPreview.module.css";

const ROW_HEIGHT = 24;
/** Name, type, two lines of stats and the histogram; the rows start below it. */
const HEAD_HEIGHT = 92;
const MAX_HEIGHT = 400;
/** Values longer than this get their full text as a tooltip (shorter ones fit their cell at the initial width). */
const TITLE_FROM_CHARS = 16;

/** A column's stats as the API sends them: the output store's summary. */
export type ColumnStats = ColumnSummary;

const Cell = memo(function Cell({ value }: { value: unknown }) {
  // null is a badge, never text: an empty string is an empty cell, a string "null" reads as text.
  if (value === null || value === undefined) return <span className={styles.nullBadge}>null</span>;
  const full = valueText(value);
  const { text } = truncated(full);
  return <span title={full.length >= TITLE_FROM_CHARS ? full : undefined}>{text}</span>;
});

function rowsIn(first: number, last: number): number[] {
  const indexes: number[] = [];
  for (let i = first; i <= last; i++) indexes.push(i);
  return indexes;
}

function shortStat(value: ColumnStats["min"], type: string): string {
  const text = statValue(value, type);
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/**
 * One row. Memoised on its data: while scrolling only the rows that come into view (or whose page
 * arrives) render; the others just move.
 */
const PreviewRow = memo(function PreviewRow({ index, top, row, columns, template }: { index: number; top: number; row: Row | undefined; columns: readonly string[]; template: string }) {
  return (
    <div className="preview-row" role="row" aria-rowindex={index + 2} data-index={index} style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${top}px)` }}>
      <div className="preview-index" role="rowheader">
        {index + 1}
      </div>
      {columns.map((name) => (
        <div key={name} className={`preview-cell ${styles.cell}`} role="gridcell" data-col={name}>
          {row ? <Cell value={row[name]} /> : <span className={styles.placeholder}>…</span>}
        </div>
      ))}
    </div>
  );
});

/** The right edge of a header cell: dragging it sets that column's width (for the header and every row at once). */
function ResizeHandle({ name, width, onResize, testId }: { name: string; width: number; onResize: (name: string, width: number) => void; testId: string }) {
  const drag = useRef<{ x: number; width: number } | null>(null);
  const [active, setActive] = useState(false);
  const down = (event: ReactPointerEvent<HTMLDivElement>) => {
    event.preventDefault();
    event.stopPropagation();
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { x: event.clientX, width };
    setActive(true);
  };
  const move = (event: ReactPointerEvent<HTMLDivElement>) => {
    if (drag.current) onResize(name, clampWidth(drag.current.width + event.clientX - drag.current.x));
  };
  const up = (event: ReactPointerEvent<HTMLDivElement>) => {
    if (event.currentTarget.hasPointerCapture(event.pointerId)) event.currentTarget.releasePointerCapture(event.pointerId);
    drag.current = null;
    setActive(false);
  };
  return (
    <div
      className={`${styles.resizer} ${active ? styles.resizing : ""}`}
      role="separator"
      aria-orientation="vertical"
      aria-label={`resize column ${name}`}
      data-testid={testId}
      onPointerDown={down}
      onPointerMove={move}
      onPointerUp={up}
      onPointerCancel={up}
      onDoubleClick={() => onResize(name, Number.NaN)}
    />
  );
}

const PreviewHead = memo(function PreviewHead({
  block,
  schema,
  stats,
  template,
  widths,
  exactDistinct,
  onResize,
  onStats,
}: {
  block: string;
  schema: OutputPage["schema"];
  stats: ColumnStats[];
  template: string;
  widths: readonly number[];
  exactDistinct: Readonly<Record<string, number>>;
  onResize: (name: string, width: number) => void;
  onStats: (name: string, anchor: HTMLElement) => void;
}) {
  const byName = new Map(stats.map((s) => [s.name, s]));
  return (
    <div className="preview-head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, height: HEAD_HEIGHT }}>
      <div className="preview-index" role="columnheader" aria-label="Row number">
        #
      </div>
      {schema.map((c, i) => {
        const s = byName.get(c.name);
        const exact = exactDistinct[c.name];
        return (
          <div key={c.name} className={`preview-col ${styles.headCell}`} role="columnheader" data-testid={`col-${block}-${c.name}`} data-col={c.name}>
            <div className={styles.colName} title={c.name}>
              {c.name}
            </div>
            <div className={styles.colType} title={c.type}>
              {c.type}
            </div>
            {s && (
              <div
                className={styles.colStats}
                role="button"
                tabIndex={0}
                title="top values"
                data-testid={`stats-${block}-${c.name}`}
                onClick={(event) => onStats(c.name, event.currentTarget)}
                onKeyDown={(event) => {
                  if (event.key === "Enter" || event.key === " ") onStats(c.name, event.currentTarget);
                }}
              >
                <span>nulls {formatCount(s.nulls)}</span> <span data-testid={`distinct-${block}-${c.name}`}>distinct {exact === undefined ? distinctText(s.distinct, false) : distinctText(exact, true)}</span>
                <br />
                <span>min {shortStat(s.min, c.type)}</span> <span>max {shortStat(s.max, c.type)}</span>
                {s.histogram && <ColumnHistogram histogram={s.histogram} testId={`hist-${block}-${c.name}`} naive={isNaiveTimestampType(c.type)} />}
              </div>
            )}
            <ResizeHandle name={c.name} width={widths[i]} onResize={onResize} testId={`resize-${block}-${c.name}`} />
          </div>
        );
      })}
    </div>
  );
});

/** Where a popover opens: below `anchor`, in the coordinates of the preview box, kept inside it. */
function popoverAt(anchor: HTMLElement, box: HTMLElement | null): { left: number; top: number } {
  if (!box) return { left: 0, top: 0 };
  const a = anchor.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return { left: Math.max(0, Math.min(a.left - b.left, b.width - 280)), top: a.bottom - b.top + 2 };
}

type Popover = { kind: "value"; column: string; row: number; text: string; left: number; top: number } | { kind: "top"; column: string; left: number; top: number };

/**
 * A block output, paged from the server (never the whole table in the browser): column names with Arrow
 * types, total rows, per-column stats with histograms and top values, and a virtualised body that fetches
 * the pages that scroll into view (a bounded number of them is kept).
 *
 * Header and rows are one grid: every row and the sticky header use the same fixed column widths (resizable
 * by dragging a header's right edge) inside one box of the grid's width, so columns line up at any width
 * and scroll sideways together.
 */
export function OutputPreview({ runId, block, serial, endedAt }: { runId: string; block: string; serial: number; endedAt: string }) {
  const [first, setFirst] = useState<OutputPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cache, setCache] = useState<PageCache | null>(null);
  const [, setLoaded] = useState(0);
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);
  const [resized, setResized] = useState<Readonly<Record<string, number>>>({});
  const [exactDistinct, setExactDistinct] = useState<Readonly<Record<string, number>>>({});
  const [popover, setPopover] = useState<Popover | null>(null);
  const box = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    setPopover(null);
    setExactDistinct({});
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

  useEffect(() => {
    if (!popover) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setPopover(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [popover]);

  const total = first?.total_rows ?? 0;
  const { first: firstRow, last: lastRow } = useRowWindow(scroller, total, ROW_HEIGHT, HEAD_HEIGHT, 8);

  useEffect(() => {
    if (cache && lastRow >= firstRow) cache.want(firstRow, lastRow);
  }, [cache, firstRow, lastRow]);

  const schema = first?.schema;
  const columns = useMemo(() => schema?.map((c) => c.name) ?? [], [schema]);
  const widths = useMemo(() => schema?.map((c) => resized[c.name] ?? initialColumnWidth(c.name, c.type)) ?? [], [schema, resized]);
  const template = useMemo(() => gridTemplate(widths), [widths]);

  const onResize = useCallback((name: string, width: number) => {
    // NaN (a double click on the edge) goes back to the initial width.
    setResized((previous) => {
      const next = { ...previous };
      if (Number.isNaN(width)) delete next[name];
      else next[name] = width;
      return next;
    });
  }, []);

  const onStats = useCallback((column: string, anchor: HTMLElement) => {
    setPopover((previous) => (previous?.kind === "top" && previous.column === column ? null : { kind: "top", column, ...popoverAt(anchor, box.current) }));
  }, []);

  const onDistinct = useCallback((column: string, distinct: number) => {
    setExactDistinct((previous) => (previous[column] === distinct ? previous : { ...previous, [column]: distinct }));
  }, []);

  /** A click on a cell shows its whole value (long text, JSON) in a popover; delegated, so rows stay cheap. */
  const onBodyClick = (event: ReactMouseEvent<HTMLDivElement>) => {
    if (!(event.target instanceof Element) || !cache) return;
    const cell = event.target.closest<HTMLElement>("[data-col]");
    const rowElement = cell?.closest<HTMLElement>("[data-index]");
    if (!cell || !rowElement) return;
    const column = cell.dataset.col ?? "";
    const row = Number(rowElement.dataset.index);
    const value = cache.row(row)?.[column];
    if (value === undefined) return;
    const text = value === null ? "null" : typeof value === "object" ? JSON.stringify(value, null, 2) : valueText(value);
    setPopover({ kind: "value", column, row, text, ...popoverAt(cell, box.current) });
  };

  if (error) return <div className="preview-error">{error}</div>;
  if (!first || !cache) return <div className="preview-loading">loading output…</div>;

  const slots = Math.max(1, lastRow - firstRow + 1);
  return (
    <div className="preview" data-testid={`preview-${block}`} ref={box} style={{ position: "relative" }}>
      <div className="preview-meta">
        <strong data-testid={`total-rows-${block}`}>{formatCount(total)} rows</strong> · {columns.length} columns
      </div>
      <div className="preview-scroll" ref={setScroller} data-testid={`preview-scroll-${block}`} style={{ height: Math.min(MAX_HEIGHT, HEAD_HEIGHT + total * ROW_HEIGHT + 2) }}>
        {/* Rows past the window are not in the DOM: aria-rowcount and each row's aria-rowindex tell a screen reader where it is. */}
        <div className={styles.grid} style={{ width: gridWidth(widths) }} role="grid" aria-label={`Output of ${block}`} aria-rowcount={total + 1} aria-colcount={columns.length + 1} aria-readonly="true">
          <PreviewHead block={block} schema={first.schema} stats={first.stats} template={template} widths={widths} exactDistinct={exactDistinct} onResize={onResize} onStats={onStats} />
          <div role="rowgroup" style={{ height: total * ROW_HEIGHT, position: "relative" }} onClick={onBodyClick}>
            {/* Keyed by slot, not row: the row leaving at one end and the one entering at the other share a key, so
                React rewrites its cells in place instead of destroying and creating ~20 rows of DOM a frame. */}
            {rowsIn(firstRow, lastRow).map((index) => (
              <PreviewRow key={index % slots} index={index} top={index * ROW_HEIGHT} row={cache.row(index)} columns={columns} template={template} />
            ))}
          </div>
        </div>
      </div>
      {popover?.kind === "value" && (
        <div className={styles.popover} style={{ left: popover.left, top: popover.top }} role="dialog" aria-label={`value of ${popover.column}`} data-testid={`value-${block}`}>
          <div className={styles.popoverHead}>
            <strong>{popover.column}</strong>
            <span className="muted">row {formatCount(popover.row + 1)}</span>
            <span className="spacer" />
            <button type="button" className="icon" aria-label="close" onClick={() => setPopover(null)}>
              ×
            </button>
          </div>
          <pre className={styles.popoverText}>{popover.text}</pre>
        </div>
      )}
      {popover?.kind === "top" && (
        <div className={styles.popover} style={{ left: popover.left, top: popover.top }} role="dialog" aria-label={`top values of ${popover.column}`} data-testid={`top-${block}`}>
          <TopValuesPanel runId={runId} block={block} column={popover.column} onDistinct={onDistinct} onClose={() => setPopover(null)} />
        </div>
      )}
    </div>
  );
}
