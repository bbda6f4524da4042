// The pattern IR: what every string (text, hex, regex) becomes before atoms are chosen and the
// verifier is built. It is a regular expression over bytes, small enough to translate exactly into a
// JS RegExp run on a latin1 "binary string" (one char per byte), and to read literal atoms from.

/** A set of bytes, as 8 x 32 bits. */
export type ByteSet = Uint32Array;

export type Node =
  | { t: "set"; set: ByteSet }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; alts: Node[] }
  /** max null = unbounded. Hex jumps are lazy, regex quantifiers greedy unless `?` follows. */
  | { t: "rep"; node: Node; min: number; max: number | null; greedy: boolean }
  /**
   * ^ and $ are the start and end of the data; \b \B ASCII words. Under `(?m)`, line starts and
   * ends: `line*` as YARA-X's VM reads them in patterns (\r and \n, see toSource), `lf*` as the
   * regex crate does for `matches` (\n only).
   */
  | {
      t: "assert";
      kind:
        | "start"
        | "end"
        | "word"
        | "notword"
        | "wordstart"
        | "wordend"
        | "wideword"
        | "widenotword"
        | "widestart"
        | "wideend"
        | "widewordstart"
        | "widewordend"
        | "linestart"
        | "lineend"
        | "lfstart"
        | "lfend";
    };

export function emptySet(): ByteSet {
  return new Uint32Array(8);
}
export function byteSet(...bytes: number[]): ByteSet {
  const s = emptySet();
  for (const b of bytes) add(s, b);
  return s;
}
export function add(s: ByteSet, b: number): void {
  s[b >>> 5]! |= 1 << (b & 31);
}
export function has(s: ByteSet, b: number): boolean {
  return ((s[b >>> 5]! >>> (b & 31)) & 1) === 1;
}
export function addRange(s: ByteSet, lo: number, hi: number): void {
  for (let b = lo; b <= hi; b++) add(s, b);
}
export function union(a: ByteSet, b: ByteSet): void {
  for (let i = 0; i < 8; i++) a[i]! |= b[i]!;
}
export function complement(a: ByteSet): ByteSet {
  const s = emptySet();
  for (let i = 0; i < 8; i++) s[i] = ~a[i]!;
  return s;
}
/** Members of shared sets (hex bytes are shared nodes): computed once per set. Read-only. */
const MEMBERS = new WeakMap<ByteSet, number[]>();
export function members(s: ByteSet): number[] {
  let out = MEMBERS.get(s);
  if (out) return out;
  out = [];
  for (let b = 0; b < 256; b++) if (has(s, b)) out.push(b);
  MEMBERS.set(s, out);
  return out;
}
export function size(s: ByteSet): number {
  const m = MEMBERS.get(s);
  if (m) return m.length;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    let v = s[i]! >>> 0;
    while (v) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}

/** ASCII case folding only (YARA's nocase): a letter's set gains the other case. */
export function foldCase(s: ByteSet): ByteSet {
  const out = s.slice();
  for (let b = 0x41; b <= 0x5a; b++) {
    if (has(s, b)) add(out, b + 32);
    if (has(s, b + 32)) add(out, b);
  }
  return out;
}

export function mapSets(n: Node, f: (s: ByteSet) => ByteSet): Node {
  switch (n.t) {
    case "set":
      return { t: "set", set: f(n.set) };
    case "cat":
      return { t: "cat", items: n.items.map((x) => mapSets(x, f)) };
    case "alt":
      return { t: "alt", alts: n.alts.map((x) => mapSets(x, f)) };
    case "rep":
      return { ...n, node: mapSets(n.node, f) };
    case "assert":
      return n;
  }
}

export function literal(bytes: ArrayLike<number>): Node {
  const items: Node[] = [];
  for (let i = 0; i < bytes.length; i++) items.push({ t: "set", set: byteSet(bytes[i]!) });
  return { t: "cat", items };
}

/**
 * `wide`: every byte becomes that byte followed by 0x00; word boundaries become YARA-X's wide
 * boundaries (wideword / widenotword, see toSource).
 */
export function widen(n: Node): Node {
  switch (n.t) {
    case "set":
      return { t: "cat", items: [n, { t: "set", set: byteSet(0) }] };
    case "cat": {
      // Flat: a widened byte is two items of the same sequence, so runs of literal bytes stay
      // visible to the atom chooser across characters ("a\0b\0", not ["a\0"]["b\0"]).
      const items: Node[] = [];
      for (const x of n.items) {
        const w = widen(x);
        if (w.t === "cat") items.push(...w.items);
        else items.push(w);
      }
      return { t: "cat", items };
    }
    case "alt": {
      const alts: Node[] = [];
      for (const x of n.alts) {
        alts.push(widen(x));
      }
      return { t: "alt", alts };
    }
    case "rep": {
      return { ...n, node: widen(n.node) };
    }
    case "assert":
      // Word boundaries get YARA-X's wide meaning (see toSource); a boundary already wide stays.
      if (n.kind === "word") return { t: "assert", kind: "wideword" };
      if (n.kind === "notword") return { t: "assert", kind: "widenotword" };
      if (n.kind === "wordstart") return { t: "assert", kind: "widewordstart" };
      if (n.kind === "wordend") return { t: "assert", kind: "widewordend" };
      if (n.kind === "start") return { t: "assert", kind: "widestart" };
      if (n.kind === "end") return { t: "assert", kind: "wideend" };
      // What YARA-X's wide VM (WideIter) makes of line breaks is not reproduced.
      if (n.kind === "linestart" || n.kind === "lineend" || n.kind === "lfstart" || n.kind === "lfend") throw new Error("(?m) line anchors in a wide regex are not reproduced");
      return n;
  }
}

/** The same node with every sequence inside a sequence inlined (same language, same priorities). */
export function flatten(n: Node): Node {
  switch (n.t) {
    case "set":
    case "assert":
      return n;
    case "cat": {
      // Unchanged nodes are returned as they are: most patterns are flat already, and compile
      // time is a budget.
      let changed = n.items.length === 1;
      const items: Node[] = [];
      for (const x of n.items) {
        const f = flatten(x);
        if (f !== x || f.t === "cat") changed = true;
        if (f.t === "cat") items.push(...f.items);
        else items.push(f);
      }
      if (!changed) return n;
      return items.length === 1 ? items[0]! : { t: "cat", items };
    }
    case "alt": {
      const alts = n.alts.map(flatten);
      return alts.every((a, i) => a === n.alts[i]) ? n : { t: "alt", alts };
    }
    case "rep": {
      const node = flatten(n.node);
      return node === n.node ? n : { ...n, node };
    }
  }
}

/** Smallest and largest number of bytes a node can match (max null = unbounded). */
/** A set's and an assertion's widths, shared: width() runs for every item of every hex string. */
const ONE_BYTE: Readonly<{ min: number; max: number | null }> = Object.freeze({ min: 1, max: 1 });
const NO_BYTE: Readonly<{ min: number; max: number | null }> = Object.freeze({ min: 0, max: 0 });

export function width(n: Node): Readonly<{ min: number; max: number | null }> {
  switch (n.t) {
    case "set":
      return ONE_BYTE;
    case "assert":
      return NO_BYTE;
    case "cat": {
      let min = 0;
      let max: number | null = 0;
      for (const x of n.items) {
        const w = width(x);
        min += w.min;
        max = max === null || w.max === null ? null : max + w.max;
      }
      return { min, max };
    }
    case "alt": {
      let min = Infinity;
      let max: number | null = 0;
      for (const x of n.alts) {
        const w = width(x);
        min = Math.min(min, w.min);
        max = max === null || w.max === null ? null : Math.max(max, w.max);
      }
      return { min: n.alts.length ? min : 0, max };
    }
    case "rep": {
      const w = width(n.node);
      return { min: w.min * n.min, max: n.max === null || w.max === null ? (w.max === 0 ? 0 : null) : w.max * n.max };
    }
  }
}

export function hasAnchor(n: Node): boolean {
  switch (n.t) {
    case "assert":
      return n.kind === "start" || n.kind === "end" || n.kind === "widestart" || n.kind === "wideend";
    case "set":
      return false;
    case "cat":
      return n.items.some(hasAnchor);
    case "alt":
      return n.alts.some(hasAnchor);
    case "rep":
      return hasAnchor(n.node);
  }
}

// ---------------------------------------------------------------------------------------------
// Translation to a JS RegExp source over a latin1 string. Every set is an explicit class of \xHH
// ranges, so no JS flag (i, s, u) or JS class (\s, \w) with its own, wider meaning is involved.

/** A word character and the byte after it (a wide character, its second byte unchecked). */
const WIDE_WORD = "[0-9A-Za-z_][\\s\\S]";

function hex2(b: number): string {
  return "\\x" + b.toString(16).padStart(2, "0");
}

function setSource(s: ByteSet): string {
  const n = size(s);
  if (n === 256) return "[\\s\\S]";
  if (n === 0) return "[^\\s\\S]";
  if (n === 1) return hex2(members(s)[0]!);
  let out = "[";
  for (let b = 0; b < 256; b++) {
    if (!has(s, b)) continue;
    let e = b;
    while (e < 255 && has(s, e + 1)) e++;
    out += e === b ? hex2(b) : e === b + 1 ? hex2(b) + hex2(e) : hex2(b) + "-" + hex2(e);
    b = e;
  }
  return out + "]";
}

export function toSource(n: Node): string {
  switch (n.t) {
    case "set":
      return setSource(n.set);
    case "cat":
      return n.items.map((x) => (x.t === "alt" ? `(?:${toSource(x)})` : toSource(x))).join("");
    case "alt":
      return n.alts.map(toSource).join("|");
    case "rep": {
      const inner = toSource(n.node);
      const atom = n.node.t === "set" ? inner : `(?:${inner})`;
      const q = n.max === null ? (n.min === 0 ? "*" : n.min === 1 ? "+" : `{${n.min},}`) : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return atom + q + (n.greedy || n.min === n.max ? "" : "?");
    }
    case "assert":
      // No `m` flag: ^ and $ are the start and end of the whole string, as in YARA.
      switch (n.kind) {
        case "start":
          return "^";
        case "end":
          return "$";
        case "word":
          return "\\b";
        case "notword":
          return "\\B";
        // \b{start} and \b{end}: a word character after and none before, or the reverse.
        case "wordstart":
          return "(?<![0-9A-Za-z_])(?=[0-9A-Za-z_])";
        case "wordend":
          return "(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])";
        // YARA-X's \b in a wide regex (lib/src/re/mod.rs WideIter, checked against it): it reads
        // whole pairs of bytes without requiring the 0x00, so the character before position p is
        // data[p - 2] (none when p < 2) and the one after is data[p] (none unless data[p + 1]
        // exists); word characters are [0-9A-Za-z_].
        case "wideword":
          return `(?:(?<=${WIDE_WORD})(?!${WIDE_WORD})|(?<!${WIDE_WORD})(?=${WIDE_WORD}))`;
        case "widenotword":
          return `(?:(?<=${WIDE_WORD})(?=${WIDE_WORD})|(?<!${WIDE_WORD})(?!${WIDE_WORD}))`;
        // ^ and $ in a wide regex, the same way (WideIter): the start is where no whole pair of
        // bytes precedes, the end where none follows (`/foobar$/ wide` matches before a last odd byte).
        case "widewordstart":
          return `(?<!${WIDE_WORD})(?=${WIDE_WORD})`;
        case "widewordend":
          return `(?<=${WIDE_WORD})(?!${WIDE_WORD})`;
        case "widestart":
          return "(?<![\\s\\S]{2})";
        case "wideend":
          return "(?![\\s\\S]{2})";
        // `(?m)` in a pattern, as YARA-X's VM checks it (re/thompson/pikevm.rs LineStart, LineEnd;
        // checked against it): a line starts at the start of the data, or after \n not followed by
        // \r, or after \r not followed by \n; a line ends at the end, or before \n not preceded by \r,
        // or before \r not preceded by \n. (At offset 0 its end differs by direction: regex.ts keeps
        // `$` from being met there.)
        case "linestart":
          return "(?:(?<![\\s\\S])|(?<=\\n)(?!\\r)|(?<=\\r)(?!\\n))";
        case "lineend":
          return "(?:(?![\\s\\S])|(?=\\n)(?<!\\r)|(?=\\r)(?<!\\n))";
        // `(?m)` in `matches` (the regex crate): \n only.
        case "lfstart":
          return "(?<![^\\n])";
        case "lfend":
          return "(?![^\\n])";
      }
  }
}
