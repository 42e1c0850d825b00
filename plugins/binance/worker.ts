/**
 * Worker entry of the Binance feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../core/feed/worker.ts";
import { binance } from "./mod.ts";

serveFeedWorker(binance);
