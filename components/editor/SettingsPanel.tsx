"use client";

/**
 * The editor's side panel: the pipeline's description and variables, and the settings of one block. Every
 * edit is a `PipelineChange` sent through the editor store, so the server writes it into `pipeline.yaml`
 * keeping the file's comments and layout. Problems a run would be refused for are listed here too.
 */
import { useEffect, useMemo, useState } from "react";
import { formatByteSize, parseByteSize } from "@/lib/core/byte-size";
import { formatDuration, parseDuration } from "@/lib/core/duration";
import { messageOf } from "@/lib/core/errors";
import { BLOCK_TYPES, DEFAULT_RETRY_POLICY, SENSOR_MODES, type BlockSpec, type VariableValue } from "@/lib/core/model";
import type { BlockSettings } from "@/lib/core/pipeline-changes";
import { findRunIssues, type RunIssue } from "@/lib/core/pipeline-checks";
import { TRIGGER_RULES } from "@/lib/core/trigger-rules";
import type { ResponseOf } from "@/lib/core/api-contract";
import { apiCall } from "../ui/api-client";
import { useEditor } from "./EditorProvider";
import { RunWithVariablesDialog } from "./RunWithVariablesDialog";
import { convertVariable, formatVariableInput, parseVariableInput, variableTypeOf, VARIABLE_TYPES, type VariableType } from "./variable-types";
import styles from "./settings.module.css";

/** One empty list for pipelines without secrets: a store selector must not return a new array each time. */
const NO_SECRETS: readonly string[] = [];

/** The connections of sluice.yaml the block panel offers (names only: secrets never leave the server). */
export function useConnectionNames(): { file: string; names: string[] } | null {
  const [connections, setConnections] = useState<{ file: string; names: string[] } | null>(null);
  useEffect(() => {
    let live = true;
    void apiCall<ResponseOf<"listConnections">>("/api/connections").then((result) => {
      if (live && result.ok) setConnections({ file: result.data.file, names: result.data.connections.map((c) => c.name) });
    });
    return () => {
      live = false;
    };
  }, []);
  return connections;
}

/** What a run would be refused for, from the code as typed and the connections sluice.yaml defines. */
export function useRunIssues(connections: { file: string; names: string[] } | null): RunIssue[] {
  const pipeline = useEditor((s) => s.pipeline);
  const code = useEditor((s) => s.code);
  return useMemo(() => {
    const sql: Record<string, string> = {};
    for (const block of pipeline.blocks) if (block.language === "sql" && code[block.name]) sql[block.name] = code[block.name].code;
    return findRunIssues(pipeline, { code: sql, ...(connections ? { connections } : {}) });
  }, [pipeline, code, connections]);
}

function PanelError() {
  const notice = useEditor((s) => (s.notice?.kind === "error" ? s.notice.message : null));
  if (!notice) return null;
  return (
    <p className={styles.error} role="alert">
      {notice}
    </p>
  );
}

function DescriptionField() {
  const description = useEditor((s) => s.pipeline.description);
  const changePipeline = useEditor((s) => s.changePipeline);
  const [value, setValue] = useState(description);
  useEffect(() => setValue(description), [description]);
  return (
    <label className={styles.field}>
      <span>Description</span>
      <textarea
        rows={2}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => {
          if (value !== description) void changePipeline([{ type: "set_description", description: value }]);
        }}
      />
    </label>
  );
}

/** One typed input for a variable's value: checkbox, number, date, password for a secret, text otherwise. */
export function VariableValueInput({ type, value, label, onCommit }: { type: VariableType; value: VariableValue; label: string; onCommit(value: VariableValue): void }) {
  const [text, setText] = useState(formatVariableInput(type, value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(formatVariableInput(type, value)), [type, value]);
  if (type === "boolean") {
    return <input type="checkbox" aria-label={label} checked={value === true} onChange={(e) => onCommit(e.target.checked)} />;
  }
  const commit = () => {
    // A secret left empty keeps its value: the browser never had it.
    if (type === "secret" && text === "") return;
    if (text === formatVariableInput(type, value)) return;
    const parsed = parseVariableInput(type, text);
    if (!parsed.ok) return setError(parsed.message);
    setError(null);
    onCommit(parsed.value);
  };
  const inputType = type === "number" ? "number" : type === "date" ? "date" : type === "secret" ? "password" : "text";
  return (
    <span className={styles.valueCell}>
      <input
        type={inputType}
        aria-label={label}
        aria-invalid={error !== null}
        placeholder={type === "secret" ? "hidden; type to replace" : type === "list" ? "a, b, c" : undefined}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
      {error && <small className={styles.error}>{error}</small>}
    </span>
  );
}

function VariableRow({ name, value, secrets }: { name: string; value: VariableValue; secrets: readonly string[] }) {
  const changePipeline = useEditor((s) => s.changePipeline);
  const type = variableTypeOf(name, value, secrets);
  const [newName, setNewName] = useState(name);
  useEffect(() => setNewName(name), [name]);
  return (
    <tr>
      <td>
        <input
          aria-label={`Name of variable ${name}`}
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
          onBlur={() => {
            if (newName !== name && newName !== "") void changePipeline([{ type: "rename_variable", from: name, to: newName }]);
          }}
        />
      </td>
      <td>
        <select
          aria-label={`Type of variable ${name}`}
          value={type}
          onChange={(e) => {
            const next = e.target.value as VariableType;
            if (next === "secret") return void changePipeline([{ type: "set_variable", name, value, secret: true }]);
            void changePipeline([{ type: "set_variable", name, value: convertVariable(next, type === "secret" ? "" : value), secret: false }]);
          }}
        >
          {VARIABLE_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
          {type === "json" && <option value="json">json</option>}
        </select>
      </td>
      <td>
        <VariableValueInput type={type} value={value} label={`Value of variable ${name}`} onCommit={(v) => void changePipeline([{ type: "set_variable", name, value: v }])} />
      </td>
      <td>
        <button type="button" aria-label={`Remove variable ${name}`} onClick={() => void changePipeline([{ type: "remove_variable", name }])}>
          Remove
        </button>
      </td>
    </tr>
  );
}

function AddVariable() {
  const changePipeline = useEditor((s) => s.changePipeline);
  const [name, setName] = useState("");
  const [type, setType] = useState<VariableType>("string");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const add = async () => {
    const parsed = type === "boolean" ? { ok: true as const, value: text === "true" } : parseVariableInput(type, text);
    if (!parsed.ok) return setError(parsed.message);
    setError(null);
    if (await changePipeline([{ type: "set_variable", name, value: parsed.value, ...(type === "secret" ? { secret: true } : {}) }])) {
      setName("");
      setText("");
    }
  };
  return (
    <form
      className={styles.addRow}
      aria-label="Add variable"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <input aria-label="New variable name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
      <select aria-label="New variable type" value={type} onChange={(e) => setType(e.target.value as VariableType)}>
        {VARIABLE_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      {type === "boolean" ? (
        <input type="checkbox" aria-label="New variable value" checked={text === "true"} onChange={(e) => setText(String(e.target.checked))} />
      ) : (
        <input
          aria-label="New variable value"
          type={type === "number" ? "number" : type === "date" ? "date" : type === "secret" ? "password" : "text"}
          placeholder={type === "list" ? "a, b, c" : "value"}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      )}
      <button type="submit">Add variable</button>
      {error && <small className={styles.error}>{error}</small>}
    </form>
  );
}

function PipelineSettings() {
  const variables = useEditor((s) => s.pipeline.variables);
  const secrets = useEditor((s) => s.pipeline.secretVariables ?? NO_SECRETS);
  const names = Object.keys(variables);
  return (
    <section aria-label="Pipeline settings" className={styles.section}>
      <h2>Pipeline</h2>
      <DescriptionField />
      <h3>Variables</h3>
      {names.length === 0 ? (
        <p className={styles.muted}>No variables yet. Blocks read them as ctx.variables.name, SQL as {"{{ variables.name }}"}.</p>
      ) : (
        <table className={styles.variables}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className={styles.visuallyHidden}>Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => (
              <VariableRow key={name} name={name} value={variables[name]} secrets={secrets} />
            ))}
          </tbody>
        </table>
      )}
      <AddVariable />
    </section>
  );
}

/**
 * One block setting as the panel shows it. A setting the model gains is one more entry in `BLOCK_FIELDS`:
 * its key, label, kind of input and when it applies.
 */
interface BlockField {
  key: Exclude<keyof BlockSettings, "retries" | "type" | "language">;
  label: string;
  kind: "duration" | "size" | "text" | "boolean" | "choice" | "connection" | "list" | "conditions";
  options?: readonly string[];
  /** Whether the field is shown for this block; `blocks` is the whole pipeline (e.g. "has a dynamic upstream"). */
  applies?: (block: BlockSpec, blocks: readonly BlockSpec[]) => boolean;
  hint?: string;
  /** Settings that only make sense with this one, cleared in the same change when this one is cleared. */
  dependents?: readonly BlockField["key"][];
}

export const BLOCK_FIELDS: readonly BlockField[] = [
  { key: "timeoutMs", label: "Timeout", kind: "duration", hint: "e.g. 10m; empty: the server's default" },
  { key: "connection", label: "Connection", kind: "connection", applies: (b) => b.language === "sql", hint: "run the SQL in this sluice.yaml connection" },
  { key: "queue", label: "Queue", kind: "text", hint: "queue executor only; empty: default" },
  { key: "memoryBytes", label: "Memory", kind: "size", applies: (b) => b.language === "ts", hint: "e.g. 512m, 2g; empty: the default" },
  { key: "pokeIntervalMs", label: "Poke interval", kind: "duration", applies: (b) => b.type === "sensor" },
  { key: "softFail", label: "Soft fail", kind: "boolean", applies: (b) => b.type === "sensor" },
  { key: "mode", label: "Sensor mode", kind: "choice", options: SENSOR_MODES, applies: (b) => b.type === "sensor", hint: "reschedule frees the worker slot between pokes" },
  { key: "triggerRule", label: "Trigger rule", kind: "choice", options: TRIGGER_RULES },
  { key: "conditions", label: "Conditions", kind: "conditions", applies: (b) => b.type !== "condition" || (b.conditions?.length ?? 0) > 0 },
  { key: "dynamic", label: "Dynamic", kind: "boolean", hint: "each output row becomes one instance of each direct downstream block", dependents: ["dynamicKey"] },
  { key: "dynamicKey", label: "Dynamic key", kind: "text", applies: (b) => b.dynamic === true, hint: "column naming the instances; empty: child[0], child[1]…" },
  {
    key: "reduce",
    label: "Reduce",
    kind: "boolean",
    // Only meaningful below a dynamic block; still shown where it is set so it can be cleared.
    applies: (b, blocks) => b.reduce === true || b.upstream.some((u) => blocks.find((x) => x.name === u)?.dynamic === true),
    hint: "gather this block's instances into one table",
  },
];

/** The text an input shows for a setting's value. */
function fieldText(field: BlockField, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "duration" && typeof value === "number") return formatDuration(value);
  if (field.kind === "size" && typeof value === "number") return formatByteSize(value);
  if (field.kind === "list" && Array.isArray(value)) return value.join(", ");
  return String(value);
}

/** The setting's value from the input's text; empty is "back to the default" (null). */
function fieldValue(field: BlockField, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (field.kind === "duration") return parseDuration(trimmed);
  if (field.kind === "size") return parseByteSize(trimmed);
  if (field.kind === "list") return trimmed.split(",").map((s) => s.trim()).filter(Boolean);
  return trimmed;
}

/**
 * The conditions gating a block: one checkbox per condition block of the pipeline. A name listed in the file
 * that is not (or no longer) a condition block stays visible, marked, so it can be unticked.
 */
function ConditionsInput({ block, blocks, save }: { block: BlockSpec; blocks: readonly BlockSpec[]; save(value: string[] | null): void }) {
  const current = block.conditions ?? [];
  const conditionBlocks = blocks.filter((b) => b.type === "condition" && b.name !== block.name).map((b) => b.name);
  const stray = current.filter((name) => !conditionBlocks.includes(name));
  const toggle = (name: string, on: boolean) => {
    const next = on ? [...current, name] : current.filter((n) => n !== name);
    save(next.length > 0 ? next : null);
  };
  return (
    <fieldset className={styles.upstreams}>
      <legend>Conditions</legend>
      {conditionBlocks.length === 0 && stray.length === 0 && <span className={styles.muted}>no condition blocks: add one of type condition</span>}
      {[...conditionBlocks, ...stray].map((name) => (
        <label key={name}>
          <input type="checkbox" checked={current.includes(name)} onChange={(e) => toggle(name, e.target.checked)} /> {name}
          {stray.includes(name) && <small className={styles.error}> (not a condition block)</small>}
        </label>
      ))}
    </fieldset>
  );
}

function BlockFieldInput({ block, field, connections }: { block: BlockSpec; field: BlockField; connections: { file: string; names: string[] } | null }) {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const changePipeline = useEditor((s) => s.changePipeline);
  const current = (block as unknown as Record<string, unknown>)[field.key];
  const [text, setText] = useState(fieldText(field, current));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(fieldText(field, current)), [field, current]);
  const save = (value: unknown) => {
    const settings: Record<string, unknown> = { [field.key]: value };
    if (value === null) for (const key of field.dependents ?? []) if ((block as unknown as Record<string, unknown>)[key] !== undefined) settings[key] = null;
    void changePipeline([{ type: "set_block_settings", block: block.name, settings: settings as BlockSettings }]);
  };
  const commit = () => {
    if (text === fieldText(field, current)) return;
    try {
      const value = fieldValue(field, text);
      setError(null);
      save(value);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const id = `block-${block.name}-${field.key}`;
  if (field.kind === "conditions") return <ConditionsInput block={block} blocks={blocks} save={save} />;
  let input;
  if (field.kind === "boolean") {
    input = <input id={id} type="checkbox" title={field.hint} checked={current === true} onChange={(e) => save(e.target.checked ? true : null)} />;
  } else if (field.kind === "choice" || field.kind === "connection") {
    const options = field.kind === "connection" ? (connections?.names ?? []) : (field.options ?? []);
    const value = typeof current === "string" ? current : "";
    input = (
      <select id={id} value={value} title={field.hint} onChange={(e) => save(e.target.value === "" ? null : e.target.value)}>
        <option value="">{field.kind === "connection" ? "(the run's DuckDB)" : "(default)"}</option>
        {value !== "" && !options.includes(value) && <option value={value}>{value} (not defined)</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        value={text}
        placeholder={field.hint}
        aria-invalid={error !== null}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
    );
  }
  return (
    <div className={styles.field}>
      <label htmlFor={id}>{field.label}</label>
      {input}
      {error && <small className={styles.error}>{error}</small>}
    </div>
  );
}

function RetriesField({ block }: { block: BlockSpec }) {
  const changePipeline = useEditor((s) => s.changePipeline);
  const [count, setCount] = useState(String(block.retries.count));
  const [delay, setDelay] = useState(formatDuration(block.retries.delayMs));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setCount(String(block.retries.count));
    setDelay(formatDuration(block.retries.delayMs));
  }, [block.retries]);
  const commit = () => {
    try {
      const parsedCount = Number(count);
      if (!Number.isSafeInteger(parsedCount) || parsedCount < 0) throw new Error(`retries must be a whole number ≥ 0, not "${count}"`);
      const delayMs = delay.trim() === "" ? DEFAULT_RETRY_POLICY.delayMs : parseDuration(delay.trim());
      setError(null);
      if (parsedCount === block.retries.count && delayMs === block.retries.delayMs) return;
      void changePipeline([{ type: "set_block_settings", block: block.name, settings: { retries: { count: parsedCount, delayMs } } }]);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <div className={styles.field}>
      <span>Retries</span>
      <span className={styles.inline}>
        <input aria-label="Retries" type="number" min={0} value={count} onChange={(e) => setCount(e.target.value)} onBlur={commit} />
        <input aria-label="Retry delay" value={delay} onChange={(e) => setDelay(e.target.value)} onBlur={commit} />
      </span>
      {error && <small className={styles.error}>{error}</small>}
    </div>
  );
}

function BlockSettingsForm({ block, connections, issues }: { block: BlockSpec; connections: { file: string; names: string[] } | null; issues: RunIssue[] }) {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const changePipeline = useEditor((s) => s.changePipeline);
  const others = blocks.filter((b) => b.name !== block.name);
  return (
    <div className={styles.blockForm}>
      {issues.length > 0 && (
        <ul className={styles.issues} aria-label={`Problems of ${block.name}`}>
          {issues.map((issue, i) => (
            <li key={i}>{issue.message}</li>
          ))}
        </ul>
      )}
      <div className={styles.field}>
        <label htmlFor={`block-${block.name}-type`}>Type</label>
        <select id={`block-${block.name}-type`} value={block.type} onChange={(e) => void changePipeline([{ type: "set_block_type", block: block.name, blockType: e.target.value as BlockSpec["type"] }])}>
          {BLOCK_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <fieldset className={styles.upstreams}>
        <legend>Upstream</legend>
        {others.length === 0 && <span className={styles.muted}>no other blocks</span>}
        {others.map((b) => (
          <label key={b.name}>
            <input
              type="checkbox"
              checked={block.upstream.includes(b.name)}
              onChange={(e) => void changePipeline([{ type: e.target.checked ? "add_upstream" : "remove_upstream", block: block.name, upstream: b.name }])}
            />{" "}
            {b.name}
          </label>
        ))}
      </fieldset>
      <RetriesField block={block} />
      {BLOCK_FIELDS.filter((f) => f.applies?.(block, blocks) ?? true).map((field) => (
        <BlockFieldInput key={field.key} block={block} field={field} connections={connections} />
      ))}
    </div>
  );
}

function BlockSettingsSection({ connections, issues }: { connections: { file: string; names: string[] } | null; issues: RunIssue[] }) {
  const blocks = useEditor((s) => s.pipeline.blocks);
  const focused = useEditor((s) => s.focused);
  const setFocused = useEditor((s) => s.setFocused);
  const block = blocks.find((b) => b.name === focused) ?? blocks[blocks.length - 1];
  return (
    <section aria-label="Block settings" className={styles.section}>
      <h2>Block</h2>
      {!block ? (
        <p className={styles.muted}>No blocks yet.</p>
      ) : (
        <>
          <label className={styles.field}>
            <span>Block</span>
            <select value={block.name} onChange={(e) => setFocused(e.target.value)}>
              {blocks.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
          <BlockSettingsForm key={block.name} block={block} connections={connections} issues={issues.filter((i) => i.block === block.name)} />
        </>
      )}
    </section>
  );
}

/** The side panel: pipeline settings and variables, the focused block's settings, and what would stop a run. */
export function SettingsPanel({ onClose }: { onClose(): void }) {
  const connections = useConnectionNames();
  const issues = useRunIssues(connections);
  return (
    <aside className={styles.panel} aria-label="Settings">
      <header className={styles.panelHead}>
        <h2>Settings</h2>
        <button type="button" aria-label="Close settings" onClick={onClose}>
          ✕
        </button>
      </header>
      <PanelError />
      {issues.length > 0 && (
        <section aria-label="Before a run" className={styles.section}>
          <h3>Before a run</h3>
          <ul className={styles.issues}>
            {issues.map((issue, i) => (
              <li key={i}>{issue.message}</li>
            ))}
          </ul>
        </section>
      )}
      <PipelineSettings />
      <BlockSettingsSection connections={connections} issues={issues} />
    </aside>
  );
}

/** The header's "Settings" and "Run with variables…" buttons, with the panel and the dialog they open. */
export function SettingsControls() {
  const [open, setOpen] = useState(false);
  const [running, setRunning] = useState(false);
  const variables = useEditor((s) => s.pipeline.variables);
  const secrets = useEditor((s) => s.pipeline.secretVariables ?? NO_SECRETS);
  const name = useEditor((s) => s.name);
  const runPipeline = useEditor((s) => s.runPipeline);
  return (
    <>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Settings
      </button>
      <button type="button" onClick={() => setRunning(true)}>
        Run with variables…
      </button>
      {open && <SettingsPanel onClose={() => setOpen(false)} />}
      {running && <RunWithVariablesDialog title={`Run ${name} with variables`} variables={variables} secrets={secrets} onRun={(overrides) => runPipeline(overrides)} onClose={() => setRunning(false)} />}
    </>
  );
}
