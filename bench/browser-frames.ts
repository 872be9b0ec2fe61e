/** What the browser benches measure the same way: frame gaps while an element scrolls, and when the graph shows. */
import type { Page } from "playwright-core";

/** tsx/esbuild wrap functions in `__name(…)`; functions sent to the page need it defined there. */
export const NAME_SHIM = "globalThis.__name = globalThis.__name || ((fn) => fn);";

/** Frame gaps while the element matching `selector` scrolls `step` px per animation frame for `frames` frames. */
export async function scrollFrames(page: Page, selector: string, step: number, frames: number): Promise<number[]> {
  return page.evaluate(
    ({ selector, step, frames }) =>
      new Promise<number[]>((resolve) => {
        const element = document.querySelector(selector);
        if (!element) return resolve([]);
        const gaps: number[] = [];
        let last = performance.now();
        let count = 0;
        const tick = (now: number) => {
          gaps.push(now - last);
          last = now;
          element.scrollTop += step;
          if (++count < frames) requestAnimationFrame(tick);
          else resolve(gaps.slice(1));
        };
        requestAnimationFrame(tick);
      }),
    { selector, step, frames },
  );
}

/** `performance.now()` in the page when the graph's nodes are laid out and visible. */
export async function graphShownAt(page: Page, timeoutMs: number): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const nodes = document.querySelectorAll(".react-flow__node");
      const viewport = document.querySelector<HTMLElement>(".react-flow__viewport");
      const visible = [...nodes].some((n) => getComputedStyle(n).visibility !== "hidden");
      return nodes.length > 0 && visible && viewport !== null && viewport.style.transform !== "" ? performance.now() : 0;
    },
    undefined,
    { polling: "raf", timeout: timeoutMs },
  );
  return handle.jsonValue();
}
