/**
 * The part of theming the server renders too (app/layout.tsx): the storage key and the inline script that
 * applies a stored choice before the first paint. No React here, so a server component can import it.
 */

export type Theme = "light" | "dark";

export const THEME_STORAGE_KEY = "sluice-theme";

export function isTheme(value: unknown): value is Theme {
  return value === "light" || value === "dark";
}

/** Inline in <head>: applies a stored choice before anything is drawn. Kept tiny and dependency-free. */
export const THEME_SCRIPT = `(function(){try{var t=localStorage.getItem(${JSON.stringify(THEME_STORAGE_KEY)});if(t==="light"||t==="dark")document.documentElement.dataset.theme=t;}catch(e){}})();`;
