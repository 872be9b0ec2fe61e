"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { apiCall, seg } from "@/components/ui/api-client";
import { formatTime } from "@/components/ui/format";
import type { ResponseOf, TriggerJson } from "@/lib/core/api-contract";
import type { Variables } from "@/lib/core/model";
import { RunWithVariablesDialog } from "../editor/RunWithVariablesDialog";
import { BackfillPanel } from "./BackfillPanel";
import { usePipelineVariables } from "./pipeline-variables";
import { bodyOf, TriggerForm } from "./TriggerForm";
import styles from "./triggers.module.css";

/** A token just issued: shown once, with the URL and a ready curl line. */
interface IssuedToken {
  trigger: string;
  token: string;
  url: string;
}

/** The curl example's body: the variables the trigger lets callers set, with example values (shell-quoted). */
function curlBody(trigger: TriggerJson | null): string {
  return JSON.stringify({ variables: trigger?.example_variables ?? {} }).replace(/'/g, "'\\''");
}

/** The triggers page of one pipeline. */
export function TriggersPage({ pipeline }: { pipeline: string }) {
  const [triggers, setTriggers] = useState<TriggerJson[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [form, setForm] = useState<{ editing: TriggerJson | null } | null>(null);
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const [started, setStarted] = useState<{ trigger: string; runId: string } | null>(null);
  const [runWith, setRunWith] = useState<TriggerJson | null>(null);
  const defaults = usePipelineVariables(pipeline, runWith !== null);
  const base = `/api/pipelines/${seg(pipeline)}/triggers`;

  const load = useCallback(async () => {
    const result = await apiCall<ResponseOf<"listTriggers">>(base);
    if (result.ok) {
      setTriggers(result.data.triggers);
      setLoadError(null);
    } else setLoadError(result.error.message);
  }, [base]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, [load]);

  async function toggle(trigger: TriggerJson) {
    const result = await apiCall<ResponseOf<"updateTrigger">>(`${base}/${seg(trigger.name)}`, { method: "PUT", body: bodyOf(trigger, { enabled: !trigger.enabled }) });
    setActionError(result.ok ? null : result.error.message);
    await load();
  }

  async function runNow(trigger: TriggerJson, variables?: Variables) {
    const result = await apiCall<ResponseOf<"runTriggerNow">>(`${base}/${seg(trigger.name)}/run`, { method: "POST", ...(variables ? { body: { variables } } : {}) });
    if (result.ok) setStarted({ trigger: trigger.name, runId: result.data.run_id });
    setActionError(result.ok ? null : result.error.message);
    await load();
  }

  async function remove(trigger: TriggerJson) {
    if (!window.confirm(`Delete trigger ${trigger.name}? Its run history is kept.`)) return;
    const result = await apiCall<ResponseOf<"deleteTrigger">>(`${base}/${seg(trigger.name)}`, { method: "DELETE" });
    setActionError(result.ok ? null : result.error.message);
    await load();
  }

  async function issueToken(trigger: TriggerJson) {
    const result = await apiCall<ResponseOf<"issueTriggerToken">>(`${base}/${seg(trigger.name)}/token`, { method: "POST" });
    if (result.ok) setIssued({ trigger: trigger.name, token: result.data.token, url: `${window.location.origin}${result.data.url_path}` });
    setActionError(result.ok ? null : result.error.message);
    await load();
  }

  async function revokeToken(trigger: TriggerJson) {
    if (!window.confirm(`Revoke the token of ${trigger.name}? Calls with it are refused from now on.`)) return;
    const result = await apiCall<ResponseOf<"revokeTriggerToken">>(`${base}/${seg(trigger.name)}/token`, { method: "DELETE" });
    if (result.ok && issued?.trigger === trigger.name) setIssued(null);
    setActionError(result.ok ? null : result.error.message);
    await load();
  }

  const scheduleTriggers = (triggers ?? []).filter((t) => t.type === "schedule");

  return (
    <main className={styles.page}>
      <nav className={styles.crumbs}>
        <Link href="/">Pipelines</Link>
        <Link href={`/pipelines/${seg(pipeline)}`}>{pipeline}</Link>
        <Link href={`/runs?pipeline=${seg(pipeline)}`}>Runs</Link>
      </nav>
      <h1>Triggers of {pipeline}</h1>
      {loadError && (
        <p className={styles.error} role="alert">
          {loadError}
        </p>
      )}
      {actionError && (
        <p className={styles.error} role="alert" data-testid="action-error">
          {actionError}
        </p>
      )}
      <section className={styles.section}>
        <div className={styles.row}>
          <h2>Triggers</h2>
          <button type="button" className={`${styles.button} ${styles.primary}`} onClick={() => setForm({ editing: null })}>
            New trigger
          </button>
        </div>
        {triggers === null ? (
          <p className={styles.muted}>Loading…</p>
        ) : triggers.length === 0 ? (
          <p className={styles.muted}>No triggers yet: runs start only by hand.</p>
        ) : (
          <table className={styles.table}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>State</th>
                <th>Schedule</th>
                <th>Next run</th>
                <th>Last run</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {triggers.map((t) => (
                <tr key={t.name} data-testid={`trigger-row-${t.name}`}>
                  <td>
                    <strong>{t.name}</strong>
                    {t.description && <div className={styles.muted}>{t.description}</div>}
                  </td>
                  <td>{t.type}</td>
                  <td>
                    <span className={`${styles.badge} ${t.enabled ? styles.state_enabled : styles.state_disabled}`} data-testid="trigger-state">
                      {t.enabled ? "enabled" : "disabled"}
                    </span>
                  </td>
                  <td>
                    {t.type === "schedule" ? (
                      <>
                        <code>{t.schedule ?? `every ${t.interval ?? "?"}`}</code>
                        <div className={styles.muted}>{t.describe}</div>
                      </>
                    ) : (
                      <code className={styles.muted}>{t.url_path}</code>
                    )}
                  </td>
                  <td title={t.next_run ?? ""}>{t.next_run ? formatTime(t.next_run, t.timezone ?? "UTC") : "—"}</td>
                  <td>
                    {t.last_run ? (
                      <Link href={`/runs/${seg(t.last_run.id)}`}>
                        <span className={`${styles.badge} ${styles[`state_${t.last_run.state}`] ?? ""}`}>{t.last_run.state}</span> {formatTime(t.last_run.created_at, t.timezone ?? "UTC")}
                      </Link>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>
                    <div className={styles.row}>
                      <button type="button" className={styles.button} onClick={() => setForm({ editing: t })}>
                        Edit
                      </button>
                      <button type="button" className={styles.button} onClick={() => void toggle(t)}>
                        {t.enabled ? "Disable" : "Enable"}
                      </button>
                      <button type="button" className={styles.button} onClick={() => void runNow(t)}>
                        Run now
                      </button>
                      <button type="button" className={styles.button} onClick={() => setRunWith(t)}>
                        Run with variables…
                      </button>
                      {t.type === "api" && (
                        <button type="button" className={styles.button} onClick={() => void issueToken(t)}>
                          {t.has_token ? "Rotate token" : "Generate token"}
                        </button>
                      )}
                      {t.type === "api" && t.has_token && (
                        <button type="button" className={styles.button} onClick={() => void revokeToken(t)}>
                          Revoke token
                        </button>
                      )}
                      <button type="button" className={`${styles.button} ${styles.danger}`} onClick={() => void remove(t)}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {runWith && defaults && (
          <RunWithVariablesDialog
            title={`Run ${runWith.name} now with variables`}
            variables={{ ...defaults.variables, ...(runWith.variables as Variables) }}
            secrets={defaults.secrets}
            onRun={(variables) => runNow(runWith, variables)}
            onClose={() => setRunWith(null)}
          />
        )}
        {started && (
          <p data-testid="run-started">
            Run of {started.trigger} started: <Link href={`/runs/${seg(started.runId)}`}>{started.runId}</Link>
          </p>
        )}
        {issued && (
          <div className={styles.secret} data-testid="issued-token">
            <strong>Token for {issued.trigger}</strong> — copy it now: it is shown only once.
            <code className={styles.code} data-testid="token-value">
              {issued.token}
            </code>
            <div className={styles.muted}>URL</div>
            <code className={styles.code} data-testid="trigger-url">
              {issued.url}
            </code>
            <div className={styles.muted}>curl</div>
            <code className={styles.code} data-testid="curl-line">
              {`curl -X POST '${issued.url}' -H 'Authorization: Bearer ${issued.token}' -H 'Content-Type: application/json' -d '${curlBody(triggers?.find((t) => t.name === issued.trigger) ?? null)}'`}
            </code>
            <button type="button" className={styles.button} onClick={() => setIssued(null)}>
              I have copied it
            </button>
          </div>
        )}
      </section>
      {form && (
        <TriggerForm
          key={form.editing?.name ?? "new"}
          pipeline={pipeline}
          editing={form.editing}
          onCancel={() => setForm(null)}
          onSaved={() => {
            setForm(null);
            void load();
          }}
        />
      )}
      {scheduleTriggers.length > 0 && <BackfillPanel pipeline={pipeline} triggers={scheduleTriggers.map((t) => t.name)} />}
    </main>
  );
}
