/** Small display helpers shared by the editor, the preview and the runs views (elapsed times: `formatElapsed` in lib/core/duration). */

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  return n.toLocaleString("en-US");
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function timeFormat(timeZone: string): Intl.DateTimeFormat {
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    timeFormats.set(timeZone, format);
  }
  return format;
}

/**
 * `2026-12-04 05:00:00 UTC`: year first (no day/month ambiguity) and always with its zone. UTC unless a zone
 * is given (a trigger's own `timezone`): the server renders the same text the browser hydrates, whatever
 * zone either runs in. An unknown zone falls back to UTC rather than failing the page.
 */
export function formatTime(iso: string | null | undefined, timeZone = "UTC"): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let format: Intl.DateTimeFormat;
  try {
    format = timeFormat(timeZone);
  } catch {
    format = timeFormat("UTC");
  }
  const part: Record<string, string> = {};
  for (const p of format.formatToParts(date)) part[p.type] = p.value;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second} ${part.timeZoneName}`;
}
