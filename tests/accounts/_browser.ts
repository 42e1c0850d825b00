/**
 * A minimal browser for the accounts tests: keeps the `qs_session` cookie and the CSRF token
 * across requests, and sends `x-csrf-token` on state-changing requests unless told not to.
 */

/** A JSON answer. */
export interface Answer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Options of one request. */
export interface SendOptions {
  /** Send the session's CSRF token (default true for POST, PATCH, DELETE). */
  csrf?: boolean;
  headers?: Record<string, string>;
  /** A raw body instead of JSON. */
  raw?: BodyInit;
}

/** One browser with its own cookie. */
export interface Browser {
  send(method: string, path: string, body?: unknown, options?: SendOptions): Promise<Answer>;
  signIn(username: string, password: string): Promise<Answer>;
  /** The session cookie's `Set-Cookie` as last received. */
  readonly setCookie: string | undefined;
  readonly csrf: string | undefined;
}

/** A browser against `base` (`http://127.0.0.1:port`). */
export function browser(base: string): Browser {
  let cookie: string | undefined;
  let setCookie: string | undefined;
  let csrf: string | undefined;
  const send = async (
    method: string,
    path: string,
    body?: unknown,
    options: SendOptions = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined && options.raw === undefined) {
      headers["content-type"] = "application/json";
    }
    if (cookie) headers.cookie = cookie;
    const changing = method !== "GET" && method !== "HEAD";
    if (changing && (options.csrf ?? true) && csrf) headers["x-csrf-token"] = csrf;
    const res = await fetch(base + path, {
      method,
      headers,
      body: options.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    const set = res.headers.get("set-cookie");
    if (set?.startsWith("qs_session=")) {
      setCookie = set;
      const value = set.slice(0, set.indexOf(";"));
      cookie = value === "qs_session=" ? undefined : value;
    }
    const parsed = text.startsWith("{") ? JSON.parse(text) : text;
    if (typeof parsed === "object" && typeof parsed.csrf === "string") csrf = parsed.csrf;
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    send,
    signIn: (username, password) => send("POST", "/api/auth/signin", { username, password }),
    get setCookie() {
      return setCookie;
    },
    get csrf() {
      return csrf;
    },
  };
}

/** Opens `/ws` with an API key in the subprotocol; frames are kept; `closed` gives the close code. */
export async function keyedSocket(base: string, key: string): Promise<{
  socket: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<number>;
}> {
  const socket = new WebSocket(base.replace("http", "ws") + "/ws", ["quant-saas", `bearer.${key}`]);
  const frames: Record<string, unknown>[] = [];
  socket.onmessage = (e) => frames.push(JSON.parse(e.data));
  const closed = new Promise<number>((r) => socket.addEventListener("close", (e) => r(e.code)));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("refused"));
  });
  return { socket, frames, closed };
}
