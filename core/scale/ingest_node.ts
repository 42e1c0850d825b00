/**
 * An ingest node (ROLE=ingest): runs the plugins and books like a single gateway (but
 * serves no clients), competes for its group's lease, and while it leads publishes every
 * hub item to NATS through the {@link createPublisher publisher}. A standby node runs the
 * same feeds and holds their items, so it can take over where the log ends.
 *
 * Transitions (each logged with context):
 * - lease acquired → resume (read the log, republish/publish what it lacks, then live);
 * - lease lost → standby at once (items held, nothing published);
 * - NATS disconnected → paused (items held); NATS reconnected while leading → resume.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { BookUpdate } from "../events.ts";
import type { BookEntry } from "../books/books.ts";
import { topN } from "../books/book.ts";
import type { CoreConfig } from "../server/config.ts";
import type { FeedSpec } from "../ingest/supervisor.ts";
import { type Gateway, type GatewayExtension, startGateway } from "../server/gateway.ts";
import { getLogger } from "../server/log.ts";
import { connectNats } from "./connect.ts";
import { ensureLog, lastPerSubject, type LogSettings, publishEnvelope } from "./log.ts";
import { type Lease, startLease } from "./lease.ts";
import { newEpoch, readEpoch } from "./epoch.ts";
import type { MdEnvelope } from "./envelope.ts";
import { SUBJECT_PREFIX } from "./subjects.ts";
import { createPublisher, type LogState, type PublisherMode } from "./publisher.ts";

/** What an ingest node is built from. */
export interface IngestNodeOptions {
  config: CoreConfig;
  /** One spec per exchange feed (as for a single gateway). */
  feeds: FeedSpec[];
  /** Extra endpoint groups (served like on any gateway). */
  extensions?: GatewayExtension[];
  /** This node's id in the lease (default `<hostname>-<pid>-<random>`). */
  nodeId?: string;
}

/** An ingest node's state, as its `/health` shows it under `scale`. */
export interface IngestHealth {
  role: "ingest";
  /** True while this node holds the lease. */
  leading: boolean;
  /** This node's id in the lease. */
  leaseId: string;
  /** What the publisher does now: standby, paused (NATS down), resuming or leading. */
  mode: PublisherMode;
  epoch?: string;
  /** Last seq published (or read from the log). */
  lastSeq: number;
  /** Envelopes published since start. */
  published: number;
  /** Items held unpublished. */
  pending: number;
  /** True while connected to NATS. */
  nats: boolean;
}

/** A running ingest node. */
export interface IngestNode {
  /** The node's gateway (feeds, hub, books; REST /health and /metrics, no clients). */
  readonly gateway: Gateway;
  /** This node's id in the lease. */
  readonly id: string;
  health(): IngestHealth;
  /** Stops publishing, gives the lease up (a standby takes over at once), stops the feeds. */
  close(): Promise<void>;
}

/** How often the publisher's time-driven work runs (status, quiet booksnaps, ring eviction), ms. */
const TICK_MS = 1_000;

/** The local full book of a symbol as a snapshot update, or undefined when it is not synced. */
export function fullBookSnapshot(entry: BookEntry | undefined): BookUpdate | undefined {
  if (!entry || !entry.synced) return undefined;
  const { bids, asks } = topN(entry.book, Infinity);
  const update: BookUpdate = {
    type: "book",
    exchange: entry.exchange,
    symbol: entry.symbol,
    snapshot: true,
    bids,
    asks,
    timestamp: new Date(entry.lastEventTime).toISOString(),
    eventTime: entry.lastEventTime,
    receiveTime: entry.lastReceiveTime,
  };
  if (entry.book.updateId !== undefined) update.updateId = entry.book.updateId;
  return update;
}

/** A node id unique across hosts and restarts: `<hostname>-<pid>-<random>`. */
export function ingestNodeId(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch { /* no --allow-sys: the random part keeps it unique */ }
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `${host}-${Deno.pid}-${random}`;
}

/** Reads what the log holds now: the last envelope of every subject, its last seq, the epoch. */
export async function readLogState(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  settings: LogSettings,
  group: string,
): Promise<LogState> {
  // Everything published before this point reaches the server before the reads below.
  await nc.flush();
  // Created again if the server lost its store.
  await ensureLog(jsm, settings);
  const info = await jsm.streams.info(settings.stream);
  const stored = await lastPerSubject(js, settings.stream, `${SUBJECT_PREFIX}.>`);
  const last = new Map<string, MdEnvelope>();
  let lastSeq = 0;
  for (const [subject, s] of stored) {
    last.set(subject, s.envelope);
    lastSeq = Math.max(lastSeq, s.envelope.seq);
  }
  let epoch = await readEpoch(nc, group);
  if (epoch !== undefined && info.state.messages > 0) {
    return { epoch, newEpoch: false, lastSeq, last };
  }
  epoch = await newEpoch(nc, group);
  return { epoch, newEpoch: true, lastSeq, last };
}

/** Starts an ingest node; resolves once its gateway listens and it competes for the lease. */
export async function startIngestNode(o: IngestNodeOptions): Promise<IngestNode> {
  const { config } = o;
  const log = getLogger(["quant-saas", "ingest"]);
  const id = o.nodeId ?? ingestNodeId();
  const group = config.ingestGroup;
  const settings: LogSettings = {
    stream: config.natsStream,
    maxAgeSeconds: config.natsMaxAge,
    maxBytes: config.natsMaxBytes,
    storage: config.natsStorage,
  };
  const nc = await connectNats(config, `quant-saas-ingest-${id}`);
  const js = jetstream(nc);
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
    await ensureLog(jsm, settings);
  } catch (err) {
    await nc.close();
    throw err;
  }

  let gateway: Gateway | undefined;
  /** Set once the lease started (health and NATS events may come before). */
  const held: { lease?: Lease } = {};
  let natsUp = true;
  let closed = false;
  const publisher = createPublisher({
    publish: (subject, envelope, opts) => publishEnvelope(nc, subject, envelope, opts),
    readLogState: () => readLogState(nc, js, jsm, settings, group),
    bookSnapshot: (exchange, symbol) => fullBookSnapshot(gateway?.books.get(exchange, symbol)),
    feeds: () => gateway?.feeds.info() ?? [],
    recoverySeconds: config.recoverySeconds,
    maxPerStream: config.recoveryMaxPerStream,
    log,
  });
  const health = (): IngestHealth => {
    const s = publisher.state();
    return {
      role: "ingest",
      leading: held.lease?.leading() ?? false,
      leaseId: id,
      mode: s.mode,
      epoch: s.epoch,
      lastSeq: s.lastSeq,
      published: s.published,
      pending: s.pending,
      nats: natsUp && !nc.isClosed(),
    };
  };
  const resume = (reason: string) => {
    publisher.resume(reason).catch((err) =>
      log.error("ingest {id}: resume after {reason} failed: {error}", {
        id,
        reason,
        error: err instanceof Error ? err.message : String(err),
      })
    );
  };

  try {
    gateway = await startGateway({
      config: { ...config, role: "ingest" },
      feeds: o.feeds,
      extensions: o.extensions,
      serveClients: false,
      health,
    });
  } catch (err) {
    await nc.close();
    throw err;
  }
  gateway.taps.add(publisher.tap);
  gateway.onFeedState((info) => publisher.feedState(info));
  const ticker = setInterval(() => publisher.tick(), TICK_MS);

  const watching = (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        natsUp = false;
        log.warning("ingest {id}: NATS disconnected; holding items", { id, group });
        publisher.pause("NATS disconnected");
      } else if (status.type === "reconnect") {
        natsUp = true;
        const leading = held.lease?.leading() ?? false;
        log.info("ingest {id}: NATS reconnected{what}", {
          id,
          group,
          what: leading ? "; resuming as leader" : "; standing by",
        });
        if (leading && !closed) resume("NATS reconnected");
      }
    }
  })().catch(() => {});

  held.lease = await startLease(nc, {
    group,
    id,
    ttlMs: config.leaseTtlMs,
    onChange(leading) {
      if (leading) {
        log.info("ingest {id}: leader of group {group} acquired", { id, group });
        if (natsUp && !closed) resume("lease acquired");
      } else {
        log.warning("ingest {id}: leadership of group {group} lost; standing by", { id, group });
        publisher.standby("lease lost");
      }
    },
  });
  log.info("ingest node {id} of group {group} started; stream {stream}", {
    id,
    group,
    stream: settings.stream,
  });

  return {
    gateway,
    id,
    health,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      publisher.standby("closing");
      await held.lease?.close();
      await gateway!.close();
      await nc.close();
      await watching;
    },
  };
}
