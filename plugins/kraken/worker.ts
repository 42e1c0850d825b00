/**
 * Worker entry of the Kraken feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../mod.ts";
import { kraken } from "./mod.ts";

serveFeedWorker(kraken);
