import type { ReactNode } from "react";
import "./globals.css";

export const metadata = { title: "Sluice", description: "Notebook-style block pipelines" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
