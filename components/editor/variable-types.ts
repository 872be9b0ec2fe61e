/**
 * The types the variables panel and the run dialog offer, over the JSON values `pipeline.yaml` holds: a
 * variable's type is read from its value (a date is `YYYY-MM-DD` text), and what a person types is parsed
 * back into the value the file should hold, or refused with the reason.
 */
import type { VariableValue } from "@/lib/core/model";
import { secretPlaceholder } from "@/lib/core/secret-variables";

export const VARIABLE_TYPES = ["string", "number", "boolean", "date", "list", "secret"] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number] | "json";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The type a variable is shown with. Maps have no input of their own: they show as JSON. */
export function variableTypeOf(name: string, value: VariableValue, secrets: readonly string[]): VariableType {
  if (secrets.includes(name)) return "secret";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return "number";
  if (Array.isArray(value)) return "list";
  if (typeof value === "string") return DATE.test(value) ? "date" : "string";
  return value === null ? "string" : "json";
}

/** What the input of a value shows (a list as `a, b, c`; a secret as nothing: it is never sent back). */
export function formatVariableInput(type: VariableType, value: VariableValue): string {
  if (type === "secret") return "";
  if (type === "list" && Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (type === "json") return JSON.stringify(value);
  return value === null ? "" : String(value);
}

export type ParsedVariable = { ok: true; value: VariableValue } | { ok: false; message: string };

/** The value `text` means as a variable of `type`. A list's items are numbers when every one is a number. */
export function parseVariableInput(type: VariableType, text: string): ParsedVariable {
  switch (type) {
    case "string":
    case "secret":
      return { ok: true, value: text };
    case "number": {
      const value = Number(text.trim());
      return text.trim() !== "" && Number.isFinite(value) ? { ok: true, value } : { ok: false, message: `"${text}" is not a number` };
    }
    case "boolean":
      if (text === "true" || text === "false") return { ok: true, value: text === "true" };
      return { ok: false, message: `"${text}" is not true or false` };
    case "date":
      return DATE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ? { ok: true, value: text } : { ok: false, message: `"${text}" is not a date (YYYY-MM-DD)` };
    case "list": {
      const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
      const numbers = items.map(Number);
      return { ok: true, value: items.length > 0 && numbers.every(Number.isFinite) ? numbers : items };
    }
    case "json":
      try {
        return { ok: true, value: JSON.parse(text) as VariableValue };
      } catch {
        return { ok: false, message: "not valid JSON" };
      }
  }
}

/** A value converted to another type, for when the type select changes (as close as the new type allows). */
export function convertVariable(type: VariableType, value: VariableValue): VariableValue {
  switch (type) {
    case "boolean":
      return value === true || value === "true";
    case "number":
      return typeof value === "number" ? value : Number.isFinite(Number(value)) && value !== "" && value !== null ? Number(value) : 0;
    case "list":
      return Array.isArray(value) ? value : value === null || value === "" ? [] : [value as string];
    case "date":
      return typeof value === "string" && DATE.test(value) ? value : new Date().toISOString().slice(0, 10);
    default:
      return Array.isArray(value) ? value.join(", ") : value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/** Whether a value shown to the browser is the placeholder of a hidden secret. */
export function isHiddenSecret(name: string, value: VariableValue): boolean {
  return value === secretPlaceholder(name);
}
