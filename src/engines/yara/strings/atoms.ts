// Atoms: short literal byte runs (1-4 bytes, as in YARA) that every match of a pattern contains, at
// a known range of offsets from the match start. The multi-pattern pass looks only for atoms; a
// pattern whose atoms never occur cannot match. The rarest run wins: 00 00, FF FF, spaces and
// lower-case letters are everywhere in real files, so they score low.
import { MAX_BACK_STATES, nfaSize } from "./backward";
import { commonScore } from "./common-4grams";
import { members, size, width, type Node } from "./ir";

export const MAX_ATOM = 4;
/**
 * Four lower-case letters: a piece of a common word ("type", "port", "modu") in every script and
 * document, far more often than the letters' frequencies multiplied suggest.
 */
const WORD_PENALTY = 12;

function allLower(atom: ArrayLike<number>, at: number, end: number): boolean {
  if (end - at < 4) return false;
  for (let i = at; i < end; i++) if (atom[i]! < 0x61 || atom[i]! > 0x7a) return false;
  return true;
}

/** Three zero bytes in an atom: far more common than the bytes' frequencies multiplied suggest. */
const ZEROS_PENALTY = 8;
/** Expansions (e.g. case variants of a nocase atom, members of a small class) allowed per choice. */
const MAX_EXPANSIONS = 64;

export interface AtomChoice {
  /** The atoms (byte strings); a match contains at least one of them. */
  atoms: Uint8Array[];
  /** Offset of the atom from the match start: between offMin and offMax (null = unbounded). */
  offMin: number;
  offMax: number | null;
  quality: number;
  /**
   * Set by chooseRegexAtoms only: the atom lies in item `item` of the top-level sequence, at the
   * fixed offset `inner` from that item's start, so the items before it can be verified backwards.
   */
  anchor?: { item: number; inner: number; inners?: number[] };
  /**
   * Each atom's own fixed offset from the node's start, when every atom has one even though they
   * differ (alternatives of different lengths before the atom): then offMin < offMax, but a hit
   * still tells exactly where the node starts.
   */
  offsets?: number[];
}

/** Each atom's fixed offset from the node's start, or undefined. */
function offsetsOf(c: AtomChoice): number[] | undefined {
  return c.offsets ?? (c.offMin === c.offMax ? c.atoms.map(() => c.offMin) : undefined);
}

/**
 * -2·log2 of each byte's frequency (clamped to 1..20) in a mix of ELF executables (/usr/bin), a
 * Windows x64 PE (node.exe), JavaScript (node_modules) and text (/usr/share/doc, perl modules),
 * each weighted equally: an atom's score is about -2·log2 of how often it occurs, so 00, FF, space,
 * 'e', and the bytes of common x86 instructions (8B, 89, 48, E8, ...) score low, and rare bytes high.
 * (The ring3 bench corpus was not used, so that the measurement does not grade its own table.)
 */
const BYTE_SCORE = Uint8Array.from([
  7, 14, 16, 17, 16, 15, 18, 18, 15, 15, 13, 19, 19, 18, 17, 13, 15, 18, 20, 20, 20, 19, 20, 20, 17, 20, 19, 20, 20, 20, 20, 17,
  8, 19, 17, 19, 12, 18, 19, 17, 15, 15, 18, 18, 16, 17, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 17, 17, 17, 16, 19, 16, 19, 20,
  16, 12, 15, 15, 14, 14, 17, 18, 9, 13, 18, 18, 14, 16, 17, 18, 17, 16, 18, 16, 16, 16, 19, 18, 19, 19, 20, 18, 18, 17, 20, 15,
  18, 12, 13, 13, 14, 10, 14, 14, 14, 12, 19, 17, 13, 14, 12, 12, 13, 18, 12, 12, 11, 14, 17, 17, 16, 15, 20, 17, 18, 16, 20, 18,
  18, 18, 20, 15, 16, 16, 19, 20, 19, 13, 20, 12, 19, 14, 20, 20, 18, 19, 18, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
  20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 19, 20, 20, 20, 20, 20, 19, 20, 19, 19, 19, 20, 19, 20, 20, 20,
  16, 17, 18, 17, 17, 17, 18, 16, 18, 18, 20, 19, 15, 20, 20, 19, 18, 19, 19, 19, 20, 20, 20, 19, 19, 19, 20, 19, 18, 19, 19, 18,
  19, 19, 19, 19, 20, 19, 20, 19, 13, 17, 20, 18, 19, 19, 20, 17, 18, 18, 19, 18, 20, 20, 19, 19, 17, 19, 18, 19, 19, 17, 17, 12,
]);

function byteScore(b: number): number {
  return BYTE_SCORE[b]!;
}

/**
 * Quality of one atom string (higher is rarer). `measured`: corrected by the sequences measured
 * in clean files (commonExcess). Only a literal's windows use it: they are compared with each
 * other, all of one length, whereas a regex or hex pattern would trade a corrected 4-byte atom for
 * a 1- or 2-byte one whose score is not corrected, and pay for it in verifier runs (measured: the
 * bench corpus scanned 2x slower when hex and regex atoms were corrected too).
 */
export function atomQuality(bytes: ArrayLike<number>, at = 0, length = bytes.length - at, measured = false): number {
  // A window of `bytes` without a subarray: this runs for every window of every literal.
  const atom = bytes;
  const end = at + length;
  // No Set: atoms are at most four bytes, and this runs for every window of every literal.
  let q = 0;
  let distinct = 0;
  for (let i = at; i < end; i++) {
    q += byteScore(atom[i]!);
    let j = at;
    while (j < i && atom[j] !== atom[i]) j++;
    if (j === i) distinct++;
  }
  // A run of one repeated byte (00 00 00 00, AAAA) is common in every kind of file.
  // Three or more zero bytes (small 32-bit integers: 01 00 00 00) are far more common than their
  // bytes' frequencies multiplied suggest.
  let zeros = 0;
  for (let i = at; i < end; i++) if (atom[i] === 0) zeros++;
  if (measured && length >= 2) {
    let w = 0;
    for (let i = 0; i < length; i++) w |= atom[at + i]! << (8 * i);
    q -= commonExcess(q, w, length);
  }
  return q + 3 * distinct - (distinct === 1 && length > 1 ? 10 : 0) - (zeros >= 3 ? ZEROS_PENALTY : 0) - (allLower(atom, at, end) ? WORD_PENALTY : 0);
}

/**
 * How much rarer the bytes' scores (sum) make an atom (`length` bytes, little-endian w) look than it is:
 * words and instruction or integer idioms ("func", "Name", 48 8B 45 F8, 01 00 00 00) are far more
 * common in real files than their bytes' frequencies multiplied suggest, and each of their hits
 * is verifier work. Measured frequencies (common-4grams.ts) correct the sum; 0 for the rest.
 */
function commonExcess(sum: number, w: number, length: number): number {
  const measured = commonScore(w, length);
  return measured === undefined || measured >= sum ? 0 : sum - measured;
}

/** The spread penalty that choiceQuality took off a choice (given back once it is anchored). */
function choiceSpread(c: AtomChoice): number {
  return c.offMax === null ? 200 : c.offMax === c.offMin ? 0 : Math.min(200, 2 + (c.offMax - c.offMin) / 4);
}

function choiceQuality(atoms: Uint8Array[], offMin: number, offMax: number | null): number {
  let worst = Infinity;
  for (const a of atoms) worst = Math.min(worst, atomQuality(a));
  // A variable distance costs a window of starts or a backward run per hit: never free.
  const spread = offMax === null ? 200 : offMax === offMin ? 0 : Math.min(200, 2 + (offMax - offMin) / 4);
  return worst - 2 * Math.log2(atoms.length) - spread;
}

/** Every combination of one member per set (sets.length <= 4, product <= MAX_EXPANSIONS), the first set's member varying slowest. */
function expand(sets: number[][]): Uint8Array[] {
  let total = 1;
  for (let i = 0; i < sets.length; i++) total *= sets[i]!.length;
  const out: Uint8Array[] = new Array<Uint8Array>(total);
  for (let k = 0; k < total; k++) {
    const atom = new Uint8Array(sets.length);
    let rest = k;
    for (let i = sets.length - 1; i >= 0; i--) {
      const s = sets[i]!;
      atom[i] = s[rest % s.length]!;
      rest = Math.floor(rest / s.length);
    }
    out[k] = atom;
  }
  return out;
}

function shift(c: AtomChoice | null, min: number, max: number | null): AtomChoice | null {
  if (!c) return null;
  const offMin = c.offMin + min;
  const offMax = c.offMax === null || max === null ? null : c.offMax + max;
  return { atoms: c.atoms, offMin, offMax, quality: choiceQuality(c.atoms, offMin, offMax) };
}

function better(a: AtomChoice | null, b: AtomChoice | null): AtomChoice | null {
  if (!a) return b;
  if (!b) return a;
  return b.quality > a.quality ? b : a;
}

/** The best atom choice for a node, or null when no literal run is mandatory in every match. */
export function chooseAtoms(n: Node): AtomChoice | null {
  switch (n.t) {
    case "assert":
      return null;
    case "set": {
      if (size(n.set) > 4) return null;
      const atoms = expand([members(n.set)]);
      return { atoms, offMin: 0, offMax: 0, quality: choiceQuality(atoms, 0, 0) };
    }
    case "rep":
      // The first repetition is mandatory when min >= 1, and starts where the repetition does.
      return n.min >= 1 ? chooseAtoms(n.node) : null;
    case "alt": {
      const parts: AtomChoice[] = [];
      for (const a of n.alts) {
        const c = chooseAtoms(a);
        if (!c) return null;
        parts.push(c);
      }
      const atoms = parts.flatMap((p) => p.atoms);
      const offMin = Math.min(...parts.map((p) => p.offMin));
      const offMax = parts.some((p) => p.offMax === null) ? null : Math.max(...parts.map((p) => p.offMax!));
      let free: AtomChoice | null = null;
      if (atoms.length <= MAX_EXPANSIONS) {
        const each = parts.map(offsetsOf);
        // Not deduplicated when the offsets are kept: one atom may sit at two offsets.
        free = each.every((o) => o !== undefined)
          ? { atoms, offMin, offMax, quality: choiceQuality(atoms, offMin, offMax), offsets: each.flatMap((o) => o!) }
          : { atoms: dedupe(atoms), offMin, offMax, quality: choiceQuality(atoms, offMin, offMax) };
      }
      if (offMin === offMax) return free;
      // The alternatives' best atoms sit at different offsets: their leading runs, all at offset 0,
      // may be worth more than a variable distance (which costs a window or a backward run).
      const leads: Uint8Array[] = [];
      for (const a of n.alts) {
        const l = leadingAtoms(a);
        if (!l) return free;
        leads.push(...l);
      }
      if (leads.length > MAX_EXPANSIONS) return free;
      return better(free, { atoms: dedupe(leads), offMin: 0, offMax: 0, quality: choiceQuality(leads, 0, 0) });
    }
    case "cat":
      return catChoice(n.items, false);
  }
}

/**
 * Atoms for a whole regex or hex pattern: as chooseAtoms, but an atom at a variable distance from
 * the match start costs little when the items before it can run as a backward NFA (backward.ts):
 * the choice then records where it sits (`anchor`), and a rare atom after a jump beats a common
 * one at the start.
 */
export function chooseRegexAtoms(n: Node): AtomChoice | null {
  return catChoice(n.t === "cat" ? n.items : [n], true);
}

function catChoice(items: Node[], top: boolean): AtomChoice | null {
  let best: AtomChoice | null = null;
  let preMin = 0;
  let preMax: number | null = 0;
  // NFA states of the items before j (top level only): small enough for backward verification?
  let preStates = 0;
  // Members of each small single-byte set (null for anything else), computed once.
  const small = items.map((x) => (x.t === "set" && size(x.set) <= 4 ? members(x.set) : null));
  let bestRun: { j: number; len: number; quality: number; offMin: number; offMax: number | null; back: boolean } | null = null;
  for (let j = 0; j < items.length; j++) {
    const item = items[j]!;
    const back = top && preStates <= MAX_BACK_STATES;
    // What a variable distance costs: a backward NFA run per hit (small), or a window of starts.
    const spread = preMax === preMin ? 0 : back ? 2 : preMax === null ? 200 : Math.min(200, (preMax - preMin) / 4);
    if (small[j]) {
      // Runs of small sets starting here, scored without expanding them.
      let product = 1;
      let score = 0;
      let zeros = 0;
      for (let k = j; k < items.length && k - j < MAX_ATOM; k++) {
        const m = small[k];
        if (!m || product * m.length > MAX_EXPANSIONS) break;
        product *= m.length;
        let low = Infinity;
        for (let x = 0; x < m.length; x++) low = Math.min(low, byteScore(m[x]!));
        score += low + 3;
        if (m.length === 1 && m[0] === 0) zeros++;
        // As atomQuality: repeated bytes and small integers (01 00 00 00) are common.
        const quality = score - 2 * Math.log2(product) - spread - (k > j && allSame(items, small, j, k) ? 10 : 0) - (zeros >= 3 ? ZEROS_PENALTY : 0);
        if (!bestRun || quality > bestRun.quality) bestRun = { j, len: k - j + 1, quality, offMin: preMin, offMax: preMax, back };
      }
    } else if (item.t !== "set") {
      const c = chooseAtoms(item);
      const inners = c ? offsetsOf(c) : undefined;
      if (c && back && inners) {
        // Anchored: a hit gives the item's start (the hit minus the atom's own offset), so neither
        // a variable prefix nor atoms at different offsets inside the item cost a window.
        const offMax = preMax === null || c.offMax === null ? null : preMax + c.offMax;
        const variable = spread > 0 || c.offMin !== c.offMax ? 2 : 0;
        const quality = c.quality + choiceSpread(c) - variable;
        best = better(best, { atoms: c.atoms, offMin: preMin + c.offMin, offMax, quality, anchor: { item: j, inner: c.offMin, inners } });
      } else if (c && !top && preMin === preMax && c.offsets) {
        best = better(best, { ...shift(c, preMin, preMax)!, offsets: c.offsets.map((o) => o + preMin) });
      } else best = better(best, shift(c, preMin, preMax));
    }
    if (top && preStates <= MAX_BACK_STATES) preStates += nfaSize(item);
    const w = width(item);
    preMin += w.min;
    preMax = preMax === null || w.max === null ? null : preMax + w.max;
  }
  if (bestRun && (!best || bestRun.quality > best.quality)) {
    const atoms = expand(small.slice(bestRun.j, bestRun.j + bestRun.len) as number[][]);
    best = { atoms, offMin: bestRun.offMin, offMax: bestRun.offMax, quality: bestRun.quality };
    if (bestRun.back) best.anchor = { item: bestRun.j, inner: 0 };
  }
  return best;
}

/** The atoms of the longest run of small sets at the very start of a node, or null. */
function leadingAtoms(n: Node): Uint8Array[] | null {
  const items = n.t === "cat" ? n.items : [n];
  const sets: number[][] = [];
  let product = 1;
  for (const x of items) {
    if (sets.length === MAX_ATOM || x.t !== "set" || size(x.set) > 4) break;
    const m = members(x.set);
    if (product * m.length > MAX_EXPANSIONS) break;
    product *= m.length;
    sets.push(m);
  }
  return sets.length ? expand(sets) : null;
}

/** Items j..k are all the same single byte (a run like 00 00 00 00). */
function allSame(items: Node[], small: (number[] | null)[], j: number, k: number): boolean {
  const first = small[j]!;
  if (first.length !== 1) return false;
  for (let x = j + 1; x <= k; x++) if (small[x]!.length !== 1 || small[x]![0] !== first[0]) return false;
  return items.length > 0;
}

/**
 * Atoms for a plain literal (the common case), without building the IR: the best 4-byte window.
 * With xor, the window's keyed copies (one per key); their quality is judged on the plain bytes.
 */
export function literalAtoms(bytes: Uint8Array, nocase: boolean, xor: { min: number; max: number } | null = null): AtomChoice {
  const len = Math.min(MAX_ATOM, bytes.length);
  let bestAt = 0;
  let bestQ = -Infinity;
  if (len === MAX_ATOM) [bestAt, bestQ] = bestWindow4(bytes);
  else {
    for (let j = 0; j + len <= bytes.length; j++) {
      const q = atomQuality(bytes, j, len, true);
      if (q > bestQ) {
        bestQ = q;
        bestAt = j;
      }
    }
  }
  const window = bytes.subarray(bestAt, bestAt + len);
  const sets: number[][] = [];
  for (const b of window) {
    const lower = b | 0x20;
    sets.push(nocase && lower >= 0x61 && lower <= 0x7a ? [lower & ~0x20, lower] : [b]);
  }
  let atoms = expand(sets);
  if (xor) {
    const keyed: Uint8Array[] = [];
    for (let key = xor.min; key <= xor.max; key++) keyed.push(window.map((b) => b ^ key));
    atoms = keyed;
  }
  return { atoms, offMin: bestAt, offMax: bestAt, quality: bestQ - 2 * Math.log2(atoms.length) };
}

/**
 * The first 4-byte window of `bytes` with the highest atomQuality(bytes, j, 4, true), and that
 * quality: the same sums, written out for four bytes (every window of every literal goes through
 * here, about a million for signature-base).
 */
function bestWindow4(bytes: Uint8Array): [number, number] {
  let bestAt = 0;
  let bestQ = -Infinity;
  for (let j = 0; j + 4 <= bytes.length; j++) {
    const a = bytes[j]!;
    const b = bytes[j + 1]!;
    const c = bytes[j + 2]!;
    const d = bytes[j + 3]!;
    let q = BYTE_SCORE[a]! + BYTE_SCORE[b]! + BYTE_SCORE[c]! + BYTE_SCORE[d]!;
    const distinct = 1 + (b !== a ? 1 : 0) + (c !== a && c !== b ? 1 : 0) + (d !== a && d !== b && d !== c ? 1 : 0);
    const zeros = (a === 0 ? 1 : 0) + (b === 0 ? 1 : 0) + (c === 0 ? 1 : 0) + (d === 0 ? 1 : 0);
    q -= commonExcess(q, a | (b << 8) | (c << 16) | (d << 24), 4);
    const lower = a >= 0x61 && a <= 0x7a && b >= 0x61 && b <= 0x7a && c >= 0x61 && c <= 0x7a && d >= 0x61 && d <= 0x7a;
    q += 3 * distinct - (distinct === 1 ? 10 : 0) - (zeros >= 3 ? ZEROS_PENALTY : 0) - (lower ? WORD_PENALTY : 0);
    if (q > bestQ) {
      bestQ = q;
      bestAt = j;
    }
  }
  return [bestAt, bestQ];
}

function dedupe(atoms: Uint8Array[]): Uint8Array[] {
  // Atoms are at most four bytes: their length and bytes make an exact numeric key.
  const seen = new Map<number, Uint8Array>();
  for (const a of atoms) {
    let key = a.length;
    for (let i = 0; i < a.length; i++) key = key * 256 + a[i]!;
    seen.set(key, a);
  }
  return [...seen.values()];
}
