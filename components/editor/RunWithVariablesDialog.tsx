"use client";

/**
 * "Run with variables": a dialog prefilled with the pipeline's variables, one typed input each; the run
 * gets the values that differ from the defaults (a secret left empty keeps its stored value).
 */
import { useState } from "react";
import type { Variables, VariableValue } from "@/lib/core/model";
import { formatVariableInput, parseVariableInput, variableTypeOf } from "./variable-types";
import styles from "./settings.module.css";

export interface RunWithVariablesProps {
  title: string;
  variables: Variables;
  secrets: readonly string[];
  onRun(overrides: Variables): void | Promise<void>;
  onClose(): void;
}

export function RunWithVariablesDialog({ title, variables, secrets, onRun, onClose }: RunWithVariablesProps) {
  const names = Object.keys(variables);
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(names.map((n) => [n, formatVariableInput(variableTypeOf(n, variables[n], secrets), variables[n])])));
  const [checks, setChecks] = useState<Record<string, boolean>>(() => Object.fromEntries(names.map((n) => [n, variables[n] === true])));
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    const overrides: Variables = {};
    for (const name of names) {
      const type = variableTypeOf(name, variables[name], secrets);
      let value: VariableValue;
      if (type === "boolean") value = checks[name] ?? false;
      else {
        const text = texts[name] ?? "";
        if (type === "secret" && text === "") continue;
        const parsed = parseVariableInput(type, text);
        if (!parsed.ok) return setError(`${name}: ${parsed.message}`);
        value = parsed.value;
      }
      if (JSON.stringify(value) !== JSON.stringify(variables[name]) || type === "secret") overrides[name] = value;
    }
    setError(null);
    await onRun(overrides);
    onClose();
  };

  return (
    <div className={styles.dialogBackdrop} onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby="run-variables-title"
        className={styles.dialog}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="run-variables-title">{title}</h2>
        {names.length === 0 && <p className={styles.muted}>This pipeline has no variables: the run uses none.</p>}
        {names.map((name) => {
          const type = variableTypeOf(name, variables[name], secrets);
          const id = `run-var-${name}`;
          return (
            <div key={name} className={styles.field}>
              <label htmlFor={id}>
                {name} <span className={styles.muted}>({type})</span>
              </label>
              {type === "boolean" ? (
                <input id={id} type="checkbox" checked={checks[name] ?? false} onChange={(e) => setChecks({ ...checks, [name]: e.target.checked })} />
              ) : (
                <input
                  id={id}
                  type={type === "number" ? "number" : type === "date" ? "date" : type === "secret" ? "password" : "text"}
                  placeholder={type === "secret" ? "stored value; type to override" : type === "list" ? "a, b, c" : undefined}
                  value={texts[name] ?? ""}
                  onChange={(e) => setTexts({ ...texts, [name]: e.target.value })}
                />
              )}
            </div>
          );
        })}
        {error && (
          <p className={styles.error} role="alert">
            {error}
          </p>
        )}
        <div className={styles.actions}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Run
          </button>
        </div>
      </form>
    </div>
  );
}
