// The YARA parser: source text -> ast.ts SourceFile, for the language as YARA-X accepts it. A
// recursive-descent parser over lexer.ts's token arrays; conditions follow YARA's precedence
// (or < and < not/defined < == != contains… < < <= > >= < | < ^ < & < << >> < + - < * \ % <
// unary - ~ < . [] ()). Only syntax is checked here: names, types and unused strings are the
// evaluator's business. After a syntax error the parser resumes at the next `rule`, so one bad
// rule does not hide the errors of the next ones.
import type {
  BinaryOp,
  Expr,
  HexToken,
  Iterable,
  Meta,
  Pos,
  Quantifier,
  Range,
  Rule,
  RuleSet,
  SourceFile,
  StringDecl,
  StringModifiers,
  StringSet,
} from "./ast";
import { isUnicodeSpace, lineAt, tokenize, type LexError } from "./lexer";

export interface ParseError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ParseOptions {
  /** Name for diagnostics. */
  file: string;
  /** Default "default". */
  namespace?: string;
  /** Resolves `include "x"` relative to the including file; return undefined when not allowed/found. */
  include?: (path: string, from: string) => { file: string; text: string } | undefined;
}

/** Includes nested deeper than this are refused (a chain that long is a loop in disguise). */
export const MAX_INCLUDE_DEPTH = 16;
/** Expressions and hex alternatives nested deeper than this are refused, before the stack is. */
export const MAX_NESTING = 1000;

/**
 * Parses `text` and the files it includes. `source` is present only when there is no error at all
 * (YARA-X, too, rejects a file with any error); `errors` lists every error found, in order.
 */
export function parse(text: string, opts: ParseOptions): { source?: SourceFile; errors: ParseError[] } {
  if (!warmedUp) warmUp();
  const ctx: Context = {
    namespace: opts.namespace ?? "default",
    imports: [],
    rules: [],
    errors: [],
    include: opts.include,
    stack: [],
  };
  parseFile(ctx, opts.file, text);
  if (ctx.errors.length > 0) return { errors: ctx.errors };
  return { source: { file: opts.file, namespace: ctx.namespace, imports: ctx.imports, rules: ctx.rules }, errors: [] };
}

/**
 * A sample that takes every branch of the lexer and parser once. V8 optimizes a hot function for
 * the branches it has seen so far and throws the code away when a new one is taken; on a large
 * rule set that happened a dozen times per function, and the re-optimizations more than doubled
 * the cost of the first parse. Parsing this first (well under a millisecond) avoids most of them.
 */
const WARM_UP = String.raw`import "pe"
include "x"
private global rule w : t1 t2 {
  meta: s = "a\x41\n" i = 10 n = -1 h = 0x1F f = 1.5 g = -2.5 t = true u = false
  strings:
    $a = "abc\"\\" ascii wide nocase fullword private
    $b = "x" xor(1-2) $c = "y" xor(3) $d = "zz" base64("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") base64wide
    $g = "w" xor
    $e = /a\/b[c-d]+/is wide
    $f = { 4D 5? ?A ~00 ~?1 [2] [3-4] [5-] [-] ( 01 | 02 [1-2] 03 | ( 04 | 05 ) ) 06 // c
      /* c */ 07 }
    $ = "anon"
  condition:
    $a and $b at 0 and $c in (0..filesize) and #d == 2 and #e in (1..2) > 0 and @f[1] >= 0 and !f < 10 and @a > 0 and !a == 3
    and all of them and any of ($a, $b*) at 0 and none of ($c) in (0..10) and 2 of (w, x*) and 50% of them and #a of them
    and any of (true, false) and 2 of (true, false, true) and for any of ($a, $b) : ($ at 0 and # > 0 and @ > 0 and ! > 0)
    and for all i in (1..#a) : (@a[i] > 0) and for any k, v in pe.version_info : (k == "a") and for 1 j in (1, 2) : (j < 2)
    and with x = 1 + 2, y = 3 : (x < y) and not defined pe.x and -1 < ~2 and 1 | 2 ^ 3 & 4 << 5 >> 6 + 7 - 8 * 9 \ 10 % 11 == 1
    and 1KB < 2MB and 0o17 > 0x1 and 1.5 <= 2.5 and "a" contains "b" and "a" icontains "b" and "a" startswith "b"
    and "a" istartswith "b" and "a" endswith "b" and "a" iendswith "b" and "a" iequals "b" and "a" matches /b/i
    and pe.sections[0].name != "x" and pe.imports("a", /b/) and entrypoint >= 0 and uint16(0) == 0x5A4D and (true or false)
}
rule bad1 { condition: } rule bad2 { strings: $a = "\q" condition: $a } rule bad3 { strings: $a = { 0 } condition: $a }
rule bad4 { condition: "unterminated
rule bad5 { strings: $a = /x
  condition: $a } § /* unterminated`;

let warmedUp = false;
function warmUp(): void {
  warmedUp = true;
  parse(WARM_UP, { file: "warm-up", include: () => ({ file: "x", text: "rule x { condition: true }" }) });
}

interface Context {
  namespace: string;
  imports: string[];
  rules: Rule[];
  errors: ParseError[];
  include: ParseOptions["include"];
  /** Files being parsed, outermost first: include cycle detection. */
  stack: string[];
}

function parseFile(ctx: Context, file: string, text: string): void {
  ctx.stack.push(file);
  try {
    new FileParser(ctx, file, text).parseTopLevel();
  } finally {
    ctx.stack.pop();
  }
}

/** Thrown once a syntax error has been recorded; caught at rule level, where parsing resumes. */
const FAIL = { failed: true } as const;

const I64_MAX = (1n << 63n) - 1n;

/** The loop variable of a desugared `N of (<bool>, …)` (see parseBoolTupleOf): a keyword, so unique. */
export const BOOL_TUPLE_VAR = "of";

/** Precedence of arithmetic and bitwise operators, loosest first. */
const BINARY_PREC = new Map<string, number>([
  ["|", 1], ["^", 2], ["&", 3], ["<<", 4], [">>", 4], ["+", 5], ["-", 5], ["*", 6], ["\\", 6], ["%", 6],
]);
/** Equality and string operators bind looser than < <= > >= (as in YARA's grammar). */
const EQUALITY_OPS = new Set([
  "==", "!=", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "iequals", "matches",
]);
const RELATIONAL_OPS = new Set(["<", "<=", ">", ">="]);

type ModifierName = "nocase" | "ascii" | "wide" | "fullword" | "private" | "xor" | "base64" | "base64wide";
const MODIFIERS = new Set<string>(["nocase", "ascii", "wide", "fullword", "private", "xor", "base64", "base64wide"]);
/** Which modifiers each kind of string accepts (YARA-X's rules). */
const ALLOWED_MODIFIERS: Record<StringDecl["kind"], ReadonlySet<string>> = {
  text: MODIFIERS,
  hex: new Set(["private"]),
  regex: new Set(["nocase", "ascii", "wide", "fullword", "private"]),
};
const KIND_NAME: Record<StringDecl["kind"], string> = { text: "text string", hex: "hex string", regex: "regular expression" };
/** Modifier pairs YARA-X refuses on one string. */
const INCOMPATIBLE: [ModifierName, ModifierName][] = [
  ["xor", "nocase"],
  ["xor", "base64"],
  ["xor", "base64wide"],
  ["nocase", "base64"],
  ["nocase", "base64wide"],
  ["fullword", "base64"],
  ["fullword", "base64wide"],
];

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

type ByteToken = Extract<HexToken, { type: "byte" }>;
/**
 * Byte tokens are shared and frozen: a rule set holds hundreds of thousands of hex bytes but only
 * a few thousand distinct (value, mask, not) triples, and allocating each one is most of the
 * parser's garbage.
 */
const BYTE_TOKENS: (ByteToken | undefined)[] = new Array<ByteToken | undefined>(0x20000).fill(undefined);
function byteToken(value: number, mask: number, not: boolean): ByteToken {
  // An array, not a Map: one lookup per hex byte (~600k for signature-base).
  const key = value | (mask << 8) | (not ? 0x10000 : 0);
  let tok = BYTE_TOKENS[key];
  if (tok === undefined) {
    tok = Object.freeze({ type: "byte", value, mask, not }) as ByteToken;
    BYTE_TOKENS[key] = tok;
  }
  return tok;
}

class FileParser {
  private readonly kinds: string[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** The line of the last position asked for: the next one is near it. */
  private line = 0;
  private readonly lineStarts: number[];
  /** Index of the current token. */
  private i = 0;
  /** Current nesting of boolean terms, unary operators and primaries (see MAX_NESTING). */
  private depth = 0;
  /** Lexical errors not yet reported: each is reported in offset order among the parser's own. */
  private readonly lexErrors: LexError[] = [];

  constructor(
    private readonly ctx: Context,
    private readonly file: string,
    private readonly src: string,
  ) {
    const tokens = tokenize(src, this.lexErrors);
    this.kinds = tokens.kinds;
    this.starts = tokens.starts;
    this.ends = tokens.ends;
    this.lineStarts = tokens.lineStarts;
  }

  parseTopLevel(): void {
    const kinds = this.kinds;
    for (;;) {
      const start = this.i;
      const kind = kinds[start];
      if (kind === "eof") {
        this.flushLexErrors(Infinity);
        return;
      }
      try {
        if (kind === "import") this.parseImport();
        else if (kind === "include") this.parseInclude();
        else if (kind === "rule" || kind === "private" || kind === "global") this.parseRule();
        else this.unexpected("import, include or rule");
      } catch (err) {
        if (err !== FAIL) throw err;
        this.recover(start);
      }
    }
  }

  /**
   * Reports the lexical errors before `offset`. The parser meets an "error" token where each one
   * is and fails the enclosing rule without a message of its own.
   */
  private flushLexErrors(offset: number): void {
    const pending = this.lexErrors;
    let k = 0;
    while (k < pending.length && pending[k]!.offset <= offset) {
      this.report(pending[k]!.offset, pending[k]!.message);
      k++;
    }
    pending.splice(0, k);
  }

  /** Skips to the next `rule` (with its modifiers), `import` or `include` after token `from`. */
  private recover(from: number): void {
    const kinds = this.kinds;
    // Never past the eof token: a value read with `this.i++` at the end of the file leaves i beyond it.
    let j = Math.min(Math.max(this.i, from + 1), kinds.length - 1);
    while (kinds[j] !== "eof" && kinds[j] !== "rule" && kinds[j] !== "import" && kinds[j] !== "include") j++;
    if (kinds[j] === "rule") while (j - 1 > from && (kinds[j - 1] === "private" || kinds[j - 1] === "global")) j--;
    this.i = j;
  }

  private parseImport(): void {
    this.i++;
    const name = this.plainText(this.expect("string", "module name"));
    if (!this.ctx.imports.includes(name)) this.ctx.imports.push(name);
  }

  private parseInclude(): void {
    const t = this.i++;
    const path = this.plainText(this.expect("string", "file name"));
    const ctx = this.ctx;
    if (ctx.stack.length > MAX_INCLUDE_DEPTH) this.error(t, `includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
    const found = ctx.include?.(path, this.file);
    if (found === undefined) this.error(t, `cannot include "${path}"`);
    if (ctx.stack.includes(found.file)) this.error(t, `include cycle: ${[...ctx.stack, found.file].join(" -> ")}`);
    this.flushLexErrors(this.starts[t]!);
    parseFile(ctx, found.file, found.text);
  }

  // -------------------------------------------------------------------------------------------
  // Rules

  private parseRule(): void {
    const kinds = this.kinds;
    const first = this.i;
    let isPrivate = false;
    let isGlobal = false;
    while (kinds[this.i] === "private" || kinds[this.i] === "global") {
      const t = this.i++;
      if (kinds[t] === "private") {
        if (isPrivate) this.error(t, `duplicate rule modifier "private"`);
        isPrivate = true;
      } else {
        if (isGlobal) this.error(t, `duplicate rule modifier "global"`);
        isGlobal = true;
      }
    }
    this.expect("rule", '"rule"');
    const name = this.text(this.expect("ident", "rule name"));
    const tags: string[] = [];
    if (kinds[this.i] === ":") {
      this.i++;
      do {
        const t = this.expect("ident", "tag");
        const tag = this.text(t);
        if (tags.includes(tag)) this.error(t, `duplicate tag "${tag}"`);
        tags.push(tag);
      } while (kinds[this.i] === "ident");
    }
    this.expect("{", '"{"');
    const meta: Meta[] = [];
    if (kinds[this.i] === "meta") {
      this.i++;
      this.expect(":", '":"');
      do meta.push(this.parseMeta());
      while (kinds[this.i] === "ident");
    }
    const strings: StringDecl[] = [];
    if (kinds[this.i] === "strings") {
      this.i++;
      this.expect(":", '":"');
      do strings.push(this.parseString());
      while (kinds[this.i] === "$");
    }
    this.expect("condition", "condition");
    this.expect(":", '":"');
    this.depth = 0;
    const condition = this.parseBoolExpr();
    const last = this.expect("}", '"}"');
    this.ctx.rules.push({
      name,
      namespace: this.ctx.namespace,
      file: this.file,
      pos: this.pos(first),
      text: this.src.slice(this.starts[first], this.ends[last]),
      private: isPrivate,
      global: isGlobal,
      tags,
      meta,
      strings,
      condition,
    });
  }

  private parseMeta(): Meta {
    const t = this.expect("ident", "meta identifier");
    this.expect("=", '"="');
    const v = this.i++;
    let value: Meta["value"];
    switch (this.kinds[v]) {
      case "string":
        value = this.textValue(v);
        break;
      case "true":
      case "false":
        value = this.kinds[v] === "true";
        break;
      case "int":
        value = Number(this.intValue(v));
        break;
      case "float":
        value = this.floatValue(v);
        break;
      case "-": {
        const n = this.i++;
        if (this.kinds[n] === "int") value = -Number(this.intValue(n));
        else if (this.kinds[n] === "float") value = -this.floatValue(n);
        else this.unexpectedAt(n, "number");
        break;
      }
      default:
        this.unexpectedAt(v, "string, number, true or false");
    }
    return { key: this.text(t), value, pos: this.pos(t) };
  }

  private parseString(): StringDecl {
    const t = this.expect("$", "string identifier");
    const id = this.text(t);
    this.expect("=", '"="');
    const v = this.i++;
    const pos = this.pos(t);
    let decl: StringDecl;
    switch (this.kinds[v]) {
      case "string": {
        const value = this.bytesValue(v);
        if (value.length === 0) this.error(v, "empty string");
        decl = { kind: "text", id, pos, modifiers: noModifiers(), value };
        break;
      }
      case "regex": {
        const re = this.regexValue(v);
        decl = { kind: "regex", id, pos, modifiers: noModifiers(), source: re.source, nocase: re.nocase, dotAll: re.dotAll };
        break;
      }
      case "hex":
        decl = { kind: "hex", id, pos, modifiers: noModifiers(), tokens: this.hexTokens(v) };
        break;
      default:
        this.unexpectedAt(v, "text string, hex string or regular expression");
    }
    this.parseModifiers(decl);
    return decl;
  }

  private parseModifiers(decl: StringDecl): void {
    const kinds = this.kinds;
    const m = decl.modifiers;
    // Made for the first modifier: most strings have none.
    let seen: Map<string, number> | undefined;
    while (MODIFIERS.has(kinds[this.i]!)) {
      const t = this.i++;
      const name = kinds[t] as ModifierName;
      seen ??= new Map<string, number>();
      if (seen.has(name)) this.error(t, `duplicate modifier "${name}"`);
      seen.set(name, t);
      if (!ALLOWED_MODIFIERS[decl.kind].has(name)) this.error(t, `modifier "${name}" is not allowed with a ${KIND_NAME[decl.kind]}`);
      switch (name) {
        case "xor": {
          let min = 0;
          let max = 255;
          if (kinds[this.i] === "(") {
            this.i++;
            const a = this.expect("int", "integer");
            min = max = this.byteValue(a);
            if (kinds[this.i] === "-") {
              this.i++;
              max = this.byteValue(this.expect("int", "integer"));
              if (min > max) this.error(a, `invalid xor range ${min}-${max}`);
            }
            this.expect(")", '")"');
          }
          m.xor = { min, max };
          break;
        }
        case "base64":
        case "base64wide": {
          let alphabet: string | undefined;
          if (kinds[this.i] === "(") {
            this.i++;
            const a = this.expect("string", "base64 alphabet");
            alphabet = this.plainText(a);
            if (utf8Length(alphabet) !== 64) this.error(a, "a base64 alphabet must be 64 bytes long");
            this.expect(")", '")"');
          }
          m[name] = alphabet === undefined ? {} : { alphabet };
          break;
        }
        default:
          m[name] = true;
      }
    }
    // YARA's default: a text string or regex with neither `ascii` nor `wide` is ascii.
    if (decl.kind !== "hex" && !m.wide) m.ascii = true;
    if (seen === undefined || seen.size < 2) return;
    for (const [a, b] of INCOMPATIBLE) {
      const ta = seen.get(a);
      const tb = seen.get(b);
      if (ta !== undefined && tb !== undefined) this.error(Math.max(ta, tb), `modifiers "${a}" and "${b}" cannot be used together`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Conditions

  private parseBoolExpr(): Expr {
    let left = this.parseAnd();
    while (this.kinds[this.i] === "or") {
      this.i++;
      left = { type: "binary", op: "or", left, right: this.parseAnd(), pos: left.pos };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseBoolTerm();
    while (this.kinds[this.i] === "and") {
      this.i++;
      left = { type: "binary", op: "and", left, right: this.parseBoolTerm(), pos: left.pos };
    }
    return left;
  }

  private parseBoolTerm(): Expr {
    const t = this.i;
    if (++this.depth > MAX_NESTING) this.error(t, `expression nested deeper than ${MAX_NESTING} levels`);
    const e = this.parseBoolTermInner(t);
    this.depth--;
    return e;
  }

  private parseBoolTermInner(t: number): Expr {
    switch (this.kinds[t]) {
      case "not":
      case "defined":
        this.i++;
        return { type: "unary", op: this.kinds[t] as "not" | "defined", operand: this.parseBoolTerm(), pos: this.pos(t) };
      // As in YARA-X, true, false and `$a` are boolean terms, not operands: `$a == 1` is an error.
      case "true":
      case "false":
        this.i++;
        return { type: "bool", value: this.kinds[t] === "true", pos: this.pos(t) };
      case "$":
        return this.parsePatternMatch();
      case "for":
        return this.parseFor();
      case "with":
        return this.parseWith();
      case "all":
      case "any":
      case "none": {
        this.i++;
        const quantifier = { kind: this.kinds[t] as "all" | "any" | "none" };
        this.expect("of", '"of"');
        return this.parseOfRest(quantifier, t);
      }
    }
    const left = this.parseExpr(1);
    // `<expr> of …` and `<expr>% of …`: the expression was a quantifier.
    if (this.kinds[this.i] === "of") {
      this.i++;
      return this.parseOfRest({ kind: "expr", expr: left }, t);
    }
    if (this.kinds[this.i] === "%" && this.kinds[this.i + 1] === "of") {
      this.i += 2;
      return this.parseOfRest({ kind: "percent", expr: left }, t);
    }
    return this.parseEquality(left);
  }

  private parseEquality(first: Expr): Expr {
    let left = this.parseRelational(first);
    while (EQUALITY_OPS.has(this.kinds[this.i]!)) {
      const op = this.kinds[this.i++] as BinaryOp;
      left = { type: "binary", op, left, right: this.parseRelational(this.parseExpr(1)), pos: left.pos };
    }
    return left;
  }

  private parseRelational(first: Expr): Expr {
    let left = first;
    while (RELATIONAL_OPS.has(this.kinds[this.i]!)) {
      const op = this.kinds[this.i++] as BinaryOp;
      left = { type: "binary", op, left, right: this.parseExpr(1), pos: left.pos };
    }
    return left;
  }

  /** `$a`, `$a at <expr>`, `$a in (<lo>..<hi>)`. */
  private parsePatternMatch(): Expr {
    const t = this.i++;
    const e: Expr = { type: "string_match", id: this.text(t), pos: this.pos(t) };
    if (this.kinds[this.i] === "at") {
      this.i++;
      e.at = this.parseExpr(1);
    } else if (this.kinds[this.i] === "in") {
      this.i++;
      e.in = this.parseRange();
    }
    return e;
  }

  /** `<quantifier> of` has been read; the set and an optional `at`/`in` follow. */
  private parseOfRest(quantifier: Quantifier, t: number): Expr {
    const kinds = this.kinds;
    const pos = this.pos(t);
    let set: StringSet | RuleSet;
    if (kinds[this.i] === "them") set = { kind: "them", pos: this.pos(this.i++) };
    else if (kinds[this.i] === "(" && this.isTupleOf("$", this.i)) set = this.parsePatternTuple();
    else if (kinds[this.i] === "(" && this.isTupleOf("ident", this.i)) set = this.parseRuleTuple();
    else if (kinds[this.i] === "(") return this.parseBoolTupleOf(quantifier, t);
    else this.unexpected('"them" or "("');
    const of: Expr = { type: "of", quantifier, set, pos };
    if (set.kind !== "rules") {
      if (kinds[this.i] === "at") {
        this.i++;
        of.at = this.parseExpr(1);
      } else if (kinds[this.i] === "in") {
        this.i++;
        of.in = this.parseRange();
      }
    }
    return of;
  }

  private parsePatternTuple(): StringSet {
    const pos = this.pos(this.expect("(", '"("'));
    const items: { id: string; wildcard: boolean }[] = [];
    for (;;) {
      const id = this.text(this.expect("$", "string identifier"));
      const wildcard = this.kinds[this.i] === "*";
      if (wildcard) this.i++;
      items.push({ id, wildcard });
      if (this.kinds[this.i] !== ",") break;
      this.i++;
    }
    this.expect(")", '")"');
    return { kind: "strings", items, pos };
  }

  /**
   * Whether the tuple opening at token `j` holds only tokens of `kind`, each with an optional `*`:
   * `($a, $b*)` (strings) or `(Name, Prefix*)` (rules). Anything else, like `($a and $b, $c)`, is a
   * tuple of boolean expressions, which YARA-X tries after the other two.
   */
  private isTupleOf(kind: "$" | "ident", j: number): boolean {
    const kinds = this.kinds;
    for (j++; ; j++) {
      if (kinds[j] !== kind) return false;
      if (kinds[j + 1] === "*") j++;
      if (kinds[j + 1] === ")") return true;
      if (kinds[j + 1] !== ",") return false;
      j++;
    }
  }

  private parseRuleTuple(): RuleSet {
    const pos = this.pos(this.i++);
    const items: { name: string; wildcard: boolean }[] = [];
    for (;;) {
      const name = this.text(this.i++);
      const wildcard = this.kinds[this.i] === "*";
      if (wildcard) this.i++;
      items.push({ name, wildcard });
      if (this.kinds[this.i++] === ")") break;
    }
    return { kind: "rules", items, pos };
  }

  /**
   * `<quantifier> of (<bool>, <bool>, …)`: the AST has no node for a tuple of boolean expressions.
   * Every quantifier becomes `for <quantifier> of in (<bool>, …) : (of)`, a loop over the items
   * whose variable, named by the keyword `of`, cannot clash with a user's. Not an and/or chain,
   * even for `all` and `any`: in YARA-X an undefined item makes the whole `of` undefined
   * (`any of (uint8(1000) == 0, true)` is false on a short file), where `or` would skip it.
   */
  private parseBoolTupleOf(quantifier: Quantifier, t: number): Expr {
    const items: Expr[] = [];
    this.expect("(", '"("');
    for (;;) {
      items.push(this.parseBoolExpr());
      if (this.kinds[this.i] !== ",") break;
      this.i++;
    }
    this.expect(")", '")"');
    if (this.kinds[this.i] === "at" || this.kinds[this.i] === "in") this.unexpected('"and", "or" or "}"');
    const pos = this.pos(t);
    const body: Expr = { type: "ident", name: BOOL_TUPLE_VAR, pos };
    return { type: "for_in", quantifier, vars: [BOOL_TUPLE_VAR], iterable: { kind: "list", items }, body, pos };
  }

  private parseFor(): Expr {
    const kinds = this.kinds;
    const t = this.i++;
    const quantifier = this.parseQuantifier();
    if (kinds[this.i] === "of") {
      this.i++;
      let set: StringSet;
      if (kinds[this.i] === "them") set = { kind: "them", pos: this.pos(this.i++) };
      else if (kinds[this.i] === "(") set = this.parsePatternTuple();
      else this.unexpected('"them" or "("');
      return { type: "for_of", quantifier, set, body: this.parseLoopBody(), pos: this.pos(t) };
    }
    const vars = [this.text(this.expect("ident", '"of" or a variable name'))];
    while (kinds[this.i] === ",") {
      this.i++;
      vars.push(this.text(this.expect("ident", "variable name")));
    }
    this.expect("in", '"in"');
    const iterable = this.parseIterable();
    return { type: "for_in", quantifier, vars, iterable, body: this.parseLoopBody(), pos: this.pos(t) };
  }

  private parseQuantifier(): Quantifier {
    const k = this.kinds[this.i];
    if (k === "all" || k === "any" || k === "none") {
      this.i++;
      return { kind: k };
    }
    const expr = this.parseExpr(1);
    if (this.kinds[this.i] === "%") {
      this.i++;
      return { kind: "percent", expr };
    }
    return { kind: "expr", expr };
  }

  private parseIterable(): Iterable {
    if (this.kinds[this.i] !== "(") return { kind: "expr", expr: this.parseExpr(1) };
    // `(lo..hi)` is a range; `(a, b, …)` and `(a)` are lists, as in YARA-X.
    const open = this.i++;
    const first = this.parseExpr(1);
    if (this.kinds[this.i] === "..") {
      this.i++;
      const hi = this.parseExpr(1);
      this.expect(")", '")"');
      return { kind: "range", range: { lo: first, hi, pos: this.pos(open) } };
    }
    const items = [first];
    while (this.kinds[this.i] === ",") {
      this.i++;
      items.push(this.parseExpr(1));
    }
    this.expect(")", '")"');
    return { kind: "list", items };
  }

  private parseLoopBody(): Expr {
    this.expect(":", '":"');
    this.expect("(", '"("');
    const body = this.parseBoolExpr();
    this.expect(")", '")"');
    return body;
  }

  private parseWith(): Expr {
    const t = this.i++;
    const bindings: { name: string; value: Expr }[] = [];
    for (;;) {
      const name = this.text(this.expect("ident", "variable name"));
      this.expect("=", '"="');
      bindings.push({ name, value: this.parseExpr(1) });
      if (this.kinds[this.i] !== ",") break;
      this.i++;
    }
    return { type: "with", bindings, body: this.parseLoopBody(), pos: this.pos(t) };
  }

  private parseRange(): Range {
    const pos = this.pos(this.expect("(", '"("'));
    const lo = this.parseExpr(1);
    this.expect("..", '".."');
    const hi = this.parseExpr(1);
    this.expect(")", '")"');
    return { lo, hi, pos };
  }

  /** Arithmetic and bitwise operators at precedence `minPrec` or tighter (precedence climbing). */
  private parseExpr(minPrec: number): Expr {
    let left = this.parseUnary();
    for (;;) {
      const op = this.kinds[this.i]!;
      const prec = BINARY_PREC.get(op);
      if (prec === undefined || prec < minPrec) return left;
      // `50% of them`, `for 50% x in …`: the percent sign belongs to the quantifier, not to a modulo.
      const next = this.kinds[this.i + 1];
      if (op === "%" && (next === "of" || (next === "ident" && this.kinds[this.i + 2] === "in"))) return left;
      this.i++;
      left = { type: "binary", op: op as BinaryOp, left, right: this.parseExpr(prec + 1), pos: left.pos };
    }
  }

  private parseUnary(): Expr {
    const t = this.i;
    const k = this.kinds[t];
    if (k === "-" || k === "~") {
      this.i++;
      if (++this.depth > MAX_NESTING) this.error(t, `expression nested deeper than ${MAX_NESTING} levels`);
      const operand = this.parseUnary();
      this.depth--;
      // A negative literal is a literal (so that -9 is an int node, like YARA-X's constant folding).
      if (k === "-" && operand.type === "int") return { type: "int", value: BigInt.asIntN(64, -operand.value), pos: this.pos(t) };
      if (k === "-" && operand.type === "float") return { type: "float", value: -operand.value, pos: this.pos(t) };
      return { type: "unary", op: k, operand, pos: this.pos(t) };
    }
    return this.parsePrimary();
  }

  private parsePostfix(primary: Expr): Expr {
    let e = primary;
    for (;;) {
      const k = this.kinds[this.i];
      if (k === ".") {
        this.i++;
        e = { type: "field", object: e, field: this.text(this.expect("ident", "field name")), pos: e.pos };
      } else if (k === "[") {
        this.i++;
        const index = this.parseExpr(1);
        this.expect("]", '"]"');
        e = { type: "index", object: e, index, pos: e.pos };
      } else if (k === "(") {
        this.i++;
        const args: Expr[] = [];
        if (this.kinds[this.i] !== ")") {
          for (;;) {
            args.push(this.parseBoolExpr());
            if (this.kinds[this.i] !== ",") break;
            this.i++;
          }
        }
        this.expect(")", '")"');
        e = { type: "call", callee: e, args, pos: e.pos };
      } else return e;
    }
  }

  private parsePrimary(): Expr {
    if (++this.depth > MAX_NESTING) this.error(this.i, `expression nested deeper than ${MAX_NESTING} levels`);
    const primary = this.parsePrimaryInner();
    // Only identifiers start field, index and call chains (`pe.sections[0].name`, `uint16(0)`):
    // `!(…)` or `"abc"[0]` are syntax errors in YARA-X.
    const e = primary.type === "ident" ? this.parsePostfix(primary) : primary;
    this.depth--;
    return e;
  }

  private parsePrimaryInner(): Expr {
    const t = this.i;
    const pos = (): Pos => this.pos(t);
    switch (this.kinds[t]) {
      case "int":
        this.i++;
        return { type: "int", value: this.intValue(t), pos: pos() };
      case "float":
        this.i++;
        return { type: "float", value: this.floatValue(t), pos: pos() };
      case "string":
        this.i++;
        return { type: "str", value: this.bytesValue(t), pos: pos() };
      case "regex": {
        this.i++;
        return { type: "regex", ...this.regexValue(t), pos: pos() };
      }
      case "filesize":
        this.i++;
        return { type: "filesize", pos: pos() };
      case "entrypoint":
        this.i++;
        return { type: "entrypoint", pos: pos() };
      case "ident":
        this.i++;
        return { type: "ident", name: this.text(t), pos: pos() };
      case "#": {
        this.i++;
        const e: Expr = { type: "string_count", id: "$" + this.text(t).slice(1), pos: pos() };
        if (this.kinds[this.i] === "in") {
          this.i++;
          e.in = this.parseRange();
        }
        return e;
      }
      case "@":
      case "!": {
        this.i++;
        const id = "$" + this.text(t).slice(1);
        const e: Expr =
          this.kinds[t] === "@" ? { type: "string_offset", id, pos: pos() } : { type: "string_length", id, pos: pos() };
        if (this.kinds[this.i] === "[") {
          this.i++;
          e.index = this.parseExpr(1);
          this.expect("]", '"]"');
        }
        return e;
      }
      case "(": {
        this.i++;
        const e = this.parseBoolExpr();
        this.expect(")", '")"');
        return e;
      }
    }
    return this.unexpected("expression");
  }

  // -------------------------------------------------------------------------------------------
  // Literals

  private intValue(t: number): bigint {
    let s = this.text(t);
    let scale = 1n;
    if (s.endsWith("KB")) {
      scale = 1024n;
      s = s.slice(0, -2);
    } else if (s.endsWith("MB")) {
      scale = 1024n * 1024n;
      s = s.slice(0, -2);
    }
    if (!(scale === 1n ? /^(?:0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)$/ : /^[0-9]+$/).test(s)) this.error(t, `invalid integer "${this.text(t)}"`);
    const v = BigInt(s) * scale;
    if (v > I64_MAX) this.error(t, `integer "${this.text(t)}" is out of range`);
    return v;
  }

  private floatValue(t: number): number {
    const s = this.text(t);
    if (!/^[0-9]+\.[0-9]+$/.test(s)) this.error(t, `invalid number "${s}"`);
    return Number(s);
  }

  private byteValue(t: number): number {
    const v = this.intValue(t);
    if (v > 255n) this.error(t, `xor key ${v} is out of range 0-255`);
    return Number(v);
  }

  /** A string literal's bytes: UTF-8 of its characters, escapes \n \t \r \0 \\ \" \xHH unescaped. */
  private bytesValue(t: number): Uint8Array {
    const src = this.src;
    const start = this.starts[t]! + 1;
    const end = this.ends[t]! - 1;
    const backslash = src.indexOf("\\", start);
    if (backslash < 0 || backslash >= end) return utf8Encoder.encode(src.slice(start, end));
    const out: number[] = [];
    for (let j = start; j < end; j++) {
      let c = src.charCodeAt(j);
      if (c === 92) {
        const e = src.charCodeAt(++j);
        if (e === 110) out.push(10);
        else if (e === 116) out.push(9);
        else if (e === 114) out.push(13);
        else if (e === 92 || e === 34) out.push(e);
        else if (e === 48) out.push(0);
        else if (e === 120 && /^[0-9a-fA-F]{2}$/.test(src.slice(j + 1, j + 3))) {
          out.push(parseInt(src.slice(j + 1, j + 3), 16));
          j += 2;
        } else this.errorAt(j - 1, `invalid escape sequence "${src.slice(j - 1, j + 1)}"`);
      } else if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else {
        if (c >= 0xd800 && c <= 0xdbff && j + 1 < end) {
          const lo = src.charCodeAt(j + 1);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            j++;
            out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
            continue;
          }
        }
        out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    return Uint8Array.from(out);
  }

  /** A string literal as text (meta values, module and file names): its bytes decoded as UTF-8. */
  private textValue(t: number): string {
    const raw = this.src.slice(this.starts[t]! + 1, this.ends[t]! - 1);
    return raw.includes("\\") ? utf8.decode(this.bytesValue(t)) : raw;
  }

  /** Module and file names, base64 alphabets: YARA-X allows no escape sequence in them. */
  private plainText(t: number): string {
    const raw = this.src.slice(this.starts[t]! + 1, this.ends[t]! - 1);
    if (raw.includes("\\")) this.error(t, "escape sequences are not allowed in this string");
    return raw;
  }

  private regexValue(t: number): { source: string; nocase: boolean; dotAll: boolean } {
    const token = this.text(t);
    const close = token.lastIndexOf("/");
    let nocase = false;
    let dotAll = false;
    for (let k = close + 1; k < token.length; k++) {
      const f = token[k];
      if (f === "i") nocase = true;
      else if (f === "s") dotAll = true;
      else this.errorAt(this.starts[t]! + k, `invalid regular expression modifier "${f}"`);
    }
    return { source: token.slice(1, close), nocase, dotAll };
  }

  /** The tokens of a hex string `{ … }`, adjacent jumps merged into one. */
  private hexTokens(t: number): HexToken[] {
    const src = this.src;
    const end = this.ends[t]! - 1;
    let j = this.starts[t]! + 1;
    const bad = (at: number, why: string): never => this.errorAt(at, `invalid hex string: ${why}`);
    const skip = (): void => {
      while (j < end) {
        const c = src.charCodeAt(j);
        if (c === 32 || c === 9 || c === 10 || c === 13 || (c >= 0xa0 && isUnicodeSpace(c))) j++;
        else if (c === 47 && src.charCodeAt(j + 1) === 47) {
          const nl = src.indexOf("\n", j);
          j = nl < 0 || nl > end ? end : nl;
        } else if (c === 47 && src.charCodeAt(j + 1) === 42) j = src.indexOf("*/", j + 2) + 2;
        else return;
      }
    };
    const nibble = (at: number): number => {
      const c = src.charCodeAt(at);
      if (c === 63) return -1; // ?
      if (c >= 48 && c <= 57) return c - 48;
      const l = c | 0x20;
      if (l >= 97 && l <= 102) return l - 87;
      return -2;
    };
    const byte = (not: boolean): HexToken => {
      const at = j;
      const hi = nibble(j);
      const lo = j + 1 < end ? nibble(j + 1) : -2;
      if (hi === -2 || lo === -2) bad(at, `expected a byte (two hex digits or ?), found "${src.slice(at, Math.min(at + 2, end))}"`);
      j += 2;
      const value = (hi < 0 ? 0 : hi << 4) | (lo < 0 ? 0 : lo);
      const mask = (hi < 0 ? 0 : 0xf0) | (lo < 0 ? 0 : 0x0f);
      if (not && mask === 0) bad(at - 1, "~?? is not allowed");
      return byteToken(value, mask, not);
    };
    // Jump bounds are decimal, 0x hex or 0o octal integers, as in YARA-X's hex jump mode.
    const int = (): number | null => {
      const m = /^(?:0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)/.exec(src.slice(j, Math.min(j + 24, end)));
      if (m === null) return null;
      j += m[0].length;
      return Number(m[0].startsWith("0o") ? parseInt(m[0].slice(2), 8) : m[0]);
    };
    const jump = (): Extract<HexToken, { type: "jump" }> => {
      const at = j++;
      skip();
      const lo = int();
      skip();
      let hi = lo;
      if (src.charCodeAt(j) === 45) {
        j++;
        skip();
        hi = int();
        skip();
      } else if (lo === null) bad(j, "expected a jump [n], [n-m], [n-] or [-]");
      if (src.charCodeAt(j) !== 93) bad(j, `expected "]" to close the jump`);
      j++;
      if ((lo ?? 0) > 0xffffffff || (hi ?? 0) > 0xffffffff) bad(at, "a jump bound is out of range 0-4294967295");
      const min = lo ?? 0;
      if (hi !== null && min > hi) bad(at, `invalid jump [${min}-${hi}]`);
      if (hi === 0) bad(at, "a zero-length jump is not allowed");
      return { type: "jump", min, max: hi };
    };
    const sequence = (depth: number): HexToken[] => {
      const out: HexToken[] = [];
      // Where the first and the last token start (for the jump errors).
      let firstAt = -1;
      let lastAt = -1;
      const seqStart = j;
      for (;;) {
        skip();
        if (j >= end) {
          if (depth > 0) bad(j, 'unclosed alternative, expected ")"');
          break;
        }
        const c = src.charCodeAt(j);
        if (c === 124 || c === 41) {
          if (depth === 0) bad(j, `unexpected "${src[j]}"`);
          break;
        }
        const from = j;
        let tok: HexToken;
        if (c === 91) {
          tok = jump();
          const prev = out[out.length - 1];
          if (prev?.type === "jump") {
            prev.min += tok.min;
            prev.max = prev.max === null || tok.max === null ? null : prev.max + tok.max;
            continue;
          }
        } else if (c === 40) {
          if (depth >= MAX_NESTING) bad(j, `alternatives nested deeper than ${MAX_NESTING} levels`);
          j++;
          const alternatives = [sequence(depth + 1)];
          while (src.charCodeAt(j) === 124) {
            j++;
            alternatives.push(sequence(depth + 1));
          }
          j++; // the ")" that sequence() stopped at
          tok = { type: "alt", alternatives };
        } else if (c === 126) {
          j++;
          tok = byte(true);
        } else tok = byte(false);
        out.push(tok);
        if (firstAt < 0) firstAt = from;
        lastAt = from;
      }
      if (out.length === 0) bad(seqStart, depth > 0 ? "empty alternative" : "empty hex string");
      if (out[0]!.type === "jump") bad(firstAt, "a jump cannot start a hex string or alternative");
      if (out[out.length - 1]!.type === "jump") bad(lastAt, "a jump cannot end a hex string or alternative");
      return out;
    };
    return sequence(0);
  }

  // -------------------------------------------------------------------------------------------
  // Tokens, positions, errors

  private text(t: number): string {
    return this.src.slice(this.starts[t], this.ends[t]);
  }

  private pos(t: number): Pos {
    const offset = this.starts[t]!;
    const line = (this.line = lineAt(this.lineStarts, offset, this.line));
    return { line: line + 1, column: offset - this.lineStarts[line]! + 1, offset };
  }

  private expect(kind: string, what: string): number {
    if (this.kinds[this.i] !== kind) this.unexpected(what);
    return this.i++;
  }

  private unexpected(what: string): never {
    return this.unexpectedAt(this.i, what);
  }

  private unexpectedAt(t: number, what: string): never {
    if (this.kinds[t] === "error") throw FAIL; // the lexer has reported it
    const found = this.kinds[t] === "eof" ? "end of file" : JSON.stringify(clip(this.text(t)));
    return this.error(t, `unexpected ${found}, expected ${what}`);
  }

  private error(t: number, message: string): never {
    return this.errorAt(this.starts[t]!, message);
  }

  private errorAt(offset: number, message: string): never {
    this.record(offset, message);
    throw FAIL;
  }

  private record(offset: number, message: string): void {
    this.flushLexErrors(offset);
    this.report(offset, message);
  }

  private report(offset: number, message: string): void {
    const ls = this.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.ctx.errors.push({ file: this.file, line: lo + 1, column: offset - ls[lo]! + 1, message });
  }
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function clip(s: string): string {
  return s.length > 24 ? s.slice(0, 24) + "…" : s;
}

function noModifiers(): StringModifiers {
  return { nocase: false, ascii: false, wide: false, fullword: false, private: false };
}
