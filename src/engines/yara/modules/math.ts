// The `math` module: statistics over a range of the file or over a string, and small integer
// helpers. Each function follows YARA-X's lib/src/modules/math.rs operation for operation (same
// summation order, same float operations), so results are equal to the last bit, not just close:
// rules compare them with `==` and `>=` (math.entropy(0, filesize) >= 7.0). A range of the file is
// read piece by piece (reader.ts), never held whole: every statistic is computed in one pass.
import { UNKNOWN, type ByteSource, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { FileReader } from "../reader";
import { bytes, clippedRange, func, isBool, isFloat, isInt, isStr, struct, wrapI64, type Span } from "./util";

/** The bytes a statistic reads: a string argument, or a range of the file read in pieces. */
interface Bytes {
  length: number;
  /** Each piece of the bytes, in order. */
  pieces(fn: (piece: Uint8Array) => void): void;
}

const ofString = (b: Uint8Array): Bytes => ({ length: b.length, pieces: (fn) => fn(b) });
const ofSpan = (file: FileReader, r: Span): Bytes => ({ length: r.end - r.start, pieces: (fn) => file.each(r.start, r.end, fn) });

/**
 * Byte counts of `data`: the distribution every statistic below starts from. Four tables filled in
 * turn keep consecutive equal bytes from waiting on each other's increment (about 2x on long runs).
 */
function histogram(data: Bytes): Float64Array {
  const t0 = new Uint32Array(256);
  const t1 = new Uint32Array(256);
  const t2 = new Uint32Array(256);
  const t3 = new Uint32Array(256);
  // Each table counts a quarter of the bytes: Uint32 counters hold up to 16 GiB of data.
  data.pieces((d) => {
    const n = d.length;
    const end4 = n - (n % 4);
    for (let i = 0; i < end4; i += 4) {
      t0[d[i]]++;
      t1[d[i + 1]]++;
      t2[d[i + 2]]++;
      t3[d[i + 3]]++;
    }
    for (let i = end4; i < n; i++) t0[d[i]]++;
  });
  const counts = new Float64Array(256);
  for (let b = 0; b < 256; b++) counts[b] = t0[b] + t1[b] + t2[b] + t3[b];
  return counts;
}

function entropy(counts: Float64Array, n: number): number {
  if (n === 0) return 0;
  let e = 0;
  for (let i = 0; i < 256; i++) {
    if (counts[i] !== 0) {
      const x = counts[i] / n;
      e -= x * Math.log2(x);
    }
  }
  return e;
}

function mean(counts: Float64Array, n: number): number | undefined {
  if (n === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * counts[i];
  return sum / n;
}

function deviation(counts: Float64Array, n: number, m: number): number | undefined {
  if (n === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += Math.abs(i - m) * counts[i];
  return sum / n;
}

function mode(counts: Float64Array, n: number): bigint | undefined {
  if (n === 0) return undefined;
  let best = 0;
  for (let i = 1; i < 256; i++) if (counts[i] > counts[best]) best = i;
  return BigInt(best);
}

/**
 * Histograms of ranges of the file, each computed once: rules that ask several statistics of one
 * range (entropy, mean, count of a byte over 0..filesize) read the bytes once. Strings (literal
 * arguments) are not kept.
 */
type Histograms = (bytes: Uint8Array | Span) => { counts: Float64Array; length: number };

function histograms(file: FileReader): Histograms {
  const cache = new Map<string, Float64Array>();
  return (b) => {
    if (b instanceof Uint8Array) return { counts: histogram(ofString(b)), length: b.length };
    const key = `${b.start}:${b.end}`;
    let h = cache.get(key);
    if (!h) cache.set(key, (h = histogram(ofSpan(file, b))));
    return { counts: h, length: b.end - b.start };
  };
}

function serialCorrelation(data: Bytes): number {
  // YARA-X sums in f64, but every partial sum here is an integer below 2^53 (at most 65025 per
  // byte, and a range is under 2^32 bytes), so each sum is exact in any order: one pass suffices.
  let scc1 = 0;
  let total = 0;
  let scc3 = 0;
  const n = data.length;
  let first = -1;
  let prev = 0;
  data.pieces((d) => {
    let i = 0;
    if (first < 0 && d.length > 0) {
      first = prev = d[0];
      i = 1;
    }
    for (; i < d.length; i++) {
      const x = d[i];
      scc1 += prev * x;
      total += prev;
      scc3 += prev * prev;
      prev = x;
    }
  });
  total += prev;
  scc3 += prev * prev;
  const scc2 = total * total;
  if (n > 0) scc1 += first * prev;
  const scc = (n * scc1 - scc2) / (n * scc3 - scc2);
  return Number.isNaN(scc) ? -100000 : scc;
}

const INCIRC = 281474943156225; // ((256 ^ 3) - 1) ^ 2

function monteCarloPi(data: Bytes): number | undefined {
  let inside = 0;
  let points = 0;
  const point = (g: Uint8Array, i: number) => {
    const x = (g[i] * 256 + g[i + 1]) * 256 + g[i + 2];
    const y = (g[i + 3] * 256 + g[i + 4]) * 256 + g[i + 5];
    if (x * x + y * y < INCIRC) inside++;
    points++;
  };
  // A group of 6 bytes may straddle two pieces: its first bytes wait here.
  const carry = new Uint8Array(6);
  let carried = 0;
  data.pieces((d) => {
    let i = 0;
    if (carried > 0) {
      while (carried < 6 && i < d.length) carry[carried++] = d[i++];
      if (carried < 6) return;
      point(carry, 0);
      carried = 0;
    }
    for (; i + 6 <= d.length; i += 6) point(d, i);
    while (i < d.length) carry[carried++] = d[i++];
  });
  if (points === 0) return undefined;
  const pi = 4 * (inside / points);
  return Math.abs(pi - Math.PI) / Math.PI;
}

/** `byte.try_into::<u8>()`. */
const asByte = (v: bigint): number | undefined => (v >= 0n && v <= 255n ? Number(v) : undefined);

/** Rust's `{:x}` / `{:o}` of an i64: negative numbers print as their two's complement. */
function radixString(x: bigint, base: number): string {
  return BigInt.asUintN(64, x).toString(base);
}

/**
 * Statistic over `(offset, length)` of the file or over a string argument. `extra` are the
 * arguments after the data (deviation's mean); they are checked by `ok`.
 */
function dataOrString(
  file: FileReader,
  cache: Map<string, Value>,
  name: string,
  extraArgs: number,
  extraOk: (extra: Value[]) => boolean,
  compute: (bytes: Uint8Array | Span, extra: Value[]) => Value,
) {
  return func((args) => {
    if (args.length === 2 + extraArgs && isInt(args[0]) && isInt(args[1]) && extraOk(args.slice(2))) {
      const key = `${name}:${args.map(String).join(",")}`;
      if (cache.has(key)) return cache.get(key);
      const range = clippedRange(file.size, args[0], args[1]);
      const v = range === undefined ? undefined : compute(range, args.slice(2));
      cache.set(key, v);
      return v;
    }
    if (args.length === 1 + extraArgs && isStr(args[0]) && extraOk(args.slice(1))) return compute(args[0], args.slice(1));
    return UNKNOWN;
  });
}

const noExtra = (): boolean => true;
const oneFloat = (extra: Value[]): boolean => isFloat(extra[0]);

function load(source: ByteSource): StructValue {
  const file = FileReader.from(source);
  const all: Span = { start: 0, end: file.size };
  const bytesOf = (b: Uint8Array | Span): Bytes => (b instanceof Uint8Array ? ofString(b) : ofSpan(file, b));
  // Rules often repeat one call (math.entropy(0, filesize) in several rules): compute each once.
  const cache = new Map<string, Value>();
  const hist = histograms(file);
  return struct({
    MEAN_BYTES: 127.5,
    min: func((a) => (a.length === 2 && isInt(a[0]) && isInt(a[1]) ? (a[0] < a[1] ? a[0] : a[1]) : UNKNOWN)),
    max: func((a) => (a.length === 2 && isInt(a[0]) && isInt(a[1]) ? (a[0] > a[1] ? a[0] : a[1]) : UNKNOWN)),
    // i64::abs in a release build: abs(i64::MIN) wraps to i64::MIN.
    abs: func((a) => (a.length === 1 && isInt(a[0]) ? wrapI64(a[0] < 0n ? -a[0] : a[0]) : UNKNOWN)),
    in_range: func((a) => {
      if (a.length !== 3) return UNKNOWN;
      const [x, lo, hi] = a;
      if (isInt(x) && isInt(lo) && isInt(hi)) return lo <= x && x <= hi;
      if (isFloat(x) && isFloat(lo) && isFloat(hi)) return lo <= x && x <= hi;
      return UNKNOWN;
    }),
    to_string: func((a) => {
      if (a.length === 1 && isInt(a[0])) return bytes(a[0].toString());
      if (a.length === 2 && isInt(a[0]) && isInt(a[1])) {
        if (a[1] === 8n) return bytes(radixString(a[0], 8));
        if (a[1] === 10n) return bytes(a[0].toString());
        if (a[1] === 16n) return bytes(radixString(a[0], 16));
        return undefined;
      }
      return UNKNOWN;
    }),
    to_number: func((a) => (a.length === 1 && isBool(a[0]) ? (a[0] ? 1n : 0n) : UNKNOWN)),
    count: func((a) => {
      if (a.length === 1 && isInt(a[0])) {
        const b = asByte(a[0]);
        return b === undefined ? undefined : BigInt(hist(all).counts[b]);
      }
      if (a.length === 3 && isInt(a[0]) && isInt(a[1]) && isInt(a[2])) {
        const b = asByte(a[0]);
        const range = clippedRange(file.size, a[1], a[2]);
        return b === undefined || range === undefined ? undefined : BigInt(hist(range).counts[b]);
      }
      return UNKNOWN;
    }),
    percentage: func((a) => {
      let b: number | undefined;
      let range: Span | undefined;
      if (a.length === 1 && isInt(a[0])) {
        b = asByte(a[0]);
        range = all;
      } else if (a.length === 3 && isInt(a[0]) && isInt(a[1]) && isInt(a[2])) {
        b = asByte(a[0]);
        range = clippedRange(file.size, a[1], a[2]);
      } else {
        return UNKNOWN;
      }
      if (b === undefined || range === undefined || range.end === range.start) return undefined;
      return hist(range).counts[b] / (range.end - range.start);
    }),
    mode: func((a) => {
      if (a.length === 0) return mode(hist(all).counts, file.size);
      if (a.length === 2 && isInt(a[0]) && isInt(a[1])) {
        const range = clippedRange(file.size, a[0], a[1]);
        if (range === undefined) return undefined;
        const h = hist(range);
        return mode(h.counts, h.length);
      }
      return UNKNOWN;
    }),
    entropy: dataOrString(file, cache, "entropy", 0, noExtra, (d) => {
      const h = hist(d);
      return entropy(h.counts, h.length);
    }),
    mean: dataOrString(file, cache, "mean", 0, noExtra, (d) => {
      const h = hist(d);
      return mean(h.counts, h.length);
    }),
    deviation: dataOrString(file, cache, "deviation", 1, oneFloat, (d, e) => {
      const h = hist(d);
      return deviation(h.counts, h.length, e[0] as number);
    }),
    serial_correlation: dataOrString(file, cache, "serial_correlation", 0, noExtra, (d) => serialCorrelation(bytesOf(d))),
    monte_carlo_pi: dataOrString(file, cache, "monte_carlo_pi", 0, noExtra, (d) => monteCarloPi(bytesOf(d))),
  });
}

export const math: ModuleFactory = { name: "math", load };
