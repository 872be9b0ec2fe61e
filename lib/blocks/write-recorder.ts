/**
 * Records the writes a block makes through `ctx.io`: each connector's `write` already returns where the data
 * went and how many rows (and the bytes when it knows them), so wrapping the connectors is enough for an
 * exporter to report what it did instead of "no output".
 */
import type { BlockWrite } from "../core/execution";
import type { SluiceIo } from "../sdk/io-types";

/** `ctx.io` members that make a connector per profile name, and the one that is a connector itself. */
const CONNECTOR_FACTORIES = new Set(["postgres", "duckdb", "gcs", "s3", "bigquery"]);
const CONNECTOR_PROPERTIES = new Set(["files"]);

interface WriteAnswer {
  rows: number;
  location: string;
  bytes?: unknown;
}

function isWriteAnswer(value: unknown): value is WriteAnswer {
  if (typeof value !== "object" || value === null) return false;
  return "rows" in value && typeof value.rows === "number" && "location" in value && typeof value.location === "string";
}

function recordingConnector<T extends object>(connector: T, label: string, onWrite: (write: BlockWrite) => void): T {
  return new Proxy(connector, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== "write" || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const answer: unknown = await value.apply(target, args);
        if (isWriteAnswer(answer)) {
          onWrite({ connector: label, location: answer.location, rows: answer.rows, ...(typeof answer.bytes === "number" ? { bytes: answer.bytes } : {}) });
        }
        return answer;
      };
    },
  });
}

/** `io` with every connector's `write` reported to `onWrite` after it succeeded (a failed write throws as before). */
export function recordWrites<T extends SluiceIo>(io: T, onWrite: (write: BlockWrite) => void): T {
  return new Proxy(io, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== "string") return value;
      if (CONNECTOR_FACTORIES.has(property) && typeof value === "function") {
        return (name?: string) => {
          const connector: unknown = value.call(target, name);
          const label = name === undefined ? property : `${property}:${name}`;
          return typeof connector === "object" && connector !== null ? recordingConnector(connector, label, onWrite) : connector;
        };
      }
      if (CONNECTOR_PROPERTIES.has(property) && typeof value === "object" && value !== null) return recordingConnector(value, property, onWrite);
      return value;
    },
  });
}
