/** Small display helpers shared by the editor, the preview and the runs views (elapsed times: `formatElapsed` in lib/core/duration). */

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  return n.toLocaleString("en-US");
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
}
