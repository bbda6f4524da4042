// Condition compiler: resolves every identifier of a rule's condition (strings, rules, externals,
// loop and `with` variables, modules, built-in functions), reports what YARA-X reports, and turns
// the condition into a tree of closures. Closures, not an AST walk at scan time: each node's
// operator is chosen once here, so evaluation is a chain of direct calls.
import type { Expr, Iterable, Pos, Quantifier, Range, RuleSet, StringSet } from "../ast";
import { UNKNOWN, type ArrayValue, type DictValue, type MatchTable, type ModuleFactory, type RegexArg, type StructValue, type Tri } from "../contracts";
import type { FileReader } from "../reader";
import { compileYaraRegex } from "../regex";
import { HALT, countMode, runLoop, type Mode, type Step } from "./loops";
import { arith, bitNot, bitwise, caught, compare, negate, readFloat, readInt, stringOp, truthy, type V } from "./values";

/** What a rule's condition reads while it runs on one file. */
export interface Env {
  /** The file, read through its source (uintXX reads; modules get it too). */
  file: FileReader;
  /** The file's size, once per file. */
  filesize: bigint;
  /** The "no own string matched, nothing else known" run that precomputes which rules need a hit. */
  abstract: boolean;
  matches: MatchTable;
  /** Outcomes of the rules evaluated so far, by rule index (a rule only references earlier ones). */
  rules: Tri[];
  /** Loop and `with` variables; for `for … of`, the current pattern index (a number). */
  slots: V[];
  externals: V[];
  /** Module roots, loaded on first use for this file. */
  module(index: number): V;
}

export type Fn = (env: Env) => V;

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

export type RegexCompiler = (source: string, flags: { nocase: boolean; dotAll: boolean }) => { test(bytes: Uint8Array): boolean | typeof UNKNOWN };

/** Everything a condition may name, as the program compiler knows it when it reaches the rule. */
export interface Scope {
  file: string;
  /** Earlier rules of the rule's namespace: name -> rule index. */
  rules: Map<string, number>;
  /** The rule's strings in declaration order: id and global pattern index. */
  strings: { id: string; pattern: number }[];
  externals: Map<string, number>;
  /** Modules the rule's source imports: name -> module index. */
  modules: Map<string, number>;
  regex?: RegexCompiler;
  errors: Diagnostic[];
  /** Filled in: indexes into `strings` that the condition uses; rule indexes it references. */
  usedStrings: Set<number>;
  referencedRules: Set<number>;
  /** Slots needed so far (the program sizes Env.slots to the maximum). */
  slotCount: number;
}

const BUILTINS: Record<string, { size: 1 | 2 | 4; signed: boolean; be: boolean }> = {};
for (const size of [1, 2, 4] as const)
  for (const signed of [false, true])
    for (const be of [false, true]) BUILTINS[`${signed ? "int" : "uint"}${size * 8}${be ? "be" : ""}`] = { size, signed, be };
const FLOATS: Record<string, { size: 4 | 8; be: boolean }> = {
  float32: { size: 4, be: false },
  float64: { size: 8, be: false },
  float32be: { size: 4, be: true },
  float64be: { size: 8, be: true },
};

/** Compile-time variable scope: names to slots, and the slot of the innermost `for … of`. */
interface Vars {
  names: Map<string, number>;
  patternSlot: number;
  depth: number;
}

/**
 * The variable of the loop the parser makes of `N of (<bool>, …)`: a keyword, so no rule can name
 * a variable so (parser.ts exports it as BOOL_TUPLE_VAR).
 */
const BOOL_TUPLE_VAR = "of";

const isAnonymousRef = (id: string): boolean => id.length <= 1;
/** `#a`, `@a`, `!a`, `$a` and `a` all name the string `$a`. */
const stringName = (id: string): string => "$" + (/^[$#@!]/.test(id) ? id.slice(1) : id);

export function compileCondition(expr: Expr, scope: Scope): Fn {
  return new ConditionCompiler(scope).expr(expr, { names: new Map(), patternSlot: -1, depth: 0 });
}

class ConditionCompiler {
  constructor(private readonly s: Scope) {}

  private error(pos: Pos, message: string): Fn {
    this.s.errors.push({ file: this.s.file, line: pos.line, column: pos.column, message });
    return () => UNKNOWN;
  }

  private slot(vars: Vars): number {
    const n = vars.depth;
    if (n + 1 > this.s.slotCount) this.s.slotCount = n + 1;
    return n;
  }

  expr(e: Expr, vars: Vars): Fn {
    switch (e.type) {
      case "bool":
      case "int":
      case "float":
      case "str": {
        const v = e.value;
        return () => v;
      }
      case "regex": {
        // A regular expression as a value: a module function's argument.
        const arg = this.regexArg(e.source, e.nocase, e.dotAll);
        return () => arg;
      }
      case "filesize":
        return (env) => (env.abstract ? UNKNOWN : env.filesize);
      case "entrypoint":
        return () => UNKNOWN; // deprecated; YARA-X decides
      case "string_match":
        return this.stringMatch(e, vars);
      case "string_count":
        return this.stringCount(e, vars);
      case "string_offset":
      case "string_length":
        return this.stringOffset(e, vars);
      case "ident":
        return this.ident(e.name, e.pos, vars);
      case "field": {
        const obj = this.expr(e.object, vars);
        const name = e.field;
        return (env) => {
          const o = obj(env);
          if (o === undefined || o === UNKNOWN) return o;
          return isObject(o, "struct") ? (o as StructValue).field(name) : UNKNOWN;
        };
      }
      case "index":
        return this.index(e.object, e.index, vars);
      case "call":
        return this.call(e, vars);
      case "unary":
        return this.unary(e.op, this.expr(e.operand, vars));
      case "binary":
        return this.binary(e, vars);
      case "of":
        return this.of(e, vars);
      case "for_of":
        return this.forOf(e.quantifier, e.set, e.body, vars);
      case "for_in":
        return this.forIn(e, vars);
      case "with":
        return this.with(e, vars);
      case "deferred":
        for (const name of e.refs) {
          const rule = this.s.rules.get(name);
          if (rule !== undefined) this.s.referencedRules.add(rule);
        }
        return () => UNKNOWN;
    }
  }

  private regexArg(source: string, nocase: boolean, dotAll: boolean): RegexArg {
    let re: { test(bytes: Uint8Array): boolean | typeof UNKNOWN } | undefined;
    try {
      re = (this.s.regex ?? compileYaraRegex)(source, { nocase, dotAll });
    } catch {
      re = undefined; // a regex the translator rejects: UNKNOWN, and YARA-X decides
    }
    return { kind: "regex", test: (bytes) => (re ? re.test(bytes) : UNKNOWN) };
  }

  private ident(name: string, pos: Pos, vars: Vars): Fn {
    const slot = vars.names.get(name);
    if (slot !== undefined) return (env) => env.slots[slot];
    const rule = this.s.rules.get(name);
    if (rule !== undefined) {
      this.s.referencedRules.add(rule);
      return (env) => (env.abstract ? UNKNOWN : env.rules[rule]);
    }
    const ext = this.s.externals.get(name);
    if (ext !== undefined) return (env) => (env.abstract ? UNKNOWN : env.externals[ext]);
    const mod = this.s.modules.get(name);
    if (mod !== undefined) return (env) => (env.abstract ? UNKNOWN : env.module(mod));
    return this.error(pos, `unknown identifier \`${name}\``);
  }

  private index(object: Expr, index: Expr, vars: Vars): Fn {
    const obj = this.expr(object, vars);
    const idx = this.expr(index, vars);
    return (env) => {
      const o = obj(env);
      const i = idx(env);
      if (o === undefined || i === undefined) return undefined;
      if (o === UNKNOWN || i === UNKNOWN) return UNKNOWN;
      if (isObject(o, "array") && typeof i === "bigint") {
        const a = o as ArrayValue;
        const len = a.length();
        if (len === undefined || len === UNKNOWN) return len;
        return i >= 0n && i < BigInt(len) ? a.at(Number(i)) : undefined;
      }
      if (isObject(o, "dict") && i instanceof Uint8Array) return (o as DictValue).get(i);
      return UNKNOWN;
    };
  }

  private call(e: Extract<Expr, { type: "call" }>, vars: Vars): Fn {
    const args = e.args.map((a) => this.expr(a, vars));
    if (e.callee.type === "ident" && !vars.names.has(e.callee.name) && BUILTINS[e.callee.name] && !this.s.rules.has(e.callee.name)) {
      const { size, signed, be } = BUILTINS[e.callee.name];
      if (args.length !== 1) return this.error(e.pos, `wrong number of arguments for \`${e.callee.name}\``);
      const off = args[0];
      return (env) => {
        // The offset first: an undefined one (`uint32(@a + 8)` without $a) is undefined even in
        // the abstract run, which lets that run rule out such conditions.
        const o = off(env);
        return env.abstract && o !== undefined ? UNKNOWN : readInt(env.file, o, size, signed, be);
      };
    }
    if (e.callee.type === "ident" && !vars.names.has(e.callee.name) && FLOATS[e.callee.name] && !this.s.rules.has(e.callee.name)) {
      const { size, be } = FLOATS[e.callee.name];
      if (args.length !== 1) return this.error(e.pos, `wrong number of arguments for \`${e.callee.name}\``);
      const off = args[0];
      return (env) => {
        const o = off(env);
        return env.abstract && o !== undefined ? UNKNOWN : readFloat(env.file, o, size, be);
      };
    }
    // Issue 12 (macho): YARA-X's `array.len()` / `dict.len()` (its replacement for the deprecated
    // number_of_* fields); on anything else `len` stays a field, called as any function is.
    if (e.callee.type === "field" && e.callee.field === "len" && args.length === 0) {
      const obj = this.expr(e.callee.object, vars);
      const asField = this.expr(e.callee, vars);
      return (env) => {
        const o = obj(env);
        if (o === undefined || o === UNKNOWN) return o;
        if (isObject(o, "array")) {
          const n = (o as ArrayValue).length();
          return n === undefined || n === UNKNOWN ? n : BigInt(n);
        }
        if (isObject(o, "dict")) {
          const entries = (o as DictValue).entries();
          return entries === undefined || entries === UNKNOWN ? entries : BigInt(entries.length);
        }
        const f = asField(env);
        if (f === undefined) return undefined;
        return f === UNKNOWN || !isObject(f, "func") ? UNKNOWN : (f as { call(a: V[]): V }).call([]);
      };
    }
    const callee = this.expr(e.callee, vars);
    return (env) => {
      // YARA-X evaluates the arguments first: an undefined one makes the call undefined.
      const values: V[] = new Array(args.length);
      let unknown = false;
      for (let i = 0; i < args.length; i++) {
        const v = args[i](env);
        if (v === undefined) return undefined;
        if (v === UNKNOWN) unknown = true;
        values[i] = v;
      }
      const f = callee(env);
      if (f === undefined) return undefined;
      if (unknown || f === UNKNOWN || !isObject(f, "func")) return UNKNOWN;
      return (f as { call(a: V[]): V }).call(values);
    };
  }

  private unary(op: "not" | "defined" | "-" | "~", operand: Fn): Fn {
    switch (op) {
      case "not":
        // undefined is not caught here: `not undefined` is undefined (false at the rule).
        return (env) => {
          const t = truthy(operand(env));
          return t === undefined || t === UNKNOWN ? t : !t;
        };
      case "defined":
        return (env) => {
          const t = truthy(operand(env));
          return t === UNKNOWN ? UNKNOWN : t !== undefined;
        };
      case "-":
        return (env) => negate(operand(env));
      case "~":
        return (env) => bitNot(operand(env));
    }
  }

  private binary(e: Extract<Expr, { type: "binary" }>, vars: Vars): Fn {
    const l = this.expr(e.left, vars);
    const r = this.expr(e.right, vars);
    const op = e.op;
    switch (op) {
      case "and":
        // Each operand's undefined is caught as false; false decides even if the other is UNKNOWN.
        return (env) => {
          const a = caught(l(env));
          if (a === false) return false;
          const b = caught(r(env));
          if (b === false) return false;
          return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : true;
        };
      case "or":
        return (env) => {
          const a = caught(l(env));
          if (a === true) return true;
          const b = caught(r(env));
          if (b === true) return true;
          return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : false;
        };
      case "==":
      case "!=":
      case "<":
      case "<=":
      case ">":
      case ">=":
        return (env) => compare(op, l(env), r(env));
      case "contains":
      case "icontains":
      case "startswith":
      case "istartswith":
      case "endswith":
      case "iendswith":
      case "iequals":
        return (env) => stringOp(op, l(env), r(env));
      case "matches": {
        const re = e.right.type === "regex" ? this.regexArg(e.right.source, e.right.nocase, e.right.dotAll) : undefined;
        return (env) => {
          const s = l(env);
          if (s === undefined || s === UNKNOWN) return s;
          if (!re || !(s instanceof Uint8Array)) return UNKNOWN;
          return re.test(s);
        };
      }
      case "+":
      case "-":
      case "*":
      case "\\":
      case "%":
        // YARA-X folds constant integer expressions at compile time, and an overflow there does
        // not wrap as at run time (it saturates, or is an error for `*`): leave those to YARA-X.
        if (op !== "\\" && op !== "%" && constInt(e) === OVERFLOW) return () => UNKNOWN;
        return (env) => arith(op, l(env), r(env));
      case "&":
      case "|":
      case "^":
      case "<<":
      case ">>":
        return (env) => bitwise(op, l(env), r(env));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Strings

  /** The global pattern index of `$a` (constant), or of `$` inside `for … of` (from a slot). */
  private pattern(id: string, pos: Pos, vars: Vars, sigil: string): { fixed: number } | { slot: number } | undefined {
    if (isAnonymousRef(id)) {
      if (vars.patternSlot < 0) {
        this.error(pos, "this `$` is outside of the condition of a `for .. of` statement");
        return undefined;
      }
      return { slot: vars.patternSlot };
    }
    const name = stringName(id);
    const i = this.s.strings.findIndex((s) => s.id === name);
    if (i < 0) {
      this.error(pos, `unknown pattern \`${sigil}${name.slice(1)}\``);
      return undefined;
    }
    this.s.usedStrings.add(i);
    return { fixed: this.s.strings[i].pattern };
  }

  private patternFn(p: { fixed: number } | { slot: number }): (env: Env) => number {
    if ("fixed" in p) {
      const n = p.fixed;
      return () => n;
    }
    const slot = p.slot;
    return (env) => env.slots[slot] as unknown as number;
  }

  private range(r: Range, vars: Vars): { lo: Fn; hi: Fn } {
    return { lo: this.expr(r.lo, vars), hi: this.expr(r.hi, vars) };
  }

  private stringMatch(e: Extract<Expr, { type: "string_match" }>, vars: Vars): Fn {
    const p = this.pattern(e.id, e.pos, vars, "$");
    if (!p) return () => UNKNOWN;
    const pat = this.patternFn(p);
    if (e.at) {
      const at = this.expr(e.at, vars);
      return (env) => matchAt(env.matches, pat(env), at(env));
    }
    if (e.in) {
      const { lo, hi } = this.range(e.in, vars);
      return (env) => matchIn(env.matches, pat(env), lo(env), hi(env));
    }
    return (env) => matched(env.matches, pat(env));
  }

  private stringCount(e: Extract<Expr, { type: "string_count" }>, vars: Vars): Fn {
    const p = this.pattern(e.id, e.pos, vars, "#");
    if (!p) return () => UNKNOWN;
    const pat = this.patternFn(p);
    if (e.in) {
      const { lo, hi } = this.range(e.in, vars);
      return (env) => countIn(env.matches, pat(env), lo(env), hi(env));
    }
    return (env) => {
      const m = env.matches.get(pat(env));
      if (!m) return 0n;
      return m.complete ? BigInt(m.offsets.length) : UNKNOWN;
    };
  }

  private stringOffset(e: Extract<Expr, { type: "string_offset" | "string_length" }>, vars: Vars): Fn {
    const p = this.pattern(e.id, e.pos, vars, e.type === "string_offset" ? "@" : "!");
    if (!p) return () => UNKNOWN;
    const pat = this.patternFn(p);
    const index = e.index ? this.expr(e.index, vars) : () => 1n;
    const lengths = e.type === "string_length";
    return (env) => {
      const i = index(env);
      if (i === undefined || i === UNKNOWN) return i;
      if (typeof i !== "bigint") return UNKNOWN;
      const m = env.matches.get(pat(env));
      if (!m) return undefined;
      // Unconfirmed candidates may precede confirmed matches: the n-th is unknown.
      if (!m.complete) return UNKNOWN;
      if (i < 1n || i > BigInt(m.offsets.length)) return undefined;
      return BigInt((lengths ? m.lengths : m.offsets)[Number(i) - 1]);
    };
  }

  /** The global pattern indexes of a string set, in declaration order, without repeats. */
  private stringSet(set: StringSet): number[] | undefined {
    const picked = new Set<number>();
    if (set.kind === "them") this.s.strings.forEach((_, i) => picked.add(i));
    else
      for (const item of set.items) {
        const name = stringName(item.id);
        let any = false;
        this.s.strings.forEach((s, i) => {
          // `$*` takes every string, anonymous ones included; `$a*` the named ones with that prefix.
          if (item.wildcard ? s.id.startsWith(name) : s.id === name) {
            picked.add(i);
            any = true;
          }
        });
        if (!any) {
          if (item.wildcard) this.error(set.pos, "no matching patterns");
          else this.error(set.pos, `unknown pattern \`${name}\``);
          return undefined;
        }
      }
    if (picked.size === 0) {
      this.error(set.pos, "no matching patterns");
      return undefined;
    }
    const out = [...picked].sort((a, b) => a - b);
    for (const i of out) this.s.usedStrings.add(i);
    return out.map((i) => this.s.strings[i].pattern);
  }

  private ruleSet(set: RuleSet): number[] | undefined {
    const out = new Set<number>();
    for (const item of set.items) {
      let any = false;
      for (const [name, index] of this.s.rules)
        if (item.wildcard ? name.startsWith(item.name) : name === item.name) {
          out.add(index);
          any = true;
        }
      if (!any) {
        this.error(set.pos, `unknown identifier \`${item.name}${item.wildcard ? "*" : ""}\``);
        return undefined;
      }
    }
    for (const r of out) this.s.referencedRules.add(r);
    return [...out].sort((a, b) => a - b);
  }

  /** The loop mode for n iterations: constant for all/any/none, else from the quantifier's value. */
  private quantifier(q: Quantifier, vars: Vars): (env: Env, n: number) => Mode | undefined | typeof UNKNOWN {
    switch (q.kind) {
      case "all":
      case "any":
      case "none": {
        const mode: Mode = { kind: q.kind };
        return () => mode;
      }
      case "expr":
      case "percent": {
        const f = this.expr(q.expr, vars);
        const percent = q.kind === "percent";
        return (env, n) => countMode(f(env), n, percent);
      }
    }
  }

  private of(e: Extract<Expr, { type: "of" }>, vars: Vars): Fn {
    if (e.set.kind === "rules") {
      const rules = this.ruleSet(e.set);
      if (!rules) return () => UNKNOWN;
      const mode = this.quantifier(e.quantifier, vars);
      return (env) => {
        if (env.abstract) return UNKNOWN;
        const m = mode(env, rules.length);
        if (m === undefined || m === UNKNOWN) return m;
        return runLoop(m, rules.length, (i) => env.rules[rules[i]]);
      };
    }
    const pats = this.stringSet(e.set);
    if (!pats) return () => UNKNOWN;
    const n = pats.length;
    if (e.at || e.in) {
      let item: (env: Env, p: number) => Step;
      if (e.at) {
        const at = this.expr(e.at, vars);
        item = (env, p) => caught(matchAt(env.matches, p, at(env)));
      } else {
        const { lo, hi } = this.range(e.in!, vars);
        item = (env, p) => caught(matchIn(env.matches, p, lo(env), hi(env)));
      }
      const mode = this.quantifier(e.quantifier, vars);
      return (env) => {
        const m = mode(env, n);
        if (m === undefined || m === UNKNOWN) return m;
        return runLoop(m, n, (i) => item(env, pats[i]));
      };
    }
    if (e.quantifier.kind === "expr") {
      // Without an anchor, YARA-X counts matching patterns: `N of` is "at least N", so `0 of` is
      // always true (unlike the loop form, where 0 means none).
      const q = this.expr(e.quantifier.expr, vars);
      return (env) => {
        const min = q(env);
        if (min === undefined || min === UNKNOWN) return min;
        if (typeof min !== "bigint") return UNKNOWN;
        let trues = 0n;
        let unknowns = 0n;
        for (const p of pats) {
          const r = matched(env.matches, p);
          if (r === true) trues++;
          else if (r === UNKNOWN) unknowns++;
        }
        if (trues >= min) return true;
        return trues + unknowns >= min ? UNKNOWN : false;
      };
    }
    const mode = this.quantifier(e.quantifier, vars);
    return (env) => {
      const m = mode(env, n);
      if (m === undefined || m === UNKNOWN) return m;
      return runLoop(m, n, (i) => matched(env.matches, pats[i]));
    };
  }

  private forOf(q: Quantifier, set: StringSet, body: Expr, vars: Vars): Fn {
    const pats = this.stringSet(set);
    if (!pats) return () => UNKNOWN;
    const slot = this.slot(vars);
    const inner: Vars = { names: vars.names, patternSlot: slot, depth: vars.depth + 1 };
    const b = this.expr(body, inner);
    const mode = this.quantifier(q, vars);
    const n = pats.length;
    return (env) => {
      const m = mode(env, n);
      if (m === undefined || m === UNKNOWN) return m;
      return runLoop(m, n, (i) => {
        env.slots[slot] = pats[i] as unknown as V;
        return caught(b(env));
      });
    };
  }

  private forIn(e: Extract<Expr, { type: "for_in" }>, vars: Vars): Fn {
    const names = new Map(vars.names);
    const slots = e.vars.map((name, k) => {
      const slot = this.slot({ ...vars, depth: vars.depth + k });
      names.set(name, slot);
      return slot;
    });
    const inner: Vars = { names, patternSlot: vars.patternSlot, depth: vars.depth + e.vars.length };
    const iterable = this.iterable(e.iterable, vars, e.vars.length === 1 && e.vars[0] === BOOL_TUPLE_VAR);
    const body = this.expr(e.body, inner);
    const mode = this.quantifier(e.quantifier, vars);
    const arity = e.vars.length;
    return (env) => {
      const it = iterable(env);
      if (it === undefined || it === UNKNOWN) return it;
      if (it.n <= 0) return false; // before the quantifier is evaluated, as in YARA-X
      const m = mode(env, it.n);
      if (m === undefined || m === UNKNOWN) return m;
      return runLoop(m, it.n, (i) => {
        const item = it.set(env, i, slots, arity);
        if (item !== true) return item;
        return caught(body(env));
      });
    };
  }

  /**
   * An iterable: its length for this file and a setter that puts iteration i's values in the
   * loop's slots (true when set; undefined / HALT when fetching the item aborts or is unknown).
   */
  private iterable(it: Iterable, vars: Vars, boolTuple: boolean): (env: Env) => Iteration | undefined | typeof UNKNOWN {
    switch (it.kind) {
      case "range": {
        const { lo, hi } = this.range(it.range, vars);
        return (env) => {
          // An undefined bound makes the range empty (YARA-X catches it: n = 0).
          const l = lo(env);
          const h = hi(env);
          if (l === undefined || h === undefined) return EMPTY;
          if (l === UNKNOWN || h === UNKNOWN || typeof l !== "bigint" || typeof h !== "bigint") return UNKNOWN;
          const n = BigInt.asIntN(64, h - l + 1n);
          if (n <= 0n) return EMPTY;
          return {
            n: n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n),
            set(env2, i, slots, arity) {
              if (arity !== 1) return HALT;
              env2.slots[slots[0]] = BigInt.asIntN(64, l + BigInt(i));
              return true;
            },
          };
        };
      }
      case "list": {
        const items = it.items.map((x) => this.expr(x, vars));
        const iteration: Iteration = {
          n: items.length,
          set(env, i, slots, arity) {
            if (arity !== 1) return HALT;
            const v = items[i](env);
            // In `for … in (x, y)` an undefined item leaves the variable undefined and the body
            // decides; in `N of (<bool>, …)` (which the parser desugars into this loop) YARA-X
            // evaluates the item outside the body's catch, so undefined aborts the whole loop.
            if (boolTuple && (v === undefined || v === UNKNOWN)) return v === undefined ? undefined : HALT;
            env.slots[slots[0]] = v;
            return true;
          },
        };
        return () => iteration;
      }
      case "expr": {
        const f = this.expr(it.expr, vars);
        return (env) => {
          const v = f(env);
          if (v === undefined || v === UNKNOWN) return v;
          if (isObject(v, "array")) {
            const a = v as ArrayValue;
            const len = a.length();
            if (len === undefined || len === UNKNOWN) return len;
            return {
              n: len,
              set(env2, i, slots, arity) {
                if (arity !== 1) return HALT;
                const x = a.at(i);
                if (x === undefined) return undefined;
                if (x === UNKNOWN) return HALT;
                env2.slots[slots[0]] = x;
                return true;
              },
            };
          }
          if (isObject(v, "dict")) {
            const entries = (v as DictValue).entries();
            if (entries === undefined || entries === UNKNOWN) return entries;
            return {
              n: entries.length,
              set(env2, i, slots, arity) {
                if (arity !== 2) return HALT;
                env2.slots[slots[0]] = entries[i][0];
                env2.slots[slots[1]] = entries[i][1];
                return true;
              },
            };
          }
          return UNKNOWN;
        };
      }
    }
  }

  private with(e: Extract<Expr, { type: "with" }>, vars: Vars): Fn {
    const names = new Map(vars.names);
    let depth = vars.depth;
    const bindings: { slot: number; value: Fn }[] = [];
    for (const b of e.bindings) {
      // Each binding sees the earlier ones.
      const value = this.expr(b.value, { names: new Map(names), patternSlot: vars.patternSlot, depth });
      const slot = this.slot({ ...vars, depth });
      depth++;
      names.set(b.name, slot);
      bindings.push({ slot, value });
    }
    const body = this.expr(e.body, { names, patternSlot: vars.patternSlot, depth });
    return (env) => {
      // An undefined value leaves its variable undefined: only a use of it is undefined.
      for (const b of bindings) env.slots[b.slot] = b.value(env);
      return body(env);
    };
  }
}

const OVERFLOW: unique symbol = Symbol("overflow");

/** The exact value of a constant integer expression (literals, unary -, + - *), if it is one. */
function constInt(e: Expr): bigint | typeof OVERFLOW | undefined {
  if (e.type === "int") return e.value;
  if (e.type === "unary" && e.op === "-") {
    const v = constInt(e.operand);
    return typeof v === "bigint" ? check(-v) : v;
  }
  if (e.type !== "binary" || (e.op !== "+" && e.op !== "-" && e.op !== "*")) return undefined;
  const a = constInt(e.left);
  const b = constInt(e.right);
  if (a === OVERFLOW || b === OVERFLOW) return OVERFLOW;
  if (a === undefined || b === undefined) return undefined;
  return check(e.op === "+" ? a + b : e.op === "-" ? a - b : a * b);
}

const check = (v: bigint): bigint | typeof OVERFLOW => (BigInt.asIntN(64, v) === v ? v : OVERFLOW);

interface Iteration {
  n: number;
  set(env: Env, i: number, slots: number[], arity: number): Step;
}

const EMPTY: Iteration = { n: 0, set: () => HALT };

function isObject(v: V, kind: "struct" | "array" | "dict" | "func"): boolean {
  return typeof v === "object" && !(v instanceof Uint8Array) && v !== null && (v as { kind: string }).kind === kind;
}

// ---------------------------------------------------------------------------------------------
// Match table reads. A pattern absent from the table matched nowhere; one with complete === false
// has real confirmed matches, but "no (other) match" cannot be concluded.

function matched(t: MatchTable, p: number): boolean | typeof UNKNOWN {
  const m = t.get(p);
  if (!m) return false;
  return m.offsets.length > 0 ? true : m.complete ? false : UNKNOWN;
}

/** First index in ascending `offsets` whose value is >= x. */
function lowerBound(offsets: number[], x: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const toOffset = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : v < -1n ? -1 : Number(v));

function matchAt(t: MatchTable, p: number, at: V): V {
  if (at === undefined || at === UNKNOWN) return at;
  if (typeof at !== "bigint") return UNKNOWN;
  const m = t.get(p);
  if (!m) return false;
  const o = toOffset(at);
  const i = lowerBound(m.offsets, o);
  if (i < m.offsets.length && m.offsets[i] === o) return true;
  return m.complete ? false : UNKNOWN;
}

function matchIn(t: MatchTable, p: number, lo: V, hi: V): V {
  if (lo === undefined || hi === undefined) return undefined;
  if (lo === UNKNOWN || hi === UNKNOWN || typeof lo !== "bigint" || typeof hi !== "bigint") return UNKNOWN;
  const m = t.get(p);
  if (!m) return false;
  const i = lowerBound(m.offsets, toOffset(lo));
  if (lo <= hi && i < m.offsets.length && BigInt(m.offsets[i]) <= hi) return true;
  return m.complete ? false : UNKNOWN;
}

function countIn(t: MatchTable, p: number, lo: V, hi: V): V {
  if (lo === undefined || hi === undefined) return undefined;
  if (lo === UNKNOWN || hi === UNKNOWN || typeof lo !== "bigint" || typeof hi !== "bigint") return UNKNOWN;
  const m = t.get(p);
  if (!m) return 0n;
  if (!m.complete) return UNKNOWN;
  if (lo > hi) return 0n;
  return BigInt(lowerBound(m.offsets, toOffset(hi) + 1) - lowerBound(m.offsets, toOffset(lo)));
}
