/**
 * Request body limits, enforced while the body streams in: a body is never buffered to find out that it
 * is too large. A declared `Content-Length` beyond the limit is refused before a byte is read; a chunked
 * body is counted as the HTTP parser hands it over, and refused the moment it passes the limit. Either way
 * the client gets a 413 JSON answer and the connection is closed, so the rest of the body is never read.
 */
import type http from "node:http";

/** The declared body length: a number, null when there is none, "invalid" when the header is malformed. */
export function declaredLength(req: http.IncomingMessage): number | null | "invalid" {
  const header = req.headers["content-length"];
  if (header === undefined) return null;
  if (!/^\d{1,15}$/.test(header)) return "invalid";
  return Number(header);
}

/** Whether the request carries a body at all (a declared length above 0, or a chunked one). */
export function hasBody(req: http.IncomingMessage): boolean {
  const length = declaredLength(req);
  return (typeof length === "number" && length > 0) || req.headers["transfer-encoding"] !== undefined;
}

/**
 * Counts the body's bytes as they arrive and calls `onExceeded` once when they pass `limit`; from then on
 * the rest is dropped instead of handed to whoever reads the request. Node's HTTP parser feeds a request
 * through `push`, so counting there sees every byte without taking over the stream's reading.
 */
export function countBody(req: http.IncomingMessage, limit: number, onExceeded: () => void): void {
  let received = 0;
  let exceeded = false;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk === null) return exceeded ? false : push(null);
    if (exceeded) return true;
    received += Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? chunk.byteLength : String(chunk).length;
    if (received > limit) {
      exceeded = true;
      onExceeded();
      return true;
    }
    return push(chunk, encoding);
  };
}

/** Refuses a body beyond `limit`: 413 JSON (when nothing was answered yet), then the connection is closed. */
export function refuseTooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number, what: string): void {
  if (res.headersSent) return closeAfterAnswer(req, res);
  closeAfterAnswer(req, res);
  res.writeHead(413, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error: { code: "body_too_large", message: `${what} accepts a body of at most ${formatBytes(limit)}` } }));
}

/**
 * Call before answering a request whose body will not be read: the connection is closed once the answer is
 * written. The body still in flight is discarded meanwhile (not kept), and the socket is destroyed shortly
 * after, so a client that never stops sending cannot hold it.
 * Why keep-alive is forced on until then: with `Connection: close` (which a client may ask for itself) Node
 * closes the socket the moment the answer is written, while the client's bytes are still arriving; the
 * kernel then resets the connection and the client loses the answer before it reads it.
 */
export function closeAfterAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = true;
  req.resume();
  const destroy = () => setTimeout(() => req.socket.destroy(), CLOSE_GRACE_MS).unref();
  if (res.writableFinished) destroy();
  else res.once("finish", destroy);
}

/** Time for the answer to reach a client that is still sending before its connection is cut. */
const CLOSE_GRACE_MS = 2000;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
