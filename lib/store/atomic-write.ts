/**
 * Writes that are all-or-nothing: a reader — the editor, a worker, `git` — sees
 * the old file or the new one, never half of it, even if the process dies mid-write or the disk fills.
 */
import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { messageOf, OperationalError } from "../core/errors";
import { isErrno } from "./safe-path";

/**
 * Write `data` to `file` atomically: write a temporary file in the same folder (same file system, so
 * the rename is atomic), flush it to disk (fsync), rename it over `file`, then fsync the folder so the
 * rename itself survives a crash. An existing file keeps its permission bits. On failure the temporary
 * file is removed and `file` is unchanged. `fsync: false` skips both fsyncs, for data that can be
 * recomputed (block outputs): readers still never see half a file, but a crash may lose the write.
 *
 * @throws OperationalError code `write_failed` (disk full, permissions, missing folder), with the cause.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number; fsync?: boolean } = {}): Promise<void> {
  const fsync = options.fsync ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const mode = options.mode ?? (await existingMode(file)) ?? 0o666;
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(data);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const reason = messageOf(error);
    throw new OperationalError("write_failed", `could not write ${path.basename(file)}: ${reason}`, {}, { cause: error });
  }
  if (fsync) await syncDirectory(dir);
}

async function existingMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o7777;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/** Make a rename or unlink in `dir` durable. Best effort: some file systems refuse to fsync a folder. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // EISDIR/EINVAL/EPERM on platforms without directory fsync: the data itself was synced.
  }
}
