/**
 * An edge node (ROLE=edge): a gateway that serves clients from the NATS market-data log
 * instead of running exchange plugins. Its items come from {@link openEdgeSource} (one
 * core subscription per subject its clients need, holes repaired from JetStream); `/health`
 * adds the NATS state and the followed subjects; `/replay` reads REPLAY_DIR (a recorder
 * node's folder) read-only.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { CoreConfig } from "../server/config.ts";
import { type Gateway, startGateway } from "../server/gateway.ts";
import { getLogger } from "../server/log.ts";
import { connectNats } from "./connect.ts";
import { type EdgeHealth, type EdgeSourceOptions, openEdgeSource } from "./edge_source.ts";
import { openReplayDir } from "./replay_dir.ts";
import { openHistory } from "../history/mod.ts";
import type { HistorySource } from "../server/history_routes.ts";

/** What an edge node is started with. */
export interface EdgeNodeOptions {
  config: CoreConfig;
  /** Follower settings (tests shorten the repair window). */
  follower?: EdgeSourceOptions["follower"];
}

/** A running edge node. */
export interface EdgeNode {
  readonly gateway: Gateway;
  /** The edge's state as `/health` shows it under `scale`. */
  health(): EdgeHealth;
  /** Closes the gateway (clients first), then the NATS connection. */
  close(): Promise<void>;
}

/**
 * Connects to NATS (NATS_URL, credentials, TLS), reads the feed states and instruments of
 * every exchange and starts the gateway on them.
 * @example
 * ```ts
 * const edge = await startEdgeNode({ config: loadConfig(Deno.args, Deno.env.toObject()).core });
 * // ... on SIGTERM:
 * await edge.close();
 * ```
 */
export async function startEdgeNode(options: EdgeNodeOptions): Promise<EdgeNode> {
  const { config } = options;
  const log = getLogger(["quant-saas", "edge"]);
  const nc: NatsConnection = await connectNats(config, "quant-saas-edge");
  let gateway: Gateway | undefined;
  try {
    const edge = await openEdgeSource({
      nc,
      stream: config.natsStream,
      group: config.ingestGroup,
      lingerSeconds: config.edgeLingerSeconds,
      follower: options.follower,
    });
    const replaySource = config.replayDir === undefined
      ? undefined
      : openReplayDir(config.replayDir, () => gateway?.taps.lastSeq() ?? 0);
    gateway = await startGateway({
      config,
      feeds: [],
      source: edge.source,
      replaySource,
      historySource: config.replayDir === undefined ? undefined : readOnlyHistory(config.replayDir),
      health: () => edge.health(),
    });
    log.info("edge node serving from NATS stream {stream} (group {group}){replay}", {
      stream: config.natsStream,
      group: config.ingestGroup,
      replay: config.replayDir === undefined ? "" : `, /replay reading ${config.replayDir}`,
    });
    const started = gateway;
    let closed = false;
    return {
      gateway: started,
      health: () => edge.health(),
      async close() {
        if (closed) return;
        closed = true;
        await started.close();
        await nc.close();
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => {});
    await nc.close().catch(() => {});
    throw err;
  }
}

/** The recorder node's folder as the history endpoints' source: read-only, never written here. */
function readOnlyHistory(dir: string): HistorySource {
  return {
    dir,
    history: () => openHistory(dir),
    health: () => ({ healthy: true }),
  };
}
