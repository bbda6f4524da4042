// Atoms: short literal byte runs (1-4 bytes, as in YARA) that every match of a pattern contains, at
// a known range of offsets from the match start. The multi-pattern pass looks only for atoms; a
// pattern whose atoms never occur cannot match. The rarest run wins: 00 00, FF FF, spaces and
// lower-case letters are everywhere in real files, so they score low.
import { members, size, width, type Node } from "./ir";

export const MAX_ATOM = 4;
/** Expansions (e.g. case variants of a nocase atom, members of a small class) allowed per choice. */
const MAX_EXPANSIONS = 64;

export interface AtomChoice {
  /** The atoms (byte strings); a match contains at least one of them. */
  atoms: Uint8Array[];
  /** Offset of the atom from the match start: between offMin and offMax (null = unbounded). */
  offMin: number;
  offMax: number | null;
  quality: number;
}

function byteScore(b: number): number {
  if (b === 0x00 || b === 0xff) return 1;
  if (b === 0x20 || b === 0xcc || b === 0x90 || b === 0x0a || b === 0x0d || b === 0x09) return 4;
  if (b >= 0x61 && b <= 0x7a) return 9;
  if ((b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)) return 11;
  if (b >= 0x21 && b < 0x7f) return 12;
  return 16;
}

/** Quality of one atom string (higher is rarer). */
export function atomQuality(atom: ArrayLike<number>): number {
  let q = 0;
  const seen = new Set<number>();
  for (let i = 0; i < atom.length; i++) {
    q += byteScore(atom[i]!);
    seen.add(atom[i]!);
  }
  // A run of one repeated byte (00 00 00 00, AAAA) is common in every kind of file.
  return q + 3 * seen.size - (seen.size === 1 && atom.length > 1 ? 10 : 0);
}

function choiceQuality(atoms: Uint8Array[], offMin: number, offMax: number | null): number {
  let worst = Infinity;
  for (const a of atoms) worst = Math.min(worst, atomQuality(a));
  const spread = offMax === null ? 200 : Math.min(200, (offMax - offMin) / 4);
  return worst - 4 * Math.log2(atoms.length) - spread;
}

/** Every combination of one member per set (sets.length <= 4, product <= MAX_EXPANSIONS). */
function expand(sets: number[][]): Uint8Array[] {
  let out: number[][] = [[]];
  for (const s of sets) {
    const next: number[][] = [];
    for (const prefix of out) for (const b of s) next.push([...prefix, b]);
    out = next;
  }
  return out.map((a) => Uint8Array.from(a));
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
      if (atoms.length > MAX_EXPANSIONS) return null;
      const offMin = Math.min(...parts.map((p) => p.offMin));
      const offMax = parts.some((p) => p.offMax === null) ? null : Math.max(...parts.map((p) => p.offMax!));
      return { atoms: dedupe(atoms), offMin, offMax, quality: choiceQuality(atoms, offMin, offMax) };
    }
    case "cat": {
      let best: AtomChoice | null = null;
      let preMin = 0;
      let preMax: number | null = 0;
      const items = n.items;
      // Members of each small single-byte set (null for anything else), computed once.
      const small = items.map((x) => (x.t === "set" && size(x.set) <= 4 ? members(x.set) : null));
      let bestRun: { j: number; len: number; quality: number; offMin: number; offMax: number | null } | null = null;
      for (let j = 0; j < items.length; j++) {
        const item = items[j]!;
        if (small[j]) {
          // Runs of small sets starting here, scored without expanding them.
          let product = 1;
          let score = 0;
          for (let k = j; k < items.length && k - j < MAX_ATOM; k++) {
            const m = small[k];
            if (!m || product * m.length > MAX_EXPANSIONS) break;
            product *= m.length;
            let low = Infinity;
            for (const b of m) low = Math.min(low, byteScore(b));
            score += low + 3;
            const spread = preMax === null ? 200 : Math.min(200, (preMax - preMin) / 4);
            const quality = score - 4 * Math.log2(product) - spread - (k > j && allSame(items, small, j, k) ? 10 : 0);
            if (!bestRun || quality > bestRun.quality) bestRun = { j, len: k - j + 1, quality, offMin: preMin, offMax: preMax };
          }
        } else if (item.t !== "set") {
          best = better(best, shift(chooseAtoms(item), preMin, preMax));
        }
        const w = width(item);
        preMin += w.min;
        preMax = preMax === null || w.max === null ? null : preMax + w.max;
      }
      if (bestRun && (!best || bestRun.quality > best.quality)) {
        const atoms = expand(small.slice(bestRun.j, bestRun.j + bestRun.len) as number[][]);
        best = { atoms, offMin: bestRun.offMin, offMax: bestRun.offMax, quality: bestRun.quality };
      }
      return best;
    }
  }
}

/** Items j..k are all the same single byte (a run like 00 00 00 00). */
function allSame(items: Node[], small: (number[] | null)[], j: number, k: number): boolean {
  const first = small[j]!;
  if (first.length !== 1) return false;
  for (let x = j + 1; x <= k; x++) if (small[x]!.length !== 1 || small[x]![0] !== first[0]) return false;
  return items.length > 0;
}

/** Atoms for a plain literal (the common case), without building the IR: the best 4-byte window. */
export function literalAtoms(bytes: Uint8Array, nocase: boolean): AtomChoice {
  const len = Math.min(MAX_ATOM, bytes.length);
  let bestAt = 0;
  let bestQ = -Infinity;
  for (let j = 0; j + len <= bytes.length; j++) {
    const q = atomQuality(bytes.subarray(j, j + len));
    if (q > bestQ) {
      bestQ = q;
      bestAt = j;
    }
  }
  const window = bytes.subarray(bestAt, bestAt + len);
  const sets: number[][] = [];
  for (const b of window) {
    const lower = b | 0x20;
    sets.push(nocase && lower >= 0x61 && lower <= 0x7a ? [lower & ~0x20, lower] : [b]);
  }
  const atoms = expand(sets);
  return { atoms, offMin: bestAt, offMax: bestAt, quality: bestQ - 4 * Math.log2(atoms.length) };
}

function dedupe(atoms: Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const a of atoms) seen.set(Buffer.from(a).toString("latin1"), a);
  return [...seen.values()];
}
