// The matcher's filter loop as a small hand-assembled WebAssembly function: for every position, the
// 4-byte window's bit in the atom filter, then the atom table (open addressing) on a set bit, and
// the short-atom gate. It writes candidates, (position, table slot) pairs with slot -1 for a gate
// hit, and JS verifies them. In JS this loop ran at about 190 MB/s on executables; here it is bound
// by memory. No toolchain is involved: the bytes are emitted below, opcode by opcode.

/** Bytes of context copied on each side of a chunk: the reach of the per-slot checks. */
export const MARGIN = 16;

/** Positions per call: bounds the output (at most two candidates per position). */
export const CHUNK = 1 << 18;

const MUL = 0x9e3779b1 | 0;

// Opcodes (WebAssembly core spec, binary format).
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const GET = 0x20;
const SET = 0x21;
const TEE = 0x22;
const I32_LOAD = 0x28;
const I32_STORE = 0x36;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_EQ = 0x46;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const c = (v: number) => [I32_CONST, ...sleb(v)];
const get = (l: number) => [GET, ...uleb(l)];
const set = (l: number) => [SET, ...uleb(l)];
const tee = (l: number) => [TEE, ...uleb(l)];
const load = (offset = 0) => [I32_LOAD, 0, ...uleb(offset)];
const store = (offset = 0) => [I32_STORE, 0, ...uleb(offset)];

// Parameters and locals of `filter`.
const DATA = 0; // address of the chunk's bytes (plus 3 readable bytes after `to`)
const TO = 1; // positions 0 .. to-1 are scanned
const OUT = 2; // address of the candidate pairs
const FILTER = 3; // 4-byte filter bitmap (32-bit words)
const GATE = 4; // short-atom gate bitmap (2^16 bits)
const KEYS = 5; // table keys
const FIRST = 6; // table slot occupancy (0 = empty)
const BITS = 7; // table size log2
const FSHIFT = 8; // 32 - filter bits
const PREFIX = 9; // 2-byte prefix bitmap (2^16 bits): some 4-byte atom or the short gate starts so
const I = 10;
const W = 11;
const H = 12;
const B = 13;
const SLOT = 14;
const COUNT = 15;
const MASK = 16;
const TSHIFT = 17;

/** out[COUNT] = (i, value); COUNT++ */
function emit(value: number[]): number[] {
  return [
    ...get(OUT), ...get(COUNT), ...c(3), I32_SHL, I32_ADD, ...get(I), ...store(0),
    ...get(OUT), ...get(COUNT), ...c(3), I32_SHL, I32_ADD, ...value, ...store(4),
    ...get(COUNT), ...c(1), I32_ADD, ...set(COUNT),
  ];
}

/** Test bit `index` (a local) of the bitmap at `base` (a local): leaves 0 or 1. */
function bit(base: number, index: number): number[] {
  // shr_u takes the shift count modulo 32: `>>> index` is `>>> (index & 31)`.
  return [...get(base), ...get(index), ...c(5), I32_SHR_U, ...c(2), I32_SHL, I32_ADD, ...load(), ...get(index), I32_SHR_U, ...c(1), I32_AND];
}

function body(tableBytes: number): number[] {
  // prettier-ignore
  const code = [
    ...c(1), ...get(BITS), I32_SHL, ...c(1), I32_SUB, ...set(MASK),
    ...c(32), ...get(BITS), I32_SUB, ...set(TSHIFT),
    BLOCK, VOID,
    ...get(I), ...get(TO), I32_GE_U, BR_IF, 0,
    LOOP, VOID,
    // w = the four bytes at i (little-endian, as the JS window). Most positions end at the prefix
    // bitmap (8 KiB, in L1): no atom and no short-atom gate starts with these two bytes. Only
    // then the multiplicative hash h and the 4-byte filter (256 KiB, mostly outside L1).
    ...get(DATA), ...get(I), I32_ADD, ...load(), ...set(W),
    ...get(W), ...c(0xffff), I32_AND, ...set(B),
    ...bit(PREFIX, B),
    IF, VOID,
    ...get(W), ...c(MUL), I32_MUL, ...tee(H), ...get(FSHIFT), I32_SHR_U, ...set(B),
    ...bit(FILTER, B),
    IF, VOID,
    ...get(H), ...get(TSHIFT), I32_SHR_U, ...set(SLOT),
    BLOCK, VOID,
    LOOP, VOID,
    ...get(FIRST), ...get(SLOT), ...c(2), I32_SHL, I32_ADD, ...load(), I32_EQZ, BR_IF, 1,
    ...get(KEYS), ...get(SLOT), ...c(2), I32_SHL, I32_ADD, ...load(), ...get(W), I32_EQ,
    IF, VOID,
    // A second look before JS sees the hit: four bytes near the atom that the slot's only entry
    // needs (mask 0: no check). checks: off, mask, value per slot, after `first` in memory.
    ...get(FIRST), ...get(SLOT), ...c(2), I32_SHL, I32_ADD, ...set(B),
    ...get(B), ...load(2 * tableBytes), ...set(H),
    ...get(H), I32_EQZ,
    IF, VOID,
    ...emit(get(SLOT)),
    ELSE,
    ...get(DATA), ...get(I), I32_ADD, ...get(B), ...load(tableBytes), I32_ADD, ...load(), ...get(H), I32_AND,
    ...get(B), ...load(3 * tableBytes), I32_EQ,
    IF, VOID,
    ...emit(get(SLOT)),
    END,
    END,
    BR, 2,
    END,
    ...get(SLOT), ...c(1), I32_ADD, ...get(MASK), I32_AND, ...set(SLOT),
    BR, 0,
    END,
    END,
    END,
    // the short-atom gate, keyed by the first two bytes
    ...get(W), ...c(0xffff), I32_AND, ...set(B),
    ...bit(GATE, B),
    IF, VOID,
    ...emit(c(-1)),
    END,
    END, // prefix
    ...get(I), ...c(1), I32_ADD, ...tee(I), ...get(TO), I32_LT_U, BR_IF, 0,
    END,
    END,
    ...get(COUNT),
    END,
  ];
  const locals = [1, ...uleb(8), 0x7f]; // one group: 8 locals of i32 (I .. TSHIFT)
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Buffer.from(s, "latin1")];
}

/** The module: imports memory "m"."mem", exports `filter` (10 i32 params, i32 result). */
export function filterModuleBytes(tableBytes: number): Uint8Array {
  const i32 = 0x7f;
  const type = section(1, [1, 0x60, ...uleb(10), ...new Array(10).fill(i32), 1, i32]);
  const imports = section(2, [1, ...name("m"), ...name("mem"), 0x02, 0x00, 1]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name("filter"), 0x00, 0]);
  const code = section(10, [1, ...body(tableBytes)]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

export type FilterFn = (data: number, to: number, out: number, filter: number, gate: number, keys: number, first: number, bits: number, fshift: number, prefix: number) => number;

/**
 * The filter with its tables copied into a fresh memory. Layout: filter | gate | prefix | keys |
 * first | out (2 x CHUNK pairs) | data (CHUNK + 3 bytes). Null when WebAssembly is unavailable.
 */
export class WasmFilter {
  readonly bytes: Uint8Array;
  readonly out: Int32Array;
  private readonly fn: FilterFn;
  private readonly addr: { filter: number; gate: number; prefix: number; keys: number; first: number; out: number; data: number };

  private constructor(
    memory: WebAssembly.Memory,
    fn: FilterFn,
    addr: WasmFilter["addr"],
    private readonly bits: number,
    private readonly fshift: number,
  ) {
    this.fn = fn;
    this.addr = addr;
    this.bytes = new Uint8Array(memory.buffer);
    this.out = new Int32Array(memory.buffer, addr.out, 4 * CHUNK);
  }

  /**
   * checks: per table slot, a 4-byte test at data[i + off] (i = the hit) with -MARGIN <= off <=
   * MARGIN - 4: (bytes & mask) === value, or mask 0 for none. A necessary condition only.
   */
  static create(
    filter: Int32Array,
    gate: Int32Array,
    keys: Int32Array,
    first: Int32Array,
    checks: { off: Int32Array; mask: Int32Array; value: Int32Array },
    bits: number,
    filterBits: number,
  ): WasmFilter | null {
    if (typeof WebAssembly !== "object") return null;
    let at = 0;
    const place = (bytes: number) => {
      const a = at;
      at += (bytes + 15) & ~15;
      return a;
    };
    const addr = {
      filter: place(filter.byteLength),
      gate: place(gate.byteLength),
      prefix: place(gate.byteLength),
      keys: place(keys.byteLength),
      first: place(4 * first.byteLength),
      out: place(CHUNK * 2 * 8),
      data: place(CHUNK + 3 + 2 * MARGIN + 16),
    };
    const memory = new WebAssembly.Memory({ initial: Math.ceil(at / 65536) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(filterModuleBytes(first.byteLength)), { m: { mem: memory } });
    const i32 = new Int32Array(memory.buffer);
    i32.set(filter, addr.filter >> 2);
    i32.set(gate, addr.gate >> 2);
    // The prefix bitmap: the gate's bits and the first two bytes of every 4-byte atom.
    const prefix = Int32Array.from(gate);
    for (let slot = 0; slot < keys.length; slot++) {
      if (first[slot] === 0) continue;
      const p = keys[slot]! & 0xffff;
      prefix[p >>> 5] = prefix[p >>> 5]! | (1 << (p & 31));
    }
    i32.set(prefix, addr.prefix >> 2);
    i32.set(keys, addr.keys >> 2);
    i32.set(first, addr.first >> 2);
    i32.set(checks.off, (addr.first + first.byteLength) >> 2);
    i32.set(checks.mask, (addr.first + 2 * first.byteLength) >> 2);
    i32.set(checks.value, (addr.first + 3 * first.byteLength) >> 2);
    return new WasmFilter(memory, instance.exports.filter as FilterFn, addr, bits, 32 - filterBits);
  }

  /**
   * Candidates for positions base .. base + count - 1 of `data` (count <= CHUNK; every position
   * must have three bytes after it): the number of pairs now in `out`. The chunk is copied with
   * MARGIN bytes of context on each side (zeros beyond the data: a check may then pass in vain,
   * never fail in vain, since a match lies inside the data).
   */
  run(data: Uint8Array, base: number, count: number): number {
    const a = this.addr;
    const start = a.data + MARGIN;
    const from = Math.max(0, base - MARGIN);
    const to = Math.min(data.length, base + count + 3 + MARGIN);
    const mem = this.bytes;
    if (from > base - MARGIN) mem.fill(0, start - MARGIN, start - (base - from));
    mem.set(data.subarray(from, to), start - (base - from));
    if (to < base + count + 3 + MARGIN) mem.fill(0, start + (to - base), start + count + 3 + MARGIN);
    return this.fn(start, count, a.out, a.filter, a.gate, a.keys, a.first, this.bits, this.fshift, a.prefix);
  }
}
