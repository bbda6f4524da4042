// Expansion of one StringDecl into the variants that must be searched: a text string becomes one
// literal per encoding (ascii, wide) and xor key, or base64 searches; hex strings and regular
// expressions become one IR regex per encoding. Each variant carries its atoms.
import type { HexToken, StringDecl } from "../ast";
import { parseYaraRegex, RegexUnsupported } from "../regex";
import { chooseAtoms, chooseRegexAtoms, literalAtoms, type AtomChoice } from "./atoms";
import { BackwardMatcher } from "./backward";
import { base64Variants, widenBytes, type Base64Variant } from "./base64";
import { complement, emptySet, flatten, hasAnchor, size, toSource, widen, width, type ByteSet, type Node } from "./ir";

export type Variant =
  | {
      kind: "literal";
      pattern: number;
      /** The literal's bytes (widened for wide), before any xor key; lower-cased for nocase. */
      bytes: Uint8Array;
      nocase: boolean;
      /**
       * `xor(min-max)`: one variant for every key. The atoms are the keyed copies of one window; a
       * hit is verified with the key read from the data (key = data[start] ^ bytes[0]), so 256 keys
       * cost one verifier. Fullword checks the neighbours xored with the same key.
       */
      xor: { min: number; max: number } | null;
      wide: boolean;
      fullword: boolean;
      choice: AtomChoice;
    }
  | {
      kind: "regex";
      pattern: number;
      node: Node;
      /**
       * Sticky, so exec at lastIndex answers "a match starting exactly here"; and global, which
       * from lastIndex finds the leftmost start with a match (irregexp scans the starts itself).
       * Both are built on first use (most variants never see a hit; compile time is a budget) by
       * regexesOf(): null when the JS RegExp cannot be built (a limit), and the hits undecidable.
       */
      regexes: { sticky: RegExp; global: RegExp } | null | undefined;
      /** The longest match in bytes (null = unbounded): how far past the last candidate start to look. */
      maxWidth: number | null;
      /**
       * The atom is at a variable distance from the match start: the items before it, as a
       * backward NFA that finds the candidate starts from a hit (null: fixed distance, or a window).
       */
      back: Lazy<BackwardMatcher> | null;
      /**
       * With `back`: the items from the atom's item to the end, sticky. Run at the item's start
       * before the backward NFA, it rejects most hits of a common atom for the price of one exec.
       */
      suffix: Lazy<RegExp | null> | null;
      /**
       * Cheap rejection before any regex or NFA runs: single bytes at fixed distances from the start
       * of the atom's item (q = hit - inner), which every match has. null without a top-level anchor.
       */
      quick: Quick | null;
      /** ^ or $ inside: must run on the whole data, not a window. */
      anchored: boolean;
      wide: boolean;
      fullword: boolean;
      choice: AtomChoice | null;
    }
  | { kind: "base64"; pattern: number; b64: Base64Variant; choice: AtomChoice }
  /** Matching not reproduced exactly: any atom hit (or every file, without atoms) is undecidable. */
  | { kind: "undecidable"; pattern: number; choice: AtomChoice | null };

/**
 * Hex byte tokens as set nodes, shared: signature-base has ~1M hex tokens but few distinct ones, and
 * nothing downstream mutates a set (wide, nocase and complements make new ones).
 */
const HEX_SETS = new Map<number, Node>();
const ANY_BYTE: Node = { t: "set", set: complement(emptySet()) };

function hexByte(value: number, mask: number, not: boolean): Node {
  const key = (not ? 0x10000 : 0) | (mask << 8) | (value & mask);
  let node = HEX_SETS.get(key);
  if (!node) {
    const set: ByteSet = emptySet();
    for (let b = 0; b < 256; b++) if ((b & mask) === (value & mask)) set[b >>> 5]! |= 1 << (b & 31);
    HEX_SETS.set(key, (node = { t: "set", set: not ? complement(set) : set }));
  }
  return node;
}

export function hexNode(tokens: HexToken[]): Node {
  const items: Node[] = [];
  for (const t of tokens) {
    if (t.type === "byte") {
      items.push(hexByte(t.value, t.mask, t.not));
    } else if (t.type === "jump") {
      // YARA-X matches hex jumps lazily (the shortest match per start offset).
      items.push({ t: "rep", node: ANY_BYTE, min: t.min, max: t.max, greedy: false });
    } else {
      items.push({ t: "alt", alts: t.alternatives.map(hexNode) });
    }
  }
  return { t: "cat", items };
}

function literalChoice(bytes: Uint8Array, nocase: boolean): AtomChoice {
  return literalAtoms(bytes, nocase, null);
}

/** ASCII lower case (YARA's nocase folds ASCII letters only). */
export function foldByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function regexVariant(pattern: number, tree: Node, wide: boolean, fullword: boolean): Variant {
  const node = flatten(tree);
  const choice = chooseRegexAtoms(node);
  const items = node.t === "cat" ? node.items : [node];
  const anchor = choice?.anchor;
  // Built on the first hit: most variants never see one, and compile time is a budget (< 1 s).
  const back = anchor && choice.offMin !== choice.offMax ? lazy(() => new BackwardMatcher(items.slice(0, anchor.item))) : null;
  return {
    kind: "regex",
    pattern,
    node,
    // Quick checks are relative to one atom offset: not for atoms at different offsets in their item.
    quick: choice?.anchor && !choice.anchor.inners?.some((x) => x !== choice.anchor!.inner) ? quickChecks(items, choice.anchor.item, choice.anchor.inner, Math.min(...choice.atoms.map((a) => a.length))) : null,
    regexes: undefined,
    maxWidth: width(node).max,
    anchored: hasAnchor(node),
    wide,
    fullword,
    choice,
    back,
    suffix: back && anchor ? lazy(() => regexOrNull(toSource({ t: "cat", items: items.slice(anchor.item) }), "y")) : null,
  };
}

/**
 * Necessary conditions on bytes near an atom hit, checked before any regex runs. Offsets are from
 * q, the start of the atom's item. Bytes: data[q + offs[k]] is in set k. Gaps (at most one on each
 * side, after the first item of variable width, when it is a short repetition of single bytes):
 * some data[q + gOff[k] + d] with d in [gMin[k], gMax[k]] is in gap set k.
 */
export interface Quick {
  inner: number;
  offs: Int32Array;
  sets: Int32Array;
  gOff: Int32Array;
  gMin: Int32Array;
  gMax: Int32Array;
  gSets: Int32Array;
}

/** Gaps longer than this are not worth a scan per hit. */
const MAX_GAP = 64;

/** A regex variant's RegExps, built on first use; null when JS cannot build them. */
export function regexesOf(v: Extract<Variant, { kind: "regex" }>): { sticky: RegExp; global: RegExp } | null {
  if (v.regexes === undefined) {
    try {
      const source = toSource(v.node);
      v.regexes = { sticky: new RegExp(source, "y"), global: new RegExp(source, "g") };
    } catch {
      v.regexes = null;
    }
  }
  return v.regexes;
}

function regexOrNull(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}

/** A value built on first use. */
export interface Lazy<T> {
  get(): T;
}

function lazy<T>(make: () => T): Lazy<T> {
  let value: T | undefined;
  return { get: () => (value ??= make()) };
}

/** How many quick checks a variant gets at most: the most selective ones. */
const MAX_QUICK = 8;

/**
 * The single-byte items at a fixed distance from item `j`'s start, on both sides, up to the first
 * item of variable width; the atom's own bytes are left out (the hit has them already).
 */
function quickChecks(items: Node[], j: number, inner: number, atomLen: number): Quick | null {
  const found: { off: number; set: ByteSet; size: number }[] = [];
  const gaps: { off: number; min: number; max: number; set: ByteSet }[] = [];
  const consider = (x: Node, off: number) => {
    if (x.t !== "set" || (off >= inner && off < inner + atomLen)) return;
    const n = size(x.set);
    if (n < 256) found.push({ off, set: x.set, size: n });
  };
  /** A short repetition of single bytes next to a selective single byte: a gap check. */
  const gap = (rep: Node, next: Node | undefined): { min: number; max: number; set: ByteSet } | null => {
    if (rep.t !== "rep" || rep.node.t !== "set" || rep.max === null || rep.max - rep.min > MAX_GAP) return null;
    if (!next || next.t !== "set" || size(next.set) > 64) return null;
    return { min: rep.min, max: rep.max, set: next.set };
  };
  let off = 0;
  for (let k = j; k < items.length; k++) {
    const w = width(items[k]!);
    if (w.max === null || w.min !== w.max) {
      const g = gap(items[k]!, items[k + 1]);
      if (g) gaps.push({ off, ...g });
      break;
    }
    consider(items[k]!, off);
    off += w.min;
  }
  off = 0;
  for (let k = j - 1; k >= 0; k--) {
    const w = width(items[k]!);
    if (w.max === null || w.min !== w.max) {
      // The byte before the repetition sits at q + off - d - 1 for a repetition of d bytes.
      const g = gap(items[k]!, items[k - 1]);
      if (g) gaps.push({ off: off - g.max - 1, min: 0, max: g.max - g.min, set: g.set });
      break;
    }
    off -= w.min;
    consider(items[k]!, off);
  }
  if (!found.length && !gaps.length) return null;
  found.sort((a, b) => a.size - b.size);
  const keep = found.slice(0, MAX_QUICK);
  const sets = new Int32Array(keep.length * 8);
  keep.forEach((f, i) => sets.set(f.set, i * 8));
  const gSets = new Int32Array(gaps.length * 8);
  gaps.forEach((g, i) => gSets.set(g.set, i * 8));
  return {
    inner,
    offs: Int32Array.from(keep.map((f) => f.off)),
    sets,
    gOff: Int32Array.from(gaps.map((g) => g.off)),
    gMin: Int32Array.from(gaps.map((g) => g.min)),
    gMax: Int32Array.from(gaps.map((g) => g.max)),
    gSets,
  };
}

/** The variants of one declaration; `warning` says why a pattern is (partly) undecidable. */
export function variantsOf(decl: StringDecl, pattern: number): { variants: Variant[]; warning?: string } {
  const m = decl.modifiers;
  const encodings: boolean[] = []; // false = ascii, true = wide
  if (m.ascii || !m.wide) encodings.push(false);
  if (m.wide) encodings.push(true);

  if (decl.kind === "text") {
    const value = decl.value;
    // YARA-X rejects empty strings (and base64 needs 3 bytes): nothing sound to search for.
    if (value.length === 0 || ((m.base64 || m.base64wide) && value.length < 3)) {
      return { variants: [{ kind: "undecidable", pattern, choice: null }], warning: "pattern too short" };
    }
    if (m.base64 || m.base64wide) {
      // YARA-X rejects these combinations; nothing here reproduces them.
      if (m.nocase || m.xor || m.fullword) {
        return { variants: [{ kind: "undecidable", pattern, choice: null }], warning: "base64 combined with nocase, xor or fullword is not reproduced" };
      }
      // As YARA-X does (checked against it): `wide` widens the text before encoding, `base64wide`
      // widens the encoded text; `ascii wide base64 base64wide` is all four combinations.
      const out: Variant[] = [];
      const add = (text: Uint8Array, alphabet: string | undefined, wide: boolean) => {
        for (const b64 of base64Variants(text, alphabet, wide)) out.push({ kind: "base64", pattern, b64, choice: literalChoice(b64.search, false) });
      };
      for (const wide of encodings) {
        const text = wide ? widenBytes(value) : value;
        if (m.base64) add(text, m.base64.alphabet, false);
        if (m.base64wide) add(text, m.base64wide.alphabet, true);
      }
      return { variants: out };
    }
    const out: Variant[] = [];
    for (const wide of encodings) {
      const raw = wide ? widenBytes(value) : value;
      const bytes = m.nocase ? raw.map(foldByte) : raw;
      const xor = m.xor ? { min: m.xor.min, max: m.xor.max } : null;
      out.push({ kind: "literal", pattern, bytes, nocase: m.nocase, xor, wide, fullword: m.fullword, choice: literalAtoms(bytes, m.nocase, xor) });
    }
    return { variants: out };
  }

  let base: Node;
  try {
    base = decl.kind === "hex" ? hexNode(decl.tokens) : parseYaraRegex(decl.source, { nocase: decl.nocase || m.nocase, dotAll: decl.dotAll });
  } catch (err) {
    if (!(err instanceof RegexUnsupported)) throw err;
    return { variants: [{ kind: "undecidable", pattern, choice: null }], warning: err.message };
  }
  if (decl.kind === "hex") return { variants: [regexVariant(pattern, base, false, false)] };
  const out: Variant[] = [];
  let warning: string | undefined;
  for (const wide of encodings) {
    let node = base;
    try {
      if (wide) node = widen(base);
      out.push(regexVariant(pattern, node, wide, m.fullword));
    } catch (err) {
      // Anything widening, the atom chooser or the NFA cannot take: undecidable, not wrong. (A JS
      // RegExp limit, e.g. a huge repetition count, shows later, at the first hit: see regexesOf.)
      return { variants: [{ kind: "undecidable", pattern, choice: node === base && wide ? null : chooseAtoms(node) }], warning: String(err) };
    }
  }
  return warning ? { variants: out, warning } : { variants: out };
}

