/**
 * Worker entry of the Kraken feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../core/feed_worker.ts";
import { kraken } from "./mod.ts";

serveFeedWorker(kraken);
