/**
 * Small React hooks over the client: a subscription held while a component is mounted,
 * frames of one type, a periodic re-render and a polled REST document.
 *
 * @example
 * ```ts
 * useSubscription(client, { symbols: ["BTCUSDT"], exchanges: ["binance"], channels: ["trade"] });
 * ```
 */
import { useEffect, useRef, useState } from "react";
import type { QuantClient, SubscribeRequest } from "./client_adapter.ts";
import { getJson } from "./api.ts";

/** Keeps `request` subscribed while mounted (re-subscribes when it changes). */
export function useSubscription(client: QuantClient, request: SubscribeRequest | undefined): void {
  const key = request ? JSON.stringify(request) : "";
  useEffect(() => {
    if (!request) return;
    const req = JSON.parse(key) as SubscribeRequest;
    client.subscribe(req).catch((err) => console.warn("subscribe refused", err.message));
    return () => {
      client.unsubscribe(req).catch(() => {});
    };
  }, [client, key]);
}

/** Re-renders every `ms` while mounted; returns a counter. */
export function useTick(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return n;
}

/** GETs `path` now and every `everyMs`; `{data, error}` of the last answer. */
export function usePolled<T>(path: string, everyMs: number): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    const poll = () =>
      getJson<T>(path).then(
        (data) => alive.current && setState({ data }),
        (err: Error) => alive.current && setState((s) => ({ ...s, error: err.message })),
      );
    poll();
    const t = setInterval(poll, everyMs);
    return () => {
      alive.current = false;
      clearInterval(t);
    };
  }, [path, everyMs]);
  return state;
}
