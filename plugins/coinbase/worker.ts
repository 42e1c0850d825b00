/**
 * Worker entry of the Coinbase feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../mod.ts";
import { coinbase } from "./mod.ts";

serveFeedWorker(coinbase);
