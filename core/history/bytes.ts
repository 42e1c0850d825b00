/**
 * Growable byte buffer and reader with unsigned/zig-zag varints that hold any
 * safe integer (not only 32-bit ones). The building block of the block codec.
 * @module
 */

/** Appends bytes to a growing buffer. */
export interface ByteWriter {
  u8(value: number): void;
  /** Unsigned varint, 0 ≤ value ≤ 2^53. */
  uvar(value: number): void;
  /** Signed varint (zig-zag), |value| ≤ 2^52. */
  svar(value: number): void;
  f64(value: number): void;
  bytes(data: Uint8Array): void;
  /** Reserves 4 bytes for a length written later with {@link ByteWriter.patchU32}; returns their offset. */
  reserveU32(): number;
  /** Writes a little-endian u32 at `offset` (from {@link ByteWriter.reserveU32}). */
  patchU32(offset: number, value: number): void;
  /** Bytes written so far. */
  size(): number;
  /** The bytes written so far (a view, valid until the next write). */
  finish(): Uint8Array;
}

/** Reads what a {@link ByteWriter} wrote, in the same order. */
export interface ByteReader {
  u8(): number;
  u32(): number;
  uvar(): number;
  /** Reads `n` zig-zag varints as running sums (delta decoding) into `out`. */
  deltas(out: number[], n: number): void;
  svar(): number;
  f64(): number;
  bytes(length: number): Uint8Array;
  /** Bytes not read yet. */
  remaining(): number;
}

const scratch = new DataView(new ArrayBuffer(8));

/** A new writer with `initial` bytes of room. */
export function createByteWriter(initial = 4096): ByteWriter {
  let buf = new Uint8Array(initial);
  let pos = 0;
  const room = (n: number) => {
    if (pos + n <= buf.length) return;
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(buf.subarray(0, pos));
    buf = next;
  };
  const uvar = (value: number) => {
    room(8);
    let v = value;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
      return;
    }
    while (v >= 0x80) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
  };
  return {
    u8(value) {
      room(1);
      buf[pos++] = value;
    },
    uvar,
    svar(value) {
      uvar(value >= 0 ? value * 2 : -value * 2 - 1);
    },
    f64(value) {
      room(8);
      scratch.setFloat64(0, value, true);
      for (let i = 0; i < 8; i++) buf[pos++] = scratch.getUint8(i);
    },
    bytes(data) {
      room(data.length);
      buf.set(data, pos);
      pos += data.length;
    },
    reserveU32() {
      room(4);
      pos += 4;
      return pos - 4;
    },
    patchU32(offset, value) {
      buf[offset] = value & 0xff;
      buf[offset + 1] = (value >>> 8) & 0xff;
      buf[offset + 2] = (value >>> 16) & 0xff;
      buf[offset + 3] = (value >>> 24) & 0xff;
    },
    size: () => pos,
    finish: () => buf.subarray(0, pos),
  };
}

/** Thrown when a buffer ends early or holds an impossible value. */
export class CorruptBlockError extends Error {
  override name = "CorruptBlockError";
}

/** A reader over `buf`. Reading past the end throws {@link CorruptBlockError}. */
export function createByteReader(buf: Uint8Array): ByteReader {
  let pos = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.length;
  const uvar = () => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= end) throw new CorruptBlockError("varint past end of block");
      const b = buf[pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new CorruptBlockError("varint too long");
  };
  return {
    u8() {
      if (pos >= end) throw new CorruptBlockError("byte past end of block");
      return buf[pos++];
    },
    u32() {
      if (pos + 4 > end) throw new CorruptBlockError("length past end of block");
      const v = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24);
      pos += 4;
      return v >>> 0;
    },
    uvar,
    svar() {
      const z = uvar();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    },
    deltas(out, n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        let z: number;
        const b0 = pos < end ? buf[pos] : 256;
        if (b0 < 0x80) {
          z = b0;
          pos++;
        } else if (b0 < 256 && pos + 1 < end && buf[pos + 1] < 0x80) {
          z = (b0 & 0x7f) | (buf[pos + 1] << 7);
          pos += 2;
        } else z = uvar();
        acc += (z & 1) === 0 && z < 0x80000000 ? z >>> 1 : (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
        out[i] = acc;
      }
    },
    f64() {
      if (pos + 8 > end) throw new CorruptBlockError("float past end of block");
      const v = view.getFloat64(pos, true);
      pos += 8;
      return v;
    },
    bytes(length) {
      if (pos + length > end) throw new CorruptBlockError("bytes past end of block");
      const out = buf.subarray(pos, pos + length);
      pos += length;
      return out;
    },
    remaining: () => end - pos,
  };
}
