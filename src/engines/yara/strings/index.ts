// The string compiler and matcher: every StringDecl of every rule becomes variants with atoms; one
// pass over the bytes finds all atom hits through small bit filters (hashed 4- and 3-byte windows,
// direct 2- and 1-byte tables), and verifiers confirm each hit with YARA-X's semantics. Where a
// verifier cannot be exact the pattern is reported incomplete, never guessed.
import type { StringDecl } from "../ast";
import { MAX_MATCHES_PER_PATTERN, type MatchTable, type PatternMatches } from "../contracts";
import { binaryString } from "../regex";
import { verifyBase64 } from "./base64";
import { variantsOf, type Variant } from "./variants";

export interface PatternSet {
  readonly patterns: number;
  readonly atoms: number;
  /** One pass over the bytes: every pattern's matches, exactly as YARA-X reports them, or complete=false where not decidable. */
  scan(data: Uint8Array): MatchTable;
}

/**
 * YARA-X does not find regex or hex matches much longer than 4 KB (its VMs scan at most 4096 bytes
 * on either side of an atom). A match this long or longer is not confirmed either way: incomplete.
 */
const MAX_SURE_LENGTH = 4000;
/** How far before an atom hit a regex match may start (YARA-X's backward scan limit). */
const MAX_BACKWARD = 4096;

const FILTER_BITS = 22;
const HASH_MUL = 0x9e3779b1;

/** Atom hits point at these: which variant, and the atom's offset range from the match start. */
interface AtomEntry {
  variant: number;
  offMin: number;
  offMax: number | null;
}

export function compilePatterns(decls: StringDecl[]): { set: PatternSet; warnings: { index: number; message: string }[] } {
  const warnings: { index: number; message: string }[] = [];
  const variants: Variant[] = [];
  decls.forEach((decl, index) => {
    const r = variantsOf(decl, index);
    if (r.warning) warnings.push({ index, message: r.warning });
    variants.push(...r.variants);
  });
  return { set: new CompiledSet(decls.length, variants), warnings };
}

class CompiledSet implements PatternSet {
  readonly atoms: number;
  /** Per atom length 1..4: key -> entries. Keys are the atom's bytes little-endian. */
  private readonly tables: Map<number, AtomEntry[]>[] = [new Map(), new Map(), new Map(), new Map(), new Map()];
  private readonly filter4 = new Int32Array(1 << (FILTER_BITS - 5));
  private readonly filter3 = new Int32Array(1 << (FILTER_BITS - 5));
  private readonly filter2 = new Int32Array(1 << 11);
  private readonly filter1 = new Uint8Array(256);
  private readonly has = [false, false, false, false, false];
  /** Variants with no atom: searched with their regex over the whole data, or always undecidable. */
  private readonly atomless: number[] = [];

  constructor(
    readonly patterns: number,
    private readonly variants: Variant[],
  ) {
    let atoms = 0;
    variants.forEach((v, vi) => {
      if (!v.choice) {
        this.atomless.push(vi);
        return;
      }
      for (const a of v.choice.atoms) {
        const len = a.length;
        let key = 0;
        for (let k = len - 1; k >= 0; k--) key = ((key << 8) | a[k]!) >>> 0;
        key |= 0;
        const table = this.tables[len]!;
        let list = table.get(key);
        if (!list) table.set(key, (list = []));
        list.push({ variant: vi, offMin: v.choice.offMin, offMax: v.choice.offMax });
        this.has[len] = true;
        atoms++;
        if (len === 4) setBit(this.filter4, Math.imul(key, HASH_MUL) >>> (32 - FILTER_BITS));
        else if (len === 3) setBit(this.filter3, Math.imul(key, HASH_MUL) >>> (32 - FILTER_BITS));
        else if (len === 2) setBit(this.filter2, key);
        else this.filter1[key] = 1;
      }
    });
    this.atoms = atoms;
  }

  scan(data: Uint8Array): MatchTable {
    const run = new ScanRun(this.variants, data);
    const n = data.length;
    const f4 = this.filter4;
    const f3 = this.filter3;
    const f2 = this.filter2;
    const f1 = this.filter1;
    const [, has1, has2, has3, has4] = this.has;
    const shift = 32 - FILTER_BITS;
    // The hot loop: a rolling little-endian window of the next four bytes.
    let w = ((n > 0 ? data[0]! : 0) << 8) | ((n > 1 ? data[1]! : 0) << 16) | ((n > 2 ? data[2]! : 0) << 24);
    for (let i = 0; i < n; i++) {
      w = (w >>> 8) | ((i + 3 < n ? data[i + 3]! : 0) << 24);
      if (has4 && i + 4 <= n) {
        const h = Math.imul(w, HASH_MUL) >>> shift;
        if ((f4[h >>> 5]! >>> (h & 31)) & 1) this.probe(run, 4, w, i);
      }
      if (has3 && i + 3 <= n) {
        const k = w & 0xffffff;
        const h = Math.imul(k, HASH_MUL) >>> shift;
        if ((f3[h >>> 5]! >>> (h & 31)) & 1) this.probe(run, 3, k, i);
      }
      if (has2 && i + 2 <= n) {
        const k = w & 0xffff;
        if ((f2[k >>> 5]! >>> (k & 31)) & 1) this.probe(run, 2, k, i);
      }
      if (has1 && f1[w & 0xff]) this.probe(run, 1, w & 0xff, i);
    }
    for (const vi of this.atomless) run.scanWhole(vi);
    return run.finish();
  }

  private probe(run: ScanRun, len: number, key: number, at: number): void {
    const list = this.tables[len]!.get(key);
    if (!list) return;
    for (const e of list) run.hit(e, at);
  }
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

/** One scan's mutable state: matches per pattern, pending regex candidates, the latin1 view. */
class ScanRun {
  private readonly found = new Map<number, { offsets: number[]; lengths: number[]; complete: boolean; sorted: boolean; last: number }>();
  /** Per regex variant: candidate start ranges [lo, hi] from atom hits, in hit order. */
  private readonly pending = new Map<number, number[]>();
  private text: string | undefined;

  constructor(
    private readonly variants: Variant[],
    private readonly data: Uint8Array,
  ) {}

  private entry(pattern: number) {
    let e = this.found.get(pattern);
    if (!e) this.found.set(pattern, (e = { offsets: [], lengths: [], complete: true, sorted: true, last: -1 }));
    return e;
  }

  private record(pattern: number, offset: number, length: number): void {
    const e = this.entry(pattern);
    if (e.offsets.length >= 2 * MAX_MATCHES_PER_PATTERN) return;
    if (offset <= e.last) e.sorted = false;
    e.last = offset;
    e.offsets.push(offset);
    e.lengths.push(length);
  }

  private undecided(pattern: number): void {
    this.entry(pattern).complete = false;
  }

  hit(e: AtomEntry, at: number): void {
    const v = this.variants[e.variant]!;
    const data = this.data;
    switch (v.kind) {
      case "literal": {
        const start = at - e.offMin;
        const bytes = v.bytes;
        const len = bytes.length;
        if (start < 0 || start + len > data.length) return;
        if (v.nocase) {
          for (let k = 0; k < len; k++) {
            const a = data[start + k]!;
            const b = bytes[k]!;
            if (a !== b && ((a | 0x20) !== (b | 0x20) || !isLetter(a) || !isLetter(b))) return;
          }
        } else {
          for (let k = 0; k < len; k++) if (data[start + k] !== bytes[k]) return;
        }
        if (v.fullword && !fullWord(data, start, start + len, v.wide, v.xorKey)) return;
        this.record(v.pattern, start, len);
        return;
      }
      case "base64": {
        const start = at - e.offMin;
        const len = verifyBase64(v.b64, data, start);
        if (len > 0) this.record(v.pattern, start, len);
        return;
      }
      case "regex": {
        const hi = at - e.offMin;
        const lo = Math.max(0, at - Math.min(e.offMax ?? MAX_BACKWARD, MAX_BACKWARD));
        if (hi < 0) return;
        let list = this.pending.get(e.variant);
        if (!list) this.pending.set(e.variant, (list = []));
        list.push(lo, hi);
        return;
      }
      case "undecidable":
        this.undecided(v.pattern);
        return;
    }
  }

  /** A variant without atoms: its regex over all the data (every start offset), or undecidable. */
  scanWhole(vi: number): void {
    const v = this.variants[vi]!;
    if (v.kind !== "regex") {
      this.undecided(v.pattern);
      return;
    }
    const text = this.latin1();
    const re = new RegExp(v.re.source, "g");
    let from = 0;
    while (from <= text.length) {
      re.lastIndex = from;
      const m = re.exec(text);
      if (!m) break;
      this.confirm(v, m.index, m[0].length);
      if ((this.found.get(v.pattern)?.offsets.length ?? 0) >= 2 * MAX_MATCHES_PER_PATTERN) break;
      from = m.index + 1;
    }
  }

  private latin1(): string {
    return (this.text ??= binaryString(this.data));
  }

  private confirm(v: Extract<Variant, { kind: "regex" }>, start: number, length: number): void {
    if (length >= MAX_SURE_LENGTH) {
      this.undecided(v.pattern);
      return;
    }
    if (v.fullword && !fullWord(this.data, start, start + length, v.wide, 0)) return;
    this.record(v.pattern, start, length);
  }

  private verifyRegex(vi: number, ranges: number[]): void {
    const v = this.variants[vi]! as Extract<Variant, { kind: "regex" }>;
    // Merge the candidate ranges into ascending, disjoint start offsets.
    const pairs: [number, number][] = [];
    for (let k = 0; k < ranges.length; k += 2) pairs.push([ranges[k]!, ranges[k + 1]!]);
    pairs.sort((a, b) => a[0] - b[0]);
    const text = this.latin1();
    const n = text.length;
    let next = 0;
    for (const [lo0, hi] of pairs) {
      const lo = Math.max(lo0, next);
      if (lo > hi) continue;
      next = hi + 1;
      // Anchored regexes see the whole data; others a window from one byte before the first
      // candidate (for \b) to the length limit after the last one, so a failing search stays short.
      const from = v.anchored ? 0 : Math.max(0, lo - 1);
      const window = v.anchored ? text : text.slice(from, Math.min(n, hi + MAX_SURE_LENGTH + 2));
      if (v.anchored) {
        // Sticky, one start at a time: a global search could run to the end of the data.
        for (let s = lo; s <= hi; s++) {
          v.re.lastIndex = s;
          const m = v.re.exec(text);
          if (m) this.confirm(v, s, m[0].length);
        }
        continue;
      }
      // Sticky, start by start: a global search would also try every offset past `hi`.
      const re = v.re;
      for (let s = lo; s <= hi; s++) {
        re.lastIndex = s - from;
        const m = re.exec(window);
        if (m) this.confirm(v, s, m[0].length);
      }
    }
  }

  finish(): MatchTable {
    for (const [vi, ranges] of this.pending) this.verifyRegex(vi, ranges);
    const table = new Map<number, PatternMatches>();
    for (const [pattern, e] of this.found) {
      let { offsets, lengths } = e;
      if (!e.sorted) [offsets, lengths] = sortDedupe(offsets, lengths);
      if (offsets.length > MAX_MATCHES_PER_PATTERN) {
        offsets = offsets.slice(0, MAX_MATCHES_PER_PATTERN);
        lengths = lengths.slice(0, MAX_MATCHES_PER_PATTERN);
      }
      table.set(pattern, { offsets, lengths, complete: e.complete });
    }
    const hits = [...table.keys()].sort((a, b) => a - b);
    return { get: (p) => table.get(p), hits: () => hits };
  }
}

function isLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
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
