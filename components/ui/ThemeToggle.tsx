"use client";

import { chooseTheme, useResolvedTheme } from "./theme";
import styles from "./ThemeToggle.module.css";

/** Switches between light and dark; the choice is remembered across reloads (see theme.ts). */
export function ThemeToggle() {
  const theme = useResolvedTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" className={styles.toggle} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`} data-testid="theme-toggle" data-theme-shown={theme} onClick={() => chooseTheme(next)}>
      <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
    </button>
  );
}
