/**
 * Worker entry of the Deribit feed plugin.
 * @module
 */
import { serveFeedWorker } from "../../mod.ts";
import { deribit } from "./mod.ts";

serveFeedWorker(deribit);
