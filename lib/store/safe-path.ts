/**
 * Paths built from names that arrive over HTTP or the CLI (pipeline names, block names, file names)
 * must stay inside their root folder. `resolveInside` is the one gate: every file access of the
 * pipeline store goes through it, so a name like `../../etc/passwd`, an absolute path, a NUL byte or a
 * symlink planted in the folder cannot reach files outside.
 */
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors";

/**
 * The absolute path of `segments` under `root`, after checking that it stays inside `root`:
 * - no NUL byte anywhere, no absolute segment, no `..` component (even one that would come back in);
 * - following symlinks in the part of the path that exists does not leave `root` (checked with
 *   `realpath`; a dangling symlink is refused, since where it will point is not knowable).
 * `root` itself may be returned (no segments). The path returned is the lexical one under
 * `path.resolve(root)`, not the symlink-resolved one. Checks are made at call time; a symlink created
 * afterwards is not seen (the folder is trusted to the server's own writes).
 *
 * @throws UserError code `path_escape` naming the offending relative path (never the root).
 */
export async function resolveInside(root: string, ...segments: string[]): Promise<string> {
  const shown = segments.join("/");
  const refuse = (why: string): UserError => new UserError("path_escape", `path "${shown.replace(/\0/g, "\\0")}" is not allowed: ${why}`);
  if (root.includes("\0")) throw refuse("the root contains a NUL byte");
  for (const segment of segments) {
    if (segment.includes("\0")) throw refuse("it contains a NUL byte");
    if (path.isAbsolute(segment) || segment.startsWith("\\")) throw refuse("absolute paths are not accepted");
    if (segment.split(/[\\/]+/).includes("..")) throw refuse('".." is not accepted');
  }
  const absoluteRoot = path.resolve(root);
  const target = path.resolve(absoluteRoot, ...segments);
  if (!isWithin(absoluteRoot, target)) throw refuse("it resolves outside the folder");

  const realRoot = await realExistingPrefix(absoluteRoot, refuse);
  const realTarget = await realExistingPrefix(target, refuse);
  if (!isWithin(realRoot, realTarget)) throw refuse("a symbolic link leads outside the folder");
  return target;
}

function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

/** `realpath` of the longest existing prefix of `target`, with the missing rest appended. */
async function realExistingPrefix(target: string, refuse: (why: string) => UserError): Promise<string> {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      await lstat(current);
      break;
    } catch (error) {
      if (!isErrno(error, "ENOENT") && !isErrno(error, "ENOTDIR")) throw error;
    }
    const parent = path.dirname(current);
    if (parent === current) return target;
    missing.unshift(path.basename(current));
    current = parent;
  }
  try {
    return path.join(await realpath(current), ...missing);
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "ELOOP")) throw refuse("it goes through a symbolic link to a missing target");
    throw error;
  }
}

/** Whether `error` is a Node system error with this `code` (ENOENT, EEXIST…). */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === code;
}
