/**
 * Column codec for JSON-like values: a list of values (numbers, strings,
 * booleans, null, undefined, arrays, plain objects) is written column-wise.
 * Objects split into one column per key (a shape table keeps key order),
 * arrays of equal-length tuples into one column per position, numbers become
 * delta-coded scaled integers when that is exact (`65000.12` → `6500012`,
 * scale 2), strings become dictionary indexes, epoch-ms numbers (ISO 8601
 * times) or scaled integers (decimal strings such as `"65000.12000000"`)
 * when they round-trip exactly, and only otherwise raw text. Every choice is
 * checked per value at encode time, so decoding returns values equal to the
 * input: the same numbers (`===`), strings, key order and nesting.
 * @module
 */
import { type ByteReader, type ByteWriter, CorruptBlockError, createByteReader } from "./bytes.ts";

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_NUMBER = 4;
const T_STRING = 5;
const T_ARRAY = 6;
const T_OBJECT = 7;

const POW10: number[] = [];
for (let d = 0; d <= 15; d++) POW10.push(10 ** d);
const MAX_DELTA = 2 ** 52;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function tagOf(value: unknown): number {
  switch (typeof value) {
    case "number":
      return T_NUMBER;
    case "string":
      return T_STRING;
    case "boolean":
      return value ? T_TRUE : T_FALSE;
    case "undefined":
      return T_UNDEFINED;
    case "object":
      if (value === null) return T_NULL;
      if (Array.isArray(value)) return T_ARRAY;
      return T_OBJECT;
  }
  throw new TypeError(`cannot record a ${typeof value} value`);
}

/** Writes `values` as one column. */
export function writeColumn(w: ByteWriter, values: readonly unknown[]): void {
  const n = values.length;
  if (n === 0) {
    w.u8(0xff);
    return;
  }
  const first = tagOf(values[0]);
  let uniform = true;
  const tags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const t = tagOf(values[i]);
    tags[i] = t;
    if (t !== first) uniform = false;
  }
  if (uniform) w.u8(0x80 | first);
  else {
    w.u8(0);
    w.bytes(tags);
  }
  const pick = (tag: number) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) if (tags[i] === tag) out.push(values[i]);
    return out;
  };
  const has = (tag: number) => uniform ? first === tag : tags.includes(tag);
  if (has(T_NUMBER)) writeNumbers(w, uniform ? values as number[] : pick(T_NUMBER) as number[]);
  if (has(T_STRING)) writeStrings(w, uniform ? values as string[] : pick(T_STRING) as string[]);
  if (has(T_ARRAY)) writeArrays(w, uniform ? values as unknown[][] : pick(T_ARRAY) as unknown[][]);
  if (has(T_OBJECT)) {
    writeObjects(
      w,
      (uniform ? values : pick(T_OBJECT)) as Record<string, unknown>[],
    );
  }
}

/**
 * Reads `n` values written by {@link writeColumn}. Keys in `omit` are skipped
 * (not decoded) in the objects of this column (not in nested ones): e.g. `raw`.
 */
export function readColumn(r: ByteReader, n: number, omit?: ReadonlySet<string>): unknown[] {
  const mode = r.u8();
  if (mode === 0xff) {
    if (n !== 0) throw new CorruptBlockError("empty column where values were expected");
    return [];
  }
  if (mode & 0x80) {
    const tag = mode & 0x7f;
    switch (tag) {
      case T_NUMBER:
        return readNumbers(r, n);
      case T_STRING:
        return readStrings(r, n);
      case T_ARRAY:
        return readArrays(r, n);
      case T_OBJECT:
        return readObjects(r, n, omit);
      default:
        return new Array(n).fill(constantOf(tag));
    }
  }
  const tags = r.bytes(n);
  const counts = new Array(8).fill(0);
  for (let i = 0; i < n; i++) {
    if (tags[i] > 7) throw new CorruptBlockError(`bad value tag ${tags[i]}`);
    counts[tags[i]]++;
  }
  const nums = counts[T_NUMBER] ? readNumbers(r, counts[T_NUMBER]) : [];
  const strs = counts[T_STRING] ? readStrings(r, counts[T_STRING]) : [];
  const arrs = counts[T_ARRAY] ? readArrays(r, counts[T_ARRAY]) : [];
  const objs = counts[T_OBJECT] ? readObjects(r, counts[T_OBJECT], omit) : [];
  const out = new Array(n);
  let ni = 0, si = 0, ai = 0, oi = 0;
  for (let i = 0; i < n; i++) {
    switch (tags[i]) {
      case T_NUMBER:
        out[i] = nums[ni++];
        break;
      case T_STRING:
        out[i] = strs[si++];
        break;
      case T_ARRAY:
        out[i] = arrs[ai++];
        break;
      case T_OBJECT:
        out[i] = objs[oi++];
        break;
      default:
        out[i] = constantOf(tags[i]);
    }
  }
  return out;
}

function constantOf(tag: number): unknown {
  switch (tag) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
  }
  throw new CorruptBlockError(`bad value tag ${tag}`);
}

/** Smallest decimal scale that represents `v` exactly as an integer, or -1. */
function scaleOf(v: number): number {
  if (Number.isInteger(v)) return Number.isSafeInteger(v) && !Object.is(v, -0) ? 0 : -1;
  if (!Number.isFinite(v)) return -1;
  for (let d = 1; d <= 15; d++) {
    const m = Math.round(v * POW10[d]);
    if (m / POW10[d] === v) return Number.isSafeInteger(m) ? d : -1;
  }
  return -1;
}

const NUM_SCALED = 0;
const NUM_FLOAT = 1;

/** The column as integers at one decimal scale `d`, when that is exact for every value. */
function scaledInts(nums: readonly number[]): { d: number; ints: number[] } | undefined {
  let d = 0;
  for (let i = 0; i < nums.length; i++) {
    const s = scaleOf(nums[i]);
    if (s < 0) return undefined;
    if (s > d) d = s;
  }
  const p = POW10[d];
  const ints = new Array<number>(nums.length);
  let prev = 0;
  for (let i = 0; i < nums.length; i++) {
    const m = Math.round(nums[i] * p);
    if (m / p !== nums[i] || !Number.isSafeInteger(m) || Math.abs(m - prev) > MAX_DELTA) {
      return undefined;
    }
    ints[i] = m;
    prev = m;
  }
  return { d, ints };
}

/** Numbers: delta zig-zag varints of `round(v·10^d)` when exact for every value, else float64. */
export function writeNumbers(w: ByteWriter, nums: readonly number[]): void {
  const scaled = scaledInts(nums);
  if (scaled) {
    w.u8(NUM_SCALED);
    w.u8(scaled.d);
    let prev = 0;
    for (const m of scaled.ints) {
      w.svar(m - prev);
      prev = m;
    }
    return;
  }
  w.u8(NUM_FLOAT);
  for (let i = 0; i < nums.length; i++) w.f64(nums[i]);
}

/** A decoded number column: the integers and their scale, or plain floats (`d` = -1). */
interface RawNumbers {
  d: number;
  values: number[];
}

function readRawNumbers(r: ByteReader, n: number): RawNumbers {
  const mode = r.u8();
  const values = new Array<number>(n);
  if (mode === NUM_SCALED) {
    const d = r.u8();
    if (d > 15) throw new CorruptBlockError(`bad decimal scale ${d}`);
    r.deltas(values, n);
    return { d, values };
  }
  if (mode !== NUM_FLOAT) throw new CorruptBlockError(`bad number mode ${mode}`);
  for (let i = 0; i < n; i++) values[i] = r.f64();
  return { d: -1, values };
}

/** Reads `n` numbers written by {@link writeNumbers}. */
export function readNumbers(r: ByteReader, n: number): number[] {
  const raw = readRawNumbers(r, n);
  if (raw.d > 0) {
    const p = POW10[raw.d];
    const v = raw.values;
    for (let i = 0; i < n; i++) v[i] = v[i] / p;
  }
  return raw.values;
}

/**
 * `int · 10^-d` written with `frac` ≥ `d` decimals (`6000665, 2, 8` → `"60006.65000000"`),
 * without going through a float.
 */
function formatScaled(int: number, d: number, frac: number): string {
  const neg = int < 0;
  let digits = String(neg ? -int : int);
  if (d > 0) {
    if (digits.length <= d) digits = ZEROS[d + 1 - digits.length] + digits;
    const cut = digits.length - d;
    digits = digits.slice(0, cut) + "." + digits.slice(cut);
  }
  // Slice first, pad after: slicing a concatenated string would copy it.
  if (frac > d) digits = (d === 0 ? digits + "." : digits) + ZEROS[frac - d];
  return neg ? "-" + digits : digits;
}
const ZEROS: string[] = Array.from({ length: 40 }, (_, i) => "0".repeat(i));

/** Formats epoch ms as ISO 8601 quickly: the date and time up to the second are cached. */
function createIsoFormatter(): (ms: number) => string {
  let sec = NaN;
  let prefix = "";
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== sec) {
      sec = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20);
    }
    const r = ms - s * 1000;
    return prefix + (r < 10 ? "00" + r : r < 100 ? "0" + r : String(r)) + "Z";
  };
}

const STR_DICT = 0;
const STR_ISO = 1;
const STR_DECIMAL = 2;
const STR_PLAIN = 3;
const STR_JSON = 4;

const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

function isoTimes(strs: readonly string[]): number[] | undefined {
  const out = new Array<number>(strs.length);
  const iso = createIsoFormatter();
  for (let i = 0; i < strs.length; i++) {
    const s = strs[i];
    if (s.length !== 24 || !ISO_RE.test(s)) return undefined;
    const ms = Date.parse(s);
    if (!Number.isFinite(ms) || iso(ms) !== s) return undefined;
    out[i] = ms;
  }
  return out;
}

function decimals(strs: readonly string[]): { values: number[]; fracs: number[] } | undefined {
  const values = new Array<number>(strs.length);
  const fracs = new Array<number>(strs.length);
  for (let i = 0; i < strs.length; i++) {
    const s = strs[i];
    if (s.length > 24 || !DECIMAL_RE.test(s)) return undefined;
    const dot = s.indexOf(".");
    const frac = dot < 0 ? 0 : s.length - dot - 1;
    if (frac > 30) return undefined;
    values[i] = Number(s);
    fracs[i] = frac;
  }
  // Decoding writes each value from its scaled integer: check that gives back every string.
  const scaled = scaledInts(values);
  if (!scaled) return undefined;
  for (let i = 0; i < strs.length; i++) {
    if (fracs[i] < scaled.d || formatScaled(scaled.ints[i], scaled.d, fracs[i]) !== strs[i]) {
      return undefined;
    }
  }
  return { values, fracs };
}

function writeText(w: ByteWriter, text: string): void {
  if (text.length <= 64) {
    // Short ASCII (keys, symbols, sides): copied byte by byte, no TextEncoder call.
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      w.uvar(text.length);
      for (let i = 0; i < text.length; i++) w.u8(text.charCodeAt(i));
      return;
    }
  }
  const bytes = encoder.encode(text);
  w.uvar(bytes.length);
  w.bytes(bytes);
}

function readText(r: ByteReader): string {
  return decoder.decode(r.bytes(r.uvar()));
}

/** True when `s` holds a lone surrogate (UTF-8 cannot carry it). */
function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Strings: ISO times, decimals, a dictionary, or plain text, whichever is exact and smallest. */
function writeStrings(w: ByteWriter, strs: readonly string[]): void {
  const iso = isoTimes(strs);
  if (iso) {
    w.u8(STR_ISO);
    writeNumbers(w, iso);
    return;
  }
  const dec = decimals(strs);
  if (dec) {
    w.u8(STR_DECIMAL);
    writeNumbers(w, dec.fracs);
    writeNumbers(w, dec.values);
    return;
  }
  const dict = new Map<string, number>();
  const limit = Math.max(64, strs.length >> 3);
  const idx = new Array<number>(strs.length);
  for (let i = 0; i < strs.length && dict.size <= limit; i++) {
    let id = dict.get(strs[i]);
    if (id === undefined) {
      id = dict.size;
      dict.set(strs[i], id);
    }
    idx[i] = id;
  }
  const joined = strs.join("");
  if (hasLoneSurrogate(joined)) {
    w.u8(STR_JSON);
    writeText(w, JSON.stringify(strs));
    return;
  }
  if (dict.size <= limit) {
    w.u8(STR_DICT);
    const keys = [...dict.keys()];
    w.uvar(keys.length);
    writeNumbers(w, keys.map((k) => k.length));
    writeText(w, keys.join(""));
    for (let i = 0; i < idx.length; i++) w.uvar(idx[i]);
    return;
  }
  w.u8(STR_PLAIN);
  writeNumbers(w, strs.map((s) => s.length));
  writeText(w, joined);
}

function splitText(text: string, lengths: readonly number[]): string[] {
  const out = new Array<string>(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    out[i] = text.slice(at, at + lengths[i]);
    at += lengths[i];
  }
  if (at !== text.length) throw new CorruptBlockError("string lengths do not match the text");
  return out;
}

/** Reads `n` strings written by {@link writeStrings}. */
function readStrings(r: ByteReader, n: number): string[] {
  const mode = r.u8();
  switch (mode) {
    case STR_ISO: {
      const times = readNumbers(r, n);
      const iso = createIsoFormatter();
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = iso(times[i]);
      return out;
    }
    case STR_DECIMAL: {
      const fracs = readNumbers(r, n);
      const { d, values } = readRawNumbers(r, n);
      if (d < 0) throw new CorruptBlockError("decimal strings without a scale");
      const out = new Array<string>(n);
      let lastInt = NaN, lastFrac = -1, last = "";
      for (let i = 0; i < n; i++) {
        const f = fracs[i];
        if (values[i] !== lastInt || f !== lastFrac) {
          if (f < d) throw new CorruptBlockError("decimal string shorter than its scale");
          lastInt = values[i];
          lastFrac = f;
          last = formatScaled(lastInt, d, f);
        }
        out[i] = last;
      }
      return out;
    }
    case STR_DICT: {
      const k = r.uvar();
      const lengths = readNumbers(r, k);
      const keys = splitText(readText(r), lengths);
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const id = r.uvar();
        if (id >= keys.length) throw new CorruptBlockError("dictionary index out of range");
        out[i] = keys[id];
      }
      return out;
    }
    case STR_PLAIN: {
      const lengths = readNumbers(r, n);
      return splitText(readText(r), lengths);
    }
    case STR_JSON: {
      const out = JSON.parse(readText(r));
      if (!Array.isArray(out) || out.length !== n) {
        throw new CorruptBlockError("string column has the wrong length");
      }
      return out;
    }
  }
  throw new CorruptBlockError(`bad string mode ${mode}`);
}

const ARR_FLAT = 0;
const ARR_TUPLES = 1;

/** Arrays: lengths, then elements (one column per position when all are same-length tuples). */
function writeArrays(w: ByteWriter, arrs: readonly unknown[][]): void {
  const lengths = new Array<number>(arrs.length);
  let total = 0;
  for (let i = 0; i < arrs.length; i++) {
    lengths[i] = arrs[i].length;
    total += arrs[i].length;
  }
  writeNumbers(w, lengths);
  const flat = new Array<unknown>(total);
  let k = 0;
  let tuple = -1;
  for (const arr of arrs) {
    for (const el of arr) {
      flat[k++] = el;
      if (tuple === -1) tuple = Array.isArray(el) && el.length <= 8 ? el.length : -2;
      else if (tuple >= 0 && !(Array.isArray(el) && el.length === tuple)) tuple = -2;
    }
  }
  if (tuple > 0) {
    w.u8(ARR_TUPLES);
    w.u8(tuple);
    for (let p = 0; p < tuple; p++) writeColumn(w, flat.map((el) => (el as unknown[])[p]));
    return;
  }
  w.u8(ARR_FLAT);
  writeColumn(w, flat);
}

function readArrays(r: ByteReader, n: number): unknown[][] {
  const lengths = readNumbers(r, n);
  let total = 0;
  for (const len of lengths) {
    if (!Number.isSafeInteger(len) || len < 0) throw new CorruptBlockError("bad array length");
    total += len;
  }
  const mode = r.u8();
  const out = new Array<unknown[]>(n);
  if (mode === ARR_TUPLES) {
    const width = r.u8();
    const cols: unknown[][] = [];
    for (let p = 0; p < width; p++) cols.push(readColumn(r, total));
    let at = 0;
    for (let i = 0; i < n; i++) {
      const len = lengths[i];
      const arr = new Array<unknown>(len);
      if (width === 2) {
        const c0 = cols[0], c1 = cols[1];
        for (let j = 0; j < len; j++, at++) arr[j] = [c0[at], c1[at]];
      } else {
        for (let j = 0; j < len; j++, at++) {
          const el = new Array(width);
          for (let p = 0; p < width; p++) el[p] = cols[p][at];
          arr[j] = el;
        }
      }
      out[i] = arr;
    }
    return out;
  }
  if (mode !== ARR_FLAT) throw new CorruptBlockError(`bad array mode ${mode}`);
  const flat = readColumn(r, total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    out[i] = flat.slice(at, at + lengths[i]);
    at += lengths[i];
  }
  return out;
}

/** Objects: a table of key lists (shapes), a shape id per object, then one column per key. */
function writeObjects(w: ByteWriter, objs: readonly Record<string, unknown>[]): void {
  const shapes = new Map<string, number>();
  const shapeKeys: string[][] = [];
  const ids = new Array<number>(objs.length);
  const columns = new Map<string, unknown[]>();
  let lastKeys: string[] | undefined;
  let lastId = 0;
  for (let i = 0; i < objs.length; i++) {
    const obj = objs[i];
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError("only plain objects can be recorded");
    }
    const keys = Object.keys(obj);
    let id: number | undefined;
    if (lastKeys && sameKeys(keys, lastKeys)) id = lastId;
    else {
      const sig = keys.join("\u0000");
      id = shapes.get(sig);
      if (id === undefined) {
        id = shapeKeys.length;
        shapes.set(sig, id);
        shapeKeys.push(keys);
      }
      lastKeys = keys;
      lastId = id;
    }
    ids[i] = id;
    for (const key of keys) {
      let col = columns.get(key);
      if (!col) columns.set(key, col = []);
      col.push(obj[key]);
    }
  }
  w.uvar(shapeKeys.length);
  const allKeys = [...columns.keys()];
  const keyIndex = new Map(allKeys.map((k, i) => [k, i]));
  w.uvar(allKeys.length);
  for (const key of allKeys) writeText(w, key);
  for (const keys of shapeKeys) {
    w.uvar(keys.length);
    for (const key of keys) w.uvar(keyIndex.get(key)!);
  }
  writeNumbers(w, ids);
  // Each key's column is length-prefixed so a reader can skip it without decoding.
  for (const key of allKeys) {
    const at = w.reserveU32();
    writeColumn(w, columns.get(key)!);
    w.patchU32(at, w.size() - at - 4);
  }
}

function readObjects(
  r: ByteReader,
  n: number,
  omit?: ReadonlySet<string>,
): Record<string, unknown>[] {
  const shapeCount = r.uvar();
  const keyCount = r.uvar();
  const allKeys: string[] = [];
  for (let i = 0; i < keyCount; i++) allKeys.push(readText(r));
  const shapes: number[][] = [];
  for (let s = 0; s < shapeCount; s++) {
    const len = r.uvar();
    const keys: number[] = [];
    for (let i = 0; i < len; i++) {
      const k = r.uvar();
      if (k >= keyCount) throw new CorruptBlockError("bad key index");
      keys.push(k);
    }
    shapes.push(keys);
  }
  const ids = readNumbers(r, n);
  const counts = new Array<number>(keyCount).fill(0);
  for (const id of ids) {
    const shape = shapes[id];
    if (!shape) throw new CorruptBlockError("bad shape id");
    for (const k of shape) counts[k]++;
  }
  const cols = allKeys.map((key, k) => {
    const bytes = r.bytes(r.u32());
    if (omit?.has(key)) return [];
    const sub = createByteReader(bytes);
    const col = readColumn(sub, counts[k]);
    if (sub.remaining() !== 0) throw new CorruptBlockError(`column ${key} has trailing bytes`);
    return col;
  });
  if (omit) {
    for (let s = 0; s < shapes.length; s++) {
      shapes[s] = shapes[s].filter((k) => !omit.has(allKeys[k]));
    }
  }
  const out = new Array<Record<string, unknown>>(n);
  if (shapes.length === 1 && !shapes[0].some((k) => allKeys[k] === "__proto__")) {
    // One shape (the usual block): object i takes element i of every column.
    const keys = shapes[0];
    const build = uniformFactory(keys.map((k) => allKeys[k]))(keys.map((k) => cols[k]));
    for (let i = 0; i < n; i++) out[i] = build(i);
    return out;
  }
  const at = new Array<number>(keyCount).fill(0);
  const build = shapes.map((keys) => shapeFactory(keys.map((k) => allKeys[k]), keys));
  for (let i = 0; i < n; i++) out[i] = build[ids[i]](cols, at);
  return out;
}

type Uniform = (cols: unknown[][]) => (i: number) => Record<string, unknown>;
const uniformFactories = new Map<string, Uniform>();

/**
 * For a block whose objects all have one shape: a function binding the key columns to
 * locals and returning `(i) => ({k0: c0[i], k1: c1[i], ...})`.
 */
function uniformFactory(names: string[]): Uniform {
  const sig = JSON.stringify(names);
  let f = uniformFactories.get(sig);
  if (f) return f;
  const locals = names.map((_, j) => `const c${j} = cols[${j}];`).join(" ");
  const fields = names.map((name, j) => `${JSON.stringify(name)}: c${j}[i]`).join(", ");
  f = new Function("cols", `${locals} return (i) => ({${fields}});`) as Uniform;
  if (uniformFactories.size < 10_000) uniformFactories.set(sig, f);
  return f;
}

type Factory = (cols: unknown[][], at: number[]) => Record<string, unknown>;
const factories = new Map<string, Factory>();

/**
 * A function building one object of a shape from the key columns: an object literal
 * with the keys in order, so V8 gives all objects of a shape one hidden class.
 */
function shapeFactory(names: string[], keyIds: number[]): Factory {
  const sig = JSON.stringify([names, keyIds]);
  let f = factories.get(sig);
  if (f) return f;
  if (names.includes("__proto__")) {
    f = (cols, at) => {
      const obj: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) {
        const k = keyIds[j];
        Object.defineProperty(obj, names[j], {
          value: cols[k][at[k]++],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return obj;
    };
  } else {
    const fields = names.map((name, j) =>
      `${JSON.stringify(name)}: c[${keyIds[j]}][a[${keyIds[j]}]++]`
    );
    f = new Function("c", "a", `return {${fields.join(", ")}};`) as Factory;
  }
  if (factories.size < 10_000) factories.set(sig, f);
  return f;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
