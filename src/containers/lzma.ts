// LZMA (the LZMA1 range-coded stream of the LZMA SDK, as its public specification describes it),
// decoded into a buffer of known size: UPX's method 14 stores exactly that, after two bytes of
// its own that give lc, lp and pb. The whole output is the window, so the dictionary size the
// encoder used does not matter; a distance before the start, an input that ends early or a
// stream that stops short is an error, never a read outside either buffer.

const PROB_INIT = 1024; // half of 2048: 11-bit probabilities
const STATES = 12;
const POS_STATES_MAX = 16; // 1 << 4, the largest pb
const LEN_LOW = 8;
const LEN_MID = 8;
const LEN_HIGH = 256;
const END_POS_MODEL = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const MATCH_MIN = 2;

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

class InputEnded extends Error {}

/** The range decoder over the input bytes. */
class Range {
  private range = 0xffffffff;
  private code = 0;
  private p = 0;

  constructor(private readonly src: Uint8Array) {
    if (src.length < 5 || src[0] !== 0) throw new InputEnded("not an LZMA stream (its first byte is not 0)");
    for (let i = 1; i < 5; i++) this.code = ((this.code << 8) | src[i]!) >>> 0;
    this.p = 5;
    if (this.code === this.range) throw new InputEnded("not an LZMA stream (its first code is all ones)");
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      if (this.p >= this.src.length) throw new InputEnded("the compressed stream ends early");
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.src[this.p++]!) >>> 0;
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const prob = probs[i]!;
    const bound = (this.range >>> 11) * prob;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = prob + ((2048 - prob) >>> 5);
      bit = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[i] = prob - (prob >>> 5);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  direct(count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      v = ((v << 1) | b) >>> 0;
      this.normalize();
    }
    return v;
  }

  /** A symbol of `bits` bits, most significant first, over probs[base + 1 ..]. */
  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  /** The same, least significant bit first. */
  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      v |= b << i;
    }
    return v;
  }
}

/** A length decoder: 2..273 in three ranges, chosen by two bits. */
class Lengths {
  private readonly choice = new Uint16Array(2).fill(PROB_INIT);
  private readonly low = new Uint16Array(POS_STATES_MAX * LEN_LOW).fill(PROB_INIT);
  private readonly mid = new Uint16Array(POS_STATES_MAX * LEN_MID).fill(PROB_INIT);
  private readonly high = new Uint16Array(LEN_HIGH).fill(PROB_INIT);

  /** The length minus 2. */
  read(rc: Range, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState * LEN_LOW, 3);
    if (rc.bit(this.choice, 1) === 0) return LEN_LOW + rc.tree(this.mid, posState * LEN_MID, 3);
    return LEN_LOW + LEN_MID + rc.tree(this.high, 0, 8);
  }
}

/**
 * Decodes `size` bytes (or fewer when the stream carries its end marker first); `inTime` is asked
 * now and then so that a long decode can be cut by the caller's time budget.
 */
export function lzmaDecode(src: Uint8Array, props: LzmaProps, size: number, inTime: () => boolean = () => true): { data: Uint8Array; error?: string } {
  const { lc, lp, pb } = props;
  if (lc > 8 || lp > 4 || pb > 4) return { data: new Uint8Array(0), error: `LZMA properties out of range (lc ${lc}, lp ${lp}, pb ${pb})` };
  const out = new Uint8Array(size);
  let pos = 0;
  try {
    const rc = new Range(src);
    const literals = new Uint16Array(0x300 << (lc + lp)).fill(PROB_INIT);
    const isMatch = new Uint16Array(STATES * POS_STATES_MAX).fill(PROB_INIT);
    const isRep = new Uint16Array(STATES).fill(PROB_INIT);
    const isRepG0 = new Uint16Array(STATES).fill(PROB_INIT);
    const isRepG1 = new Uint16Array(STATES).fill(PROB_INIT);
    const isRepG2 = new Uint16Array(STATES).fill(PROB_INIT);
    const isRep0Long = new Uint16Array(STATES * POS_STATES_MAX).fill(PROB_INIT);
    const posSlots = new Uint16Array(4 << 6).fill(PROB_INIT);
    const posSpecial = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL).fill(PROB_INIT);
    const align = new Uint16Array(1 << ALIGN_BITS).fill(PROB_INIT);
    const matchLens = new Lengths();
    const repLens = new Lengths();
    const pbMask = (1 << pb) - 1;
    const lpMask = (1 << lp) - 1;
    let state = 0;
    let rep0 = 0;
    let rep1 = 0;
    let rep2 = 0;
    let rep3 = 0;
    let ticks = 0;
    while (pos < size) {
      if ((++ticks & 0xffff) === 0 && !inTime()) return { data: out.subarray(0, pos), error: "unpacking ran out of time" };
      const posState = pos & pbMask;
      if (rc.bit(isMatch, (state << 4) + posState) === 0) {
        const prev = pos > 0 ? out[pos - 1]! : 0;
        const base = 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (state >= 7) {
          if (rep0 >= pos) return { data: out.subarray(0, pos), error: "a distance before the start of the output" };
          let matchByte = out[pos - rep0 - 1]!;
          while (symbol < 0x100) {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(literals, base + ((1 + matchBit) << 8) + symbol);
            symbol = (symbol << 1) | b;
            if (matchBit !== b) break;
          }
        }
        while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(literals, base + symbol);
        out[pos++] = symbol - 0x100;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(isRep, state) !== 0) {
        if (pos === 0) return { data: out, error: "a repeated match before any output" };
        if (rc.bit(isRepG0, state) === 0) {
          if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
            // A single byte at the last distance.
            if (rep0 >= pos) return { data: out.subarray(0, pos), error: "a distance before the start of the output" };
            state = state < 7 ? 9 : 11;
            out[pos] = out[pos - rep0 - 1]!;
            pos++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(isRepG1, state) === 0) dist = rep1;
          else {
            if (rc.bit(isRepG2, state) === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = repLens.read(rc, posState);
        state = state < 7 ? 8 : 11;
      } else {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = matchLens.read(rc, posState);
        state = state < 7 ? 7 : 10;
        const slot = rc.tree(posSlots, Math.min(len, 3) << 6, 6);
        if (slot < 4) rep0 = slot;
        else {
          const direct = (slot >>> 1) - 1;
          let dist = ((2 | (slot & 1)) << direct) >>> 0;
          if (slot < END_POS_MODEL) dist += rc.reverse(posSpecial, dist - slot, direct);
          else {
            dist = (dist + (rc.direct(direct - ALIGN_BITS) << ALIGN_BITS)) >>> 0;
            dist = (dist + rc.reverse(align, 0, ALIGN_BITS)) >>> 0;
          }
          rep0 = dist;
        }
        if (rep0 === 0xffffffff) break; // the end marker
      }
      if (rep0 >= pos) return { data: out.subarray(0, pos), error: "a distance before the start of the output" };
      const end = Math.min(size, pos + len + MATCH_MIN);
      const from = pos - rep0 - 1;
      // Byte by byte: a match may overlap the bytes it writes (a run).
      for (let i = 0; pos < end; i++) out[pos++] = out[from + i]!;
    }
  } catch (err) {
    if (err instanceof InputEnded) return { data: out.subarray(0, pos), error: err.message };
    throw err;
  }
  return pos === size ? { data: out } : { data: out.subarray(0, pos), error: `the stream ended after ${pos} of ${size} bytes` };
}

/** UPX's method 14: two bytes of properties ((lc + lp) << 3 | pb, then lp << 4 | lc), then LZMA. */
export function upxLzma(src: Uint8Array, size: number, inTime?: () => boolean): { data: Uint8Array; error?: string } {
  if (src.length < 3) return { data: new Uint8Array(0), error: "LZMA stream cut short" };
  const pb = src[0]! & 7;
  const lp = src[1]! >>> 4;
  const lc = src[1]! & 15;
  if (src[0]! >>> 3 !== lc + lp) return { data: new Uint8Array(0), error: "LZMA properties do not agree with each other" };
  return lzmaDecode(src.subarray(2), { lc, lp, pb }, size, inTime);
}
