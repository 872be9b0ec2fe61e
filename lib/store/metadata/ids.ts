/**
 * Sortable run ids: UUIDv7 (RFC 9562) — a millisecond timestamp, then a counter, then randomness — so that
 * ids sort by creation time (the runs list pages with an id cursor) and stay unique across processes.
 */
import { randomBytes } from "node:crypto";

let lastMs = -1;
let sequence = 0;

/**
 * A new UUIDv7 string. Within one process ids are strictly increasing, even when the clock stands still
 * or steps back (the 12-bit counter field, then the timestamp, are advanced).
 */
export function newSortableId(now: number = Date.now()): string {
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    sequence++;
    if (sequence > 0xfff) {
      ms++;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  const bytes = randomBytes(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
