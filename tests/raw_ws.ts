/**
 * Test helper: a WebSocket handshake over a raw TCP socket, so tests can send
 * any headers, read a refused upgrade's status and JSON body, and send frames a
 * browser never would (invalid UTF-8, huge payloads).
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Result of {@link rawUpgrade}. */
export interface RawUpgrade {
  status: number;
  headers: Record<string, string>;
  /** Body of a refused upgrade (JSON parsed when possible). */
  body: unknown;
  /** Open connection after a 101; the caller closes it. */
  conn?: Deno.Conn;
}

/** Sends a WebSocket upgrade request to `port` with extra `headers`. */
export async function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawUpgrade> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  await write(conn, encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
  let text = "";
  const buf = new Uint8Array(65536);
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n));
  }
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...headerLines] = head.split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const parsed: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(":");
    parsed[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  if (status === 101) return { status, headers: parsed, body: undefined, conn };
  let body = rest.join("\r\n\r\n");
  const length = Number(parsed["content-length"] ?? NaN);
  while (Number.isFinite(length) && encoder.encode(body).length < length) {
    const n = await conn.read(buf);
    if (n === null) break;
    body += decoder.decode(buf.subarray(0, n));
  }
  conn.close();
  let json: unknown = body;
  try {
    json = JSON.parse(body);
  } catch { /* not JSON */ }
  return { status, headers: parsed, body: json };
}

/** A masked client frame (RFC 6455) with any opcode and payload bytes. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    new DataView(out.buffer).setUint16(2, len);
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  const mask = [1, 2, 3, 4];
  out.set(mask, 2 + ext);
  for (let i = 0; i < len; i++) out[2 + ext + 4 + i] = payload[i] ^ mask[i % 4];
  return out;
}

/** Writes every byte. */
export async function write(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Reads server frames until a close frame; resolves with its code (or 1006 on EOF). */
export async function readCloseCode(conn: Deno.Conn, timeoutMs = 5000): Promise<number> {
  const chunks: number[] = [];
  const buf = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        return 1006;
      }
      if (n === null) return 1006;
      chunks.push(...buf.subarray(0, n));
      // Walk complete frames (server frames are unmasked).
      let i = 0;
      while (i + 2 <= chunks.length) {
        const op = chunks[i] & 0x0f;
        let len = chunks[i + 1] & 0x7f;
        let hdr = 2;
        if (len === 126) {
          if (i + 4 > chunks.length) break;
          len = (chunks[i + 2] << 8) | chunks[i + 3];
          hdr = 4;
        } else if (len === 127) {
          if (i + 10 > chunks.length) break;
          len = Number(new DataView(Uint8Array.from(chunks.slice(i + 2, i + 10)).buffer)
            .getBigUint64(0));
          hdr = 10;
        }
        if (i + hdr + len > chunks.length) break;
        if (op === 8) return len >= 2 ? (chunks[i + hdr] << 8) | chunks[i + hdr + 1] : 1005;
        i += hdr + len;
      }
      chunks.splice(0, i);
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}
