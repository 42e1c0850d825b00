/**
 * A minimal WebSocket client over a raw `Deno.connect` TCP socket, for the load
 * generator and the slow-consumer probe: the opening handshake, masked client
 * frames, and an incremental parser of server frames that hands out payload
 * bytes without decoding them. Much cheaper per frame than the `WebSocket` API
 * (no MessageEvent, no string per frame), and it can simply stop reading.
 *
 * Fragmented messages are handed out fragment by fragment (servers under test
 * never fragment). Server frames are expected unmasked (RFC 6455 §5.1).
 * @module
 */

const encoder = new TextEncoder();
const CRLFCRLF = [13, 10, 13, 10];

/** WebSocket opcodes. */
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Where parsed frames go. `payload[start, end)` is only valid during the call. */
export interface FrameHandler {
  data(payload: Uint8Array, start: number, end: number, opcode: number): void;
  ping(payload: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Incremental parser of server → client frames. */
export class FrameParser {
  #hdr = new Uint8Array(14);
  #hdrLen = 0;
  #payload: Uint8Array | null = null;
  #fill = 0;
  #opcode = 0;

  constructor(private readonly handler: FrameHandler) {}

  /** Feeds bytes as they arrive. */
  push(buf: Uint8Array, n = buf.length): void {
    let i = 0;
    while (i < n) {
      const payload = this.#payload;
      if (payload !== null) {
        const take = Math.min(payload.length - this.#fill, n - i);
        payload.set(buf.subarray(i, i + take), this.#fill);
        this.#fill += take;
        i += take;
        if (this.#fill === payload.length) {
          this.#payload = null;
          this.#dispatch(payload, 0, payload.length);
        }
        continue;
      }
      // Header: fast path when it is entirely in `buf`.
      let src: Uint8Array;
      let at: number;
      let avail: number;
      if (this.#hdrLen === 0) {
        src = buf;
        at = i;
        avail = n - i;
      } else {
        src = this.#hdr;
        at = 0;
        avail = this.#hdrLen;
      }
      let need = 2;
      if (avail >= 2) {
        const l7 = src[at + 1] & 0x7f;
        need = (l7 < 126 ? 2 : l7 === 126 ? 4 : 10) + ((src[at + 1] & 0x80) ? 4 : 0);
      }
      if (avail < need) {
        // Accumulate header bytes one at a time into #hdr (rare: header split across reads).
        if (this.#hdrLen === 0) {
          this.#hdr[0] = buf[i];
          this.#hdrLen = 1;
        } else {
          this.#hdr[this.#hdrLen++] = buf[i];
        }
        i++;
        continue;
      }
      const b0 = src[at];
      const b1 = src[at + 1];
      const l7 = b1 & 0x7f;
      let len: number;
      if (l7 < 126) len = l7;
      else if (l7 === 126) len = (src[at + 2] << 8) | src[at + 3];
      else {
        len = (src[at + 2] * 2 ** 24 + (src[at + 3] << 16) + (src[at + 4] << 8) + src[at + 5]) *
            2 ** 32 +
          (src[at + 6] * 2 ** 24 + (src[at + 7] << 16) + (src[at + 8] << 8) + src[at + 9]);
      }
      if (this.#hdrLen === 0) i += need;
      this.#hdrLen = 0;
      this.#opcode = b0 & 0x0f;
      if (len === 0) {
        this.#dispatch(buf, i, i);
      } else if (n - i >= len) {
        this.#dispatch(buf, i, i + len);
        i += len;
      } else {
        this.#payload = new Uint8Array(len);
        this.#fill = 0;
      }
    }
  }

  #dispatch(p: Uint8Array, start: number, end: number): void {
    const op = this.#opcode;
    if (op <= 2) this.handler.data(p, start, end, op);
    else if (op === OP.ping) this.handler.ping(p.slice(start, end));
    else if (op === OP.close) {
      const code = end - start >= 2 ? (p[start] << 8) | p[start + 1] : 1005;
      const reason = end - start > 2 ? new TextDecoder().decode(p.subarray(start + 2, end)) : "";
      this.handler.close(code, reason);
    }
  }
}

/** A masked client frame (RFC 6455 §5.3). */
export function clientFrame(opcode: number, payload: Uint8Array | string): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const len = data.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const hi = Math.floor(len / 2 ** 32);
    const lo = len >>> 0;
    out.set([hi >>> 24, (hi >> 16) & 255, (hi >> 8) & 255, hi & 255], 2);
    out.set([lo >>> 24, (lo >> 16) & 255, (lo >> 8) & 255, lo & 255], 6);
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, hl);
  for (let i = 0; i < len; i++) out[hl + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** An open raw WebSocket: the TCP connection plus bytes that followed the 101 response. */
export interface RawSocket {
  conn: Deno.Conn;
  /** Frame bytes received together with the handshake response. */
  leftover: Uint8Array;
}

/** Parses `ws://host:port/path?query`. */
export function parseWsUrl(url: string): { hostname: string; port: number; path: string } {
  const u = new URL(url);
  return {
    hostname: u.hostname,
    port: Number(u.port || (u.protocol === "wss:" ? 443 : 80)),
    path: (u.pathname || "/") + u.search,
  };
}

/** TCP connect + WebSocket opening handshake; throws unless the server answers 101. */
export async function openRawWebSocket(url: string, timeoutMs = 10_000): Promise<RawSocket> {
  const { hostname, port, path } = parseWsUrl(url);
  const conn = await Deno.connect({ hostname, port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      encoder.encode(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`handshake timeout after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    let buf = new Uint8Array(4096);
    let len = 0;
    while (true) {
      if (len === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const n = await Promise.race([conn.read(buf.subarray(len)), timeout]);
      if (n === null) throw new Error("connection closed during handshake");
      const from = Math.max(0, len - 3);
      len += n;
      const end = indexOfSeq(buf, CRLFCRLF, from, len);
      if (end < 0) continue;
      const head = new TextDecoder().decode(buf.subarray(0, end));
      if (!/^HTTP\/1\.1 101/.test(head)) {
        throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
      }
      return { conn, leftover: buf.slice(end + 4, len) };
    }
  } catch (err) {
    try {
      conn.close();
    } catch { /* closed */ }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function indexOfSeq(buf: Uint8Array, seq: number[], from: number, to: number): number {
  outer: for (let i = from; i + seq.length <= to; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Finds stamps `"<field>":<digits>` in `payload[start, end)` and calls `onStamp`
 * with each value; returns how many were found. Scans bytes (no decoding): the
 * search jumps with native `indexOf` to the field's first letter, then verifies.
 */
export function createStampScanner(field: string) {
  const key = encoder.encode(`"${field}":`);
  const first = key[1];
  const klen = key.length;
  return (
    p: Uint8Array,
    start: number,
    end: number,
    onStamp: (us: number) => void,
  ): number => {
    let found = 0;
    // A view bounds the native search to this payload (the read buffer holds more).
    const view = p.subarray(start, end);
    let i = start;
    while (true) {
      const rel = view.indexOf(first, i - start);
      if (rel < 0) return found;
      const at = rel + start;
      i = at + 1;
      const s = at - 1;
      if (s < start || s + klen > end) continue;
      let ok = true;
      for (let j = 0; j < klen; j++) {
        if (p[s + j] !== key[j]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      let q = s + klen;
      let v = 0;
      let c = p[q];
      while (c >= 48 && c <= 57 && q < end) {
        v = v * 10 + (c - 48);
        c = p[++q];
      }
      found++;
      onStamp(v);
      i = q;
    }
  };
}

/** Now in µs since the epoch (same clock as the emulator's stamps). */
export function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
