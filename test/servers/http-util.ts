import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Small helpers shared by the local fake cloud servers: they speak just enough HTTP for the official
 * client libraries, so tests exercise the real clients without the internet.
 */

/** Reads a whole request body (the fakes hold objects in memory; test payloads are a few MB). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Sends a JSON body with the given status. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Google APIs' error envelope (`{error: {code, message, errors: [{reason, message}]}}`), which the clients parse. */
export function sendGoogleError(res: ServerResponse, status: number, reason: string, message: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ domain: "global", reason, message }], status: reason } });
}

/** Listens on 127.0.0.1 with an OS-chosen port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Closes a server, dropping keep-alive connections the clients hold open. */
export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** One part of a `multipart/related` body (the Google upload APIs' `uploadType=multipart`). */
export interface RelatedPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a `multipart/related` body on its boundary; Google sends the JSON metadata part first, then the media. */
export function parseMultipartRelated(contentType: string | undefined, body: Buffer): RelatedPart[] {
  const match = /boundary="?([^";]+)"?/i.exec(contentType ?? "");
  if (!match) throw new Error(`multipart body without a boundary (content-type ${contentType ?? "missing"})`);
  const delimiter = Buffer.from(`--${match[1]}`);
  const parts: RelatedPart[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing "--boundary--"
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf("\r\n\r\n");
    const headerText = headerEnd === -1 ? "" : part.subarray(0, headerEnd).toString("utf8");
    const headers: Record<string, string> = {};
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: headerEnd === -1 ? part : part.subarray(headerEnd + 4) });
    at = next;
  }
  return parts;
}
