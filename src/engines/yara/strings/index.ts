// The string compiler and matcher: every StringDecl of every rule becomes variants with atoms; one
// pass over the bytes finds all atom hits through typed-array tables (a bit filter and an
// open-addressing table for 4- and 3-byte atoms, direct tables for 2 and 1 bytes), and verifiers
// confirm each hit with YARA-X's semantics. Where a verifier cannot be exact the pattern is reported
// incomplete, never guessed.
//
// The scan loop allocates nothing per hit: matches go into reusable typed arrays (one linked list
// per pattern), and a MatchTable is built at the end for the patterns that were hit only.
import type { HexToken, StringDecl } from "../ast";
import { MAX_MATCHES_PER_PATTERN, type MatchTable, type PatternMatches } from "../contracts";
import { binaryString } from "../regex";
import { verifyBase64 } from "./base64";
import { regexesOf, variantsOf, type Variant } from "./variants";
import { matchStream, type MatchStream, type StreamGeometry, type StreamPool } from "./stream";
import { CHUNK, MARGIN, WasmFilter } from "./wasm";
import { FileGates, type RuleGate } from "../gates";

export type { MatchStream } from "./stream";

export interface PatternSet {
  readonly patterns: number;
  readonly atoms: number;
  /**
   * One pass over the bytes: every pattern's matches, exactly as YARA-X reports them, or
   * complete=false where not decidable. `shut`: the file's shut gates (FileGates.mark, with the
   * gates given to useGates): the patterns of rules behind them are not verified, and have no match.
   */
  scan(data: Uint8Array, shut?: Uint8Array): MatchTable;
  /**
   * The same MatchTable as scan() over bytes given in chunks, in memory bounded by one window
   * (`step` new bytes, default 8 MiB, plus the overlaps) and the matches; `pool` lends the
   * window buffer from one file to the next.
   */
  stream(step?: number, pool?: StreamPool, shut?: Uint8Array): MatchStream;
  /**
   * The rules' gates (gates.ts; `ruleOf`: the rule of a pattern): scan and stream then skip the
   * hits of patterns whose gate a file's `shut` marks. The FileGates marks a file's shut gates.
   */
  useGates(ruleGates: readonly (RuleGate | undefined)[], ruleOf: (pattern: number) => number): FileGates;
}

/**
 * YARA-X does not find regex or hex matches much longer than 4 KB (its VMs scan at most 4096 bytes
 * on either side of an atom). A match this long or longer is not confirmed either way: incomplete.
 */
const MAX_SURE_LENGTH = 4000;
/** Data up to this size is made latin1 text whole for the regex verifiers; larger data in blocks (ScanRun.textOf). */
const WHOLE_TEXT_MAX = 16 << 20;
const TEXT_BLOCK = 1 << 20;
/** Blocks of text kept per scan of large data. */
const TEXT_WINDOWS = 4;
/** How far past a start a verifier's window reaches: the longest sure match, plus two bytes for \b and wide \b. */
function reachOf(v: { maxWidth: number | null }): number {
  return v.maxWidth !== null && v.maxWidth < MAX_SURE_LENGTH ? v.maxWidth + 2 : MAX_SURE_LENGTH + 2;
}
/** Candidate start ranges shorter than this are verified start by start (sticky), not searched. */
const FEW_STARTS = 16;
/** How far before an atom hit a regex match may start (YARA-X's backward scan limit). */
const MAX_BACKWARD = 4096;

/** 2 Mbit filter for 4-byte atoms (256 KB): with ~50k atoms about 2% of random windows pass to the table. */
const FILTER_BITS = 21;
/** The 3-byte atoms are few: a 64 Kbit filter. */
const SHORT_FILTER_BITS = 16;
const HASH_MUL = 0x9e3779b1;

const KIND_LITERAL = 0;
const KIND_BASE64 = 1;
const KIND_REGEX = 2;
const KIND_UNDECIDABLE = 3;
/** A regex whose atom is at a variable distance: backward NFA from the hit, then forward checks. */
const KIND_REGEX_BACK = 4;

const LIT_NOCASE = 1;
const LIT_FULLWORD = 2;
const LIT_WIDE = 4;
const LIT_XOR = 8;

/** ASCII case folding for nocase literals, whose bytes are stored folded. */
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;

export interface CompileOptions {
  /**
   * The filter loop: "wasm" (default where WebAssembly exists) or "js". Both give the same
   * candidates in the same order; "js" is kept as the fallback and as the reference in tests.
   */
  loop?: "wasm" | "js";
}

export function compilePatterns(decls: StringDecl[], opts: CompileOptions = {}): { set: PatternSet; warnings: { index: number; message: string }[] } {
  const { tables, variants, warnings } = compilePatternTables(decls);
  return { set: new CompiledSet(tables, (vi) => variants[vi]!, opts.loop ?? "wasm"), warnings };
}

/**
 * An atom table (the matcher's hashing and probing) over entries laid out elsewhere: key i's run
 * of entries starts at base[i] and holds count[i]. For merging programs (image.ts).
 */
export function atomTableOf(keys: Int32Array, base: Int32Array, count: Int32Array): { bits: number; keys: Int32Array; first: Int32Array; end: Int32Array } {
  let bits = 4;
  while (1 << bits < keys.length * 2) bits++;
  const out = { bits, keys: new Int32Array(1 << bits), first: new Int32Array(1 << bits), end: new Int32Array(1 << bits) };
  const mask = (1 << bits) - 1;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let slot = Math.imul(key, HASH_MUL) >>> (32 - bits);
    while (out.first[slot] !== 0) slot = (slot + 1) & mask;
    out.keys[slot] = key;
    out.first[slot] = base[i]! + 1;
    out.end[slot] = base[i]! + count[i]!;
  }
  return out;
}

/** The matcher over tables built elsewhere (an attached rule program, image.ts). */
export function patternSetOf(tables: PatternTables, variant: (vi: number) => Variant, opts: CompileOptions = {}): PatternSet {
  return new CompiledSet(tables, variant, opts.loop ?? "wasm");
}

/**
 * The matcher's tables, flat typed arrays only: what a compiled rule program stores and each
 * worker attaches to (views on one SharedArrayBuffer). A variant's object (regex, base64 and
 * backward state) is not stored: the worker rebuilds it from its pattern's declaration on the
 * first hit that needs it (variantsOf is deterministic), `varSub` saying which of them it is.
 */
export interface PatternTables {
  patterns: number;
  atoms: number;
  /** Atom counts by length, index 1..4. */
  byLength: Int32Array;
  /** Per variant: KIND_*, its (canonical) pattern, its index among variantsOf(decl).variants. */
  kinds: Uint8Array;
  varPattern: Int32Array;
  varSub: Int32Array;
  entVariant: Int32Array;
  entOffMin: Int32Array;
  entOffMax: Int32Array;
  /** [bits] of the 4- and 3-byte atom tables, then their keys, first and end. */
  tableBits: Int32Array;
  t4keys: Int32Array;
  t4first: Int32Array;
  t4end: Int32Array;
  t3keys: Int32Array;
  t3first: Int32Array;
  t3end: Int32Array;
  filter4: Int32Array;
  filter3: Int32Array;
  shortGate: Int32Array;
  first2: Int32Array;
  end2: Int32Array;
  first1: Int32Array;
  end1: Int32Array;
  atomless: Int32Array;
  canonical: Int32Array;
  litPool: Uint8Array;
  litStart: Int32Array;
  litLen: Int32Array;
  litFlags: Uint8Array;
  litXor: Int32Array;
  /** The WebAssembly loop's per-slot checks of the 4-byte table (see slotChecks). */
  chkOff: Int32Array;
  chkMask: Int32Array;
  chkValue: Int32Array;
  /** StreamGeometry: [before, after], and the unbounded patterns. */
  geo: Int32Array;
  geoUnbounded: Int32Array;
}

export function compilePatternTables(decls: StringDecl[]): { tables: PatternTables; variants: Variant[]; warnings: { index: number; message: string }[] } {
  const warnings: { index: number; message: string }[] = [];
  const variants: Variant[] = [];
  const subs: number[] = [];
  // Rule sets repeat strings (signature-base: the same hex string in several rules): identical
  // declarations are compiled and verified once, and their matches are shared.
  const canonical = new Int32Array(decls.length);
  const seen = new Map<string, number>();
  const warned = new Map<number, string>();
  decls.forEach((decl, index) => {
    const key = declKey(decl);
    const first = seen.get(key);
    if (first !== undefined) {
      canonical[index] = first;
      const w = warned.get(first);
      if (w !== undefined) warnings.push({ index, message: w });
      return;
    }
    seen.set(key, index);
    canonical[index] = index;
    const r = variantsOf(decl, index);
    if (r.warning) {
      warnings.push({ index, message: r.warning });
      warned.set(index, r.warning);
    }
    r.variants.forEach((v, k) => {
      variants.push(v);
      subs.push(k);
    });
  });
  return { tables: buildTables(decls.length, variants, Int32Array.from(subs), canonical), variants, warnings };
}

/** What makes two declarations match the same bytes: everything but the identifier and position. */
function declKey(d: StringDecl): string {
  const m = d.modifiers;
  const mods = `${m.nocase}${m.ascii}${m.wide}${m.fullword}|${m.xor ? `${m.xor.min}-${m.xor.max}` : ""}|${m.base64 ? `b${m.base64.alphabet ?? ""}` : ""}|${m.base64wide ? `w${m.base64wide.alphabet ?? ""}` : ""}`;
  switch (d.kind) {
    case "text":
      return `t${mods}|${Buffer.from(d.value).toString("latin1")}`;
    case "regex":
      return `r${mods}|${d.nocase}${d.dotAll}|${d.source}`;
    case "hex":
      return `h${mods}|${hexKey(d.tokens)}`;
  }
}

/**
 * A compact, unambiguous rendering of hex tokens (JSON.stringify was a tenth of compile time): the
 * UTF-16 code units go to one buffer and become one string (appending a string per token made
 * most of the compile's garbage).
 */
function hexKey(tokens: HexToken[]): string {
  keyLength = 0;
  hexUnits(tokens);
  return Buffer.from(keyUnits.buffer, 0, 2 * keyLength).toString("utf16le");
}

let keyUnits = new Uint16Array(1024);
let keyLength = 0;

function unit(c: number): void {
  if (keyLength === keyUnits.length) {
    const grown = new Uint16Array(keyUnits.length * 2);
    grown.set(keyUnits);
    keyUnits = grown;
  }
  keyUnits[keyLength++] = c;
}

function units(text: string): void {
  for (let i = 0; i < text.length; i++) unit(text.charCodeAt(i));
}

/** As before: `~` before a negated byte, then 0x100|value and 0x100|mask; `[min-max]`; `(a|b)`. */
function hexUnits(tokens: HexToken[]): void {
  for (const t of tokens) {
    if (t.type === "byte") {
      if (t.not) unit(0x7e);
      unit(0x100 | t.value);
      unit(0x100 | t.mask);
    } else if (t.type === "jump") units(`[${t.min}-${t.max ?? ""}]`);
    else {
      unit(0x28);
      t.alternatives.forEach((a, i) => {
        if (i > 0) unit(0x7c);
        hexUnits(a);
      });
      unit(0x29);
    }
  }
}

/**
 * Atoms of one length, keyed by their bytes little-endian: an open-addressing table (slot = top bits
 * of the key's multiplicative hash) whose slots point at a run of entries [first, end).
 */
class AtomTable {
  constructor(
    readonly bits: number,
    readonly keys: Int32Array,
    /** Entry index + 1 of the slot's first entry; 0 = empty slot. */
    readonly first: Int32Array,
    readonly end: Int32Array,
  ) {}

  static build(groups: Map<number, unknown[]>, entryBase: (key: number) => number, count: (list: unknown[]) => number): { bits: number; keys: Int32Array; first: Int32Array; end: Int32Array } {
    let bits = 4;
    while (1 << bits < groups.size * 2) bits++;
    const keys = new Int32Array(1 << bits);
    const first = new Int32Array(1 << bits);
    const end = new Int32Array(1 << bits);
    const mask = (1 << bits) - 1;
    for (const [key, list] of groups) {
      let slot = Math.imul(key, HASH_MUL) >>> (32 - bits);
      while (first[slot] !== 0) slot = (slot + 1) & mask;
      const base = entryBase(key);
      keys[slot] = key;
      first[slot] = base + 1;
      end[slot] = base + count(list);
    }
    return { bits, keys, first, end };
  }

  /** The slot holding `key` for a multiplicative hash `h` (32 bits), or -1. */
  find(key: number, h: number): number {
    const mask = (1 << this.bits) - 1;
    let slot = h >>> (32 - this.bits);
    for (;;) {
      if (this.first[slot] === 0) return -1;
      if (this.keys[slot] === key) return slot;
      slot = (slot + 1) & mask;
    }
  }
}

/** The tables of compiled variants (see PatternTables). */
function buildTables(patterns: number, variants: Variant[], varSub: Int32Array, canonical: Int32Array): PatternTables {
  const t = {
    patterns,
    byLength: new Int32Array(5),
    kinds: new Uint8Array(variants.length),
    varPattern: Int32Array.from(variants, (v) => v.pattern),
    varSub,
    filter4: new Int32Array(1 << (FILTER_BITS - 5)),
    filter3: new Int32Array(1 << (SHORT_FILTER_BITS - 5)),
    shortGate: new Int32Array(1 << 11),
    first2: new Int32Array(1 << 16),
    end2: new Int32Array(1 << 16),
    first1: new Int32Array(256),
    end1: new Int32Array(256),
    canonical,
  };
  const atomless: number[] = [];
  const groups: Map<number, number[]>[] = [new Map(), new Map(), new Map(), new Map(), new Map()];
  let atoms = 0;
  variants.forEach((v, vi) => {
    t.kinds[vi] = v.kind === "literal" ? KIND_LITERAL : v.kind === "base64" ? KIND_BASE64 : v.kind === "regex" ? (v.back ? KIND_REGEX_BACK : KIND_REGEX) : KIND_UNDECIDABLE;
    if (!v.choice) {
      atomless.push(vi);
      return;
    }
    v.choice.atoms.forEach((a, ai) => {
      const len = a.length;
      let key = 0;
      for (let k = len - 1; k >= 0; k--) key = ((key << 8) | a[k]!) >>> 0;
      key |= 0;
      let list = groups[len]!.get(key);
      if (!list) groups[len]!.set(key, (list = []));
      // (variant, atom index) pairs: backward variants keep an offset per atom.
      list.push(vi, ai);
      t.byLength[len]!++;
      atoms++;
    });
  });
  // Entries grouped by (length, key), so that one table slot is one contiguous run.
  const entVariant = new Int32Array(atoms);
  const entOffMin = new Int32Array(atoms);
  const entOffMax = new Int32Array(atoms);
  let next = 0;
  const bases: Map<number, number>[] = [];
  for (let len = 1; len <= 4; len++) {
    const base = new Map<number, number>();
    bases[len] = base;
    for (const [key, list] of groups[len]!) {
      base.set(key, next);
      for (let x = 0; x < list.length; x += 2) {
        const vi = list[x]!;
        const c = variants[vi]!.choice!;
        entVariant[next] = vi;
        // Backward variants: the atom's offset from the start of its item, where the NFA begins.
        entOffMin[next] = t.kinds[vi] === KIND_REGEX_BACK ? (c.anchor!.inners?.[list[x + 1]!] ?? c.anchor!.inner) : c.offMin;
        entOffMax[next] = c.offMax ?? -1;
        next++;
      }
      if (len === 4) setBit(t.filter4, Math.imul(key, HASH_MUL) >>> (32 - FILTER_BITS));
      else if (len === 3) {
        setBit(t.filter3, Math.imul(key, HASH_MUL) >>> (32 - SHORT_FILTER_BITS));
        setBit(t.shortGate, key & 0xffff);
      } else if (len === 2) {
        setBit(t.shortGate, key);
        t.first2[key] = base.get(key)! + 1;
        t.end2[key] = next;
      } else {
        for (let b1 = 0; b1 < 256; b1++) setBit(t.shortGate, key | (b1 << 8));
        t.first1[key] = base.get(key)! + 1;
        t.end1[key] = next;
      }
    }
  }
  const count = (list: unknown[]) => list.length / 2;
  const t4 = AtomTable.build(groups[4]!, (k) => bases[4]!.get(k)!, count);
  const t3 = AtomTable.build(groups[3]!, (k) => bases[3]!.get(k)!, count);
  const checks = slotChecks(t4, entVariant, entOffMin, t.kinds, variants);
  const geo = streamGeometry(variants, canonical);
  const lit = literalPool(variants);
  return {
    ...t,
    ...lit,
    atoms,
    entVariant,
    entOffMin,
    entOffMax,
    tableBits: Int32Array.of(t4.bits, t3.bits),
    t4keys: t4.keys,
    t4first: t4.first,
    t4end: t4.end,
    t3keys: t3.keys,
    t3first: t3.first,
    t3end: t3.end,
    atomless: Int32Array.from(atomless),
    chkOff: checks.off,
    chkMask: checks.mask,
    chkValue: checks.value,
    geo: Int32Array.of(geo.before, geo.after),
    geoUnbounded: Int32Array.from(geo.unbounded),
  };
}

/** Literal variants, flat: bytes in one pool; start, length, flags and xor range per variant. */
function literalPool(variants: Variant[]): Pick<PatternTables, "litPool" | "litStart" | "litLen" | "litFlags" | "litXor"> {
  const litStart = new Int32Array(variants.length);
  const litLen = new Int32Array(variants.length);
  const litFlags = new Uint8Array(variants.length);
  const litXor = new Int32Array(variants.length);
  let size = 0;
  for (const v of variants) if (v.kind === "literal") size += v.bytes.length;
  const litPool = new Uint8Array(size);
  let at = 0;
  variants.forEach((v, vi) => {
    if (v.kind !== "literal") return;
    litPool.set(v.bytes, at);
    litStart[vi] = at;
    litLen[vi] = v.bytes.length;
    at += v.bytes.length;
    litFlags[vi] = (v.nocase ? LIT_NOCASE : 0) | (v.fullword ? LIT_FULLWORD : 0) | (v.wide ? LIT_WIDE : 0) | (v.xor ? LIT_XOR : 0);
    if (v.xor) litXor[vi] = v.xor.min | (v.xor.max << 8);
  });
  return { litPool, litStart, litLen, litFlags, litXor };
}

/**
 * For the WebAssembly loop: per 4-byte table slot with one entry, four bytes near the atom that
 * every match of that entry has (mask/value relative to the hit), so that most hits of common
 * atoms never reach JS. Literals: the bytes after (or before) the atom, case bits masked for
 * nocase letters. Regex variants: their quick-check bytes, each set as the widest mask/value that
 * covers it (a superset, never a false rejection).
 */
function slotChecks(t: { keys: Int32Array; first: Int32Array; end: Int32Array }, entVariant: Int32Array, entOffMin: Int32Array, kinds: Uint8Array, variants: Variant[]): { off: Int32Array; mask: Int32Array; value: Int32Array } {
  const size = t.keys.length;
  const off = new Int32Array(size);
  const mask = new Int32Array(size);
  const value = new Int32Array(size);
  const kMask = new Int32Array(2 * MARGIN);
  const kVal = new Int32Array(2 * MARGIN);
  for (let slot = 0; slot < size; slot++) {
    if (t.first[slot] === 0 || t.end[slot]! - (t.first[slot]! - 1) !== 1) continue;
    const e = t.first[slot]! - 1;
    const v = variants[entVariant[e]!]!;
    // Mask and value for data[hit + k], k in [-MARGIN, MARGIN), at index k + MARGIN.
    kMask.fill(0);
    const put = (k: number, m: number, val: number) => {
      if (k < -MARGIN || k >= MARGIN) return;
      kMask[k + MARGIN] = m;
      kVal[k + MARGIN] = val;
    };
    if (v.kind === "literal" && v.xor === null) {
      const a = entOffMin[e]!;
      const bytes = v.bytes;
      for (let k = Math.max(0, a - MARGIN); k < Math.min(bytes.length, a + MARGIN); k++) {
        const b = bytes[k]!;
        if (v.nocase && b >= 0x61 && b <= 0x7a) put(k - a, 0xdf, b & 0xdf);
        else put(k - a, 0xff, b);
      }
    } else if (v.kind === "regex" && v.quick) {
      const q = kinds[entVariant[e]!] === KIND_REGEX_BACK ? entOffMin[e]! : v.quick.inner;
      for (let k = 0; k < v.quick.offs.length; k++) {
        let first = -1;
        let diff = 0;
        for (let b = 0; b < 256; b++) {
          if (((v.quick.sets[k * 8 + (b >>> 5)]! >>> (b & 31)) & 1) === 0) continue;
          if (first < 0) first = b;
          diff |= b ^ first;
        }
        const m = 0xff & ~diff;
        if (first >= 0 && m !== 0) put(v.quick.offs[k]! - q, m, first & m);
      }
    } else continue;
    // The 4-byte window (outside the atom itself) with the most mask bits.
    let best = 0;
    let bestAt = 0;
    for (let p = -MARGIN; p <= MARGIN - 4; p++) {
      if (p > -4 && p < 4) continue;
      let bitsSet = 0;
      for (let k = 0; k < 4; k++) for (let m = kMask[p + k + MARGIN]!; m; m &= m - 1) bitsSet++;
      if (bitsSet > best) {
        best = bitsSet;
        bestAt = p;
      }
    }
    if (best === 0) continue;
    let mk = 0;
    let val = 0;
    for (let k = 0; k < 4; k++) {
      mk |= kMask[bestAt + k + MARGIN]! << (8 * k);
      val |= (kVal[bestAt + k + MARGIN]! & kMask[bestAt + k + MARGIN]!) << (8 * k);
    }
    off[slot] = bestAt;
    mask[slot] = mk;
    value[slot] = val;
  }
  return { off, mask, value };
}

class CompiledSet implements PatternSet {
  readonly patterns: number;
  readonly atoms: number;
  private readonly byLength: Int32Array;
  /** Entries: the variant an atom belongs to and the atom's offset range from the match start. */
  private readonly entVariant: Int32Array;
  private readonly entOffMin: Int32Array;
  /** -1 = unbounded. */
  private readonly entOffMax: Int32Array;
  private readonly table4: AtomTable;
  private readonly table3: AtomTable;
  private readonly filter4: Int32Array;
  private readonly filter3: Int32Array;
  /** Bit (b0 | b1 << 8): some 1-, 2- or 3-byte atom starts with bytes b0 b1 (1-byte: any b1). */
  private readonly shortGate: Int32Array;
  /** 2- and 1-byte atoms: entry ranges indexed directly by the key (first + 1, 0 = none). */
  private readonly first2: Int32Array;
  private readonly end2: Int32Array;
  private readonly first1: Int32Array;
  private readonly end1: Int32Array;
  /** Variants with no atom: searched with their regex over all the data, or always undecidable. */
  private readonly atomless: Int32Array;
  private readonly kinds: Uint8Array;
  private readonly varPattern: Int32Array;
  private readonly run: ScanRun;
  private readonly wasm: WasmFilter | null;
  private readonly geometry: StreamGeometry;
  /** Per variant, the gate of its rule (0: none); the current file's shut gates (gate 0 never is). */
  private varGate: Int32Array;
  private readonly canonical: Int32Array;
  private shut: Uint8Array = FileGates.OPEN;
  /** No gate shut, as long as the gate groups (a file scanned without its shut gates). */
  private open: Uint8Array = FileGates.OPEN;

  /** `variant(vi)`: the variant object, for the verifiers that need more than the flat tables. */
  constructor(t: PatternTables, variant: (vi: number) => Variant, loop: "wasm" | "js") {
    this.patterns = t.patterns;
    this.atoms = t.atoms;
    this.byLength = t.byLength;
    this.entVariant = t.entVariant;
    this.entOffMin = t.entOffMin;
    this.entOffMax = t.entOffMax;
    this.table4 = new AtomTable(t.tableBits[0]!, t.t4keys, t.t4first, t.t4end);
    this.table3 = new AtomTable(t.tableBits[1]!, t.t3keys, t.t3first, t.t3end);
    this.filter4 = t.filter4;
    this.filter3 = t.filter3;
    this.shortGate = t.shortGate;
    this.first2 = t.first2;
    this.end2 = t.end2;
    this.first1 = t.first1;
    this.end1 = t.end1;
    this.atomless = t.atomless;
    this.kinds = t.kinds;
    this.varPattern = t.varPattern;
    this.run = new ScanRun(t, variant);
    this.varGate = new Int32Array(t.kinds.length);
    this.canonical = t.canonical;
    this.geometry = { before: t.geo[0]!, after: t.geo[1]!, unbounded: Array.from(t.geoUnbounded) };
    this.wasm = loop === "wasm" ? WasmFilter.create(this.filter4, this.shortGate, this.table4.keys, this.table4.first, { off: t.chkOff, mask: t.chkMask, value: t.chkValue }, this.table4.bits, FILTER_BITS) : null;
  }

  /** Patterns incomplete on every file (an undecidable variant without atoms), for measurements. */
  alwaysUndecided(): number {
    const p = new Set<number>();
    for (const vi of this.atomless) if (this.kinds[vi] !== KIND_REGEX) p.add(this.varPattern[vi]!);
    return p.size;
  }

  /** Atom counts by length (index 1..4), for measurements. */
  atomsByLength(): Record<string, number> {
    return { "1": this.byLength[1]!, "2": this.byLength[2]!, "3": this.byLength[3]!, "4": this.byLength[4]! };
  }

  useGates(ruleGates: readonly (RuleGate | undefined)[], ruleOf: (pattern: number) => number): FileGates {
    const gates = new FileGates(ruleGates, this.varPattern, this.canonical, ruleOf);
    this.varGate = gates.varGate;
    this.open = new Uint8Array(gates.size);
    return gates;
  }

  stream(step?: number, pool?: StreamPool, shut?: Uint8Array): MatchStream {
    return matchStream((d) => this.scan(d, shut), this.geometry, step, pool);
  }

  scan(data: Uint8Array, given?: Uint8Array): MatchTable {
    const run = this.run;
    run.begin(data);
    const shut = given && given.length === this.open.length ? given : this.open;
    this.shut = shut;
    const n = data.length;
    const f4 = this.filter4;
    const t4 = this.table4;
    const gate = this.shortGate;
    const shift = 32 - FILTER_BITS;
    // The hot loop: a rolling little-endian window of the next four bytes. Per position, one bit of
    // the 4-byte filter and one bit of the short-atom gate (keyed by the first two bytes); the
    // tables behind them are probed only when a bit is set.
    let w = ((n > 0 ? data[0]! : 0) << 8) | ((n > 1 ? data[1]! : 0) << 16) | ((n > 2 ? data[2]! : 0) << 24);
    const end4 = n - 3;
    const wasm = this.wasm;
    if (wasm !== null && end4 > 0) {
      // The same loop in WebAssembly, a chunk at a time; JS verifies its candidates in order.
      const out = wasm.out;
      for (let base = 0; base < end4; base += CHUNK) {
        const count = wasm.run(data, base, Math.min(CHUNK, end4 - base));
        for (let x = 0; x < count; x++) {
          const i = base + out[2 * x]!;
          const slot = out[2 * x + 1]!;
          if (slot >= 0) this.entries(t4.first[slot]! - 1, t4.end[slot]!, i);
          else this.short(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24), i, n);
        }
      }
      w = data[end4 - 1]! | (data[end4]! << 8) | (data[end4 + 1]! << 16) | (data[end4 + 2]! << 24);
    }
    for (let i = 0; wasm === null && i < end4; i++) {
      w = (w >>> 8) | (data[i + 3]! << 24);
      const h = Math.imul(w, HASH_MUL);
      const b = h >>> shift;
      if ((f4[b >>> 5]! >>> (b & 31)) & 1) {
        const slot = t4.find(w, h);
        if (slot >= 0) this.entries(t4.first[slot]! - 1, t4.end[slot]!, i);
      }
      const g = w & 0xffff;
      if ((gate[g >>> 5]! >>> (g & 31)) & 1) this.short(w, i, n);
    }
    // The last three positions: no 4-byte atom fits; the window is padded with zeros.
    for (let i = Math.max(0, end4); i < n; i++) {
      w = (w >>> 8) | ((i + 3 < n ? data[i + 3]! : 0) << 24);
      const g = w & 0xffff;
      if ((gate[g >>> 5]! >>> (g & 31)) & 1) this.short(w, i, n);
    }
    for (const vi of this.atomless) if (shut[this.varGate[vi]!] === 0) run.scanWhole(vi);
    return run.finish();
  }

  /** A short-atom gate hit: the 3-, 2- and 1-byte atoms at `at` (w: the next four bytes, zero-padded). */
  private short(w: number, at: number, n: number): void {
    if (at + 3 <= n) {
      const k = w & 0xffffff;
      const h = Math.imul(k, HASH_MUL);
      const b = h >>> (32 - SHORT_FILTER_BITS);
      if ((this.filter3[b >>> 5]! >>> (b & 31)) & 1) {
        const slot = this.table3.find(k, h);
        if (slot >= 0) this.entries(this.table3.first[slot]! - 1, this.table3.end[slot]!, at);
      }
    }
    if (at + 2 <= n) {
      const k = w & 0xffff;
      if (this.first2[k] !== 0) this.entries(this.first2[k]! - 1, this.end2[k]!, at);
    }
    const k = w & 0xff;
    if (this.first1[k] !== 0) this.entries(this.first1[k]! - 1, this.end1[k]!, at);
  }

  /** Atom hit at `at`: every entry of the slot, verified by its variant's kind. */
  private entries(from: number, to: number, at: number): void {
    const run = this.run;
    const shut = this.shut;
    const varGate = this.varGate;
    for (let e = from; e < to; e++) {
      const vi = this.entVariant[e]!;
      // A rule this file cannot satisfy (its gate is shut): its patterns need no verifying.
      if (shut[varGate[vi]!] !== 0) continue;
      switch (this.kinds[vi]) {
        case KIND_LITERAL:
          run.literal(vi, at - this.entOffMin[e]!);
          break;
        case KIND_BASE64:
          run.base64(vi, at - this.entOffMin[e]!);
          break;
        case KIND_REGEX: {
          const max = this.entOffMax[e]!;
          run.regex(vi, Math.max(0, at - (max < 0 ? MAX_BACKWARD : Math.min(max, MAX_BACKWARD))), at - this.entOffMin[e]!, at);
          break;
        }
        case KIND_REGEX_BACK:
          run.regexBack(vi, at - this.entOffMin[e]!, at);
          break;
        default:
          run.undecided(this.varPattern[vi]!);
      }
    }
  }
}

/**
 * The overlaps a stream window needs, from how far each variant's verifier reads around a match
 * start s (see stream.ts): before s at most the fullword/\b neighbours and base64's decode window;
 * after s the match itself plus two neighbour bytes. A regex candidate start is verified in a
 * slice that ends `reach` past the atom's candidate range: with a maximum width w < MAX_SURE_LENGTH
 * the atom is at most w past s and the slice ends by s + 2w + 2; unbounded, the atom is at most
 * MAX_BACKWARD past s and the slice ends by s + MAX_BACKWARD + MAX_SURE_LENGTH + 2.
 */
function streamGeometry(variants: Variant[], canonical: Int32Array): StreamGeometry {
  let after = 16;
  const unbounded = new Set<number>();
  for (const v of variants) {
    let reach = 0;
    if (v.kind === "literal") reach = v.bytes.length + 2;
    else if (v.kind === "base64") reach = v.b64.decodeDelta + v.b64.decodeLen + v.b64.matchLen + 8;
    else if (v.kind === "regex") {
      const bounded = v.maxWidth !== null && v.maxWidth < MAX_SURE_LENGTH;
      reach = bounded ? 2 * v.maxWidth! + 4 : MAX_BACKWARD + MAX_SURE_LENGTH + 4;
      // Without atoms the regex runs over the whole window: an unbounded match can be cut by the window's end.
      if (!v.choice && !bounded) unbounded.add(v.pattern);
    }
    after = Math.max(after, reach + 16);
  }
  const all: number[] = [];
  canonical.forEach((c, p) => {
    if (unbounded.has(c)) all.push(p);
  });
  return { before: 64, after, unbounded: all };
}

function setBit(bits: Int32Array, h: number): void {
  bits[h >>> 5]! |= 1 << (h & 31);
}

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** YARA-X's verify_full_word (wide: an alphanumeric char is the byte and a 0x00 after it). */
function fullWord(data: Uint8Array, start: number, end: number, wide: boolean, key: number): boolean {
  const n = data.length;
  if (wide) {
    if (start >= 2 && (data[start - 1]! ^ key) === 0 && isAlnum(data[start - 2]! ^ key)) return false;
    if (end + 1 < n && (data[end + 1]! ^ key) === 0 && isAlnum(data[end]! ^ key)) return false;
  } else {
    if (start >= 1 && isAlnum(data[start - 1]! ^ key)) return false;
    if (end < n && isAlnum(data[end]! ^ key)) return false;
  }
  return true;
}

type RegexVariant = Extract<Variant, { kind: "regex" }>;

/**
 * One scan's mutable state, kept between scans so that nothing is allocated per hit: matches as
 * linked lists in growable typed arrays, per-pattern and per-variant state stamped with the scan's
 * epoch (a stale stamp means "not touched in this scan", so nothing has to be cleared).
 */
class ScanRun {
  private data: Uint8Array = new Uint8Array(0);
  /** The data as latin1 text, whole: only for regexes that need it (anchored, without atoms). */
  private text: string | undefined;
  /** Latin1 text of parts of large data, for the verifiers (textOf). */
  private windows: { base: number; text: string }[] = [];
  private epoch = 0;
  // Per pattern.
  private readonly pEpoch: Int32Array;
  private readonly pHead: Int32Array;
  private readonly pTail: Int32Array;
  private readonly pCount: Int32Array;
  private readonly pLast: Int32Array;
  /** Bit 1: incomplete; bit 2: not strictly ascending (needs sorting and deduplication). */
  private readonly pFlags: Uint8Array;
  private touched: number[] = [];
  // Records.
  private recOff = new Int32Array(1024);
  private recLen = new Int32Array(1024);
  private recNext = new Int32Array(1024);
  private records = 0;
  // Per regex variant: the last candidate start already verified in this scan.
  private readonly vEpoch: Int32Array;
  private readonly vDone: Int32Array;
  // Literal variants, flat: bytes in one pool; start, length, flags and xor range per variant.
  private readonly litPool: Uint8Array;
  private readonly litStart: Int32Array;
  private readonly litLen: Int32Array;
  private readonly litFlags: Uint8Array;
  /** min | max << 8 */
  private readonly litXor: Int32Array;
  /** Scratch for the backward NFA's candidate starts. */
  private readonly starts: number[] = [];

  /** Per pattern: the alias patterns of each canonical one (identical declarations), if any. */
  private readonly aliases = new Map<number, number[]>();

  private readonly varPattern: Int32Array;
  /**
   * Variant objects built so far (see CompiledSet's constructor). Dense, filled up front: an array
   * filled out of order by index becomes a dictionary, and this lookup runs on every regex hit.
   */
  private readonly made: (Variant | undefined)[];

  constructor(
    t: PatternTables,
    private readonly make: (vi: number) => Variant,
  ) {
    const patterns = t.patterns;
    const variants = t.kinds.length;
    t.canonical.forEach((c, p) => {
      if (c === p) return;
      let list = this.aliases.get(c);
      if (!list) this.aliases.set(c, (list = []));
      list.push(p);
    });
    this.made = new Array<Variant | undefined>(variants).fill(undefined);
    this.pEpoch = new Int32Array(patterns);
    this.pHead = new Int32Array(patterns);
    this.pTail = new Int32Array(patterns);
    this.pCount = new Int32Array(patterns);
    this.pLast = new Int32Array(patterns);
    this.pFlags = new Uint8Array(patterns);
    this.vEpoch = new Int32Array(variants);
    this.vDone = new Int32Array(variants);
    this.varPattern = t.varPattern;
    this.litPool = t.litPool;
    this.litStart = t.litStart;
    this.litLen = t.litLen;
    this.litFlags = t.litFlags;
    this.litXor = t.litXor;
  }

  private variant(vi: number): Variant {
    return (this.made[vi] ??= this.make(vi));
  }

  begin(data: Uint8Array): void {
    this.data = data;
    this.text = undefined;
    this.windows = [];
    this.epoch++;
    this.touched = [];
    this.records = 0;
  }

  private touch(p: number): void {
    if (this.pEpoch[p] === this.epoch) return;
    this.pEpoch[p] = this.epoch;
    this.pHead[p] = -1;
    this.pTail[p] = -1;
    this.pCount[p] = 0;
    this.pLast[p] = -1;
    this.pFlags[p] = 0;
    this.touched.push(p);
  }

  private record(p: number, offset: number, length: number): void {
    this.touch(p);
    if (this.pCount[p]! >= 2 * MAX_MATCHES_PER_PATTERN) return;
    if (offset <= this.pLast[p]!) this.pFlags[p]! |= 2;
    this.pLast[p] = offset;
    let r = this.records;
    if (r === this.recOff.length) this.grow();
    this.records = r + 1;
    this.recOff[r] = offset;
    this.recLen[r] = length;
    this.recNext[r] = -1;
    if (this.pTail[p]! >= 0) this.recNext[this.pTail[p]!] = r;
    else this.pHead[p] = r;
    this.pTail[p] = r;
    this.pCount[p]!++;
  }

  private grow(): void {
    const size = this.recOff.length * 2;
    const o = new Int32Array(size);
    o.set(this.recOff);
    this.recOff = o;
    const l = new Int32Array(size);
    l.set(this.recLen);
    this.recLen = l;
    const x = new Int32Array(size);
    x.set(this.recNext);
    this.recNext = x;
  }

  undecided(p: number): void {
    this.touch(p);
    this.pFlags[p]! |= 1;
  }

  literal(vi: number, start: number): void {
    // Flat typed arrays rather than the variant objects: variants of four kinds have four shapes,
    // and this runs on every literal atom hit.
    const data = this.data;
    const len = this.litLen[vi]!;
    if (start < 0 || start + len > data.length) return;
    const pool = this.litPool;
    const at = this.litStart[vi]!;
    const flags = this.litFlags[vi]!;
    let key = 0;
    if (flags & LIT_XOR) {
      key = data[start]! ^ pool[at]!;
      const range = this.litXor[vi]!;
      if (key < (range & 0xff) || key > range >>> 8) return;
    }
    if (flags & LIT_NOCASE) {
      for (let k = 0; k < len; k++) if (FOLD[data[start + k]! ^ key] !== pool[at + k]) return;
    } else {
      for (let k = 0; k < len; k++) if ((data[start + k]! ^ key) !== pool[at + k]) return;
    }
    if (flags & LIT_FULLWORD && !fullWord(data, start, start + len, (flags & LIT_WIDE) !== 0, key)) return;
    this.record(this.varPattern[vi]!, start, len);
  }

  base64(vi: number, start: number): void {
    const v = this.variant(vi) as Extract<Variant, { kind: "base64" }>;
    const len = verifyBase64(v.b64, this.data, start);
    if (len > 0) this.record(v.pattern, start, len);
  }

  /**
   * A regex atom hit: the match starts somewhere in [lo, hi]. Starts already verified for this
   * variant in this scan are skipped, so overlapping candidate ranges cost one search.
   */
  regex(vi: number, lo: number, hi: number, at: number): void {
    if (hi < 0 || !this.quick(this.variant(vi) as RegexVariant, at)) return;
    if (this.vEpoch[vi] !== this.epoch) {
      this.vEpoch[vi] = this.epoch;
      this.vDone[vi] = -1;
    }
    if (lo <= this.vDone[vi]!) lo = this.vDone[vi]! + 1;
    if (lo > hi) return;
    this.vDone[vi] = hi;
    this.verifyRegex(this.variant(vi) as RegexVariant, lo, hi);
  }

  /** Candidate starts from the backward NFA (prefix ending at q), each checked forwards. */
  regexBack(vi: number, q: number, at: number): void {
    const v = this.variant(vi) as RegexVariant;
    if (q < 0 || !this.quick(v, at)) return;
    const suffix = v.suffix!.get();
    if (suffix === null) return this.undecided(v.pattern);
    if (!this.execAt(v, suffix, q)) return;
    const starts = this.starts;
    v.back!.get().starts(this.data, q, at - MAX_BACKWARD, starts);
    for (const s of starts) this.verifyAt(v, s);
  }

  /** False when a byte at a fixed distance from the atom rules every match out (see quickChecks). */
  private quick(v: RegexVariant, at: number): boolean {
    const qc = v.quick;
    if (qc === null) return true;
    const data = this.data;
    const n = data.length;
    const q = at - qc.inner;
    const offs = qc.offs;
    const sets = qc.sets;
    for (let k = 0; k < offs.length; k++) {
      const p = q + offs[k]!;
      if (p < 0 || p >= n) return false;
      const b = data[p]!;
      if (((sets[k * 8 + (b >>> 5)]! >>> (b & 31)) & 1) === 0) return false;
    }
    const gOff = qc.gOff;
    for (let k = 0; k < gOff.length; k++) {
      const from = Math.max(0, q + gOff[k]! + qc.gMin[k]!);
      const to = Math.min(n - 1, q + gOff[k]! + qc.gMax[k]!);
      const base = k * 8;
      const gs = qc.gSets;
      let ok = false;
      for (let p = from; p <= to; p++) {
        const b = data[p]!;
        if ((gs[base + (b >>> 5)]! >>> (b & 31)) & 1) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
    }
    return true;
  }

  /** The match starting exactly at s, if any. */
  private verifyAt(v: RegexVariant, s: number): void {
    const rx = regexesOf(v);
    if (rx === null) return this.undecided(v.pattern);
    const m = this.execAt(v, rx.sticky, s);
    if (m) this.confirm(v, s, m[0].length);
  }

  /**
   * A sticky exec of `re` (the variant's regex or a part of it) at s: on the whole data when
   * anchored, else in a window from two bytes before s (for \b, wide \b) long enough for any sure match.
   */
  private execAt(v: RegexVariant, re: RegExp, s: number): RegExpExecArray | null {
    if (v.anchored) {
      re.lastIndex = s;
      return re.exec(this.latin1());
    }
    const from = Math.max(0, s - 2);
    const reach = reachOf(v);
    const window = this.textOf(from, Math.min(this.data.length, s + reach));
    re.lastIndex = s - from;
    return re.exec(window);
  }

  private verifyRegex(v: RegexVariant, lo: number, hi: number): void {
    const rx = regexesOf(v);
    if (rx === null) return this.undecided(v.pattern);
    const n = this.data.length;
    if (v.anchored) {
      // ^ and $ need the whole data; sticky, one start at a time (a global search could run to the end).
      const text = this.latin1();
      const re = rx.sticky;
      for (let s = lo; s <= hi && s <= n; s++) {
        re.lastIndex = s;
        const m = re.exec(text);
        if (m) this.confirm(v, s, m[0].length);
      }
      return;
    }
    // A window from two bytes before the first start (for \b and wide \b) to where the longest match from the
    // last start ends (plus two bytes for \b and wide \b), or to the length limit: a match from a start <= hi is
    // never cut by the window's end unless it reaches MAX_SURE_LENGTH, which makes it incomplete.
    const from = Math.max(0, lo - 2);
    const reach = reachOf(v);
    const window = this.textOf(from, Math.min(n, hi + reach));
    if (hi - lo < FEW_STARTS) {
      // A few starts: one sticky exec each. A global search would go on looking for the leftmost
      // match past `hi`, up to the end of the window (4 KB for an unbounded regex), on every hit.
      const sticky = rx.sticky;
      for (let s = lo; s <= hi; s++) {
        sticky.lastIndex = s - from;
        const m = sticky.exec(window);
        if (m) this.confirm(v, s, m[0].length);
      }
      return;
    }
    // Global search: irregexp finds the leftmost start >= lastIndex; one exec per match, not per start.
    const re = rx.global;
    let s = lo;
    while (s <= hi) {
      re.lastIndex = s - from;
      const m = re.exec(window);
      if (!m || m.index + from > hi) return;
      s = m.index + from;
      this.confirm(v, s, m[0].length);
      s++;
    }
  }

  /** A variant without atoms: its regex over all the data (every start offset), or undecidable. */
  scanWhole(vi: number): void {
    const v = this.variant(vi);
    if (v.kind !== "regex") {
      this.undecided(v.pattern);
      return;
    }
    const rx = regexesOf(v);
    if (rx === null) return this.undecided(v.pattern);
    const text = this.latin1();
    const re = rx.global;
    let from = 0;
    while (from <= text.length) {
      re.lastIndex = from;
      const m = re.exec(text);
      if (!m) break;
      this.confirm(v, m.index, m[0].length);
      if (this.pCount[v.pattern]! >= 2 * MAX_MATCHES_PER_PATTERN) break;
      from = m.index + 1;
    }
  }

  private latin1(): string {
    return (this.text ??= binaryString(this.data));
  }

  /**
   * The latin1 text of data[from, to). Data up to WHOLE_TEXT_MAX is made text once, whole (the
   * verifiers of one file jump between patterns, so windows would be made again and again); larger
   * data (a container held whole, up to --max-filesize) through windows of TEXT_BLOCK-aligned
   * blocks, the last few kept, so that it is never one string of 128 MB on the V8 heap.
   */
  private textOf(from: number, to: number): string {
    if (this.text !== undefined || this.data.length <= WHOLE_TEXT_MAX) return this.latin1().slice(from, to);
    for (const w of this.windows) if (from >= w.base && to <= w.base + w.text.length) return w.text.slice(from - w.base, to - w.base);
    const base = from - (from % TEXT_BLOCK);
    const end = Math.min(this.data.length, Math.ceil(Math.max(to, base + TEXT_BLOCK) / TEXT_BLOCK) * TEXT_BLOCK);
    const w = { base, text: binaryString(this.data.subarray(base, end)) };
    if (this.windows.length >= TEXT_WINDOWS) this.windows.shift();
    this.windows.push(w);
    return w.text.slice(from - base, to - base);
  }

  private confirm(v: RegexVariant, start: number, length: number): void {
    if (length >= MAX_SURE_LENGTH) {
      this.undecided(v.pattern);
      return;
    }
    if (v.fullword && !fullWord(this.data, start, start + length, v.wide, 0)) return;
    this.record(v.pattern, start, length);
  }

  finish(): MatchTable {
    const table = new Map<number, PatternMatches>();
    const hits: number[] = [];
    for (const p of this.touched) {
      let offsets: number[] = [];
      let lengths: number[] = [];
      for (let r = this.pHead[p]!; r >= 0; r = this.recNext[r]!) {
        offsets.push(this.recOff[r]!);
        lengths.push(this.recLen[r]!);
      }
      if (this.pFlags[p]! & 2) [offsets, lengths] = sortDedupe(offsets, lengths);
      if (offsets.length > MAX_MATCHES_PER_PATTERN) {
        offsets = offsets.slice(0, MAX_MATCHES_PER_PATTERN);
        lengths = lengths.slice(0, MAX_MATCHES_PER_PATTERN);
      }
      const m = { offsets, lengths, complete: (this.pFlags[p]! & 1) === 0 };
      table.set(p, m);
      hits.push(p);
      for (const a of this.aliases.get(p) ?? []) {
        table.set(a, m);
        hits.push(a);
      }
    }
    hits.sort((a, b) => a - b);
    this.data = new Uint8Array(0);
    this.text = undefined;
    this.windows = [];
    return { get: (p) => table.get(p), hits: () => hits };
  }
}

/** Ascending by offset; one match per offset (YARA-X keeps one, the shorter of ascii and wide). */
function sortDedupe(offsets: number[], lengths: number[]): [number[], number[]] {
  const idx = offsets.map((_, i) => i).sort((a, b) => offsets[a]! - offsets[b]! || lengths[a]! - lengths[b]!);
  const o: number[] = [];
  const l: number[] = [];
  for (const i of idx) {
    if (o.length && o[o.length - 1] === offsets[i]) continue;
    o.push(offsets[i]!);
    l.push(lengths[i]!);
  }
  return [o, l];
}
