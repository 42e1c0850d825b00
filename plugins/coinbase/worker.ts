/**
 * Worker entry of the Coinbase feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../core/feed/worker.ts";
import { coinbase } from "./mod.ts";

serveFeedWorker(coinbase);
