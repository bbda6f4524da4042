// YARA regular expressions on bytes, translated exactly into JS RegExps over latin1 strings (one
// char per byte). YARA-X's dialect (regex-syntax without Unicode): \w \d \s are ASCII, `i` folds
// ASCII letters only, `.` stops at \n unless `s`. Anything this translator does not reproduce
// exactly (inline flags, Unicode inside classes, ...) is rejected, and callers answer UNKNOWN.
import { UNKNOWN, type Unknown } from "./contracts";
import {
  addRange,
  byteSet,
  complement,
  emptySet,
  foldCase,
  literal,
  mapSets,
  toSource,
  union,
  type ByteSet,
  type Node,
} from "./strings/ir";

export class RegexUnsupported extends Error {}

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

/** Parses a YARA regex source (between the slashes) into the pattern IR. Throws RegexUnsupported. */
export function parseYaraRegex(source: string, flags: { nocase: boolean; dotAll: boolean }): Node {
  let i = 0;
  const s = source;
  const fail = (why: string): never => {
    throw new RegexUnsupported(`${why} at ${i} in /${s}/`);
  };

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
    let greedy = true;
    if (s[i] === "?") {
      greedy = false;
      i++;
    }
    return { min, max, greedy };
  }

  function primary(): Node {
    const c = s[i]!;
    if (c === "(") {
      i++;
      if (s[i] === "?") {
        if (s[i + 1] === ":") i += 2;
        else fail("group flags");
      }
      const inner = alternation();
      if (s[i] !== ")") fail("unclosed group");
      i++;
      return inner;
    }
    if (c === "[") return { t: "set", set: charClass() };
    if (c === ".") {
      i++;
      const set = complement(emptySet());
      if (!flags.dotAll) set[0]! &= ~(1 << 0x0a);
      return { t: "set", set };
    }
    if (c === "^") {
      i++;
      return { t: "assert", kind: "start" };
    }
    if (c === "$") {
      i++;
      return { t: "assert", kind: "end" };
    }
    if (c === "*" || c === "+" || c === "?" || c === "{") fail("nothing to repeat");
    if (c === "\\") {
      const e = s[i + 1];
      if (s.startsWith("\\b{start}", i) || s.startsWith("\\b{end}", i)) {
        const start = s[i + 3] === "s";
        i += start ? 9 : 7;
        // YARA-X checks \b{end} wrongly when it runs backwards from an atom after it (at the start of
        // the data it holds when a word character follows): only a \b{end} at the end is exact.
        if (!start && !/^(?:\)|\$|\\z)*$/.test(s.slice(i))) fail("\\b{end} before the end");
        return { t: "assert", kind: start ? "wordstart" : "wordend" };
      }
      if (e === "b" || e === "B" || e === "A" || e === "z") {
        i += 2;
        return { t: "assert", kind: e === "b" ? "word" : e === "B" ? "notword" : e === "A" ? "start" : "end" };
      }
      return { t: "set", set: escape(false) };
    }
    const code = s.codePointAt(i)!;
    if (code > 0x7f) {
      // A non-ASCII character in the rule is matched as its UTF-8 bytes.
      const ch = String.fromCodePoint(code);
      i += ch.length;
      return literal(Buffer.from(ch, "utf8"));
    }
    i++;
    return { t: "set", set: byteSet(code) };
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
    const folded = flags.nocase ? foldCase(set) : set;
    return negate ? complement(folded) : folded;
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
  // Folding happens once here for everything outside classes (classes fold before negation).
  return flags.nocase ? mapSets(node, foldCase) : node;
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
    re = new RegExp(toSource(parseYaraRegex(source, flags)));
  } catch (err) {
    if (err instanceof RegexUnsupported || err instanceof SyntaxError) return { test: () => UNKNOWN };
    throw err;
  }
  return { test: (bytes) => re.test(binaryString(bytes)) };
}

