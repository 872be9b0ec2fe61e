import { cookies } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";
import nav from "./site-nav.module.css";

export const metadata = { title: "Sluice", description: "Notebook-style block pipelines" };

/** The login cookie's name, as lib/server/access.ts sets it (routes reach lib/server only through its api/ services). */
const TOKEN_COOKIE = "sluice_token";

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Logged in by cookie: offer to log out (bearer scripts and a server without a token have nothing to end).
  const loggedIn = (await cookies()).has(TOKEN_COOKIE);
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
          {loggedIn && (
            <form method="post" action="/logout" className={nav.logout}>
              <button type="submit">Log out</button>
            </form>
          )}
        </nav>
        {children}
      </body>
    </html>
  );
}
