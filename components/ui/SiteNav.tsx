"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { ThemeToggle } from "./ThemeToggle";
import styles from "./SiteNav.module.css";

const SECTIONS = [
  { href: "/", label: "Pipelines", owns: (path: string) => path === "/" || path.startsWith("/pipelines") },
  { href: "/runs", label: "Runs", owns: (path: string) => path.startsWith("/runs") },
  { href: "/workers", label: "Workers", owns: (path: string) => path.startsWith("/workers") },
  { href: "/connections", label: "Connections", owns: (path: string) => path.startsWith("/connections") },
];

/** The bar above every page: the sections (the current one marked for screen readers too), theme, log out. */
export function SiteNav({ loggedIn }: { loggedIn: boolean }) {
  const pathname = usePathname() ?? "/";
  return (
    <nav className={styles.nav} aria-label="Site">
      <Link href="/" className={styles.brand} aria-label="Sluice home">
        <img src="/icon.svg" alt="" width={18} height={18} />
        Sluice
      </Link>
      {SECTIONS.map((section) => (
        <Link key={section.href} href={section.href} aria-current={section.owns(pathname) ? "page" : undefined}>
          {section.label}
        </Link>
      ))}
      <div className={styles.end}>
        <ThemeToggle />
        {loggedIn && (
          <form method="post" action="/logout">
            <button type="submit">Log out</button>
          </form>
        )}
      </div>
    </nav>
  );
}
