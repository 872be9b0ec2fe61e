"use client";

import { useEffect, useState } from "react";
import type { ResponseOf, TopValues } from "@/lib/core/api-contract";
import { apiCall, seg } from "../ui/api-client";
import { formatCount } from "../ui/format";
import { distinctText, truncated, valueText } from "./preview-format";
import styles from "./OutputPreview.module.css";

/** GET /api/runs/:id/blocks/:b/output/columns/:col/top, as the API contract describes it. */
export type { TopValues } from "@/lib/core/api-contract";

const TOP_LIMIT = 10;

/**
 * The ten most frequent values of a column with their counts and share of the rows, the exact distinct count
 * when the server could count it, and the nulls — computed on the server over the whole output.
 */
export function TopValuesPanel({ runId, block, column, onDistinct, onClose }: { runId: string; block: string; column: string; onDistinct: (column: string, distinct: number) => void; onClose: () => void }) {
  const [top, setTop] = useState<TopValues | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setTop(null);
    setError(null);
    void apiCall<ResponseOf<"getColumnTopValues">>(`/api/runs/${seg(runId)}/blocks/${seg(block)}/output/columns/${seg(column)}/top?limit=${TOP_LIMIT}`).then((result) => {
      if (!live) return;
      if (!result.ok) return setError(result.error.message);
      setTop(result.data);
      if (result.data.distinct !== null) onDistinct(column, result.data.distinct);
    });
    return () => {
      live = false;
    };
  }, [runId, block, column, onDistinct]);

  const peak = Math.max(1, ...(top?.values.map((v) => v.count) ?? []));
  return (
    <>
      <div className={styles.popoverHead}>
        <strong>{column}</strong>
        <span className="muted">top {TOP_LIMIT}</span>
        <span className="spacer" />
        <button type="button" className="icon" aria-label="close" onClick={onClose}>
          ×
        </button>
      </div>
      {error && <div className="error">{error}</div>}
      {!top && !error && <div className="muted">counting…</div>}
      {top && (
        <>
          <div className="muted" data-testid={`top-summary-${block}-${column}`}>
            {formatCount(top.total_rows)} rows · nulls {formatCount(top.nulls)} · distinct{" "}
            {top.distinct === null ? "too many to count exactly (see the header's ≈ estimate)" : distinctText(top.distinct, true)}
            {!top.exact && " · counts are lower bounds"}
          </div>
          <table className={styles.topTable} data-testid={`top-values-${block}-${column}`}>
            <tbody>
              {top.values.map(({ value, count }) => {
                const full = valueText(value);
                return (
                  <tr key={`${typeof value}:${full}`}>
                    <td title={full}>{full === "" ? <span className="muted">(empty)</span> : truncated(full).text}</td>
                    <td className={styles.topCount}>{formatCount(count)}</td>
                    <td className={styles.topCount}>{top.total_rows > 0 ? `${((100 * count) / top.total_rows).toFixed(1)} %` : ""}</td>
                    <td style={{ width: 80 }}>
                      <div className={styles.topBar} style={{ width: `${Math.max(2, (80 * count) / peak)}px` }} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
