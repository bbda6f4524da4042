// YARA regular expressions on bytes, translated exactly into JS RegExps over latin1 strings (one
// char per byte). YARA-X's dialect (regex-syntax without Unicode): \w \d \s are ASCII, `i` folds
// ASCII letters only, `.` stops at \n unless `s`; inline flags i m s u U as regex-syntax scopes
// them. Anything this translator does not reproduce exactly (Unicode classes, `(?x)`, ...) is
// rejected, and callers answer UNKNOWN (or leave the pattern to YARA-X).
import * as v8 from "node:v8";
import { UNKNOWN, type Unknown } from "./contracts";
import {
  addRange,
  byteSet,
  complement,
  emptySet,
  foldCase,
  literal,
  size,
  toSource,
  union,
  width,
  type ByteSet,
  type Node,
} from "./strings/ir";

export class RegexUnsupported extends Error {}

// irregexp backtracks exponentially on some patterns (/(a|aa)*c/ over a long run of "a" without
// the "c": minutes in a 4 KB window); after 50,000 backtracks V8 can finish the same search in its
// linear-time engine, with the same answer. Set before any RegExp is built (V8 reads it at
// compile time), once for the process (its flags are shared by the worker threads). A RegExp with
// lookarounds (\b, ^ and $ of wide and multi-line regexes) cannot go there and keeps backtracking.
/** The V8 flag, also set by the compile threads before their code cache is read (cli/compile-threads.ts). */
export const REGEX_V8_FLAG = "--enable-experimental-regexp-engine-on-excessive-backtracks";
v8.setFlagsFromString(REGEX_V8_FLAG);

const DIGIT = byteSet(...range(0x30, 0x39));
const WORD = (() => {
  const s = byteSet(0x5f);
  addRange(s, 0x30, 0x39);
  addRange(s, 0x41, 0x5a);
  addRange(s, 0x61, 0x7a);
  return s;
})();
const SPACE = byteSet(0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20);

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let b = lo; b <= hi; b++) out.push(b);
  return out;
}

const POSIX: Record<string, number[]> = {
  alpha: [...range(0x41, 0x5a), ...range(0x61, 0x7a)],
  digit: range(0x30, 0x39),
  alnum: [...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a)],
  upper: range(0x41, 0x5a),
  lower: range(0x61, 0x7a),
  space: [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20],
  xdigit: [...range(0x30, 0x39), ...range(0x41, 0x46), ...range(0x61, 0x66)],
  word: [...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a), 0x5f],
  punct: [...range(0x21, 0x2f), ...range(0x3a, 0x40), ...range(0x5b, 0x60), ...range(0x7b, 0x7e)],
};

const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, a: 0x07 };

/**
 * Who runs the regex, which decides what YARA-X makes of `(?m)` line anchors:
 * - "pattern": a string in `strings:`, run by YARA-X's own VMs (re/thompson/pikevm.rs). Its line
 *   anchors know \r as well as \n and treat "\r\n" and "\n\r" as one line break; its `$` and
 *   \b{end} differ by direction at offset 0 (see lineEndOrWordEndAtStart), which is refused.
 * - "matches": `matches` and module regex arguments, run by the regex crate (regex_automata):
 *   its line anchors are \n only, and every construct means the same in any place.
 */
export type RegexUse = "pattern" | "matches";

/** Inline flags of regex-syntax that the translation follows; x (verbose) and R (CRLF) are refused. */
interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  u: boolean;
  /** `U`: swaps greedy and lazy. */
  U: boolean;
}

/**
 * A valid UTF-8 encoding of one scalar value (no surrogates): what `.` is in Unicode mode (`(?u)`)
 * for the regex crate (`matches`). Sequences of lead and continuation byte ranges.
 */
const UTF8_SCALARS: [number, number][][] = [
  [[0x00, 0x7f]],
  [[0xc2, 0xdf], [0x80, 0xbf]],
  [[0xe0, 0xe0], [0xa0, 0xbf], [0x80, 0xbf]],
  [[0xe1, 0xec], [0x80, 0xbf], [0x80, 0xbf]],
  [[0xed, 0xed], [0x80, 0x9f], [0x80, 0xbf]],
  [[0xee, 0xef], [0x80, 0xbf], [0x80, 0xbf]],
  [[0xf0, 0xf0], [0x90, 0xbf], [0x80, 0xbf], [0x80, 0xbf]],
  [[0xf1, 0xf3], [0x80, 0xbf], [0x80, 0xbf], [0x80, 0xbf]],
  [[0xf4, 0xf4], [0x80, 0x8f], [0x80, 0xbf], [0x80, 0xbf]],
];

function unicodeDot(dotAll: boolean): Node {
  return {
    t: "alt",
    alts: UTF8_SCALARS.map((seq, k) => {
      const items: Node[] = seq.map(([lo, hi]) => {
        const set = emptySet();
        addRange(set, lo, hi);
        return { t: "set", set };
      });
      if (k === 0 && !dotAll) (items[0] as { set: ByteSet }).set[0]! &= ~(1 << 0x0a);
      return items.length === 1 ? items[0]! : { t: "cat", items };
    }),
  };
}

/**
 * Parses a YARA regex source (between the slashes) into the pattern IR. Throws RegexUnsupported.
 * `flags` are the regex's own (`/i`, `/s`, the `nocase` modifier); inline flags (`(?ims-u)`,
 * `(?i:...)`) change them to the end of their group, as in regex-syntax.
 */
export function parseYaraRegex(source: string, flags: { nocase: boolean; dotAll: boolean }, use: RegexUse = "pattern"): Node {
  let i = 0;
  const s = source;
  const fail = (why: string): never => {
    throw new RegexUnsupported(`${why} at ${i} in /${s}/`);
  };
  let f: Flags = { i: flags.nocase, m: false, s: flags.dotAll, u: false, U: false };
  /**
   * Assertions YARA-X's VM gets wrong at offset 0 in one direction (pattern use): the parse is
   * refused if one of them can be met before the match has consumed a byte (see below).
   */
  const startSensitive = new Set<Node>();
  /** How many capturing groups enclose a node directly (regex-syntax keeps them in its HIR). */
  const captures = new Map<Node, number>();

  /** A set made under the current flags: case folded (ASCII; see foldUnicode for `(?u)`). */
  function folded(set: ByteSet): ByteSet {
    if (!f.i) return set;
    if (f.u) foldUnicode(set);
    return foldCase(set);
  }

  /**
   * Unicode simple case folding (`(?ui)`) differs from ASCII folding for ASCII letters only in k
   * (U+212A KELVIN SIGN) and s (U+017F LONG S), whose orbits reach beyond ASCII: refused.
   */
  function foldUnicode(set: ByteSet): void {
    for (const b of [0x4b, 0x6b, 0x53, 0x73]) if ((set[b >>> 5]! >>> (b & 31)) & 1) fail("k or s folded in Unicode mode");
  }

  function alternation(): Node {
    const alts: Node[] = [concatenation()];
    while (s[i] === "|") {
      i++;
      alts.push(concatenation());
    }
    return alts.length === 1 ? alts[0]! : { t: "alt", alts };
  }

  function concatenation(): Node {
    const items: Node[] = [];
    while (i < s.length && s[i] !== "|" && s[i] !== ")") {
      let atom = primary();
      if (atom === null) {
        // `(?flags)`: nothing to match, and nothing to repeat.
        if (quantifierAhead()) fail("repetition of flags");
        continue;
      }
      for (;;) {
        const q = quantifier();
        if (!q) break;
        if (atom.t === "assert") fail("quantified assertion");
        atom = { t: "rep", node: atom, ...q };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: "cat", items };
  }

  function quantifierAhead(): boolean {
    return s[i] === "*" || s[i] === "+" || s[i] === "?" || s[i] === "{";
  }

  function quantifier(): { min: number; max: number | null; greedy: boolean } | null {
    const c = s[i];
    let min: number;
    let max: number | null;
    if (c === "*") [min, max] = [0, null];
    else if (c === "+") [min, max] = [1, null];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      // Spaces are allowed around the numbers (`{1, 2}`), as in YARA-X.
      const m = /^\{[ \t\n\r]*(\d*)[ \t\n\r]*(,?)[ \t\n\r]*(\d*)[ \t\n\r]*\}/.exec(s.slice(i));
      if (!m || (m[1] === "" && m[2] === "")) return fail("bad repetition");
      min = m[1] === "" ? 0 : Number(m[1]);
      max = m[2] === "" ? min : m[3] === "" ? null : Number(m[3]);
      if (max !== null && max < min) fail("bad repetition range");
      i += m[0].length - 1;
    } else return null;
    i++;
    let greedy = !f.U;
    if (s[i] === "?") {
      greedy = !greedy;
      i++;
    }
    return { min, max, greedy };
  }

  /**
   * After "(?": a flag list, up to ")" (they apply to the rest of the enclosing group: returns
   * "set") or ":" (a group of its own: returns "group").
   */
  function inlineFlags(): "set" | "group" {
    let on = true;
    const seen = new Set<string>();
    for (;;) {
      const c = s[i];
      if (c === ")" || c === ":") {
        // regex-syntax rejects `(?)`, `(?-)` and a dangling `-`.
        if (seen.size === 0 || (!on && s[i - 1] === "-")) fail("empty flags");
        i++;
        return c === ")" ? "set" : "group";
      }
      if (c === "-") {
        if (!on) fail("repeated negation");
        on = false;
      } else if (c === "i" || c === "m" || c === "s" || c === "u" || c === "U") {
        if (seen.has(c)) fail("repeated flag");
        seen.add(c);
        f = { ...f, [c]: on };
      } else fail(`flag ${c ?? "(end)"}`);
      i++;
    }
  }

  function primary(): Node | null {
    const c = s[i]!;
    if (c === "(") {
      i++;
      const outer = f;
      let capturing = true;
      if (s[i] === "?") {
        i++;
        capturing = false;
        if (s[i] === ":") i++;
        else if ((s[i] === "P" && s[i + 1] === "<") || s[i] === "<") {
          // A named group matches as any group does.
          const m = /^P?<[A-Za-z_][A-Za-z0-9_.[\]]*>/.exec(s.slice(i));
          if (!m) fail("bad group name");
          i += m![0].length;
          capturing = true;
        } else if (inlineFlags() === "set") return null;
      }
      let inner = alternation();
      if (s[i] !== ")") fail("unclosed group");
      i++;
      f = outer;
      if (capturing) {
        // `((B))` is a copy of the node counted twice.
        const depth = captures.get(inner) ?? 0;
        if (depth > 0) inner = { ...inner } as Node;
        captures.set(inner, depth + 1);
      }
      return inner;
    }
    if (c === "[") {
      const set = charClass();
      return { t: "set", set };
    }
    if (c === ".") {
      i++;
      if (f.u) {
        // YARA-X's VM makes a Unicode `.` one byte where `s` is on (re/hir.rs any_byte) and spells
        // it out as a million literals where not (minutes to compile): not reproduced in patterns.
        if (use === "pattern") fail("`.` in Unicode mode");
        return unicodeDot(f.s);
      }
      const set = complement(emptySet());
      if (!f.s) set[0]! &= ~(1 << 0x0a);
      return { t: "set", set };
    }
    if (c === "^") {
      i++;
      if (!f.m) return { t: "assert", kind: "start" };
      return { t: "assert", kind: use === "pattern" ? "linestart" : "lfstart" };
    }
    if (c === "$") {
      i++;
      if (!f.m) return { t: "assert", kind: "end" };
      if (use === "matches") return { t: "assert", kind: "lfend" };
      const node: Node = { t: "assert", kind: "lineend" };
      startSensitive.add(node);
      return node;
    }
    if (quantifierAhead()) fail("nothing to repeat");
    if (c === "\\") {
      const e = s[i + 1];
      if (s.startsWith("\\b{start}", i) || s.startsWith("\\b{end}", i)) {
        if (f.u) fail("word boundary in Unicode mode");
        const start = s[i + 3] === "s";
        i += start ? 9 : 7;
        const node: Node = { t: "assert", kind: start ? "wordstart" : "wordend" };
        // \b{end} at the very end is met after the atom, where YARA-X runs forwards and is right.
        if (!start && use === "pattern" && (f.m || !/^(?:\)|\$|\\z)*$/.test(s.slice(i)))) startSensitive.add(node);
        return node;
      }
      if (e === "b" || e === "B" || e === "A" || e === "z") {
        // YARA-X refuses \b and \B in Unicode mode (its word characters would be Unicode's).
        if (f.u && (e === "b" || e === "B")) fail("word boundary in Unicode mode");
        i += 2;
        return { t: "assert", kind: e === "b" ? "word" : e === "B" ? "notword" : e === "A" ? "start" : "end" };
      }
      if (f.u && e !== undefined && /[dDwWsSx]/.test(e)) fail(`\\${e} in Unicode mode`);
      return { t: "set", set: folded(escape(false)) };
    }
    const code = s.codePointAt(i)!;
    if (code > 0x7f) {
      // A non-ASCII character in the rule is matched as its UTF-8 bytes (with or without `u`).
      if (f.u && f.i) fail("non-ASCII character folded in Unicode mode");
      const ch = String.fromCodePoint(code);
      i += ch.length;
      return literal(Buffer.from(ch, "utf8"));
    }
    i++;
    return { t: "set", set: folded(byteSet(code)) };
  }

  /** After a backslash (s[i] === "\\"): a set of bytes. */
  function escape(inClass: boolean): ByteSet {
    const e = s[i + 1];
    if (e === undefined) return fail("trailing backslash");
    i += 2;
    if (e === "x") {
      const m = /^[0-9a-fA-F]{2}/.exec(s.slice(i));
      if (!m) return fail("bad \\x escape");
      i += 2;
      return byteSet(parseInt(m[0], 16));
    }
    if (e in SIMPLE_ESCAPES) return byteSet(SIMPLE_ESCAPES[e]!);
    if (e === "d") return DIGIT.slice();
    if (e === "D") return complement(DIGIT);
    if (e === "w") return WORD.slice();
    if (e === "W") return complement(WORD);
    if (e === "s") return SPACE.slice();
    if (e === "S") return complement(SPACE);
    if (!inClass && /[a-zA-Z0-9]/.test(e)) return fail(`escape \\${e}`);
    if (inClass && /[a-zA-Z0-9]/.test(e)) return fail(`escape \\${e} in class`);
    const code = e.codePointAt(0)!;
    if (code > 0x7f) return fail("non-ASCII escape");
    return byteSet(code);
  }

  function charClass(): ByteSet {
    i++; // [
    let negate = false;
    if (s[i] === "^") {
      negate = true;
      i++;
    }
    const set = emptySet();
    let first = true;
    while (i < s.length && (s[i] !== "]" || first)) {
      first = false;
      if (s.startsWith("[:", i)) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(s.slice(i));
        if (!m || !(m[2]! in POSIX)) return fail("POSIX class");
        const p = byteSet(...POSIX[m[2]!]!);
        union(set, m[1] ? complement(p) : p);
        i += m[0].length;
        continue;
      }
      if (s[i] === "[") fail("nested class");
      const lo = classMember();
      if (s[i] === "-" && s[i + 1] !== "]" && i + 1 < s.length) {
        i++;
        const hi = classMember();
        if (lo.single === null || hi.single === null || hi.single < lo.single) fail("bad class range");
        addRange(set, lo.single!, hi.single!);
      } else union(set, lo.set);
    }
    if (s[i] !== "]") fail("unclosed class");
    i++;
    // In Unicode mode a class is a set of characters: only a positive class of ASCII characters
    // is the same set of bytes.
    if (f.u && (negate || set.subarray(4).some((w) => w !== 0))) fail("class in Unicode mode");
    // Folded before it is negated, as regex-syntax does.
    const cased = folded(set);
    return negate ? complement(cased) : cased;
  }

  function classMember(): { set: ByteSet; single: number | null } {
    if (s[i] === "\\") {
      const before = i;
      const set = escape(true);
      const e = s[before + 1]!;
      const single = /[dDwWsS]/.test(e) ? null : firstMember(set);
      return { set, single };
    }
    const code = s.codePointAt(i)!;
    if (code > 0x7f) return fail("non-ASCII character in class");
    i++;
    return { set: byteSet(code), single: code };
  }

  const node = alternation();
  if (i < s.length) fail("unbalanced )");
  if (startSensitive.size > 0 && metAtStart(node, startSensitive)) fail("$ or \\b{end} where the match may not have begun");
  if (flags.nocase && isLiteralForNocase(node, captures, use)) {
    // A `nocase` regex that is only literal bytes (every letter under `(?-i)`) is no regex for
    // YARA-X: a pattern that is a literal or an alternation of literals becomes literal patterns
    // with the pattern's `nocase` (compiler c_alternation_literal), and `x matches /lit/i` becomes
    // `x icontains "lit"` (ast2ir), so `(?-i)` is lost and every letter folds. icontains folds
    // beyond ASCII: a literal with non-ASCII bytes is left to YARA-X there.
    if (use === "matches" && !literalAscii(node)) fail("non-ASCII literal in a case-insensitive `matches`");
    return foldAll(node);
  }
  return node;
}

/** One byte (a set of one member): what regex-syntax makes a literal of (`B`, `[B]`, `\x42`). */
function singleByte(n: Node): boolean {
  return n.t === "set" && size(n.set) === 1;
}

/** A concatenation of single bytes with no capturing group inside: one HIR Literal. */
function isLiteral(n: Node, captures: Map<Node, number>): boolean {
  if (singleByte(n)) return true;
  return n.t === "cat" && n.items.length > 0 && n.items.every((x) => !captures.has(x) && isLiteral(x, captures));
}

/**
 * Whether regex-syntax's HIR of the (case-sensitive) regex is what YARA-X takes as literal bytes:
 * for `matches`, a Literal (as_literal_bytes); for patterns, also an alternation of literals (not
 * all single bytes, which regex-syntax makes a class), either possibly inside one capturing group
 * (Hir::is_alternation_literal).
 */
function isLiteralForNocase(node: Node, captures: Map<Node, number>, use: RegexUse): boolean {
  const depth = captures.get(node) ?? 0;
  if (use === "matches") return depth === 0 && isLiteral(node, captures);
  if (depth > 1) return false;
  if (isLiteral(node, captures)) return true;
  if (node.t !== "alt") return false;
  const alts: Node[] = [];
  const flat = (n: Node): void => {
    if (n.t === "alt" && !captures.has(n)) n.alts.forEach(flat);
    else alts.push(n);
  };
  node.alts.forEach(flat);
  return alts.every((a) => !captures.has(a) && isLiteral(a, captures)) && !alts.every(singleByte);
}

function literalAscii(n: Node): boolean {
  if (n.t === "set") return firstMember(n.set) < 0x80;
  return n.t === "cat" && n.items.every(literalAscii);
}

function foldAll(n: Node): Node {
  switch (n.t) {
    case "set":
      return { t: "set", set: foldCase(n.set.slice()) };
    case "cat":
      return { t: "cat", items: n.items.map(foldAll) };
    case "alt":
      return { t: "alt", alts: n.alts.map(foldAll) };
    default:
      return n;
  }
}

/**
 * Whether one of `marks` can be met before a byte of the match is consumed: at offset 0 of the
 * data, YARA-X's VM answers `(?m)$` and \b{end} one way running forwards from an atom and another
 * running backwards towards the start (re/thompson/pikevm.rs: `$` before "\n" or "\t", \b{end}
 * before a word character), so the answer there depends on which atom it chose. Anywhere else
 * both directions agree.
 */
function metAtStart(n: Node, marks: Set<Node>): boolean {
  switch (n.t) {
    case "assert":
      return marks.has(n);
    case "set":
      return false;
    case "cat":
      for (const x of n.items) {
        if (metAtStart(x, marks)) return true;
        if (width(x).min > 0) return false;
      }
      return false;
    case "alt":
      return n.alts.some((a) => metAtStart(a, marks));
    case "rep":
      return metAtStart(n.node, marks);
  }
}

function firstMember(set: ByteSet): number {
  for (let b = 0; b < 256; b++) if ((set[b >>> 5]! >>> (b & 31)) & 1) return b;
  return -1;
}

/** Latin1 view of bytes: char i is byte i, so JS RegExp indices are byte offsets. */
export function binaryString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** `matches` and module regex arguments: a match anywhere in the bytes, or UNKNOWN. */
export function compileYaraRegex(source: string, flags: { nocase: boolean; dotAll: boolean }): { test(bytes: Uint8Array): boolean | Unknown } {
  let re: RegExp;
  try {
    re = new RegExp(toSource(parseYaraRegex(source, flags, "matches")));
  } catch (err) {
    if (err instanceof RegexUnsupported || err instanceof SyntaxError) return { test: () => UNKNOWN };
    throw err;
  }
  return { test: (bytes) => re.test(binaryString(bytes)) };
}

