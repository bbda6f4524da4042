// The YARA parser (src/engines/yara/parser.ts): tables of small rules, each checked for the AST it
// gives and, through the YARA-X oracle, that YARA-X accepts (or rejects) the same text. Precedence
// cases are also evaluated: a tiny evaluator over our tree must agree with YARA-X's verdict.
import { describe, expect, test } from "vitest";
import type { Expr, HexToken, Rule, SourceFile, StringDecl } from "../../src/engines/yara/ast";
import { BOOL_TUPLE_VAR, MAX_INCLUDE_DEPTH, MAX_NESTING, parse, type ParseError, type ParseOptions } from "../../src/engines/yara/parser";
import { oracleCompile, oracleMatches } from "../support/yarax-oracle";

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);
const bytes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function parseOk(text: string, opts: Partial<ParseOptions> = {}): SourceFile {
  const res = parse(text, { file: "t.yar", ...opts });
  expect(res.errors).toEqual([]);
  expect(res.source).toBeDefined();
  return res.source!;
}

function parseErrors(text: string, opts: Partial<ParseOptions> = {}): ParseError[] {
  const res = parse(text, { file: "t.yar", ...opts });
  expect(res.source).toBeUndefined();
  expect(res.errors.length).toBeGreaterThan(0);
  return res.errors;
}

/** YARA-X must accept it too (imports and the usual externals declared). */
function yaraxAccepts(text: string): void {
  oracleCompile(text, { ext_int: 0, ext_bool: false, ext_str: "" }).free();
}

function yaraxRejects(text: string): void {
  expect(() => oracleCompile(text).free()).toThrow();
}

function rule(text: string): Rule {
  const src = parseOk(text);
  expect(src.rules).toHaveLength(1);
  return src.rules[0]!;
}

const condOf = (c: string, prefix = ""): Expr => rule(`${prefix}rule t { condition: ${c} }`).condition;

/** An S-expression view of a condition: compact enough for tables, exact about the tree shape. */
function sx(e: Expr): string {
  switch (e.type) {
    case "bool":
      return String(e.value);
    case "int":
      return String(e.value);
    case "float":
      return `${e.value}f`;
    case "str":
      return JSON.stringify(latin1(e.value));
    case "regex":
      return `/${e.source}/${e.nocase ? "i" : ""}${e.dotAll ? "s" : ""}`;
    case "filesize":
    case "entrypoint":
      return e.type;
    case "string_match":
      return e.at ? `(at ${e.id} ${sx(e.at)})` : e.in ? `(in ${e.id} ${sx(e.in.lo)} ${sx(e.in.hi)})` : e.id;
    case "string_count":
      return e.in ? `(in #${e.id.slice(1)} ${sx(e.in.lo)} ${sx(e.in.hi)})` : `#${e.id.slice(1)}`;
    case "string_offset":
      return e.index ? `@${e.id.slice(1)}[${sx(e.index)}]` : `@${e.id.slice(1)}`;
    case "string_length":
      return e.index ? `!${e.id.slice(1)}[${sx(e.index)}]` : `!${e.id.slice(1)}`;
    case "ident":
      return e.name;
    case "field":
      return `${sx(e.object)}.${e.field}`;
    case "index":
      return `${sx(e.object)}[${sx(e.index)}]`;
    case "call":
      return `(call ${[sx(e.callee), ...e.args.map(sx)].join(" ")})`;
    case "unary":
      return `(${e.op} ${sx(e.operand)})`;
    case "binary":
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case "of": {
      const set =
        e.set.kind === "them"
          ? "them"
          : e.set.kind === "strings"
            ? `(${e.set.items.map((i) => i.id + (i.wildcard ? "*" : "")).join(" ")})`
            : `(rules ${e.set.items.map((i) => i.name + (i.wildcard ? "*" : "")).join(" ")})`;
      const where = e.at ? ` at ${sx(e.at)}` : e.in ? ` in ${sx(e.in.lo)}..${sx(e.in.hi)}` : "";
      return `(of ${quant(e.quantifier)} ${set}${where})`;
    }
    case "for_of": {
      const set = e.set.kind === "them" ? "them" : `(${e.set.items.map((i) => i.id + (i.wildcard ? "*" : "")).join(" ")})`;
      return `(for ${quant(e.quantifier)} of ${set} ${sx(e.body)})`;
    }
    case "for_in": {
      const it =
        e.iterable.kind === "range"
          ? `${sx(e.iterable.range.lo)}..${sx(e.iterable.range.hi)}`
          : e.iterable.kind === "list"
            ? `[${e.iterable.items.map(sx).join(" ")}]`
            : sx(e.iterable.expr);
      return `(for ${quant(e.quantifier)} ${e.vars.join(",")} in ${it} ${sx(e.body)})`;
    }
    case "with":
      return `(with ${e.bindings.map((b) => `${b.name}=${sx(b.value)}`).join(" ")} ${sx(e.body)})`;
    case "deferred":
      return `(deferred ${e.refs.join(" ")})`;
  }
}

function quant(q: Extract<Expr, { type: "of" }>["quantifier"]): string {
  return q.kind === "expr" ? sx(q.expr) : q.kind === "percent" ? `${sx(q.expr)}%` : q.kind;
}

/** Integer/boolean evaluation of constant conditions, to check the tree's shape against YARA-X's verdict. */
function evaluate(e: Expr): bigint | boolean {
  const int = (x: Expr): bigint => evaluate(x) as bigint;
  switch (e.type) {
    case "int":
      return e.value;
    case "bool":
      return e.value;
    case "unary":
      if (e.op === "not") return !evaluate(e.operand);
      if (e.op === "-") return BigInt.asIntN(64, -int(e.operand));
      if (e.op === "~") return ~int(e.operand);
      break;
    case "binary": {
      if (e.op === "and") return (evaluate(e.left) as boolean) && (evaluate(e.right) as boolean);
      if (e.op === "or") return (evaluate(e.left) as boolean) || (evaluate(e.right) as boolean);
      const l = evaluate(e.left);
      const r = evaluate(e.right);
      // YARA-X compares booleans with integers as 0/1.
      const a = typeof l === "boolean" ? BigInt(l) : l;
      const b = typeof r === "boolean" ? BigInt(r) : r;
      switch (e.op) {
        case "+": return BigInt.asIntN(64, a + b);
        case "-": return BigInt.asIntN(64, a - b);
        case "*": return BigInt.asIntN(64, a * b);
        case "\\": return a / b;
        case "%": return a % b;
        case "&": return a & b;
        case "|": return a | b;
        case "^": return a ^ b;
        case "<<": return BigInt.asIntN(64, a << b);
        case ">>": return a >> b;
        case "==": return a === b;
        case "!=": return a !== b;
        case "<": return a < b;
        case "<=": return a <= b;
        case ">": return a > b;
        case ">=": return a >= b;
      }
    }
  }
  throw new Error(`cannot evaluate ${sx(e)}`);
}

// ---------------------------------------------------------------------------------------------

describe("rules", () => {
  test("modifiers, tags, meta, position and exact text", () => {
    const text = [
      `import "pe"`,
      ``,
      `  private global rule Foo : tag1 Tag_2 {`,
      `  meta:`,
      `    s = "a\\tb\\x41\\"\\\\"`,
      `    u = "caf\u00e9"`,
      `    i = 42`,
      `    n = -7`,
      `    h = 0x10`,
      `    f = 1.5`,
      `    nf = -2.25`,
      `    t = true`,
      `    fa = false`,
      `  condition:`,
      `    true`,
      `}`,
      `// after`,
      ``,
    ].join("\n");
    yaraxAccepts(text);
    const src = parseOk(text, { file: "rules/a.yar", namespace: "ns1" });
    expect(src).toMatchObject({ file: "rules/a.yar", namespace: "ns1", imports: ["pe"] });
    const r = src.rules[0]!;
    expect(r).toMatchObject({ name: "Foo", namespace: "ns1", file: "rules/a.yar", private: true, global: true, tags: ["tag1", "Tag_2"] });
    expect(r.pos).toEqual({ line: 3, column: 3, offset: text.indexOf("private") });
    expect(r.text).toBe(text.slice(text.indexOf("private"), text.lastIndexOf("}") + 1));
    expect(r.meta.map((m) => [m.key, m.value])).toEqual([
      ["s", 'a\tbA"\\'],
      ["u", "café"],
      ["i", 42],
      ["n", -7],
      ["h", 16],
      ["f", 1.5],
      ["nf", -2.25],
      ["t", true],
      ["fa", false],
    ]);
    expect(r.meta[1]!.pos).toEqual({ line: 6, column: 5, offset: text.indexOf("u =") });
    expect(r.condition).toEqual({ type: "bool", value: true, pos: { line: 15, column: 5, offset: text.indexOf("true\n}") } });
  });

  test.each([
    ["rule a { condition: true }", false, false],
    ["global rule a { condition: true }", false, true],
    ["private rule a { condition: true }", true, false],
    ["global private rule a { condition: true }", true, true],
  ])("%s", (text, isPrivate, isGlobal) => {
    yaraxAccepts(text);
    expect(rule(text)).toMatchObject({ private: isPrivate, global: isGlobal, text });
  });

  test("several rules keep their order, each its own text; imports are listed once", () => {
    const text = 'import "pe"\nrule a { condition: true }\nimport "math"\nimport "pe"\nrule b { condition: a }';
    yaraxAccepts(text);
    const src = parseOk(text);
    expect(src.imports).toEqual(["pe", "math"]);
    expect(src.rules.map((r) => [r.name, r.text])).toEqual([
      ["a", "rule a { condition: true }"],
      ["b", "rule b { condition: a }"],
    ]);
    expect(src.rules[1]!.pos).toEqual({ line: 5, column: 1, offset: text.indexOf("rule b") });
  });

  test("CRLF line ends and the spaces YARA-X skips (no-break, em, narrow no-break)", () => {
    const text = "rule a\r\n{\r\n  strings: $a = {\u00a0AB\u2003CD }\r\n  condition:\u202f$a and\r\n    filesize > 0\r\n}";
    yaraxAccepts(text);
    const r = rule(text);
    expect(r.strings[0]).toMatchObject({ tokens: [byteTok(0xab), byteTok(0xcd)] });
    expect((r.condition as Extract<Expr, { type: "binary" }>).right.pos).toEqual({ line: 5, column: 5, offset: text.indexOf("filesize") });
    expect(r.text).toBe(text);
  });

  test("comments anywhere, including inside a hex string", () => {
    const text = "/* head */ rule /* x */ a // tail\n{ strings: $a = { 01 /* one */ 02 // two\n 03 } condition: /* c */ $a }";
    yaraxAccepts(text);
    const r = rule(text);
    expect(r.strings[0]).toMatchObject({ kind: "hex", tokens: [byteTok(1), byteTok(2), byteTok(3)] });
    expect(r.text).toBe(text.slice(text.indexOf("rule"), text.length));
  });
});

// ---------------------------------------------------------------------------------------------

function byteTok(value: number, mask = 0xff, not = false): HexToken {
  return { type: "byte", value, mask, not };
}

function strings(decls: string): StringDecl[] {
  const text = `rule t { strings: ${decls} condition: any of them }`;
  yaraxAccepts(text);
  return rule(text).strings;
}

describe("text strings", () => {
  test.each([
    ['"abc"', bytes("abc")],
    ['"a\\nb\\tc\\rd"', bytes("a\nb\tc\rd")],
    ['"q\\"q\\\\"', bytes('q"q\\')],
    ['"\\x00\\xff\\x4A\\x4a"', [0, 255, 0x4a, 0x4a]],
    ['"a\\0b"', [0x61, 0, 0x62]],
    ['"é€😀"', [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]],
    ['"a/b//c"', bytes("a/b//c")],
  ])("%s", (lit, expected) => {
    const [s] = strings(`$a = ${lit}`);
    expect(s).toMatchObject({ kind: "text", id: "$a" });
    expect([...(s as { value: Uint8Array }).value]).toEqual(expected);
  });

  test("the bytes are what YARA-X matches", () => {
    const text = 'rule t { strings: $a = "\\x01\\xffé\\0" condition: $a }';
    const [s] = strings('$a = "\\x01\\xffé\\0"');
    const value = (s as { value: Uint8Array }).value;
    const data = new Uint8Array([9, ...value, 9]);
    expect(oracleMatches(text, data)).toEqual(["t"]);
    expect(oracleMatches(text, data.subarray(0, data.length - 2))).toEqual([]);
  });

  test("anonymous strings keep the id $", () => {
    const s = strings('$ = "a" $ = "b" $x = "c"');
    expect(s.map((d) => d.id)).toEqual(["$", "$", "$x"]);
  });

  const none = { nocase: false, ascii: true, wide: false, fullword: false, private: false };
  test.each([
    ["", none],
    ["ascii", none],
    ["wide", { ...none, ascii: false, wide: true }],
    ["ascii wide", { ...none, wide: true }],
    ["wide ascii nocase fullword private", { ...none, wide: true, nocase: true, fullword: true, private: true }],
    ["xor", { ...none, xor: { min: 0, max: 255 } }],
    ["xor(7)", { ...none, xor: { min: 7, max: 7 } }],
    ["xor(1-0x20)", { ...none, xor: { min: 1, max: 32 } }],
    ["xor wide", { ...none, ascii: false, wide: true, xor: { min: 0, max: 255 } }],
    ["base64", { ...none, base64: {} }],
    ["base64wide", { ...none, base64wide: {} }],
    ["base64 base64wide", { ...none, base64: {}, base64wide: {} }],
    [
      'base64wide("!@#$%^&*(){}[].,|ABCDEFGHIJ<LMNOPQRSTUVWXYZabcdefghijklmnopqrstu")',
      { ...none, base64wide: { alphabet: "!@#$%^&*(){}[].,|ABCDEFGHIJ<LMNOPQRSTUVWXYZabcdefghijklmnopqrstu" } },
    ],
  ])("modifiers %s", (mods, expected) => {
    const [s] = strings(`$a = "abcdef" ${mods}`);
    expect(s!.modifiers).toEqual(expected);
  });
});

describe("hex strings", () => {
  test.each<[string, HexToken[]]>([
    ["{ 4D 5a }", [byteTok(0x4d), byteTok(0x5a)]],
    ["{4D5A00}", [byteTok(0x4d), byteTok(0x5a), byteTok(0)]],
    ["{ 4D ?? 5A }", [byteTok(0x4d), byteTok(0, 0), byteTok(0x5a)]],
    ["{ 4? ?d 5A }", [byteTok(0x40, 0xf0), byteTok(0x0d, 0x0f), byteTok(0x5a)]],
    ["{ 01 ~02 ~?3 ~4? 05 }", [byteTok(1), byteTok(2, 0xff, true), byteTok(3, 0x0f, true), byteTok(0x40, 0xf0, true), byteTok(5)]],
    ["{ 01 [4] 02 }", [byteTok(1), { type: "jump", min: 4, max: 4 }, byteTok(2)]],
    ["{ 01 [2-6] 02 }", [byteTok(1), { type: "jump", min: 2, max: 6 }, byteTok(2)]],
    ["{ 01 [ 2 - 6 ] 02 }", [byteTok(1), { type: "jump", min: 2, max: 6 }, byteTok(2)]],
    ["{ 01 [3-] 02 }", [byteTok(1), { type: "jump", min: 3, max: null }, byteTok(2)]],
    ["{ 01 [-] 02 }", [byteTok(1), { type: "jump", min: 0, max: null }, byteTok(2)]],
    ["{ 01 [-5] 02 }", [byteTok(1), { type: "jump", min: 0, max: 5 }, byteTok(2)]],
    // Adjacent jumps are one jump (YARA-X coalesces them too).
    ["{ 01 [1] [2-3] 02 }", [byteTok(1), { type: "jump", min: 3, max: 4 }, byteTok(2)]],
    ["{ 01 [0x2-0o10] 02 }", [byteTok(1), { type: "jump", min: 2, max: 8 }, byteTok(2)]],
    ["{ 01 [1][2-] 02 }", [byteTok(1), { type: "jump", min: 3, max: null }, byteTok(2)]],
    ["{ 01 ( 02 | 03 04 ) 05 }", [byteTok(1), { type: "alt", alternatives: [[byteTok(2)], [byteTok(3), byteTok(4)]] }, byteTok(5)]],
    [
      "{ (01 | 02 [1-2] 03 | (04 | 05 ?6)) 07 }",
      [
        {
          type: "alt",
          alternatives: [
            [byteTok(1)],
            [byteTok(2), { type: "jump", min: 1, max: 2 }, byteTok(3)],
            [{ type: "alt", alternatives: [[byteTok(4)], [byteTok(5), byteTok(6, 0x0f)]] }],
          ],
        },
        byteTok(7),
      ],
    ],
    ["{ 01\n  02\r\n\t03 }", [byteTok(1), byteTok(2), byteTok(3)]],
  ])("%s", (hex, tokens) => {
    const [s] = strings(`$a = ${hex}`);
    expect(s).toMatchObject({ kind: "hex", id: "$a", tokens });
  });

  test("byte tokens are shared and frozen", () => {
    const [a, b] = strings("$a = { 4D 5A ?? } $b = { 4d 00 ?? }") as Extract<StringDecl, { kind: "hex" }>[];
    expect(a!.tokens[0]).toBe(b!.tokens[0]);
    expect(a!.tokens[2]).toBe(b!.tokens[2]);
    expect(Object.isFrozen(a!.tokens[1])).toBe(true);
  });

  test("private is the one modifier of a hex string", () => {
    const [s] = strings("$a = { 01 02 } private");
    expect(s!.modifiers).toEqual({ nocase: false, ascii: false, wide: false, fullword: false, private: true });
  });

  test("masks and negation mean what YARA-X matches", () => {
    const text = "rule t { strings: $a = { 4? ~00 ?F } condition: $a }";
    const [s] = strings("$a = { 4? ~00 ?F }");
    expect((s as { tokens: HexToken[] }).tokens).toEqual([byteTok(0x40, 0xf0), byteTok(0, 0xff, true), byteTok(0x0f, 0x0f)]);
    expect(oracleMatches(text, new Uint8Array([0x4a, 0x01, 0x3f]))).toEqual(["t"]);
    expect(oracleMatches(text, new Uint8Array([0x4a, 0x00, 0x3f]))).toEqual([]);
    expect(oracleMatches(text, new Uint8Array([0x5a, 0x01, 0x3f]))).toEqual([]);
  });
});

describe("hex strings, property-style: data built from our tokens is where YARA-X matches", () => {
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const hexDigit = (): string => "0123456789ABCDEFabcdef"[rnd(22)]!;
  const byteText = (): string => {
    const forms = [() => hexDigit() + hexDigit(), () => hexDigit() + "?", () => "?" + hexDigit(), () => "??"];
    const b = forms[rnd(7) < 4 ? 0 : 1 + rnd(3)]!();
    return rnd(8) === 0 && b !== "??" ? "~" + b : b;
  };
  const jumpText = (): string => {
    const n = rnd(4);
    return [`[${1 + n}]`, `[${n}-${n + 1 + rnd(3)}]`, `[${n}-]`, "[-]"][rnd(4)]!;
  };
  // A sequence starts and ends with a byte or an alternative; jumps only in between.
  const sequence = (depth: number, len: number): string => {
    const items: string[] = [];
    for (let k = 0; k < len; k++) {
      if (k > 0 && rnd(5) === 0) items.push(jumpText());
      if (depth < 2 && rnd(6) === 0) {
        const alts = Array.from({ length: 2 + rnd(2) }, () => sequence(depth + 1, 1 + rnd(3)));
        items.push(`( ${alts.join(" | ")} )`);
      } else items.push(byteText());
    }
    return items.join(" ");
  };
  const fill = (tokens: HexToken[], out: number[]): void => {
    for (const t of tokens) {
      if (t.type === "byte") {
        // A byte that matches the token: its masked bits equal (or, negated, differ from) value's.
        let b = rnd(256);
        if (!t.not) b = (t.value & t.mask) | (b & ~t.mask & 0xff);
        else while ((b & t.mask) === (t.value & t.mask)) b = rnd(256);
        out.push(b);
      } else if (t.type === "jump") {
        const n = t.min + rnd((t.max ?? t.min + 3) - t.min + 1);
        for (let k = 0; k < n; k++) out.push(rnd(256));
      } else fill(t.alternatives[rnd(t.alternatives.length)]!, out);
    }
  };

  test("150 random hex strings", () => {
    for (let k = 0; k < 150; k++) {
      // Two full bytes first: YARA-X wants something to anchor on.
      const hex = `{ ${hexDigit()}${hexDigit()} ${hexDigit()}${hexDigit()} ${sequence(0, 1 + rnd(6))} }`;
      const text = `rule t { strings: $a = ${hex} condition: $a }`;
      const [s] = rule(text).strings as Extract<StringDecl, { kind: "hex" }>[];
      const data: number[] = [];
      for (let j = rnd(5); j > 0; j--) data.push(rnd(256));
      const at = data.length;
      fill(s!.tokens, data);
      for (let j = rnd(5); j > 0; j--) data.push(rnd(256));
      const rules = oracleCompile(text);
      try {
        const offsets = (rules.scan(new Uint8Array(data))[0]?.strings.$a ?? []).map((m) => m.offset);
        expect(offsets, `${hex} on ${Buffer.from(data).toString("hex")}`).toContain(at);
      } finally {
        rules.free();
      }
    }
  });
});

describe("regular expressions", () => {
  test.each([
    ["/abc/", "abc", false, false],
    ["/abc/i", "abc", true, false],
    ["/a.c/s", "a.c", false, true],
    ["/a.c/is", "a.c", true, true],
    ["/a\\/b/", "a\\/b", false, false],
    // As in YARA-X, only an escaped slash stays inside, also within a character class.
    ["/[\\/]x/", "[\\/]x", false, false],
    ["/[^\\/]+\\.exe/", "[^\\/]+\\.exe", false, false],
    ["/a/ii", "a", true, false],
    ["/a\\\\/", "a\\\\", false, false],
    ['/"quoted" {2,3}/', '"quoted" {2,3}', false, false],
  ])("%s", (re, source, nocase, dotAll) => {
    const [s] = strings(`$a = ${re}`);
    expect(s).toMatchObject({ kind: "regex", source, nocase, dotAll });
  });

  test("regex modifiers", () => {
    const [s] = strings("$a = /abc/ wide ascii nocase fullword private");
    expect(s!.modifiers).toEqual({ nocase: true, ascii: true, wide: true, fullword: true, private: true });
  });
});

// ---------------------------------------------------------------------------------------------

describe("condition precedence (checked by evaluation against YARA-X)", () => {
  test.each([
    ["1 + 2 * 3 == 7", "(== (+ 1 (* 2 3)) 7)"],
    ["(1 + 2) * 3 == 9", "(== (* (+ 1 2) 3) 9)"],
    ["10 - 4 - 3 == 3", "(== (- (- 10 4) 3) 3)"],
    ["100 \\ 10 \\ 5 == 2", "(== (\\ (\\ 100 10) 5) 2)"],
    ["17 % 5 * 2 == 4", "(== (* (% 17 5) 2) 4)"],
    ["1 | 2 ^ 3 & 5 == 3", "(== (| 1 (^ 2 (& 3 5))) 3)"],
    ["1 << 2 + 1 == 8", "(== (<< 1 (+ 2 1)) 8)"],
    ["6 & 3 << 1 == 6", "(== (& 6 (<< 3 1)) 6)"],
    ["1 | 6 >> 1 == 3", "(== (| 1 (>> 6 1)) 3)"],
    ["-2 * -3 == 6", "(== (* -2 -3) 6)"],
    ["-(2 + 3) == -5", "(== (- (+ 2 3)) -5)"],
    ["~0 == -1", "(== (~ 0) -1)"],
    ["~1 + 1 == -1", "(== (+ (~ 1) 1) -1)"],
    ["1 < 2 == 2 > 1", "(== (< 1 2) (> 2 1))"],
    ["1 == 1 == 1", "(== (== 1 1) 1)"],
    ["1 != 2 == 1", "(== (!= 1 2) 1)"],
    ["true or false and false", "(or true (and false false))"],
    ["false and true or true", "(or (and false true) true)"],
    ["not false and false", "(and (not false) false)"],
    ["not 1 == 2", "(not (== 1 2))"],
    ["not (false or true)", "(not (or false true))"],
    ["not not true", "(not (not true))"],
    ["(true or false) and (false or true)", "(and (or true false) (or false true))"],
    ["0x10 + 0o10 + 10 == 34", "(== (+ (+ 16 8) 10) 34)"],
    ["1KB + 2MB == 2098176", "(== (+ 1024 2097152) 2098176)"],
  ])("%s", (c, expected) => {
    const e = condOf(c);
    expect(sx(e)).toBe(expected);
    const verdict = evaluate(e);
    expect(typeof verdict).toBe("boolean");
    expect(oracleMatches(`rule t { condition: ${c} }`, new Uint8Array(0))).toEqual(verdict ? ["t"] : []);
  });
});

describe("precedence, property-style: random constant conditions printed with minimal parentheses", () => {
  // A tree is generated, printed with only the parentheses the precedence table requires (plus a
  // few extra), parsed back, and compared with the tree; YARA-X must agree with the tree's value.
  // A wrong level in the table makes YARA-X group the text differently and compute another value.
  type T = { sx: string; text: string; prec: number; value: bigint | boolean; literal?: boolean };
  const PREC: Record<string, number> = { or: 1, and: 3, cmp: 7, "|": 9, "^": 11, "&": 13, "<<": 15, ">>": 15, "+": 17, "-": 17, "*": 19, "\\": 19, "%": 19 };
  const UNARY = 23;
  const ATOM = 30;
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const wrap = (t: T, needs: boolean): string => (needs || rnd(10) === 0 ? `(${t.text})` : t.text);
  const literal = (v: number): T => {
    const text = v < 0 ? `-${-v}` : rnd(4) === 0 ? `0x${v.toString(16)}` : String(v);
    return { sx: String(v), text, prec: ATOM, value: BigInt(v), literal: true };
  };
  const int = (d: number): T => {
    if (d === 0 || rnd(10) < 3) return literal(rnd(7) === 0 ? -rnd(20) - 1 : rnd(21));
    if (rnd(7) === 0) {
      const x = int(d - 1);
      const op = x.literal || rnd(2) === 0 ? "~" : "-";
      const value = op === "~" ? ~(x.value as bigint) : -(x.value as bigint);
      return { sx: `(${op} ${x.sx})`, text: `${op} ${wrap(x, x.prec < UNARY)}`, prec: UNARY, value };
    }
    const op = ["+", "-", "*", "\\", "%", "&", "|", "^", "<<", ">>"][rnd(10)]!;
    const l = int(d - 1);
    const r = op === "\\" || op === "%" ? literal(1 + rnd(7)) : op === "<<" || op === ">>" ? literal(rnd(6)) : int(d - 1);
    const a = l.value as bigint;
    const b = r.value as bigint;
    const value = arith(op, a, b);
    const p = PREC[op]!;
    return { sx: `(${op} ${l.sx} ${r.sx})`, text: `${wrap(l, l.prec < p)} ${op} ${wrap(r, r.prec <= p)}`, prec: p, value };
  };
  const bool = (d: number): T => {
    if (d === 0 || rnd(10) < 3) {
      if (rnd(8) === 0) {
        const v = rnd(2) === 0;
        return { sx: String(v), text: String(v), prec: ATOM, value: v };
      }
      const op = ["==", "!=", "<", "<=", ">", ">="][rnd(6)]!;
      const l = int(3);
      const r = int(3);
      const [a, b] = [l.value as bigint, r.value as bigint];
      const value = { "==": a === b, "!=": a !== b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b }[op]!;
      return { sx: `(${op} ${l.sx} ${r.sx})`, text: `${l.text} ${op} ${r.text}`, prec: PREC.cmp!, value };
    }
    if (rnd(4) === 0) {
      const x = bool(d - 1);
      return { sx: `(not ${x.sx})`, text: `not ${wrap(x, x.prec < PREC.cmp!)}`, prec: UNARY, value: !x.value };
    }
    const op = rnd(2) === 0 ? "and" : "or";
    const l = bool(d - 1);
    const r = bool(d - 1);
    const p = PREC[op]!;
    const value = op === "and" ? (l.value as boolean) && (r.value as boolean) : (l.value as boolean) || (r.value as boolean);
    return { sx: `(${op} ${l.sx} ${r.sx})`, text: `${wrap(l, l.prec < p)} ${op} ${wrap(r, r.prec <= p)}`, prec: p, value };
  };
  const arith = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "\\": return a / b;
      case "%": return a % b;
      case "&": return a & b;
      case "|": return a | b;
      case "^": return a ^ b;
      case "<<": return a << b;
      default: return a >> b;
    }
  };

  test("250 random conditions", () => {
    let checked = 0;
    let truths = 0;
    // int(3) has at most 8 literals of at most 20 and shifts by at most 5: no 64-bit overflow.
    while (checked < 250) {
      const t = bool(3);
      const text = `rule t { condition: ${t.text} }`;
      expect(sx(rule(text).condition), t.text).toBe(t.sx);
      expect(oracleMatches(text, new Uint8Array(0)), t.text).toEqual(t.value ? ["t"] : []);
      checked++;
      if (t.value) truths++;
    }
    expect(truths).toBeGreaterThan(40);
    expect(truths).toBeLessThan(210);
  });
});

describe("condition constructs", () => {
  const S = 'strings: $a = "a" $b = "b" $c1 = "c" $c2 = "d" ';
  const cases: [string, string, string?][] = [
    // literals
    ["filesize > 10KB", "(> filesize 10240)"],
    ["1.5 < 2.25", "(< 1.5f 2.25f)"],
    ["-1.5 < 0", "(< -1.5f 0)"],
    ['"a\\x41\\n" == "aA\\n"', '(== "aA\\n" "aA\\n")'],
    ["9223372036854775807 > 0", "(> 9223372036854775807 0)"],
    ["-9223372036854775807 < 0", "(< -9223372036854775807 0)"],
    // string expressions
    ['"abc" contains "b"', '(contains "abc" "b")'],
    ['"abc" icontains "B" and "abc" startswith "a"', '(and (icontains "abc" "B") (startswith "abc" "a"))'],
    ['"abc" istartswith "A" or "abc" endswith "c" or "abc" iendswith "C"', '(or (or (istartswith "abc" "A") (endswith "abc" "c")) (iendswith "abc" "C"))'],
    ['"abc" iequals "ABC"', '(iequals "abc" "ABC")'],
    ['"abc" matches /a.c/is', '(matches "abc" /a.c/is)'],
    ['"a/b" matches /a\\/b/', '(matches "a/b" /a\\/b/)'],
    // patterns
    ["$a", "$a"],
    ["$a at 100 + 1", "(at $a (+ 100 1))"],
    ["$a in (0..filesize - 1)", "(in $a 0 (- filesize 1))"],
    ["#a == 2", "(== #a 2)"],
    ["#a in (0..100) > 1", "(> (in #a 0 100) 1)"],
    ["@a > 0 and @a[2] > @a[1]", "(and (> @a 0) (> @a[2] @a[1]))"],
    ["!a == 1 and !b[#b] == 1", "(and (== !a 1) (== !b[#b] 1))"],
    ["$a and not $b", "(and $a (not $b))"],
    // of
    ["all of them", "(of all them)"],
    ["any of ($a, $c*)", "(of any ($a $c*))"],
    ["none of ($*)", "(of none ($*))"],
    ["2 of ($a, $b, $c1)", "(of 2 ($a $b $c1))"],
    ["#a of ($b, $c*)", "(of #a ($b $c*))"],
    ["50% of them", "(of 50% them)"],
    ["any of them at 0", "(of any them at 0)"],
    ["all of ($c*) in (0..filesize)", "(of all ($c*) in 0..filesize)"],
    ["1 + 1 of them", "(of (+ 1 1) them)"],
    ["2 of them and #a % 2 == 0", "(and (of 2 them) (== (% #a 2) 0))"],
    // for
    ["for any of ($a, $b) : ($ at 0)", "(for any of ($a $b) (at $ 0))"],
    ["for all of them : (# > 1 and @ < 10 and ! == 1)", "(for all of them (and (and (> # 1) (< @ 10)) (== ! 1)))"],
    ["for 2 of ($c*) : (@[1] > 0 and ![1] > 0)", "(for 2 of ($c*) (and (> @[1] 0) (> ![1] 0)))"],
    ["for 50% of them : ($)", "(for 50% of them $)"],
    ["for all i in (1..#a) : (@a[i] >= 0)", "(for all i in 1..#a (>= @a[i] 0))"],
    ["for any i in (1, 2, 3) : (i == 2)", "(for any i in [1 2 3] (== i 2))"],
    ["for none i in (5) : (i == 2)", "(for none i in [5] (== i 2))"],
    ["for 1 i in (0..2) : (true)", "(for 1 i in 0..2 true)"],
    ["for 50% i in (0..3) : (i > 1)", "(for 50% i in 0..3 (> i 1))"],
    ["for any s in pe.sections : (s.name == \".text\")", '(for any s in pe.sections (== s.name ".text"))', 'import "pe"\n'],
    [
      'for any k, v in pe.version_info : (k == "CompanyName" and v contains "Micro")',
      '(for any k,v in pe.version_info (and (== k "CompanyName") (contains v "Micro")))',
      'import "pe"\n',
    ],
    // with
    ["with a = 1 + 1, b = filesize : (a + b > 2)", "(with a=(+ 1 1) b=filesize (> (+ a b) 2))"],
    // modules, externals, rule references
    ["pe.number_of_sections > 2", "(> pe.number_of_sections 2)", 'import "pe"\n'],
    ['pe.sections[0].name == ".text"', '(== pe.sections[0].name ".text")', 'import "pe"\n'],
    ['pe.imports("kernel32.dll", "CreateFileA")', '(call pe.imports "kernel32.dll" "CreateFileA")', 'import "pe"\n'],
    ["pe.imports(/kernel32/i, /Create.*/)", "(call pe.imports /kernel32/i /Create.*/)", 'import "pe"\n'],
    ['pe.version_info["CompanyName"] == "x"', '(== pe.version_info["CompanyName"] "x")', 'import "pe"\n'],
    ["pe.is_dll()", "(call pe.is_dll)", 'import "pe"\n'],
    ["math.entropy(0, filesize) >= 7.5", "(>= (call math.entropy 0 filesize) 7.5f)", 'import "math"\n'],
    ["uint16(0) == 0x5A4D and uint32be(4) != 0", "(and (== (call uint16 0) 23117) (!= (call uint32be 4) 0))"],
    ["defined pe.number_of_sections", "(defined pe.number_of_sections)", 'import "pe"\n'],
    ["ext_int > 0 and ext_bool and ext_str == \"x\"", '(and (and (> ext_int 0) ext_bool) (== ext_str "x"))'],
    ["r1 and not r2", "(and r1 (not r2))", "rule r1 { condition: true } rule r2 { condition: false } "],
    ["any of (r1, r2)", "(of any (rules r1 r2))", "rule r1 { condition: true } rule r2 { condition: false } "],
    ["2of them", "(of 2 them)"],
  ];
  test.each(cases)("%s", (c, expected, prefix = "") => {
    // YARA-X refuses unused strings: the rule ends with `and any of them` where it has strings.
    const usesStrings = /[$#@!]/.test(c.replace(/"[^"]*"|\/[^/]*\//g, "")) || /\bthem\b/.test(c);
    const text = `${prefix}rule t { ${usesStrings ? `${S}condition: (${c}) and any of them` : `condition: ${c}`} }`;
    yaraxAccepts(text);
    const condition = parseOk(text).rules.at(-1)!.condition;
    expect(sx(usesStrings ? (condition as Extract<Expr, { type: "binary" }>).left : condition)).toBe(expected);
  });

  // Parsed as YARA 4 has them, though YARA-X 1.20 refuses them (`entrypoint` is gone, rule
  // wildcards in `of` are newer): the evaluator decides what to do with them.
  test.each([
    ["entrypoint == 0", "(== entrypoint 0)"],
    ["any of (r1, r*)", "(of any (rules r1 r*))"],
  ])("beyond YARA-X 1.20: %s", (c, expected) => {
    const text = `rule r1 { condition: true } rule t { condition: ${c} }`;
    yaraxRejects(text);
    expect(sx(parseOk(text).rules[1]!.condition)).toBe(expected);
  });

  test("literal values and kinds", () => {
    expect(condOf("0x7fffffffffffffff == 0o777 + 1MB")).toMatchObject({
      left: { type: "int", value: 0x7fffffffffffffffn },
      right: { left: { type: "int", value: 511n }, right: { type: "int", value: 1048576n } },
    });
    expect(condOf("1.25 == 1.25")).toMatchObject({ left: { type: "float", value: 1.25 } });
    const str = condOf('"\\xff\\x00é" == "x"');
    expect(str).toMatchObject({ left: { type: "str" } });
    expect([...(str as { left: { value: Uint8Array } }).left.value]).toEqual([0xff, 0, 0xc3, 0xa9]);
  });

  test("#a, @a and !a name their string as $a; the anonymous ones inside for … of as $", () => {
    const text =
      'rule t { strings: $a = "a" condition: #a > 0 and @a[1] >= 0 and !a == 1 ' +
      "and for all of them : (# > 0 and @ >= 0 and ! == 1 and $) }";
    yaraxAccepts(text);
    const ids: string[] = [];
    const walk = (e: unknown): void => {
      if (e === null || typeof e !== "object") return;
      const node = e as { type?: string; id?: string };
      if (node.type?.startsWith("string_")) ids.push(`${node.type}:${node.id}`);
      Object.values(e).forEach(walk);
    };
    walk(rule(text).condition);
    expect(ids.sort()).toEqual(
      ["string_count:$a", "string_offset:$a", "string_length:$a", "string_count:$", "string_offset:$", "string_length:$", "string_match:$"].sort(),
    );
  });

  test("node positions point at each node's first character", () => {
    const text = "rule t {\n  strings: $a = \"a\"\n  condition:\n    $a and\n      #a > 2\n}";
    const c = rule(text).condition as Extract<Expr, { type: "binary" }>;
    expect(c.pos).toEqual({ line: 4, column: 5, offset: text.indexOf("$a and") });
    expect(c.right.pos).toEqual({ line: 5, column: 7, offset: text.indexOf("#a") });
    expect((c.right as Extract<Expr, { type: "binary" }>).right.pos).toMatchObject({ line: 5, column: 12 });
  });

  test("a tuple of boolean expressions: every quantifier becomes a loop over the items", () => {
    const cases: [string, string][] = [
      // Not an or/and chain: an undefined item makes YARA-X's whole `of` undefined
      // (test/unit/yara-eval-booltuple.test.ts).
      ["any of (1 == 1, false)", `(for any ${BOOL_TUPLE_VAR} in [(== 1 1) false] ${BOOL_TUPLE_VAR})`],
      ["all of (true, 2 > 1, true)", `(for all ${BOOL_TUPLE_VAR} in [true (> 2 1) true] ${BOOL_TUPLE_VAR})`],
      ["none of (false, 1 == 2)", `(for none ${BOOL_TUPLE_VAR} in [false (== 1 2)] ${BOOL_TUPLE_VAR})`],
      ["2 of (true, false, true)", `(for 2 ${BOOL_TUPLE_VAR} in [true false true] ${BOOL_TUPLE_VAR})`],
      ["50% of (true, false)", `(for 50% ${BOOL_TUPLE_VAR} in [true false] ${BOOL_TUPLE_VAR})`],
      // A tuple that starts like a string set but is not one.
      ['any of ($a and $b, true)', `(for any ${BOOL_TUPLE_VAR} in [(and $a $b) true] ${BOOL_TUPLE_VAR})`],
      ['all of ($a, $b or true)', `(for all ${BOOL_TUPLE_VAR} in [$a (or $b true)] ${BOOL_TUPLE_VAR})`],
    ];
    for (const [c, expected] of cases) {
      const text = `rule t { strings: $a = "a" $b = "b" condition: (${c}) and ($a or $b) }`;
      yaraxAccepts(text);
      const cond = rule(text).condition as Extract<Expr, { type: "binary" }>;
      expect(sx(cond.left)).toBe(expected);
      // Every one of these is true in YARA-X (on data where $a and $b match).
      expect(oracleMatches(text, new Uint8Array(bytes("ab")))).toEqual(["t"]);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("syntax errors: file, line, column and message (YARA-X rejects each one too)", () => {
  const cases: [string, number, number, string][] = [
    ["rule a { }", 1, 10, 'unexpected "}", expected condition'],
    ["rule a {\n  condition:\n}", 3, 1, 'unexpected "}", expected expression'],
    ["rule { condition: true }", 1, 6, 'unexpected "{", expected rule name'],
    ["rule wide { condition: true }", 1, 6, 'unexpected "wide", expected rule name'],
    ["rule a { condition: true", 1, 25, "unexpected end of file, expected \"}\""],
    ["rule a : { condition: true }", 1, 10, 'unexpected "{", expected tag'],
    ["rule a { condition: true and }", 1, 30, 'unexpected "}", expected expression'],
    ["rule a { condition: (true }", 1, 27, 'unexpected "}", expected ")"'],
    ["rule a { condition: 1 + }", 1, 25, 'unexpected "}", expected expression'],
    ["rule a { condition: true true }", 1, 26, 'unexpected "true", expected "}"'],
    ['rule a {\n  strings:\n    $a = "abc\n  condition: $a\n}', 3, 10, "unterminated string"],
    ['rule a { strings: $a = "a\\q" condition: $a }', 1, 26, 'invalid escape sequence "\\q"'],
    ['rule a { strings: $a = "a\\x4" condition: $a }', 1, 26, 'invalid escape sequence "\\x"'],
    ['rule a { strings: $a = "" condition: $a }', 1, 24, "empty string"],
    ["rule a { strings: $a = /abc condition: $a }", 1, 24, "unterminated regular expression"],
    ["rule a { strings: $a = /abc/x condition: $a }", 1, 29, 'invalid regular expression modifier "x"'],
    ["rule a { strings: $a = /[/]x/ condition: $a }", 1, 27, 'unexpected "]", expected condition'],
    ["rule a { condition: 0x10KB == 16 }", 1, 25, 'unexpected "KB", expected "}"'],
    ["rule a { condition: 1.5KB == 1 }", 1, 24, 'unexpected "KB", expected "}"'],
    ["/* open\nrule a { condition: true }", 1, 1, "unterminated comment"],
    ["rule a { strings: $a = { 01 02 condition: $a }", 1, 32, 'invalid hex string: expected a byte (two hex digits or ?), found "co"'],
    ["rule a { strings: $a = { 01 02 \n condition: $a", 1, 24, "unterminated hex string"],
    ["rule a { strings: $a = { 0 1 } condition: $a }", 1, 26, "invalid hex string"],
    ["rule a { strings: $a = { 01 G2 } condition: $a }", 1, 29, "invalid hex string"],
    ["rule a { strings: $a = { [2] 01 } condition: $a }", 1, 26, "invalid hex string: a jump cannot start"],
    ["rule a { strings: $a = { 01 [2] } condition: $a }", 1, 29, "invalid hex string: a jump cannot end"],
    ["rule a { strings: $a = { 01 ( 02 [1] | 03 ) } condition: $a }", 1, 34, "invalid hex string: a jump cannot end"],
    ["rule a { strings: $a = { 01 [3-2] 02 } condition: $a }", 1, 29, "invalid hex string: invalid jump [3-2]"],
    ["rule a { strings: $a = { 01 [0] 02 } condition: $a }", 1, 29, "invalid hex string: a zero-length jump"],
    ["rule a { strings: $a = { 01 ~?? 02 } condition: $a }", 1, 29, "invalid hex string: ~?? is not allowed"],
    ["rule a { strings: $a = { 01 ~ 02 } condition: $a }", 1, 30, "invalid hex string"],
    ["rule a { strings: $a = { 01 ( 02 03 } condition: $a }", 1, 37, "invalid hex string: unclosed alternative"],
    ["rule a { strings: $a = { 01 ( 02 | ) 03 } condition: $a }", 1, 35, "invalid hex string: empty alternative"],
    ["rule a { strings: $a = { } condition: $a }", 1, 25, "invalid hex string: empty hex string"],
    ["rule a { strings: $a = { 01 ) } condition: $a }", 1, 29, 'invalid hex string: unexpected ")"'],
    ['rule a { strings: $a = "ab" wide wide condition: $a }', 1, 34, 'duplicate modifier "wide"'],
    ['rule a { strings: $a = "ab" xor nocase condition: $a }', 1, 33, 'modifiers "xor" and "nocase" cannot be used together'],
    ['rule a { strings: $a = "ab" base64 fullword condition: $a }', 1, 36, 'modifiers "fullword" and "base64" cannot be used together'],
    ['rule a { strings: $a = "ab" xor(3-1) condition: $a }', 1, 33, "invalid xor range 3-1"],
    ['rule a { strings: $a = "ab" xor(256) condition: $a }', 1, 33, "xor key 256 is out of range 0-255"],
    ['rule a { strings: $a = "ab" base64("abc") condition: $a }', 1, 36, "a base64 alphabet must be 64 bytes long"],
    ["rule a { strings: $a = { 01 } ascii condition: $a }", 1, 31, 'modifier "ascii" is not allowed with a hex string'],
    ["rule a { strings: $a = /a/ xor condition: $a }", 1, 28, 'modifier "xor" is not allowed with a regular expression'],
    ["rule a { condition: 99999999999999999999 > 1 }", 1, 21, "out of range"],
    ["rule a { condition: 12abc > 1 }", 1, 23, 'unexpected "abc", expected "}"'],
    ["rule a { condition: 99999999999999999999KB > 1 }", 1, 21, "out of range"],
    ["rule a { strings: $a = \"x\" condition: $a == 1 }", 1, 42, 'unexpected "==", expected "}"'],
    ["rule a { condition: filesize == true }", 1, 33, 'unexpected "true", expected expression'],
    ['import "p\\x65"\nrule a { condition: true }', 1, 8, "escape sequences are not allowed"],
    ["import pe\nrule a { condition: true }", 1, 8, 'unexpected "pe", expected module name'],
    ["rule a { condition: true } }", 1, 28, 'unexpected "}", expected import, include or rule'],
    ["private private rule a { condition: true }", 1, 9, 'duplicate rule modifier "private"'],
    ["rule a { meta: x = condition: true }", 1, 20, 'unexpected "condition", expected string, number, true or false'],
    ["rule a { strings: condition: true }", 1, 19, 'unexpected "condition", expected string identifier'],
    ["rule a { condition: any of }", 1, 28, 'unexpected "}", expected "them" or "("'],
    ["rule a { condition: for any i in (1..2) (true) }", 1, 41, 'unexpected "(", expected ":"'],
    ["rule a { condition: $a at }", 1, 27, 'unexpected "}", expected expression'],
    ["rule a { condition: true § }", 1, 26, 'unexpected character "§"'],
    ['rule a { strings: $a = "x" condition: $a and ! (1 == 1) }', 1, 48, 'unexpected "(", expected "}"'],
    ["rule a : t u t { condition: true }", 1, 14, 'duplicate tag "t"'],
    ["rule a { strings: $a = { 01 [99999999999] 02 } condition: $a }", 1, 29, "invalid hex string: a jump bound is out of range"],
    ['rule a { condition: "abc"[0] == 1 }', 1, 26, 'unexpected "[", expected "}"'],
  ];
  test.each(cases)("%s", (text, line, column, message) => {
    yaraxRejects(text);
    const errors = parseErrors(text, { file: "dir/e.yar" });
    expect(errors[0]).toMatchObject({ file: "dir/e.yar", line, column });
    expect(errors[0]!.message).toContain(message);
  });

  test("nesting beyond MAX_NESTING is an error, not a stack overflow", () => {
    const deep = (open: string, close: string, n: number): string =>
      `rule a { condition: ${open.repeat(n)}true${close.repeat(n)} }\nrule b { condition: true }`;
    for (const [open, close] of [["(", ")"], ["not ", ""]] as const) {
      expect(parseOk(deep(open, close, MAX_NESTING / 2 - 5)).rules).toHaveLength(2);
      const errors = parseErrors(deep(open, close, 50_000));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toBe(`expression nested deeper than ${MAX_NESTING} levels`);
    }
    expect(parseErrors(`rule a { condition: ${"-".repeat(50_000)}1 == 1 }`)[0]!.message).toContain("nested deeper");
    expect(parseErrors(`rule a { condition: ${"x[".repeat(50_000)}0${"]".repeat(50_000)} == 1 }`)[0]!.message).toContain("nested deeper");
    expect(parseErrors(`rule a { condition: ${"f(".repeat(50_000)}0${")".repeat(50_000)} }`)[0]!.message).toContain("nested deeper");
    const hex = `rule a { strings: $a = { ${"( 01 ".repeat(50_000)}${") ".repeat(50_000)} } condition: $a }`;
    expect(parseErrors(hex)[0]!.message).toContain("alternatives nested deeper");
  });

  test("an error does not hide the errors of the following rules", () => {
    const text = [
      'rule a { strings: $a = "x" condition: $a and }',
      "rule ok1 { condition: true }",
      "private global rule b { condition: (1 }",
      "rule ok2 { condition: true }",
      "rule c { strings: $a = { 01 02 } nocase condition: $a }",
      "rule d { condition: true",
      "import \"pe\"",
      "rule e { condition: pe. }",
    ].join("\n");
    yaraxRejects(text);
    const errors = parseErrors(text);
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [1, 46],
      [3, 39],
      [5, 34],
      [7, 1],
      [8, 25],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("includes", () => {
  const files: Record<string, string> = {
    "main.yar": 'import "pe"\ninclude "lib/common.yar"\nrule main { condition: common and pe.number_of_sections > 0 }',
    "lib/common.yar": 'import "math"\ninclude "inner.yar"\n  rule common { condition: inner }',
    "lib/inner.yar": "rule inner { condition: true }",
    "cycle-a.yar": 'include "cycle-b.yar"\nrule a { condition: true }',
    "cycle-b.yar": 'include "cycle-a.yar"\nrule b { condition: true }',
    "self.yar": 'include "self.yar"',
    "bad.yar": "rule bad { condition: }",
    "uses-bad.yar": 'include "bad.yar"\nrule fine { condition: true }',
    "missing.yar": 'rule x { condition: true }\ninclude "nowhere.yar"',
  };
  // Resolves relative to the including file's directory, like a file system would.
  const include = (p: string, from: string): { file: string; text: string } | undefined => {
    const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/") + 1) : "";
    const file = dir + p;
    const text = files[file];
    return text === undefined ? undefined : { file, text };
  };

  test("included rules come first, with their own file and text; imports are merged", () => {
    const src = parseOk(files["main.yar"]!, { file: "main.yar", include, namespace: "ns" });
    expect(src.imports).toEqual(["pe", "math"]);
    expect(src.rules.map((r) => [r.name, r.file, r.namespace, r.text, r.pos.line, r.pos.column])).toEqual([
      ["inner", "lib/inner.yar", "ns", files["lib/inner.yar"], 1, 1],
      ["common", "lib/common.yar", "ns", "rule common { condition: inner }", 3, 3],
      ["main", "main.yar", "ns", "rule main { condition: common and pe.number_of_sections > 0 }", 3, 1],
    ]);
    // The same rules, concatenated, are what YARA-X compiles.
    yaraxAccepts(`import "pe"\nimport "math"\n${src.rules.map((r) => r.text).join("\n")}`);
  });

  test("cycles are reported, not followed", () => {
    const errors = parseErrors(files["cycle-a.yar"]!, { file: "cycle-a.yar", include });
    expect(errors).toEqual([
      { file: "cycle-b.yar", line: 1, column: 1, message: "include cycle: cycle-a.yar -> cycle-b.yar -> cycle-a.yar" },
    ]);
    expect(parseErrors(files["self.yar"]!, { file: "self.yar", include })[0]!.message).toBe("include cycle: self.yar -> self.yar");
  });

  test("a chain deeper than the limit is refused", () => {
    const deep = (p: string): { file: string; text: string } => {
      const n = Number(p.slice(1, -4));
      return { file: p, text: `include "f${n + 1}.yar"\nrule r${n} { condition: true }` };
    };
    const errors = parseErrors('include "f1.yar"', { file: "f0.yar", include: deep });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: `f${MAX_INCLUDE_DEPTH}.yar`, line: 1, column: 1 });
    expect(errors[0]!.message).toContain("nested deeper than");
  });

  test("errors in an included file carry that file's name; missing files and no resolver are errors", () => {
    expect(parseErrors(files["uses-bad.yar"]!, { file: "uses-bad.yar", include })).toEqual([
      { file: "bad.yar", line: 1, column: 23, message: 'unexpected "}", expected expression' },
    ]);
    expect(parseErrors(files["missing.yar"]!, { file: "missing.yar", include })).toEqual([
      { file: "missing.yar", line: 2, column: 1, message: 'cannot include "nowhere.yar"' },
    ]);
    expect(parseErrors(files["main.yar"]!, { file: "main.yar" })[0]!.message).toBe('cannot include "lib/common.yar"');
  });
});

describe("a file that ends inside a declaration", () => {
  // A value read at the end of the file once left the error recovery past the last token, in a loop.
  test.each(['rule a { strings: $a = ', "rule a { strings: $a = // condition: $a }", "rule a { meta: x =", 'rule a { strings: $a = "x" xor(', "rule a { meta: x = -"])("%j is an error, at the end", (text) => {
    const errors = parseErrors(text, { file: "end.yar" });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^unexpected end of file/);
    expect(() => oracleCompile(text)).toThrow();
  });
});
