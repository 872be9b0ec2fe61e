import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { SiteNav } from "@/components/ui/SiteNav";
import { THEME_SCRIPT } from "@/components/ui/theme-script";
import "./globals.css";

export const metadata = { title: "Sluice", description: "Notebook-style block pipelines" };

/** The login cookie's name, as lib/server/access.ts sets it (routes reach lib/server only through its api/ services). */
const TOKEN_COOKIE = "sluice_token";

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Logged in by cookie: offer to log out (bearer scripts and a server without a token have nothing to end).
  const loggedIn = (await cookies()).has(TOKEN_COOKIE);
  return (
    // The theme script sets data-theme on <html> before React hydrates: that difference is expected.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <SiteNav loggedIn={loggedIn} />
        {children}
      </body>
    </html>
  );
}
