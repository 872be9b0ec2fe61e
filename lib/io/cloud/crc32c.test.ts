import { crc32cBase64, crc32cUpdate } from "./crc32c";

describe("crc32c", () => {
  test("matches the standard check value of CRC-32C (Castagnoli)", () => {
    expect(crc32cUpdate(0, Buffer.from("123456789"))).toBe(0xe3069283);
  });

  test("continues across chunks and formats as GCS does (base64 of big-endian bytes)", () => {
    const whole = crc32cUpdate(0, Buffer.from("hello world"));
    expect(crc32cUpdate(crc32cUpdate(0, Buffer.from("hello ")), Buffer.from("world"))).toBe(whole);
    expect(crc32cBase64(new Uint8Array(0))).toBe("AAAAAA==");
    expect(crc32cBase64(Buffer.from("123456789"))).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString("base64"));
  });
});
