// The rule compiler and three-valued evaluator of ring3's YARA fast path: SourceFile[] (from the
// parser) -> Program; Program.evaluate(one file, its matches, externals, modules) -> a Tri per
// rule. The file is read through a ByteSource (reader.ts), never needed whole in memory. Semantics are YARA-X's (see values.ts, loops.ts); UNKNOWN marks what the fast path cannot
// decide, so the engine hands exactly those rules to YARA-X.
//
// Speed: most rules need one of their own strings to match. compileProgram finds them by running
// each condition once with "no own string matched, everything else unknown"; a rule that comes out
// false there is false on any file where none of its patterns is among MatchTable.hits(), and
// evaluate() never runs it on such a file.
import type { Expr, Meta, Pos, Rule, SourceFile, StringDecl } from "../ast";
import { UNKNOWN, type ByteSource, type MatchTable, type ModuleFactory, type Tri } from "../contracts";
import { FileReader } from "../reader";
import { compileCondition, type Diagnostic, type Env, type Fn, type RegexCompiler, type Scope } from "./compile";
import { caught, externalValue, readInt, type V } from "./values";
import { ruleGate, type RuleGate } from "../gates";

export type { Diagnostic, RegexCompiler } from "./compile";

export interface CompiledRule {
  index: number;
  name: string;
  namespace: string;
  private: boolean;
  global: boolean;
  tags: string[];
  meta: Meta[];
  file: string;
  pos: Pos;
  text: string;
  /** Modules its source imports (the YARA-X fallback group needs them). */
  imports: string[];
  /** Global pattern indexes of its strings, in declaration order. */
  patterns: number[];
  /**
   * Rules it needs to be evaluated in YARA-X: referenced rules (transitively) and the global rules
   * of its namespace (with theirs), ascending.
   */
  deps: number[];
  /** Rules its condition names (direct references only). */
  refs: number[];
}

export interface Program {
  rules: CompiledRule[];
  /** Every rule's strings, rule by rule in order: pattern index = position here. */
  decls: StringDecl[];
  /** One file: the outcome of every rule (private and global included), by rule index. */
  evaluate(ctx: EvalContext): Tri[];
  /** Per rule, what its condition demands of the file before its patterns matter (gates.ts); compiled programs only. */
  gates?: (RuleGate | undefined)[];
}

export interface EvalContext {
  /** The file's bytes in memory; or, instead, `source`. */
  data?: Uint8Array;
  /** The file read through a positional reader (uintXX reads, modules): nothing held whole. */
  source?: ByteSource;
  matches: MatchTable;
  externals: Record<string, string | number | boolean>;
  /** By name: pe, elf, math, hash, string, time, console. */
  modules: Record<string, ModuleFactory>;
  /**
   * An array of the program's outcomes to fill instead of a new one, for a caller done with the
   * previous file's (one array per rule per file was most of a worker's garbage).
   */
  into?: Tri[];
}

export interface CompileOptions {
  /** External variables the rules may use, with their default values. */
  externals: Record<string, string | number | boolean>;
  /** Translates `matches` / regex arguments (default: regex.ts's compileYaraRegex). */
  regex?: RegexCompiler;
}

/**
 * Test-only failpoint (RING3_FAILPOINT=reject:NAME): the fast path refuses the rule NAME, as it
 * would a construct it cannot compile, so that the tests can show it going to YARA-X (deferred.ts).
 */
const REJECT_FAILPOINT = /^reject:(.+)$/.exec(process.env.RING3_FAILPOINT ?? "")?.[1];

export function compileProgram(
  sources: SourceFile[],
  opts: CompileOptions,
): { program?: Program; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const rules: CompiledRule[] = [];
  const conditions: Fn[] = [];
  const guards: (HeaderGuard | undefined)[] = [];
  const gates: (RuleGate | undefined)[] = [];
  const decls: StringDecl[] = [];

  const externalNames = Object.keys(opts.externals);
  const externals = new Map(externalNames.map((n, i) => [n, i]));
  const moduleNames: string[] = [];
  const moduleIndex = (name: string): number => {
    let i = moduleNames.indexOf(name);
    if (i < 0) i = moduleNames.push(name) - 1;
    return i;
  };
  /** Per namespace: rule name -> index, in definition order (a rule sees only earlier ones). */
  const namespaces = new Map<string, Map<string, number>>();
  let slotCount = 0;

  for (const source of sources) {
    const modules = new Map(source.imports.map((m) => [m, moduleIndex(m)]));
    for (const rule of source.rules) {
      const ns = namespaces.get(rule.namespace) ?? new Map<string, number>();
      namespaces.set(rule.namespace, ns);
      const err = (pos: Pos, message: string) => errors.push({ file: rule.file, line: pos.line, column: pos.column, message });
      if (ns.has(rule.name)) err(rule.pos, `duplicate rule \`${rule.name}\``);
      if (rule.name === REJECT_FAILPOINT && rule.condition.type !== "deferred") err(rule.pos, "rejected by RING3_FAILPOINT (tests only)");

      const strings: Scope["strings"] = [];
      for (const d of rule.strings) {
        if (d.id !== "$" && strings.some((s) => s.id === d.id)) err(d.pos, `duplicate pattern \`${d.id}\``);
        strings.push({ id: d.id, pattern: decls.length });
        decls.push(d);
      }
      const scope: Scope = {
        file: rule.file,
        rules: ns,
        strings,
        externals,
        modules,
        regex: opts.regex,
        errors,
        usedStrings: new Set(),
        referencedRules: new Set(),
        slotCount: 0,
      };
      conditions.push(compileCondition(rule.condition, scope));
      const guard = ns.has("uint8") || ns.has("uint16") || ns.has("uint32") ? undefined : headerGuard(rule.condition);
      guards.push(guard);
      gates.push(ruleGate(rule.condition, guard));
      slotCount = Math.max(slotCount, scope.slotCount);
      rule.strings.forEach((d, i) => {
        // YARA-X rejects unused patterns, except those whose identifier starts with `$_`.
        if (!scope.usedStrings.has(i) && !d.id.startsWith("$_")) err(d.pos, `unused pattern \`${d.id}\``);
      });
      const index = rules.length;
      rules.push({
        index,
        name: rule.name,
        namespace: rule.namespace,
        private: rule.private,
        global: rule.global,
        tags: rule.tags,
        meta: rule.meta,
        file: rule.file,
        pos: rule.pos,
        text: rule.text,
        imports: source.imports,
        patterns: strings.map((s) => s.pattern),
        deps: [],
        refs: [...scope.referencedRules].sort((a, b) => a - b),
      });
      if (!ns.has(rule.name)) ns.set(rule.name, index);
    }
  }
  if (errors.length > 0) return { errors, warnings };

  computeDeps(rules);
  const program = new CompiledProgram(rules, decls, conditions, guards, slotCount, externalNames, opts.externals, moduleNames);
  program.gates = gates;
  return { program, errors, warnings };
}

/** deps = referenced rules and the namespace's global rules, closed transitively. */
export function computeDeps(rules: CompiledRule[]): void {
  const globals = new Map<string, number[]>();
  for (const r of rules) if (r.global) globals.set(r.namespace, [...(globals.get(r.namespace) ?? []), r.index]);
  const direct = rules.map((r) => new Set([...r.refs, ...(globals.get(r.namespace) ?? [])].filter((d) => d !== r.index)));
  for (const r of rules) {
    const seen = new Set<number>();
    const stack = [...direct[r.index]];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (d === r.index || seen.has(d)) continue;
      seen.add(d);
      stack.push(...direct[d]);
    }
    r.deps = [...seen].sort((a, b) => a - b);
  }
}

/**
 * A conjunct `uintXX(C) == K` (or intXX, big-endian forms) at the top of a rule's `and` chain: when
 * the file's bytes at C differ from K (or are out of range) the rule is false, whatever the rest.
 * PE-only rules without strings (`uint16(0) == 0x5a4d and pe.…`) are then skipped on other files.
 */
export interface HeaderGuard {
  /** "uint16:0" etc.: rules with the same read share it. */
  key: string;
  size: 1 | 2 | 4;
  signed: boolean;
  be: boolean;
  offset: bigint;
  value: bigint;
}

function headerGuard(e: Expr): HeaderGuard | undefined {
  if (e.type !== "binary") return undefined;
  if (e.op === "and") return headerGuard(e.left) ?? headerGuard(e.right);
  if (e.op !== "==") return undefined;
  const read = e.left.type === "call" ? e.left : e.right.type === "call" ? e.right : undefined;
  const k = read === e.left ? e.right : e.left;
  if (!read || k.type !== "int" || read.callee.type !== "ident" || read.args.length !== 1 || read.args[0].type !== "int") return undefined;
  const m = /^(u?)int(8|16|32)(be)?$/.exec(read.callee.name);
  if (!m) return undefined;
  return {
    key: `${read.callee.name}:${read.args[0].value}`,
    size: (Number(m[2]) / 8) as 1 | 2 | 4,
    signed: m[1] === "",
    be: m[3] === "be",
    offset: read.args[0].value,
    value: k.value,
  };
}

/** Which rules run on a file without a hit: on every file, or when a header read has a value. */
export interface ProgramPlan {
  always: number[];
  guarded: { guard: HeaderGuard; rules: [bigint, number[]][] }[];
}

/** A program whose parts were computed elsewhere (image.ts); `conditions` may compile lazily. */
export function assembleProgram(p: {
  rules: CompiledRule[];
  decls: StringDecl[];
  conditions: Fn[];
  plan: ProgramPlan;
  slotCount: number;
  externalNames: string[];
  externalDefaults: Record<string, string | number | boolean>;
  moduleNames: string[];
}): Program {
  return new CompiledProgram(p.rules, p.decls, p.conditions, p.plan, p.slotCount, p.externalNames, p.externalDefaults, p.moduleNames);
}

/**
 * Compiles one rule's condition from its parsed text, for a program assembled from an image: the
 * names it may use are resolved as compileProgram resolved them (that compile reported any error,
 * so none is expected here; one would mean a damaged image).
 */
export function conditionCompiler(rules: CompiledRule[], externalNames: string[], moduleNames: string[]): (rule: CompiledRule, ast: Rule) => Fn {
  const namespaces = new Map<string, Map<string, number>>();
  for (const r of rules) {
    let ns = namespaces.get(r.namespace);
    if (!ns) namespaces.set(r.namespace, (ns = new Map()));
    if (!ns.has(r.name)) ns.set(r.name, r.index);
  }
  const externals = new Map(externalNames.map((n, i) => [n, i]));
  const moduleIndex = new Map(moduleNames.map((n, i) => [n, i]));
  return (rule, ast) => {
    const errors: Diagnostic[] = [];
    const scope: Scope = {
      file: rule.file,
      rules: earlierRules(namespaces.get(rule.namespace)!, rule.index),
      strings: ast.strings.map((d, k) => ({ id: d.id, pattern: rule.patterns[k]! })),
      externals,
      modules: new Map(rule.imports.map((m) => [m, moduleIndex.get(m)!])),
      errors,
      usedStrings: new Set(),
      referencedRules: new Set(),
      slotCount: 0,
    };
    const fn = compileCondition(ast.condition, scope);
    if (errors.length > 0) throw new Error(`rule ${rule.name}: ${errors[0]!.message} (a damaged compiled rule program?)`);
    return fn;
  };
}

/**
 * The rules of a namespace defined before rule `before`, as compileProgram's scope saw them when
 * it reached that rule (a name defined later is not a rule there: an external, or an error).
 * The full map is in definition order, so indexes ascend.
 */
function earlierRules(all: Map<string, number>, before: number): Map<string, number> {
  const view = {
    get: (name: string) => {
      const i = all.get(name);
      return i !== undefined && i < before ? i : undefined;
    },
    has: (name: string) => view.get(name) !== undefined,
    *[Symbol.iterator](): Generator<[string, number]> {
      for (const e of all) {
        if (e[1] >= before) return;
        yield e;
      }
    },
  };
  return view as unknown as Map<string, number>;
}

const NO_MATCHES: MatchTable = { get: () => undefined, hits: () => [] };

class CompiledProgram implements Program {
  gates?: (RuleGate | undefined)[];
  /** Rules evaluated on every file (they may be true without a hit), ascending. */
  private readonly always: number[];
  /** Rules that may be true without a hit, but only on files with given header bytes. */
  private readonly guarded: { guard: HeaderGuard; rules: Map<bigint, number[]> }[];
  /** Pattern index -> the rule that declares it. */
  private readonly owner: Uint32Array;
  /** Namespaces with global rules: their globals and all their rules. */
  private readonly globalGroups: { globals: number[]; members: number[] }[];
  /** Rule outcomes before any evaluation: false everywhere (a rule not run had no hit). */
  private readonly base: Tri[];
  private readonly env: Env;
  private moduleRoots: V[] = [];
  private modules: Record<string, ModuleFactory> = {};

  constructor(
    readonly rules: CompiledRule[],
    readonly decls: StringDecl[],
    private readonly conditions: Fn[],
    /** Per rule, for the abstract run; or the plan a previous run made (an attached program). */
    guards: (HeaderGuard | undefined)[] | ProgramPlan,
    readonly slotCount: number,
    readonly externalNames: string[],
    private readonly externalDefaults: Record<string, string | number | boolean>,
    readonly moduleNames: string[],
  ) {
    this.owner = new Uint32Array(rules.reduce((n, r) => n + r.patterns.length, 0));
    for (const r of rules) for (const p of r.patterns) this.owner[p] = r.index;
    this.base = rules.map(() => false);
    const defaults = externalNames.map((n) => externalValue(externalDefaults[n]));
    this.env = {
      file: FileReader.of(new Uint8Array(0)),
      filesize: 0n,
      abstract: true,
      matches: NO_MATCHES,
      rules: this.base.slice(),
      slots: new Array(slotCount).fill(undefined),
      externals: defaults,
      module: (i) => this.module(i),
    };
    if (Array.isArray(guards)) {
      // The abstract run: no string of the rule matched, everything else unknown. Of the rules that
      // survive it, those with a header guard run only on files whose header matches.
      this.always = [];
      const reads = new Map<string, { guard: HeaderGuard; rules: Map<bigint, number[]> }>();
      for (const r of rules) {
        if (caught(conditions[r.index](this.env)) === false) continue;
        const g = guards[r.index];
        if (!g) {
          this.always.push(r.index);
          continue;
        }
        const read = reads.get(g.key) ?? { guard: g, rules: new Map() };
        reads.set(g.key, read);
        read.rules.set(g.value, [...(read.rules.get(g.value) ?? []), r.index]);
      }
      this.guarded = [...reads.values()];
    } else {
      this.always = guards.always;
      this.guarded = guards.guarded.map((g) => ({ guard: g.guard, rules: new Map(g.rules) }));
    }
    this.env.abstract = false;

    const groups = new Map<string, { globals: number[]; members: number[] }>();
    for (const r of rules) if (r.global && !groups.has(r.namespace)) groups.set(r.namespace, { globals: [], members: [] });
    for (const r of rules) {
      const g = groups.get(r.namespace);
      if (!g) continue;
      g.members.push(r.index);
      if (r.global) g.globals.push(r.index);
    }
    this.globalGroups = [...groups.values()];
  }

  /** What the abstract run found, for a program stored and attached elsewhere (image.ts). */
  get plan(): ProgramPlan {
    return { always: this.always, guarded: this.guarded.map((g) => ({ guard: g.guard, rules: [...g.rules] })) };
  }

  /** Rules that are evaluated on a file without any hit (for tests and diagnostics). */
  get alwaysEvaluated(): readonly number[] {
    return this.always;
  }

  /** Rules evaluated without a hit only when the file's header matches their guard. */
  get headerGuarded(): readonly number[] {
    return this.guarded.flatMap((g) => [...g.rules.values()].flat()).sort((a, b) => a - b);
  }

  private module(i: number): V {
    let root = this.moduleRoots[i];
    if (root === undefined) {
      const name = this.moduleNames[i];
      const factory = this.modules[name];
      root = factory ? factory.load(this.env.file) : UNKNOWN;
      this.moduleRoots[i] = root;
    }
    return root;
  }

  evaluate(ctx: EvalContext): Tri[] {
    const out = ctx.into !== undefined && ctx.into.length === this.base.length ? ctx.into.fill(false) : this.base.slice();
    const env = this.env;
    if ((ctx.data === undefined) === (ctx.source === undefined)) throw new Error("evaluate: give the file as data or as source, one of them");
    env.file = ctx.data ? FileReader.of(ctx.data) : FileReader.from(ctx.source!);
    env.filesize = BigInt(env.file.size);
    env.matches = ctx.matches;
    env.rules = out;
    this.modules = ctx.modules;
    if (this.moduleRoots.length > 0) this.moduleRoots = [];
    this.setExternals(ctx.externals);

    // Candidates: rules evaluated on every file, merged with the owners of the hit patterns, in
    // ascending order so that a referenced rule (always an earlier one) is decided first. A rule
    // that is not a candidate stays false, which is its outcome without a hit.
    const hits = ctx.matches.hits();
    let always = this.always;
    for (const { guard, rules } of this.guarded) {
      const v = readInt(env.file, guard.offset, guard.size, guard.signed, guard.be);
      const more = typeof v === "bigint" ? rules.get(v) : v === UNKNOWN ? [...rules.values()].flat().sort((x, y) => x - y) : undefined;
      if (more) always = mergeSorted(always, more);
    }
    let a = 0;
    let h = 0;
    let last = -1;
    while (a < always.length || h < hits.length) {
      const next = h >= hits.length || (a < always.length && always[a] <= this.owner[hits[h]]) ? always[a++] : this.owner[hits[h++]];
      if (next === last) continue;
      last = next;
      out[next] = caught(this.conditions[next](env));
    }

    // A false global rule makes every rule of its namespace false; an UNKNOWN one makes the
    // namespace's true rules UNKNOWN. References saw raw outcomes, which is exact: when every
    // global is true the raw outcomes are the outcomes, and otherwise the namespace is false.
    for (const g of this.globalGroups) {
      let state: Tri = true;
      for (const i of g.globals) {
        if (out[i] === false) {
          state = false;
          break;
        }
        if (out[i] === UNKNOWN) state = UNKNOWN;
      }
      if (state === true) continue;
      for (const i of g.members) if (state === false || out[i] === true) out[i] = state;
    }
    return out;
  }

  /** The raw per-file values last converted: a string is encoded again only when it changes. */
  private lastExternals: (string | number | boolean | undefined)[] = [];

  private setExternals(values: Record<string, string | number | boolean>): void {
    const names = this.externalNames;
    for (let i = 0; i < names.length; i++) {
      const v = values[names[i]];
      if (i < this.lastExternals.length && v === this.lastExternals[i]) continue;
      this.lastExternals[i] = v;
      const def = this.externalDefaults[names[i]];
      // An external keeps the type it was declared with (a float declared as 1.5 and set to 2 stays float).
      this.env.externals[i] =
        v === undefined ? externalValue(def) : typeof def === "number" && typeof v === "number" && !Number.isInteger(def) ? v : externalValue(v);
    }
  }
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else if (i >= a.length || b[j] < a[i]) out.push(b[j++]);
    else {
      out.push(a[i++]);
      j++;
    }
  }
  return out;
}
