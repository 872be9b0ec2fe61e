"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { PipelineListItem, ResponseOf } from "@/lib/core/api-contract";
import { apiCall, seg } from "../ui/api-client";
import { formatTime } from "../ui/format";
import styles from "./pipelines.module.css";

function CreateForm({ pipelines }: { pipelines: PipelineListItem[] }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [template, setTemplate] = useState("blank");
  const [error, setError] = useState<string | null>(null);
  const examples = pipelines.filter((p) => !p.error);
  return (
    <form
      className={styles.create}
      onSubmit={async (event) => {
        event.preventDefault();
        const result = await apiCall<ResponseOf<"createPipeline">>("/api/pipelines", { method: "POST", body: { name, template } });
        if (!result.ok) return setError(result.error.message);
        router.push(`/pipelines/${seg(result.data.name)}`);
      }}
    >
      <label>
        New pipeline <input aria-label="New pipeline name" placeholder="my_pipeline" value={name} onChange={(e) => (setName(e.target.value), setError(null))} required />
      </label>
      <label>
        from{" "}
        <select aria-label="Template" value={template} onChange={(e) => setTemplate(e.target.value)}>
          <option value="blank">blank</option>
          {examples.map((p) => (
            <option key={p.name} value={p.name}>
              copy of {p.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary">
        Create
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function Row({ p, onError }: { p: PipelineListItem; onError(message: string): void }) {
  const router = useRouter();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [newName, setNewName] = useState(p.name);
  const act = async (work: () => Promise<{ ok: boolean; message?: string }>) => {
    const result = await work();
    if (!result.ok) onError(result.message ?? "failed");
    setMode("view");
    router.refresh();
  };
  const rename = () =>
    act(async () => {
      const r = await apiCall<ResponseOf<"savePipeline">>(`/api/pipelines/${seg(p.name)}`, { method: "PUT", body: { name: newName }, version: p.version ?? undefined });
      return r.ok ? { ok: true } : { ok: false, message: r.error.message };
    });
  const duplicate = () =>
    act(async () => {
      const r = await apiCall<ResponseOf<"createPipeline">>(`/api/pipelines`, { method: "POST", body: { name: `${p.name}_copy`, template: p.name } });
      return r.ok ? { ok: true } : { ok: false, message: r.error.message };
    });
  const remove = () =>
    act(async () => {
      const r = await apiCall<ResponseOf<"deletePipeline">>(`/api/pipelines/${seg(p.name)}`, { method: "DELETE" });
      return r.ok ? { ok: true } : { ok: false, message: r.error.message };
    });
  return (
    <tr data-testid="pipeline-row">
      <td>
        {mode === "rename" ? (
          <input aria-label={`New name for ${p.name}`} value={newName} autoFocus onChange={(e) => setNewName(e.target.value)} onKeyDown={(e) => e.key === "Enter" && void rename()} />
        ) : p.error ? (
          <strong>{p.name}</strong>
        ) : (
          <Link href={`/pipelines/${seg(p.name)}`} className={styles.name}>
            {p.name}
          </Link>
        )}
        {p.error ? <span className={styles.problem}>{p.error}</span> : p.description && <span className={styles.description}>{p.description}</span>}
      </td>
      <td className={styles.num}>{p.blocks ?? ""}</td>
      <td>
        {p.last_run ? (
          <>
            <Link href={`/runs/${seg(p.last_run.id)}`} className={`${styles.badge} ${styles[`state_${p.last_run.state}`] ?? ""}`} aria-label={`Last run ${p.last_run.state}`} data-testid="last-run-state">
              <span className={styles.dot} aria-hidden="true" />
              {p.last_run.state}
            </Link>
            <span className={styles.when}>{formatTime(p.last_run.created_at)}</span>
          </>
        ) : (
          <span className="muted">never run</span>
        )}
      </td>
      <td>
        {p.schedules.length > 0 ? (
          <ul className={styles.schedules}>
            {p.schedules.map((schedule) => (
              <li key={schedule}>{schedule}</li>
            ))}
          </ul>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className={styles.triggers}>
        {p.error ? (
          p.triggers
        ) : (
          <Link href={`/pipelines/${seg(p.name)}/triggers`} title={`Triggers of ${p.name}`}>
            {p.triggers}
          </Link>
        )}
      </td>
      <td className={styles.actions}>
        {mode === "rename" && (
          <>
            <button type="button" onClick={() => void rename()}>
              Save name
            </button>
            <button type="button" onClick={() => setMode("view")}>
              Cancel
            </button>
          </>
        )}
        {mode === "confirm-delete" && (
          <>
            Delete {p.name} and its files?{" "}
            <button type="button" className="danger" onClick={() => void remove()}>
              Yes, delete
            </button>
            <button type="button" onClick={() => setMode("view")}>
              Keep
            </button>
          </>
        )}
        {mode === "view" && (
          <>
            <button type="button" disabled={!p.version} onClick={() => setMode("rename")}>
              Rename
            </button>
            <button type="button" disabled={!p.version} onClick={() => void duplicate()}>
              Duplicate
            </button>
            <button type="button" onClick={() => setMode("confirm-delete")}>
              Delete
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

/** The home page: the pipelines of this project, with create / rename / duplicate / delete. */
export function PipelineList({ pipelines }: { pipelines: PipelineListItem[] }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <CreateForm pipelines={pipelines} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className={styles.card}>
        <table className={styles.table}>
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col" className={styles.num}>
                Blocks
              </th>
              <th scope="col">Last run</th>
              <th scope="col">Schedule</th>
              <th scope="col">Triggers</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pipelines.map((p) => (
              <Row key={p.name} p={p} onError={setError} />
            ))}
          </tbody>
        </table>
        {pipelines.length === 0 && <p className={styles.empty}>No pipelines yet: create one above.</p>}
      </div>
    </>
  );
}
