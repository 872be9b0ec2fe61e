"use client";

/**
 * Light and dark themes. The user's explicit choice is stored in localStorage and put on <html> as
 * `data-theme` by THEME_SCRIPT before the first paint (so a dark page never flashes light); without a choice
 * the stylesheet follows the system setting (`prefers-color-scheme`), and so does everything that reads
 * `resolvedTheme`.
 */
import { useSyncExternalStore } from "react";
import { isTheme, THEME_STORAGE_KEY, type Theme } from "./theme-script";

export type { Theme } from "./theme-script";

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** The theme the page shows: the explicit choice, else the system's. */
export function resolvedTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  if (isTheme(chosen)) return chosen;
  return window.matchMedia?.(DARK_QUERY).matches ? "dark" : "light";
}

/** Stores the user's choice and shows it at once. */
export function chooseTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // Storage can be off (private mode, policy): the choice still holds for this page.
  }
}

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = window.matchMedia?.(DARK_QUERY);
  media?.addEventListener("change", onChange);
  return () => {
    observer.disconnect();
    media?.removeEventListener("change", onChange);
  };
}

/** The shown theme, re-rendering on a toggle or a system change; "light" on the server. */
export function useResolvedTheme(): Theme {
  return useSyncExternalStore(subscribe, resolvedTheme, () => "light");
}
