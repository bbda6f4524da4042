// The YARA abstract syntax tree: what the parser (parser.ts) produces and what the string compiler
// (strings/), the condition compiler and the evaluator (eval/) consume. It follows the language as
// YARA-X accepts it (https://virustotal.github.io/yara-x/docs/writing_rules/). Every node carries
// its position so that later stages can report errors as file:line:column.
//
// This file is the contract between the stages: change it only together with every consumer.

/**
 * 1-based line and column of a node's first character, and its index in the source string.
 * Columns and offsets count UTF-16 code units of the JavaScript string (YARA-X counts bytes: the
 * two differ only after a non-ASCII character on the same line).
 */
export interface Pos {
  line: number;
  column: number;
  offset: number;
}

/** One parsed source (a file, or a bundled rule file); includes are resolved into `rules`. */
export interface SourceFile {
  /** Name for diagnostics (a path, or "bundled/<name>"). */
  file: string;
  /** The namespace every rule of this source belongs to ("default" unless the caller sets one). */
  namespace: string;
  /** Modules imported by this source (and its includes), in order, without duplicates. */
  imports: string[];
  rules: Rule[];
}

export interface Rule {
  name: string;
  namespace: string;
  /** The file this rule was written in (an included file's path, not the includer's). */
  file: string;
  pos: Pos;
  /**
   * The rule's exact source text, from its first modifier (or `rule`) to its closing brace: the
   * YARA-X fallback compiles it again, with the source's imports, in a small group of its own.
   */
  text: string;
  private: boolean;
  global: boolean;
  tags: string[];
  meta: Meta[];
  strings: StringDecl[];
  condition: Expr;
}

export interface Meta {
  key: string;
  /** Text metadata is kept as the bytes of its (unescaped) value decoded as UTF-8. */
  value: string | number | boolean;
  pos: Pos;
}

// ---------------------------------------------------------------------------------------------
// Strings (YARA-X calls them patterns)

export type StringDecl = TextString | HexString | RegexString;

interface StringCommon {
  /** "$a", or "$" for an anonymous string (`$ = "..."`); anonymous ones are numbered by position. */
  id: string;
  pos: Pos;
  modifiers: StringModifiers;
}

export interface TextString extends StringCommon {
  kind: "text";
  /** The literal's bytes after unescaping (\n \t \r \\ \" \xHH). */
  value: Uint8Array;
}

export interface HexString extends StringCommon {
  kind: "hex";
  tokens: HexToken[];
}

export interface RegexString extends StringCommon {
  kind: "regex";
  /** The regular expression's source between the slashes, as written (escapes untouched). */
  source: string;
  /** Flags after the closing slash: `i` (nocase) and `s` (dot matches newline). */
  nocase: boolean;
  dotAll: boolean;
}

/**
 * Hex string tokens. A byte with a mask: `value & mask` is compared with the data byte `& mask`.
 * The parser shares byte tokens between strings as frozen objects (do not mutate them) and merges
 * adjacent jumps into one (`[1][2-3]` is `[3-4]`), so a jump is always between two non-jumps.
 * `AB` is {value:0xAB, mask:0xFF}; `A?` {0xA0, 0xF0}; `?B` {0x0B, 0x0F}; `??` {0, 0}.
 * `~AB` (not) matches any byte except that one (with its mask: `~?B`).
 */
export type HexToken =
  | { type: "byte"; value: number; mask: number; not: boolean }
  /** `[n]`, `[n-m]`, `[n-]` (max null), `[-]` (min 0, max null). */
  | { type: "jump"; min: number; max: number | null }
  /** `( A | B | ... )`: each alternative is a token sequence (may itself contain jumps). */
  | { type: "alt"; alternatives: HexToken[][] };

export interface StringModifiers {
  nocase: boolean;
  /**
   * YARA's default is ascii; `wide` alone means wide only; `ascii wide` means both. The parser
   * applies the default: a text or regex string with neither modifier has `ascii: true`, so the
   * flags can be read as they are. Hex strings have both false.
   */
  ascii: boolean;
  wide: boolean;
  fullword: boolean;
  private: boolean;
  /** `xor` is {min:0,max:255}; `xor(n)` {n,n}; `xor(a-b)` {a,b}. */
  xor?: { min: number; max: number };
  /** `base64` / `base64("64-char alphabet")`: alphabet undefined means the standard one. */
  base64?: { alphabet?: string };
  base64wide?: { alphabet?: string };
}

// ---------------------------------------------------------------------------------------------
// Conditions

export type Expr =
  | { type: "bool"; value: boolean; pos: Pos }
  /** Integer literal: decimal, 0x hex, 0o octal, with KB/MB suffix applied. Always an integer. */
  | { type: "int"; value: bigint; pos: Pos }
  | { type: "float"; value: number; pos: Pos }
  /** String literal in a condition (bytes after unescaping). */
  | { type: "str"; value: Uint8Array; pos: Pos }
  /** Regular expression literal (right-hand side of `matches`, or a module function argument). */
  | { type: "regex"; source: string; nocase: boolean; dotAll: boolean; pos: Pos }
  | { type: "filesize"; pos: Pos }
  | { type: "entrypoint"; pos: Pos }
  /**
   * `$a` (true when the string matched; `$` inside `for … of` means the current string), optionally
   * `$a at <expr>` or `$a in (<lo>..<hi>)`.
   */
  | { type: "string_match"; id: string; at?: Expr; in?: Range; pos: Pos }
  /** `#a`, optionally `#a in (<lo>..<hi>)`. `#` alone inside `for … of`. The id is the string's
   * ("$a", or "$" for the anonymous one), as for string_offset and string_length. */
  | { type: "string_count"; id: string; in?: Range; pos: Pos }
  /** `@a[i]` (index undefined for `@a`, which means `@a[1]`). */
  | { type: "string_offset"; id: string; index?: Expr; pos: Pos }
  /** `!a[i]` (index undefined for `!a`, which means `!a[1]`). */
  | { type: "string_length"; id: string; index?: Expr; pos: Pos }
  /**
   * A bare identifier: a rule name, an external variable, a loop or `with` variable, or a module
   * name (the first link of a `field`/`index`/`call` chain). Resolution happens after parsing.
   */
  | { type: "ident"; name: string; pos: Pos }
  /** `<object>.<field>` (e.g. pe.number_of_sections, pe.sections[0].name). */
  | { type: "field"; object: Expr; field: string; pos: Pos }
  /** `<object>[<index>]` for arrays (integer index) and dictionaries (string key). */
  | { type: "index"; object: Expr; index: Expr; pos: Pos }
  /** `<callee>(<args>)`, e.g. pe.imports("kernel32.dll", "CreateFileA"), uint32be(0). */
  | { type: "call"; callee: Expr; args: Expr[]; pos: Pos }
  | { type: "unary"; op: UnaryOp; operand: Expr; pos: Pos }
  | { type: "binary"; op: BinaryOp; left: Expr; right: Expr; pos: Pos }
  /** `<quantifier> of <set> [at <expr> | in <range>]`. */
  | { type: "of"; quantifier: Quantifier; set: StringSet | RuleSet; at?: Expr; in?: Range; pos: Pos }
  /** `for <quantifier> of <string set> : ( <body> )`. */
  | { type: "for_of"; quantifier: Quantifier; set: StringSet; body: Expr; pos: Pos }
  /** `for <quantifier> <vars> in <iterable> : ( <body> )`. */
  | { type: "for_in"; quantifier: Quantifier; vars: string[]; iterable: Iterable; body: Expr; pos: Pos }
  /** `with <name> = <expr>, … : ( <body> )`. */
  | { type: "with"; bindings: { name: string; value: Expr }[]; body: Expr; pos: Pos }
  /**
   * The condition of a rule the fast path cannot parse or compile but YARA-X accepts (deferred.ts):
   * UNKNOWN on every file, so YARA-X decides it. `refs`: the identifiers in its text (the earlier
   * rules among them are its dependencies).
   */
  | { type: "deferred"; refs: string[]; pos: Pos };
// Parentheses only group: `(<expr>)` parses to <expr> itself, with no node of its own.

export type UnaryOp = "not" | "defined" | "-" | "~";

export type BinaryOp =
  | "and"
  | "or"
  | "==" | "!=" | "<" | "<=" | ">" | ">="
  | "contains" | "icontains" | "startswith" | "istartswith" | "endswith" | "iendswith" | "iequals" | "matches"
  | "+" | "-" | "*" | "\\" | "%"
  | "&" | "|" | "^" | "<<" | ">>";

export interface Range {
  lo: Expr;
  hi: Expr;
  pos: Pos;
}

/**
 * `all`, `any`, `none`, an expression (`2 of`, `n of`), or a percentage (`50% of`, where `expr`
 * is the number before the percent sign).
 */
export type Quantifier =
  | { kind: "all" }
  | { kind: "any" }
  | { kind: "none" }
  | { kind: "expr"; expr: Expr }
  | { kind: "percent"; expr: Expr };

/**
 * A set of strings: `them`, or a list of identifiers where each may end in `*` as a prefix
 * wildcard (`($a, $b*)`; `$*` means every string of the rule).
 */
export type StringSet = { kind: "them"; pos: Pos } | { kind: "strings"; items: { id: string; wildcard: boolean }[]; pos: Pos };

/**
 * A set of rules `(RuleA, Prefix*)` after `of` (`any of (r1, r2)`). Any tuple of bare identifiers
 * parses to this, so a name may also be an external boolean variable: YARA-X reads the tuple as
 * boolean expressions. Other tuples of boolean expressions (`any of (a > 1, $b)`) have no node:
 * the parser writes every quantifier as `for <quantifier> of in (<items>) : (of)`, a loop whose
 * variable is named by the keyword "of" (so an undefined item makes the whole `of` false, as in
 * YARA-X; an and/or chain would not).
 */
export interface RuleSet {
  kind: "rules";
  items: { name: string; wildcard: boolean }[];
  pos: Pos;
}

/** What `for … in` iterates: an integer range, an explicit list `(1, 2, x)`, or an array/dictionary expression. */
export type Iterable =
  | { kind: "range"; range: Range }
  | { kind: "list"; items: Expr[] }
  | { kind: "expr"; expr: Expr };
