"use client";

import { useEffect, useState } from "react";

export interface RowWindow {
  /** First and last row index to render (inclusive); `last < first` when there is nothing to show. */
  first: number;
  last: number;
}

/**
 * The rows of a fixed-row-height list that are in view in `scroller`, plus `overscan` rows either side.
 * Constant work per scroll event whatever the row count: a general virtualiser (@tanstack/react-virtual)
 * lays out every row once per count — a million-entry loop and two arrays of that size before the first
 * page of a big output could show. The state only changes when the window does, so a scroll within a
 * row re-renders nothing.
 *
 * `element` is the scroller (from a callback ref, so that a new scroller is followed); `top` is the height
 * of what precedes the rows inside it (the sticky header).
 */
export function useRowWindow(element: HTMLElement | null, count: number, rowHeight: number, top: number, overscan: number): RowWindow {
  const [window, setWindow] = useState<RowWindow>({ first: 0, last: -1 });

  useEffect(() => {
    if (!element) return;
    const update = () => {
      const start = Math.floor((element.scrollTop - top) / rowHeight);
      const end = Math.ceil((element.scrollTop + element.clientHeight - top) / rowHeight);
      const first = Math.max(0, start - overscan);
      const last = Math.min(count - 1, end + overscan);
      setWindow((previous) => (previous.first === first && previous.last === last ? previous : { first, last }));
    };
    update();
    element.addEventListener("scroll", update, { passive: true });
    const resized = new ResizeObserver(update);
    resized.observe(element);
    return () => {
      element.removeEventListener("scroll", update);
      resized.disconnect();
    };
  }, [element, count, rowHeight, top, overscan]);

  return window;
}
