"use client";

import { useCallback, useEffect, useState } from "react";
import { callApi } from "@/components/ui/api-client";
import { PageHeader } from "@/components/ui/PageHeader";
import type { ConnectionsListingJson, ConnectionTestJson, ConnectionViewJson } from "@/lib/core/api-contract";
import { ConnectionForm } from "./ConnectionForm";
import styles from "./connections.module.css";

/** The server re-reads sluice.yaml when it changes; the page asks again this often to show it. */
const POLL_MS = 5000;

function SecretBadge({ state }: { state: { set: boolean; env_var: string | null } }) {
  if (!state.set) return <span className={styles.unset}>not set</span>;
  return <span className={styles.secret}>{state.env_var ? `from env ${state.env_var}` : "set"}</span>;
}

/** One connection: its plain fields as the file has them, its secrets only as set / not set. */
function ConnectionCard({
  connection,
  onEdit,
  onDelete,
  onTest,
  result,
  testing,
}: {
  connection: ConnectionsListingJson["connections"][number];
  onEdit: () => void;
  onDelete: () => void;
  onTest: () => void;
  result: ConnectionTestJson | null;
  testing: boolean;
}) {
  return (
    <li className={styles.card} aria-labelledby={`connection-${connection.name}`}>
      <div className={styles.cardHead}>
        <h2 id={`connection-${connection.name}`}>{connection.name}</h2>
        <span className={styles.kind}>{connection.kind}</span>
        {connection.line !== null && <span className={styles.muted}>sluice.yaml line {connection.line}</span>}
        <div className={styles.cardActions}>
          <button type="button" onClick={onTest} disabled={testing} aria-label={`Test connection ${connection.name}`}>
            {testing ? "Testing…" : "Test"}
          </button>
          <button type="button" onClick={onEdit} aria-label={`Edit connection ${connection.name}`}>
            Edit
          </button>
          <button type="button" onClick={onDelete} className={styles.danger} aria-label={`Delete connection ${connection.name}`}>
            Delete
          </button>
        </div>
      </div>
      <dl className={styles.fields}>
        {Object.entries(connection.fields).map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>
              <code>{String(value)}</code>
            </dd>
          </div>
        ))}
        {Object.entries(connection.secrets).map(([key, state]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>
              <SecretBadge state={state} />
            </dd>
          </div>
        ))}
        {connection.headers.map((header) => (
          <div key={`header-${header.name}`}>
            <dt>header {header.name}</dt>
            <dd>
              <SecretBadge state={header} />
            </dd>
          </div>
        ))}
      </dl>
      <p aria-live="polite" className={result ? (result.ok ? styles.ok : styles.failed) : styles.empty} data-testid={`test-result-${connection.name}`}>
        {result ? `${result.ok ? "Connected" : "Failed"}: ${result.message} (${result.elapsed_ms} ms)` : ""}
      </p>
    </li>
  );
}

/**
 * The connections page: the connections of `sluice.yaml` (where the file is, whether it is valid), each with
 * Test, Edit and Delete, and a form to add one. The server re-reads the file when it changes, so a hand edit
 * shows up here within a few seconds, and a broken file is shown with its line while the last good
 * connections stay in use.
 */
export function ConnectionsPage({ initial, initialError }: { initial: ConnectionsListingJson | null; initialError: string | null }) {
  const [listing, setListing] = useState<ConnectionsListingJson | null>(initial);
  const [error, setError] = useState<string | null>(initialError);
  const [editing, setEditing] = useState<ConnectionViewJson | "new" | null>(null);
  const [results, setResults] = useState<Record<string, ConnectionTestJson>>({});
  const [testing, setTesting] = useState<string | null>(null);
  const [status, setStatus] = useState("");

  const refresh = useCallback(async () => {
    const result = await callApi("listConnections");
    if (result.ok) {
      setListing(result.data);
      setError(null);
    } else {
      setError(result.error.message);
    }
  }, []);

  useEffect(() => {
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  async function test(name: string) {
    setTesting(name);
    const result = await callApi("testConnection", { params: { name }, body: {} });
    setTesting(null);
    setResults({ ...results, [name]: result.ok ? result.data : { ok: false, message: result.error.message, elapsed_ms: 0 } });
  }

  async function remove(name: string, version: string) {
    if (!window.confirm(`Delete connection "${name}" from sluice.yaml?`)) return;
    const result = await callApi("deleteConnection", { params: { name }, version });
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setStatus(`Deleted ${name}.`);
    await refresh();
  }

  const connections = listing?.connections ?? [];
  return (
    <main className={styles.page}>
      <PageHeader
        title="Connections"
        actions={
          <button type="button" className={styles.primary} onClick={() => setEditing("new")} disabled={editing !== null || !listing}>
            Add connection
          </button>
        }
      >
        {listing ? (
          <>
            From <code>{listing.file}</code>
            {listing.exists ? "" : " (not created yet: adding a connection creates it)"} · re-read whenever it or <code>.env</code> changes
          </>
        ) : null}
      </PageHeader>
      <p aria-live="polite" className={styles.status}>
        {status}
      </p>
      {error && (
        <p className={styles.formError} role="alert">
          {error}
        </p>
      )}
      {listing?.problem && (
        <div className={styles.problem} role="alert">
          <strong>sluice.yaml is invalid{listing.problem.line !== null ? ` at line ${listing.problem.line}` : ""}</strong>: the connections in use are the last valid
          ones (read {new Date(listing.loaded_at).toLocaleTimeString()}).
          <pre>{listing.problem.message}</pre>
        </div>
      )}
      {listing && editing !== null && (
        <ConnectionForm
          key={editing === "new" ? "new" : editing.name}
          kinds={listing.kinds}
          editing={editing === "new" ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(connection, created) => {
            setEditing(null);
            setStatus(`${created ? "Added" : "Saved"} ${connection.name}.`);
            void refresh();
          }}
        />
      )}
      {listing && connections.length === 0 && <p className={styles.muted}>No connections yet. Blocks reach databases, buckets and APIs through the connections named here.</p>}
      <ul className={styles.list} aria-label="Connections">
        {connections.map((connection) => (
          <ConnectionCard
            key={connection.name}
            connection={connection}
            result={results[connection.name] ?? null}
            testing={testing === connection.name}
            onTest={() => void test(connection.name)}
            onEdit={() => setEditing(connection)}
            onDelete={() => void remove(connection.name, connection.version)}
          />
        ))}
      </ul>
    </main>
  );
}
