/**
 * Entry point: one client connection to this gateway's `/ws` (with the API key the Accounts view
 * stored, if any) and the React root.
 *
 * @example
 * ```html
 * <div id="root"></div><script type="module" src="main.js"></script>
 * ```
 */
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createRoot } from "react-dom/client";
import { connect } from "./client_adapter.ts";
import { App } from "./App.tsx";
import { bootRequests } from "./boot.ts";
import { prefetched } from "./history.ts";

performance.mark("qs:script-start");
const scheme = location.protocol === "https:" ? "wss" : "ws";
const token = localStorage.getItem("qs_key") ?? undefined;
const client = connect({ url: `${scheme}://${location.host}/ws`, token });
// The symbols and the default chart's history were asked for by boot.ts before this bundle ran.
const boot = bootRequests();
const symbols = boot.klines.then((k) => {
  if (k) prefetched(k.key, k.answer);
  return boot.symbols;
});
createRoot(document.getElementById("root")!).render(<App client={client} symbols={symbols} />);
