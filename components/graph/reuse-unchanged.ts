/**
 * `next`, with each element replaced by the previous render's object of the same id when `same` says
 * nothing shown changed: React Flow and memoised views skip objects they have already seen. `previous`
 * is updated to this render's objects.
 */
export function reuseUnchanged<T extends { id: string }>(previous: Map<string, T>, next: T[], same: (a: T, b: T) => boolean): T[] {
  const result = next.map((item) => {
    const old = previous.get(item.id);
    return old && same(old, item) ? old : item;
  });
  previous.clear();
  for (const item of result) previous.set(item.id, item);
  return result;
}
