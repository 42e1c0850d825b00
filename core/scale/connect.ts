/**
 * Connecting to NATS with the official client (`@nats-io/transport-node`):
 * servers, credentials and TLS from the configuration, reconnecting forever, and
 * every connection state change logged with context.
 * @module
 */
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import type { CoreConfig } from "../server/config.ts";
import { getLogger } from "../server/log.ts";

/** The NATS settings of a node (a subset of the core configuration). */
export type NatsSettings = Pick<
  CoreConfig,
  | "natsUrl"
  | "natsCreds"
  | "natsUser"
  | "natsPass"
  | "natsToken"
  | "natsTlsCa"
  | "natsTlsCert"
  | "natsTlsKey"
>;

/** The first connection to NATS failed (unreachable, refused credentials, bad TLS files). */
export class NatsConnectError extends Error {
  override name = "NatsConnectError";
}

/**
 * Connects to NATS; `name` shows in the server's connection list (e.g. `quant-saas-edge`).
 * Reconnects forever (every 250 ms, jittered); status changes are logged. A first connection
 * that fails throws {@link NatsConnectError} naming the servers and the server's reason.
 */
export async function connectNats(settings: NatsSettings, name: string): Promise<NatsConnection> {
  const log = getLogger(["quant-saas", "nats"]);
  guardSocketResets(log);
  const tls = settings.natsTlsCa || settings.natsTlsCert || settings.natsTlsKey
    ? {
      caFile: settings.natsTlsCa,
      certFile: settings.natsTlsCert,
      keyFile: settings.natsTlsKey,
    }
    : undefined;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: settings.natsUrl,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      pingInterval: 5_000,
      maxPingOut: 2,
      user: settings.natsUser,
      pass: settings.natsPass,
      token: settings.natsToken,
      authenticator: settings.natsCreds
        ? credsAuthenticator(await Deno.readFile(settings.natsCreds))
        : undefined,
      tls,
    });
  } catch (err) {
    throw new NatsConnectError(
      `cannot connect to NATS at ${settings.natsUrl.join(", ")}: ${
        err instanceof Error ? err.message : String(err)
      } (check NATS_URL, NATS_USER/NATS_PASS, NATS_TOKEN, NATS_CREDS and the NATS_TLS_* files)`,
    );
  }
  log.info("connected to NATS {server} as {name}", { server: nc.getServer(), name });
  (async () => {
    for await (const status of nc.status()) {
      const level = status.type === "reconnect" || status.type === "update" ? "info" : "warning";
      if (status.type === "ping" || status.type === "staleConnection") continue;
      log[level]("NATS {type}{detail}", {
        type: status.type,
        detail: "server" in status ? ` (${String(status.server)})` : "",
      });
    }
  })().catch(() => {});
  return nc;
}

let guarded = false;

/**
 * The NATS client's socket (node:net under Deno) can report a connection reset after the
 * client already closed it (e.g. the server refused the credentials): with no listener
 * left, that would end the process. Such a reset is logged and ignored; any other uncaught
 * error is left alone.
 */
function guardSocketResets(log: ReturnType<typeof getLogger>): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (event) => {
    const err = event.error as { code?: unknown; syscall?: unknown } | undefined;
    if (err?.code === "ECONNRESET" && err.syscall === "read") {
      event.preventDefault();
      log.warning("a closed NATS socket reported a reset; ignored");
    }
  });
}
