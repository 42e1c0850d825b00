/**
 * Market memory: records what the hub sees into day-partitioned, compressed
 * SQLite files and reads it back (events in hub order, trades, klines, the book
 * at any past instant, a catalog). See docs/history.md.
 * @module
 */
export {
  createRecorder,
  type Recorder,
  type RecorderOptions,
  type RecorderStats,
} from "./recorder.ts";
export { type HistoryReader, openHistory, type RecordedTrade } from "./reader.ts";
export type { HistoricalBook } from "./book_at.ts";
export type { CatalogStream, HistoryCatalog } from "./catalog.ts";
export { intervalMs, type Kline } from "./klines.ts";
export { applyRetention, type RetentionOptions } from "./retention.ts";
export type { BlockWriter, BlockWriterOptions } from "./block_writer.ts";
export type {
  EventFilter,
  LiveBook,
  RecordableItem,
  RecordedItem,
  RecordingGap,
  RecordInput,
  StreamKind,
} from "./types.ts";
