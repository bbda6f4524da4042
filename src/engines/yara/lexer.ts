// The YARA tokenizer: source text -> flat token arrays (kind, start, end, line) that the parser
// (parser.ts) walks by index, so any lookahead is free. The language is almost context-free at
// this level: `/` always opens a regular expression (division is `\`), and `{` right after `=`
// opens a hex string, which is kept as one token and parsed on its own by parseHexTokens.

/** Reserved words of YARA-X: none of them can name a rule, tag, meta key, variable or field. */
const KEYWORDS = new Map<string, string>(
  [
    "all", "and", "any", "ascii", "at", "base64", "base64wide", "condition", "contains", "defined",
    "endswith", "entrypoint", "false", "filesize", "for", "fullword", "global", "icontains",
    "iendswith", "iequals", "import", "in", "include", "istartswith", "matches", "meta", "nocase",
    "none", "not", "of", "or", "private", "rule", "startswith", "strings", "them", "true", "wide",
    "with", "xor",
  ].map((k) => [k, k]),
);

/**
 * The keywords by length and first character (index length * 128 + code): the word at a position
 * is looked up without cutting it out of the source (a substring per identifier was most of the
 * tokenizer's garbage).
 */
const KEYWORD_INDEX: string[][] = [];
for (const k of KEYWORDS.keys()) (KEYWORD_INDEX[k.length * 128 + k.charCodeAt(0)] ??= []).push(k);

function keywordAt(src: string, start: number, end: number): string | undefined {
  const list = end - start < 16 ? KEYWORD_INDEX[(end - start) * 128 + src.charCodeAt(start)] : undefined;
  if (list) for (const k of list) if (src.startsWith(k, start)) return k;
  return undefined;
}

/**
 * Token kinds are strings: a keyword is its own word, punctuation its own characters, and the rest
 * "ident", "int", "float", "string", "regex", "hex" (a whole `{ ... }` hex string), "$" "#" "@" "!"
 * (pattern identifier, count, offset, length: the text holds the name), "error" (the lexer has
 * reported it) and "eof".
 */
export interface Tokens {
  kinds: string[];
  /**
   * Offsets in typed arrays (off the garbage-collected heap: a large rule set has millions of
   * tokens, and plain arrays of them were a tenth of the compile's garbage). An index past the last
   * token reads undefined, as in a plain array.
   */
  starts: Int32Array;
  ends: Int32Array;
  /** 0-based line of each token's first character (computed on first use: the parser finds lines itself). */
  readonly lines: ArrayLike<number>;
  /** Offset of the first character of each line. */
  lineStarts: number[];
}

export interface LexError {
  offset: number;
  message: string;
}

const C_TAB = 9, C_LF = 10, C_CR = 13, C_SPACE = 32;
const C_BANG = 33, C_QUOTE = 34, C_HASH = 35, C_DOLLAR = 36, C_AT = 64;
const C_STAR = 42, C_DOT = 46, C_SLASH = 47, C_0 = 48, C_9 = 57;
const C_EQ = 61, C_LT = 60, C_GT = 62, C_LBRACE = 123, C_RBRACE = 125;
const C_BACKSLASH = 92;

// 1 = may start an identifier, 2 = may continue one.
const IDENT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) IDENT[c] = 3;
  else if (/[0-9]/.test(ch)) IDENT[c] = 2;
}

const PUNCT1 = new Map<number, string>(
  [..."(){}[]:,=+-*\\%&|^~<>."].map((ch) => [ch.charCodeAt(0), ch]),
);

export function tokenize(src: string, errors: LexError[]): Tokens {
  const kinds: string[] = [];
  // About one token per 5 characters in rule files; grown by doubling past that.
  let starts = new Int32Array((src.length >> 2) + 16);
  let ends = new Int32Array(starts.length);
  const lineStarts = [0];
  for (let i = src.indexOf("\n"); i !== -1; i = src.indexOf("\n", i + 1)) lineStarts.push(i + 1);

  const n = src.length;
  let count = 0;
  let i = 0;
  const push = (kind: string, start: number, end: number): void => {
    if (count === starts.length) {
      const s2 = new Int32Array(2 * count);
      s2.set(starts);
      starts = s2;
      const e2 = new Int32Array(2 * count);
      e2.set(ends);
      ends = e2;
    }
    kinds.push(kind);
    starts[count] = start;
    ends[count++] = end;
  };
  const fail = (start: number, end: number, message: string): void => {
    errors.push({ offset: start, message });
    push("error", start, end);
  };
  const identEnd = (from: number): number => {
    let j = from;
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c >= 128 || (IDENT[c]! & 2) === 0) break;
      j++;
    }
    return j;
  };

  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === C_SPACE || c === C_LF || c === C_CR || c === C_TAB || (c >= 0xa0 && isUnicodeSpace(c))) {
      i++;
      continue;
    }
    const start = i;
    if (c < 128 && (IDENT[c]! & 1) !== 0) {
      i = identEnd(i + 1);
      push(keywordAt(src, start, i) ?? "ident", start, i);
      continue;
    }
    if (c >= C_0 && c <= C_9) {
      i = lexNumber(src, i);
      push(isFloat(src, start, i) ? "float" : "int", start, i);
      continue;
    }
    switch (c) {
      case C_DOLLAR:
      case C_HASH:
      case C_AT:
        i = identEnd(i + 1);
        push(c === C_DOLLAR ? "$" : c === C_HASH ? "#" : "@", start, i);
        continue;
      case C_BANG:
        if (src.charCodeAt(i + 1) === C_EQ) {
          i += 2;
          push("!=", start, i);
        } else {
          i = identEnd(i + 1);
          push("!", start, i);
        }
        continue;
      case C_QUOTE: {
        const end = stringEnd(src, i);
        if (end < 0) {
          i = lineEnd(src, i);
          fail(start, i, "unterminated string");
        } else {
          i = end;
          push("string", start, i);
        }
        continue;
      }
      case C_SLASH: {
        const next = src.charCodeAt(i + 1);
        if (next === C_SLASH) {
          i = lineEnd(src, i);
          continue;
        }
        if (next === C_STAR) {
          const close = src.indexOf("*/", i + 2);
          if (close < 0) {
            i = n;
            fail(start, i, "unterminated comment");
          } else i = close + 2;
          continue;
        }
        const end = regexEnd(src, i);
        if (end < 0) {
          i = lineEnd(src, i);
          fail(start, i, "unterminated regular expression");
        } else {
          i = end;
          // Flags: YARA-X takes up to two letters (and then accepts only i and s).
          for (let k = 0; k < 2 && i < n && /[A-Za-z]/.test(src[i]!); k++) i++;
          push("regex", start, i);
        }
        continue;
      }
      case C_LBRACE:
        // After `=` (a string definition) a brace opens a hex string; elsewhere it opens a rule body.
        if (kinds.length > 0 && kinds[kinds.length - 1] === "=") {
          const end = hexEnd(src, i);
          if (end < 0) {
            // Resume on the next line: the parser then recovers at the next rule.
            i = lineEnd(src, i);
            fail(start, i, "unterminated hex string");
          } else {
            i = end;
            push("hex", start, i);
          }
          continue;
        }
        break;
      case C_DOT:
        if (src.charCodeAt(i + 1) === C_DOT) {
          i += 2;
          push("..", start, i);
          continue;
        }
        break;
      case C_EQ:
        if (src.charCodeAt(i + 1) === C_EQ) {
          i += 2;
          push("==", start, i);
          continue;
        }
        break;
      case C_LT:
      case C_GT: {
        const next = src.charCodeAt(i + 1);
        if (next === C_EQ || next === c) {
          i += 2;
          push(src.slice(start, i), start, i);
          continue;
        }
        break;
      }
    }
    const punct = PUNCT1.get(c);
    if (punct !== undefined) {
      i++;
      push(punct, start, i);
      continue;
    }
    // One unknown character (a whole surrogate pair counts as one).
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
    fail(start, i, `unexpected character ${JSON.stringify(src.slice(start, i))}`);
  }
  push("eof", n, n);
  const out = { kinds, starts: starts.subarray(0, count), ends: ends.subarray(0, count), lineStarts };
  let lines: Int32Array | undefined;
  return Object.defineProperty(out, "lines", { get: () => (lines ??= lineNumbers(out.starts, lineStarts)) }) as Tokens;
}

/** The 0-based line of each offset (ascending) in `starts`. */
function lineNumbers(starts: Int32Array, lineStarts: number[]): Int32Array {
  const out = new Int32Array(starts.length);
  let line = 0;
  for (let k = 0; k < starts.length; k++) {
    while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= starts[k]!) line++;
    out[k] = line;
  }
  return out;
}

/**
 * The 0-based line of `offset`, searched from `hint` (the line of a nearby offset: the parser asks
 * in almost ascending order, so this is a step or two).
 */
export function lineAt(lineStarts: number[], offset: number, hint: number): number {
  let line = hint < lineStarts.length ? hint : lineStarts.length - 1;
  while (line > 0 && lineStarts[line]! > offset) line--;
  while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= offset) line++;
  return line;
}

/** Whitespace beyond ASCII that YARA-X also skips (no-break and typographic spaces). */
export function isUnicodeSpace(c: number): boolean {
  return c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f;
}

/**
 * End of the number at `i`, as YARA-X's tokenizer cuts it: 0x hex digits, 0o octal digits, or
 * decimal digits followed by a KB/MB suffix or by "." and digits (a float; `1..2` stays a range).
 * Letters after it are the next token (`2of them` is `2 of them`).
 */
function lexNumber(src: string, i: number): number {
  const n = src.length;
  const digitsFrom = (j: number, ok: (c: number) => boolean): number => {
    while (j < n && ok(src.charCodeAt(j))) j++;
    return j;
  };
  if (src.charCodeAt(i) === C_0) {
    const c1 = src.charCodeAt(i + 1);
    if (c1 === 0x78 && isHex(src.charCodeAt(i + 2))) return digitsFrom(i + 2, isHex);
    if (c1 === 0x6f && isOct(src.charCodeAt(i + 2))) return digitsFrom(i + 2, isOct);
  }
  i = digitsFrom(i, isDec);
  if (src.charCodeAt(i) === C_DOT && isDec(src.charCodeAt(i + 1))) return digitsFrom(i + 1, isDec);
  if (src.startsWith("KB", i) || src.startsWith("MB", i)) return i + 2;
  return i;
}

const isDec = (c: number): boolean => c >= C_0 && c <= C_9;
const isHex = (c: number): boolean => isDec(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const isOct = (c: number): boolean => c >= C_0 && c <= 0x37;

function isFloat(src: string, start: number, end: number): boolean {
  const dot = src.indexOf(".", start);
  return dot >= 0 && dot < end;
}

function lineEnd(src: string, i: number): number {
  const nl = src.indexOf("\n", i);
  return nl < 0 ? src.length : nl;
}

/** End (after the closing quote) of the string literal at `i`, or -1 if the line ends first. */
function stringEnd(src: string, i: number): number {
  const n = src.length;
  for (let j = i + 1; j < n; j++) {
    const c = src.charCodeAt(j);
    if (c === C_QUOTE) return j + 1;
    if (c === C_BACKSLASH) {
      if (src.charCodeAt(j + 1) === C_LF) return -1;
      j++;
    } else if (c === C_LF) return -1;
  }
  return -1;
}

/**
 * End (after the closing slash, before the flags) of the regular expression at `i`, or -1 if the
 * line ends first. As in YARA-X, the first slash that is not escaped closes it, even inside a
 * character class: `/[/]/` is not a regex there, `/[\\/]/` is.
 */
function regexEnd(src: string, i: number): number {
  const n = src.length;
  for (let j = i + 1; j < n; j++) {
    const c = src.charCodeAt(j);
    if (c === C_LF) return -1;
    if (c === C_BACKSLASH) {
      if (src.charCodeAt(j + 1) === C_LF) return -1;
      j++;
    } else if (c === C_SLASH) return j + 1;
  }
  return -1;
}

/** End (after `}`) of the hex string opening at `i`; comments inside are skipped. -1 if none. */
function hexEnd(src: string, i: number): number {
  const n = src.length;
  for (let j = i + 1; j < n; j++) {
    const c = src.charCodeAt(j);
    if (c === C_RBRACE) return j + 1;
    if (c === C_SLASH) {
      const next = src.charCodeAt(j + 1);
      if (next === C_SLASH) j = lineEnd(src, j);
      else if (next === C_STAR) {
        const close = src.indexOf("*/", j + 2);
        if (close < 0) return -1;
        j = close + 1;
      }
    } else if (c === C_LBRACE) return -1; // a rule body: the hex string was never closed
  }
  return -1;
}
