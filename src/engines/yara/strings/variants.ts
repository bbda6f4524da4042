// Expansion of one StringDecl into the variants that must be searched: a text string becomes one
// literal per encoding (ascii, wide) and xor key, or base64 searches; hex strings and regular
// expressions become one IR regex per encoding. Each variant carries its atoms.
import type { HexToken, StringDecl } from "../ast";
import { parseYaraRegex, RegexUnsupported } from "../regex";
import { chooseAtoms, literalAtoms, type AtomChoice } from "./atoms";
import { base64Variants, widenBytes, type Base64Variant } from "./base64";
import { complement, emptySet, hasAnchor, toSource, widen, type ByteSet, type Node } from "./ir";

export type Variant =
  | {
      kind: "literal";
      pattern: number;
      bytes: Uint8Array;
      nocase: boolean;
      /** The xor key applied to `bytes` (0 without xor); fullword checks the neighbours xored too. */
      xorKey: number;
      wide: boolean;
      fullword: boolean;
      choice: AtomChoice;
    }
  | {
      kind: "regex";
      pattern: number;
      node: Node;
      /** Sticky, so exec at lastIndex answers "a match starting exactly here". */
      re: RegExp;
      /** ^ or $ inside: must run on the whole data, not a window. */
      anchored: boolean;
      wide: boolean;
      fullword: boolean;
      choice: AtomChoice | null;
    }
  | { kind: "base64"; pattern: number; b64: Base64Variant; choice: AtomChoice }
  /** Matching not reproduced exactly: any atom hit (or every file, without atoms) is undecidable. */
  | { kind: "undecidable"; pattern: number; choice: AtomChoice | null };

export function hexNode(tokens: HexToken[]): Node {
  const items: Node[] = [];
  for (const t of tokens) {
    if (t.type === "byte") {
      const set: ByteSet = emptySet();
      for (let b = 0; b < 256; b++) if ((b & t.mask) === (t.value & t.mask)) set[b >>> 5]! |= 1 << (b & 31);
      items.push({ t: "set", set: t.not ? complement(set) : set });
    } else if (t.type === "jump") {
      // YARA-X matches hex jumps lazily (the shortest match per start offset).
      items.push({ t: "rep", node: { t: "set", set: complement(emptySet()) }, min: t.min, max: t.max, greedy: false });
    } else {
      items.push({ t: "alt", alts: t.alternatives.map(hexNode) });
    }
  }
  return { t: "cat", items };
}

function literalChoice(bytes: Uint8Array, nocase: boolean): AtomChoice {
  return literalAtoms(bytes, nocase);
}

function regexVariant(pattern: number, node: Node, wide: boolean, fullword: boolean): Variant {
  return {
    kind: "regex",
    pattern,
    node,
    re: new RegExp(toSource(node), "y"),
    anchored: hasAnchor(node),
    wide,
    fullword,
    choice: chooseAtoms(node),
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
      if (m.wide || m.ascii || m.nocase || m.xor || m.fullword) {
        return { variants: [{ kind: "undecidable", pattern, choice: null }], warning: "base64 combined with other modifiers is not reproduced" };
      }
      const out: Variant[] = [];
      const add = (alphabet: string | undefined, wide: boolean) => {
        for (const b64 of base64Variants(value, alphabet, wide)) out.push({ kind: "base64", pattern, b64, choice: literalChoice(b64.search, false) });
      };
      if (m.base64) add(m.base64.alphabet, false);
      if (m.base64wide) add(m.base64wide.alphabet, true);
      return { variants: out };
    }
    const out: Variant[] = [];
    for (const wide of encodings) {
      const bytes = wide ? widenBytes(value) : value;
      const keys = m.xor ? range(m.xor.min, m.xor.max) : [0];
      for (const key of keys) {
        const x = key === 0 ? bytes : bytes.map((b) => b ^ key);
        out.push({ kind: "literal", pattern, bytes: x, nocase: m.nocase, xorKey: key, wide, fullword: m.fullword, choice: literalChoice(x, m.nocase) });
      }
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
  for (const wide of encodings) {
    const node = wide ? widen(base) : base;
    if (!node) return { variants: [{ kind: "undecidable", pattern, choice: null }], warning: "word boundary in a wide regex" };
    try {
      out.push(regexVariant(pattern, node, wide, m.fullword));
    } catch (err) {
      // A JS RegExp limit (e.g. a huge repetition count): undecidable, not wrong.
      return { variants: [{ kind: "undecidable", pattern, choice: chooseAtoms(node) }], warning: String(err) };
    }
  }
  return { variants: out };
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = lo; k <= hi; k++) out.push(k);
  return out;
}
