/**
 * Worker entry of the Kraken feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../core/feed/worker.ts";
import { kraken } from "./mod.ts";

serveFeedWorker(kraken);
