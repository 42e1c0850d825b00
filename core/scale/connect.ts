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

/**
 * Connects to NATS; `name` shows in the server's connection list (e.g. `quant-saas-edge`).
 * Reconnects forever (every 250 ms, jittered); status changes are logged.
 */
export async function connectNats(settings: NatsSettings, name: string): Promise<NatsConnection> {
  const log = getLogger(["quant-saas", "nats"]);
  const tls = settings.natsTlsCa || settings.natsTlsCert || settings.natsTlsKey
    ? {
      caFile: settings.natsTlsCa,
      certFile: settings.natsTlsCert,
      keyFile: settings.natsTlsKey,
    }
    : undefined;
  const nc = await connect({
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
