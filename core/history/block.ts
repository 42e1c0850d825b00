/**
 * One block: up to about a second of one stream (exchange + symbol + kind),
 * encoded column-wise ({@link writeColumn}) then zstd-compressed with zstd's own
 * content checksum, so a damaged block fails to decompress instead of decoding wrongly.
 * @module
 */
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { CorruptBlockError, createByteReader, createByteWriter } from "./bytes.ts";
import { readColumn, readNumbers, writeColumn, writeNumbers } from "./columns.ts";
import type { RecordableItem, RecordedItem, StoredBook } from "./types.ts";

/** Codec id of a block: column layout v1, stored as is (fresh 1-second blocks, merged soon). */
export const CODEC_COLUMNS_PLAIN = 0;
/** Codec id of a block: column layout v1, zstd with its content checksum. */
export const CODEC_COLUMNS_ZSTD = 1;

/** An encoded block, ready to store. */
export interface EncodedBlock {
  data: Uint8Array;
  /** {@link CODEC_COLUMNS_PLAIN} or {@link CODEC_COLUMNS_ZSTD}. */
  codec: number;
  /** Uncompressed size in bytes. */
  rawSize: number;
}

/** The items of a decoded block, as parallel arrays in recorded order. */
export interface DecodedBlock {
  seqs: number[];
  times: number[];
  items: RecordableItem[];
}

const compress = (bytes: Uint8Array, level: number): Uint8Array =>
  zstdCompressSync(bytes, {
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 },
  });

/**
 * Encodes items of one stream (ascending `seq`); `level` 0 stores the columns
 * uncompressed (a zstd call costs ~100 µs of set-up, too much for a block that
 * lives a minute before it is merged).
 */
export function encodeBlock(items: readonly RecordedItem[], level = 3): EncodedBlock {
  const w = createByteWriter(items.length * 64 + 64);
  w.u8(1);
  w.uvar(items.length);
  writeNumbers(w, items.map((i) => i.seq));
  writeNumbers(w, items.map((i) => i.receiveTime));
  writeColumn(w, items.map((i) => i.item));
  const raw = w.finish();
  if (level <= 0) return { data: raw.slice(), codec: CODEC_COLUMNS_PLAIN, rawSize: raw.length };
  return { data: compress(raw, level), codec: CODEC_COLUMNS_ZSTD, rawSize: raw.length };
}

function unpack(data: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(zstdDecompressSync(data));
  } catch (err) {
    throw new CorruptBlockError(`block does not decompress: ${(err as Error).message}`);
  }
}

const WITHOUT_RAW: ReadonlySet<string> = new Set(["raw"]);

/**
 * Decodes a block; throws {@link CorruptBlockError} when damaged. With `withRaw`
 * false the items' `raw` payloads are skipped, not decoded (much faster).
 */
export function decodeBlock(
  data: Uint8Array,
  withRaw = true,
  codec = CODEC_COLUMNS_ZSTD,
): DecodedBlock {
  if (codec !== CODEC_COLUMNS_ZSTD && codec !== CODEC_COLUMNS_PLAIN) {
    throw new CorruptBlockError(`unknown codec ${codec}`);
  }
  const r = createByteReader(codec === CODEC_COLUMNS_ZSTD ? unpack(data) : data);
  if (r.u8() !== 1) throw new CorruptBlockError("unknown block version");
  const n = r.uvar();
  const seqs = readNumbers(r, n);
  const times = readNumbers(r, n);
  const items = readColumn(r, n, withRaw ? undefined : WITHOUT_RAW) as RecordableItem[];
  if (r.remaining() !== 0) throw new CorruptBlockError("trailing bytes in block");
  return { seqs, times, items };
}

/** Encodes a book snapshot. */
export function encodeBook(book: StoredBook, level = 3): EncodedBlock {
  const w = createByteWriter(book.bids.length * 16 + book.asks.length * 16 + 32);
  w.u8(1);
  writeColumn(w, [book]);
  const raw = w.finish();
  return { data: compress(raw, level), codec: CODEC_COLUMNS_ZSTD, rawSize: raw.length };
}

/** Decodes a book snapshot written by {@link encodeBook}. */
export function decodeBook(data: Uint8Array): StoredBook {
  const r = createByteReader(unpack(data));
  if (r.u8() !== 1) throw new CorruptBlockError("unknown snapshot version");
  const [book] = readColumn(r, 1) as StoredBook[];
  return book;
}
