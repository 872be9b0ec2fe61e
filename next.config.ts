import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The engine (DuckDB, SQLite, worker threads) runs in the custom server, never inside Next's bundles.
  serverExternalPackages: ["@duckdb/node-api", "better-sqlite3", "esbuild", "parquet-wasm"],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (CI runs it); skipping it here halves `next build`.
  typescript: { ignoreBuildErrors: true },
  turbopack: { root: __dirname },
};

export default nextConfig;
