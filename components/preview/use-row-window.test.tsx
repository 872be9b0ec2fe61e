/**
 * @jest-environment jsdom
 *
 * Which rows of a million-row preview are rendered: those in view plus the overscan, below the sticky header,
 * never past the last row, updated on scroll and on resize.
 */
import { act, renderHook } from "@testing-library/react";
import { useRowWindow } from "./use-row-window";

const ROW_HEIGHT = 28;
const HEADER = 56;
const OVERSCAN = 10;

/** jsdom lays nothing out and has no ResizeObserver: the test plays the browser's part for both. */
const resizeCallbacks: (() => void)[] = [];
class RecordingResizeObserver {
  constructor(private readonly callback: () => void) {}
  observe(): void {
    resizeCallbacks.push(this.callback);
  }
  disconnect(): void {
    const at = resizeCallbacks.indexOf(this.callback);
    if (at >= 0) resizeCallbacks.splice(at, 1);
  }
}

beforeAll(() => {
  Object.defineProperty(window, "ResizeObserver", { value: RecordingResizeObserver, configurable: true });
});

function scroller(clientHeight: number): HTMLDivElement {
  const element = document.createElement("div");
  Object.defineProperty(element, "clientHeight", { value: clientHeight, configurable: true });
  return element;
}

function scrollTo(element: HTMLElement, top: number): void {
  act(() => {
    element.scrollTop = top;
    element.dispatchEvent(new Event("scroll"));
  });
}

it("renders the rows in view plus the overscan, starting at the first row", () => {
  const element = scroller(600);
  const { result } = renderHook(() => useRowWindow(element, 1_000_000, ROW_HEIGHT, HEADER, OVERSCAN));
  // 600 px of view, of which the header takes 56: rows 0…20 are (partly) visible, then 10 more.
  expect(result.current).toEqual({ first: 0, last: Math.ceil((600 - HEADER) / ROW_HEIGHT) + OVERSCAN });
});

it("follows a jump into the middle of a million rows without rendering the rows before", () => {
  const element = scroller(600);
  const { result } = renderHook(() => useRowWindow(element, 1_000_000, ROW_HEIGHT, HEADER, OVERSCAN));
  scrollTo(element, HEADER + 500_000 * ROW_HEIGHT);
  expect(result.current).toEqual({ first: 500_000 - OVERSCAN, last: 500_000 + Math.ceil(600 / ROW_HEIGHT) + OVERSCAN });
});

it("stops at the last row of a short output and shows nothing for an empty one", () => {
  const element = scroller(600);
  const short = renderHook(() => useRowWindow(element, 7, ROW_HEIGHT, HEADER, OVERSCAN));
  expect(short.result.current).toEqual({ first: 0, last: 6 });
  const empty = renderHook(() => useRowWindow(element, 0, ROW_HEIGHT, HEADER, OVERSCAN));
  expect(empty.result.current.last).toBeLessThan(empty.result.current.first);
});

it("keeps the same window object while a scroll stays within a row, so nothing re-renders", () => {
  const element = scroller(600);
  const { result } = renderHook(() => useRowWindow(element, 95_120, ROW_HEIGHT, HEADER, OVERSCAN));
  scrollTo(element, HEADER + 100 * ROW_HEIGHT);
  const before = result.current;
  scrollTo(element, HEADER + 100 * ROW_HEIGHT + 5);
  expect(result.current).toBe(before);
});

it("grows the window when the scroller grows, and stops listening once unmounted", () => {
  const element = scroller(300);
  const { result, unmount } = renderHook(() => useRowWindow(element, 95_120, ROW_HEIGHT, HEADER, OVERSCAN));
  const small = result.current.last;
  Object.defineProperty(element, "clientHeight", { value: 900, configurable: true });
  act(() => resizeCallbacks.forEach((callback) => callback()));
  expect(result.current.last).toBe(small + Math.ceil(600 / ROW_HEIGHT));
  unmount();
  expect(resizeCallbacks).toHaveLength(0);
});
