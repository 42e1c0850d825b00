/**
 * Worker entry of the Binance feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../mod.ts";
import { binance } from "./mod.ts";

serveFeedWorker(binance);
