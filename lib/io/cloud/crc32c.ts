/**
 * CRC32C (Castagnoli), the checksum GCS reports in object metadata (`crc32c`, base64 of the big-endian
 * 32-bit value) and in `x-goog-hash`. Kept here, tiny and table-driven, so the local GCS test server and
 * anyone checking an object can compute it without the storage client's internals.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Continues a CRC32C over `bytes`; start with 0 and feed chunks in order. */
export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC32C of `bytes` as GCS writes it: base64 of the 4 big-endian bytes. */
export function crc32cBase64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32cUpdate(0, bytes));
  return out.toString("base64");
}
