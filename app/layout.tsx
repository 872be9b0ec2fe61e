import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";
import nav from "./site-nav.module.css";

export const metadata = { title: "Sluice", description: "Notebook-style block pipelines" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <nav className={nav.nav} aria-label="Site">
          <Link href="/" className={nav.brand}>
            Sluice
          </Link>
          <Link href="/">Pipelines</Link>
          <Link href="/runs">Runs</Link>
          <Link href="/workers">Workers</Link>
        </nav>
        {children}
      </body>
    </html>
  );
}
