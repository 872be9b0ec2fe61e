/**
 * Byte-range index of the messages in an Arrow IPC stream or file, so that a preview page of a big output
 * reads the schema and the one or two record batches it shows instead of the whole file (DESIGN §9: first
 * page of a 1M-row output on screen ≤ 300 ms; reading a whole 130 MB file takes longer than that here).
 *
 * The index is computed once at write time from the bytes already in memory and stored in the output's
 * sidecar. Reading a range back concatenates the schema (and dictionary) messages with the wanted batch
 * messages into a small IPC stream, which `tableFromIPC` decodes without copying.
 */
import type { FileHandle } from "node:fs/promises";
import { Message, MessageHeader, tableFromIPC, type Table } from "apache-arrow";

/** A record batch message: `[start, end)` bytes of the file and its row count. */
export interface IpcBatchRange {
  start: number;
  end: number;
  rows: number;
}

export interface IpcIndex {
  /** Byte ranges `[start, end)` of the schema message and of every dictionary message (all before the first batch). */
  prelude: [number, number][];
  batches: IpcBatchRange[];
}

const ARROW_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && ARROW_MAGIC.every((byte, i) => bytes[i] === byte);
}

/**
 * Walks the encapsulated messages of IPC bytes (stream or file format). Returns null when random access
 * would be wrong or the bytes are not understood (dictionary batches after the first record batch, i.e.
 * replaced or delta dictionaries); callers then read the whole file.
 */
export function indexArrowIpc(bytes: Uint8Array): IpcIndex | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  let limit = bytes.length;
  if (startsWithMagic(bytes)) {
    // File format: magic + padding, the stream messages, the footer, its int32 length, magic.
    if (bytes.length < 18) return null;
    const footerLength = view.getInt32(bytes.length - 10, true);
    position = 8;
    limit = bytes.length - 10 - footerLength;
  }
  const prelude: [number, number][] = [];
  const batches: IpcBatchRange[] = [];
  try {
    while (position + 4 <= limit) {
      let metadataLength = view.getInt32(position, true);
      let prefix = 4;
      if (metadataLength === -1) {
        if (position + 8 > limit) break;
        metadataLength = view.getInt32(position + 4, true);
        prefix = 8;
      }
      if (metadataLength <= 0) break; // end-of-stream marker
      const metadataStart = position + prefix;
      const message = Message.decode(bytes.subarray(metadataStart, metadataStart + metadataLength));
      const end = metadataStart + metadataLength + message.bodyLength;
      if (end > limit) return null;
      if (message.isSchema()) {
        prelude.push([position, end]);
      } else if (message.isDictionaryBatch()) {
        if (batches.length > 0) return null;
        prelude.push([position, end]);
      } else if (message.isRecordBatch()) {
        batches.push({ start: position, end, rows: message.header().length });
      } else if (message.headerType !== MessageHeader.NONE) {
        return null;
      }
      position = end;
    }
  } catch {
    return null;
  }
  return prelude.length > 0 ? { prelude, batches } : null;
}

async function readRange(file: FileHandle, target: Uint8Array, at: number, start: number, end: number): Promise<void> {
  let done = 0;
  while (done < end - start) {
    const { bytesRead } = await file.read(target, at + done, end - start - done, start + done);
    if (bytesRead === 0) throw new Error(`unexpected end of Arrow file at byte ${start + done}`);
    done += bytesRead;
  }
}

/** Reads record batches `[first, last]` (inclusive) of an indexed IPC file as one table. */
export async function readIndexedBatches(file: FileHandle, index: IpcIndex, first: number, last: number): Promise<Table> {
  const ranges = [...index.prelude, ...index.batches.slice(first, last + 1).map((b): [number, number] => [b.start, b.end])];
  const size = ranges.reduce((sum, [start, end]) => sum + (end - start), 0) + END_OF_STREAM.length;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const [start, end] of ranges) {
    await readRange(file, bytes, at, start, end);
    at += end - start;
  }
  bytes.set(END_OF_STREAM, at);
  return tableFromIPC(bytes);
}
