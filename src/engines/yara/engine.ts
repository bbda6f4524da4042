// The YARA engine a worker uses. Two modes:
//
// - "auto" (default): ring3's fast path decides each rule on each file — one multi-pattern pass
//   (strings/), then a three-valued evaluation of the conditions (eval/). A rule that stays
//   UNKNOWN for a file (a module field ring3 does not implement, a pattern the matcher could not
//   verify exactly) goes to YARA-X together with the rules it depends on, in a small group
//   compiled once and cached, for that file only.
// - "yara-x": every rule through YARA-X (yarax.ts), one scan() call per file. The oracle: both
//   modes must give the same findings (test/unit/yara-differential*.test.ts).
// The fast path runs a compiled program (image.ts): built once per scan and attached to by
// every worker (createEngine with `program`), or compiled here from sources (tests).
//
// A file is either bytes in memory (scan) or fed in chunks (begin/feed/end): the matcher streams
// over the chunks, and the conditions and modules read the file through a ByteSource (reader.ts).
// Only YARA-X needs the whole file in one buffer: it gets it up to WHOLE_FILE_MAX.
import { Compiler } from "@virustotal/yara-x";
import type { Finding } from "../../types";
import { UNKNOWN, type ByteSource, type MatchTable, type ModuleFactory, type Tri } from "./contracts";
import { compileProgram, type CompiledRule, type Program } from "./eval";
import type { FileGates, RuleGate } from "./gates";
import { emptyStats, type EngineMode, type EngineStats } from "./stats";
import { MODULES } from "./modules";
import { includer } from "./includes";
import { parse } from "./parser";
import { anchoredPatterns, attachImage, buildImage, diag, imageSources, imageSummary } from "./image";
import { FileReader, WHOLE_FILE_MAX } from "./reader";
import { compilePatterns, patternSetOf, type PatternSet } from "./strings";
import type { StreamPool } from "./strings/stream";
import {
  compile,
  initYaraX,
  toFinding,
  YaraScanner,
  type Diagnostic,
  type ExternalValue,
  type FileExternals,
  type RuleSource,
  type YaraXMatch,
} from "./yarax";

export { addStats, emptyStats, subtractStats, type EngineMode, type EngineStats } from "./stats";

export interface YaraEngine {
  /** Scans bytes in memory (archive members); throws on an engine failure (message contains "timeout" for a timeout). */
  scan(data: Uint8Array, ext: FileExternals): Finding[];
  /** One file fed in order, in chunks; conditions and modules read through `source`. */
  begin(size: number): FileScan;
  stats(): EngineStats;
}

export interface FileScan {
  /** The next bytes of the file, in order; the caller may reuse the chunk after the call. */
  feed(chunk: Uint8Array): void;
  /**
   * After the last chunk: findings, and the public rules it could not decide (0 normally: a rule
   * the fast path leaves UNKNOWN goes to YARA-X, which needs the file whole in memory, so it stays
   * undecided only on a file over WHOLE_FILE_MAX; `reason` then says so). Throws on an I/O error of
   * the source or an engine failure, as scan() does.
   */
  end(source: ByteSource, ext: FileExternals): { findings: Finding[]; undecided: number; reason?: string };
}

export { WHOLE_FILE_MAX } from "./reader";

export interface EngineInit {
  mode: EngineMode;
  /**
   * The rules: a compiled program (image.ts; in a worker, a view on the scan's SharedArrayBuffer),
   * or sources, compiled here into one first.
   */
  program?: Uint8Array;
  sources?: RuleSource[];
  /** The external variables' values (for a program: override the values it was compiled with). */
  defines: Record<string, ExternalValue>;
  perFileExternals: (keyof FileExternals)[];
  timeoutMs: number;
  /**
   * YARA-X's WASM module. Instantiated only when YARA-X is first needed (at once for "yara-x";
   * for "auto" at the first rule left unknown, which most scans never reach: ~19 MB of RSS per
   * worker saved). Absent: the caller has instantiated it (tests).
   */
  wasm?: WebAssembly.Module | Uint8Array | null;
  /**
   * "yara-x" only: the trap marks per rule (TrapSplitter), shared by the scan's workers. Absent:
   * the program image's (when there is one), else this engine's own.
   */
  trapMemo?: Int32Array;
}

export function createEngine(init: EngineInit): { engine?: YaraEngine; errors: Diagnostic[] } {
  const t0 = performance.now();
  if (init.mode === "yara-x") {
    initYaraX(init.wasm);
    const sources = init.sources ?? (init.program ? imageSources(init.program) : []);
    const out = compile(sources, init.program ? { ...imageSummary(init.program).defines, ...init.defines } : init.defines);
    if (!out.rules) return { errors: out.errors };
    const scanner = new YaraScanner(out.rules, init.perFileExternals, init.timeoutMs);
    const stats = emptyStats("yara-x");
    stats.loadMs = performance.now() - t0;
    const split = new TrapSplitter(init, scanner, stats);
    const scan = (data: Uint8Array, ext: FileExternals): Finding[] => {
      const y0 = performance.now();
      const f = split.scan(data, ext);
      stats.files++;
      stats.yaraxFiles++;
      stats.yaraxCalls++;
      stats.yaraxMs += performance.now() - y0;
      return f;
    };
    return {
      errors: [],
      engine: {
        scan,
        begin(size) {
          // The chunks are kept (YARA-X scans one buffer) when the file is small enough for that.
          let buf = size <= WHOLE_FILE_MAX ? new Uint8Array(size) : undefined;
          let len = 0;
          return {
            feed(chunk) {
              if (!buf) return;
              if (len + chunk.length > buf.length) {
                // The file grew after its size was taken: keep it while it stays under the bound.
                if (len + chunk.length > WHOLE_FILE_MAX) {
                  buf = undefined;
                  return;
                }
                const bigger = new Uint8Array(len + chunk.length);
                bigger.set(buf.subarray(0, len));
                buf = bigger;
              }
              buf.set(chunk, len);
              len += chunk.length;
            },
            end(source, ext) {
              const data = buf && len === source.size ? buf.subarray(0, len) : FileReader.from(source).whole(WHOLE_FILE_MAX);
              buf = undefined;
              if (data) return { findings: scan(data, ext), undecided: 0 };
              stats.files++;
              return { findings: [], undecided: 1, reason: `no rule decided: YARA-X needs the file in one buffer, and ${source.size} bytes is over ${WHOLE_FILE_MAX}` };
            },
          };
        },
        stats: () => stats,
      },
    };
  }
  let image = init.program;
  if (!image) {
    const built = buildImage(init.sources ?? [], init.defines);
    if (!built.image) return { errors: built.errors };
    image = built.image;
  }
  return { engine: FastEngine.attach(init, image, t0), errors: [] };
}

/**
 * The fast path compiled from sources straight into objects, without an image (as before images
 * existed): the reference the image tests compare with.
 */
export function createDirectEngine(init: EngineInit): { engine?: YaraEngine; errors: Diagnostic[] } {
  return FastEngine.create(init, performance.now());
}

const GROUP_CACHE = 64;
/** RING3_RULE_GATES=0 verifies every hit, gates or not (for measurements and the tests that compare). */
const RULE_GATES = process.env.RING3_RULE_GATES !== "0";

/** Test-only failpoint (RING3_FAILPOINT=ruletrap:NAME): YARA-X "traps" on any group holding rule NAME. */
const TRAP_FAILPOINT = /^ruletrap:(.+)$/.exec(process.env.RING3_FAILPOINT ?? "")?.[1];

/** A WebAssembly trap, or the errors a trapped wasm-bindgen object gives after one. */
function isTrap(err: unknown): boolean {
  if (err instanceof WebAssembly.RuntimeError) return true;
  return err instanceof Error && /unreachable|memory access out of bounds|recursive use of an object|while it was borrowed/.test(err.message);
}

/**
 * `--engine yara-x` when YARA-X's WASM build traps: the whole set runs in one scanner until it
 * traps on a file; then its rules are suspects, which the retry of that file (on a fresh worker:
 * a trapped instance is unusable) scans one by one, each with the rules it needs, as the fast
 * path's fallback does. A rule that traps alone is named in the file's engine-error and stays
 * alone; the suspects go back to one group once the culprit is named or a file got through them
 * one by one (a group scan costs one call, a rule-by-rule one a call per rule).
 *
 * The marks, per rule: 0 grouped, SUSPECT, ALONE; shared by the scan's workers (EngineInit.trapMemo,
 * or the program image's), else this engine's own (tests from sources).
 */
const SUSPECT = 1;
const ALONE = 2;

class TrapSplitter {
  private attached?: { rules: CompiledRule[]; memo: Int32Array; defines: Record<string, ExternalValue> } | null;
  /** The scanner of the grouped rules when some are alone, by its member list. */
  private grouped?: { key: string; scanner: YaraScanner };
  private readonly alone = new Map<number, YaraScanner>();

  constructor(
    private readonly init: EngineInit,
    private readonly whole: YaraScanner,
    private readonly st: EngineStats,
  ) {}

  /**
   * The rules with their texts and dependencies, and the marks; null when no program can be made.
   * Built only once a trap has to be handled (or the test failpoint is set): a scan that never
   * traps pays nothing.
   */
  private program(): { rules: CompiledRule[]; memo: Int32Array; defines: Record<string, ExternalValue> } | null {
    if (this.attached !== undefined) return this.attached;
    let image = this.init.program;
    try {
      if (!image) image = buildImage(this.init.sources ?? [], this.init.defines).image;
    } catch {
      image = undefined; // (after a trap YARA-X cannot help the build; the retry's worker can)
    }
    if (!image) return (this.attached = null);
    const a = attachImage(image, this.init.defines);
    const n = a.program.rules.length;
    let memo = this.init.trapMemo ?? a.trapMemo;
    if (!memo || memo.length < n) memo = new Int32Array(n);
    // Slots past the last rule were marked by a trap on the whole set before any program existed.
    for (let i = n; i < memo.length; i++) Atomics.store(memo, i, 0);
    return (this.attached = { rules: a.program.rules, memo: memo.subarray(0, n), defines: a.defines });
  }

  scan(data: Uint8Array, ext: FileExternals): Finding[] {
    const shared = this.init.trapMemo;
    const marked = (m: Int32Array) => m.some((x) => x !== 0);
    const p = this.attached ?? (TRAP_FAILPOINT !== undefined || (shared && marked(shared)) ? this.program() : null);
    if (!p || !marked(p.memo)) {
      return this.guard(null, () => {
        if (p) failpoint(p.rules, p.rules.map((r) => r.index));
        return this.whole.scan(data, ext);
      });
    }
    const memo = p.memo;
    const grouped: number[] = [];
    const alone: number[] = [];
    for (const r of p.rules) (Atomics.load(memo, r.index) === 0 ? grouped : alone).push(r.index);
    const found: { index: number; finding: Finding }[] = [];
    if (grouped.length > 0) found.push(...this.guard(grouped, () => this.scanGroup(p, grouped, data, ext)));
    for (const i of alone) found.push(...this.guard([i], () => this.scanAlone(p, i, data, ext)));
    // Every suspect came through alone on this file: the trap was not theirs alone; regroup them.
    for (const i of alone) if (Atomics.load(memo, i) === SUSPECT) Atomics.store(memo, i, 0);
    return found.sort((a, b) => a.index - b.index).map((x) => x.finding);
  }

  /** Runs a scan of `members` (null: the whole set, in its one scanner); a trap marks them. */
  private guard<T>(members: number[] | null, call: () => T): T {
    try {
      return call();
    } catch (err) {
      if (!isTrap(err)) throw err;
      const msg = (err as Error).message.split("\n", 1)[0];
      if (members === null) {
        // Every rule is a suspect: the marks are indexes, so no program is needed to set them.
        const memo = this.attached?.memo ?? this.init.trapMemo;
        if (!memo) throw err;
        for (let i = 0; i < memo.length; i++) if (Atomics.load(memo, i) === 0) Atomics.store(memo, i, SUSPECT);
        throw new Error(`YARA-X trapped on the whole rule set, retried rule by rule (${msg})`);
      }
      const p = this.attached!;
      const names = members.map((i) => `${p.rules[i]!.namespace}:${p.rules[i]!.name}`);
      if (members.length === 1) {
        // The culprit: alone from now on; the other suspects go back to the group.
        for (let i = 0; i < p.memo.length; i++) if (Atomics.load(p.memo, i) === SUSPECT) Atomics.store(p.memo, i, 0);
        Atomics.store(p.memo, members[0]!, ALONE);
        throw new Error(`YARA-X trapped on rule ${names[0]} (${msg})`);
      }
      for (const i of members) if (Atomics.load(p.memo, i) === 0) Atomics.store(p.memo, i, SUSPECT);
      throw new Error(`YARA-X trapped on a group of ${names.length} rules (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}), retried one by one (${msg})`);
    }
  }

  private scanGroup(p: { rules: CompiledRule[]; defines: Record<string, ExternalValue> }, members: number[], data: Uint8Array, ext: FileExternals): { index: number; finding: Finding }[] {
    const key = members.join(",");
    if (this.grouped?.key !== key) {
      this.grouped?.scanner.free();
      this.grouped = undefined;
      this.grouped = { key, scanner: compileRuleGroup(this.init, p.rules, p.defines, withDeps(p.rules, members), this.st) };
    }
    failpoint(p.rules, members);
    this.st.yaraxCalls++;
    return ownFindings(p.rules, members, this.grouped.scanner.scan(data, ext));
  }

  private scanAlone(p: { rules: CompiledRule[]; defines: Record<string, ExternalValue> }, i: number, data: Uint8Array, ext: FileExternals): { index: number; finding: Finding }[] {
    let g = this.alone.get(i);
    if (g) this.alone.delete(i);
    else g = compileRuleGroup(this.init, p.rules, p.defines, withDeps(p.rules, [i]), this.st);
    this.alone.set(i, g); // the map's order is the LRU order
    if (this.alone.size > GROUP_CACHE) {
      const [oldKey, old] = this.alone.entries().next().value as [number, YaraScanner];
      this.alone.delete(oldKey);
      old.free();
    }
    failpoint(p.rules, [i]);
    this.st.yaraxCalls++;
    return ownFindings(p.rules, [i], g.scan(data, ext));
  }
}

/** The test failpoint (RING3_FAILPOINT=ruletrap:NAME): a "trap" on any group holding rule NAME. */
function failpoint(rules: CompiledRule[], members: number[]): void {
  if (TRAP_FAILPOINT !== undefined && members.some((i) => rules[i]!.name === TRAP_FAILPOINT)) throw new WebAssembly.RuntimeError("unreachable (RING3_FAILPOINT)");
}

/** The members and every rule they need (referenced rules, their namespace's global rules), ascending. */
function withDeps(rules: CompiledRule[], members: number[]): number[] {
  const all = new Set<number>();
  for (const i of members) {
    all.add(i);
    for (const d of rules[i]!.deps) all.add(d);
  }
  return [...all].sort((a, b) => a - b);
}

/** A group's findings for its members only (the rules they need are decided in their own group). */
function ownFindings(rules: CompiledRule[], members: number[], findings: Finding[]): { index: number; finding: Finding }[] {
  const byName = new Map<string, number>();
  for (const i of members) byName.set(`${rules[i]!.namespace}\u0000${rules[i]!.name}`, i);
  const out: { index: number; finding: Finding }[] = [];
  for (const f of findings) {
    const i = byName.get(`${f.namespace}\u0000${f.rule}`);
    if (i !== undefined) out.push({ index: i, finding: f });
  }
  return out;
}

/** One YARA-X scanner over some rules of a program (their own texts, in order, by namespace). */
function compileRuleGroup(init: EngineInit, rules: CompiledRule[], defines: Record<string, ExternalValue>, ordered: number[], st: EngineStats): YaraScanner {
  initYaraX(init.wasm); // once per thread; a no-op after the first
  st.groupsCompiled++;
  const compiler = new Compiler();
  try {
    for (const [k, v] of Object.entries(defines)) compiler.defineGlobal(k, v);
    // Rules keep their namespace and their order (a rule may only refer to earlier ones).
    const byNs = new Map<string, CompiledRule[]>();
    for (const i of ordered) {
      const r = rules[i]!;
      let list = byNs.get(r.namespace);
      if (!list) byNs.set(r.namespace, (list = []));
      list.push(r);
    }
    for (const [ns, list] of byNs) {
      compiler.newNamespace(ns);
      const imports = new Set<string>();
      for (const r of list) for (const m of r.imports) imports.add(m);
      const text = [...imports].map((m) => `import "${m}"\n`).join("") + list.map((r) => r.text).join("\n");
      try {
        compiler.addSource(text);
      } catch (err) {
        const msg = compiler.errors.at(-1) ?? String(err);
        throw new Error(`YARA-X rejects rules ring3 accepted (${list.map((r) => r.name).join(", ")}): ${msg.split("\n", 1)[0]}`);
      }
    }
    return new YaraScanner(compiler.build(), init.perFileExternals, init.timeoutMs);
  } finally {
    compiler.free();
  }
}

class FastEngine implements YaraEngine {
  /** YARA-X scanners over small rule groups, by the group's rule indexes; Map order is LRU order. */
  private readonly groups = new Map<string, YaraScanner>();
  private readonly st: EngineStats;
  /** The externals the conditions see: the defines, with the per-file ones set before each file. */
  private readonly externals: Record<string, string | number | boolean>;
  /** The matcher's window buffer, lent from one file to the next. */
  private readonly streamPool: StreamPool = { buf: new Uint8Array(0) };
  private streamBusy = false;
  /** The rules' gates (gates.ts), and the shut ones of the file scanned whole now. */
  private readonly gates: FileGates | null;
  private readonly shut: Uint8Array;
  /** The rules' outcomes on the file being finished, filled afresh for each (decide reads them at once). */
  private readonly outcomes: Tri[];

  private constructor(
    private readonly init: EngineInit,
    private readonly program: Program,
    private readonly patterns: PatternSet,
    private readonly modules: Record<string, ModuleFactory>,
    /** Patterns YARA-X anchors (used only as `$a at <constant>`): it reports their match there only. */
    private readonly anchors: Map<number, number>,
    /** Per pattern: its identifier and whether it is private. */
    private readonly patternIds: string[],
    private readonly patternPrivate: Uint8Array,
    /** The external variables' values (the conditions' defaults, and YARA-X's globals). */
    private readonly defines: Record<string, ExternalValue>,
    /** See Attached.trapMemo. */
    private readonly trapMemo?: Int32Array,
    ruleGates?: readonly (RuleGate | undefined)[],
  ) {
    this.st = emptyStats("auto");
    this.st.rules = program.rules.length;
    this.st.patterns = patterns.patterns;
    this.st.atoms = patterns.atoms;
    this.externals = { ...defines };
    this.gates = null;
    if (ruleGates && RULE_GATES) {
      const owner = new Int32Array(patterns.patterns);
      for (const r of program.rules) for (const p of r.patterns) owner[p] = r.index;
      this.gates = patterns.useGates(ruleGates, (p) => owner[p]!);
    }
    this.shut = new Uint8Array(this.gates?.size ?? 1);
    this.outcomes = new Array<Tri>(program.rules.length).fill(false);
  }

  static attach(init: EngineInit, image: Uint8Array, t0: number): YaraEngine {
    const a = attachImage(image, init.defines);
    const set = patternSetOf(a.tables, a.variant);
    const engine = new FastEngine(init, a.program, set, MODULES, a.anchors, a.patternIds, a.patternPrivate, a.defines, a.trapMemo, a.gates);
    engine.st.loadMs = performance.now() - t0;
    return engine;
  }

  static create(init: EngineInit, t0: number): { engine?: YaraEngine; errors: Diagnostic[] } {
    const errors: Diagnostic[] = [];
    const parsed = [];
    for (const src of init.sources ?? []) {
      const out = parse(src.text, { file: src.name, namespace: src.namespace, include: includer(src) });
      for (const e of out.errors) errors.push(diag(e.file, e.line, e.column, e.message));
      if (out.source) parsed.push(out.source);
    }
    if (errors.length > 0) return { errors };
    const compiled = compileProgram(parsed, { externals: init.defines });
    for (const e of compiled.errors) errors.push(diag(e.file, e.line, e.column, e.message));
    if (!compiled.program || errors.length > 0) return { errors };
    const { set } = compilePatterns(compiled.program.decls);
    const decls = compiled.program.decls;
    const ids = decls.map((d) => d.id);
    const priv = Uint8Array.from(decls, (d) => (d.modifiers.private ? 1 : 0));
    const engine = new FastEngine(init, compiled.program, set, MODULES, anchoredPatterns(parsed, compiled.program), ids, priv, init.defines, undefined, compiled.program.gates);
    engine.st.loadMs = performance.now() - t0;
    return { engine, errors: [] };
  }

  stats(): EngineStats {
    return this.st;
  }

  scan(data: Uint8Array, ext: FileExternals): Finding[] {
    this.st.files++;
    const m0 = performance.now();
    const matches = this.patterns.scan(data, this.gates?.mark(data.length, data, this.shut));
    this.st.matchMs += performance.now() - m0;
    // A buffer's rules are always decided: YARA-X takes the bytes as they are.
    return this.finish(matches, FileReader.of(data), ext).findings;
  }

  begin(size: number): FileScan {
    // The pooled window buffer serves one file at a time; a file begun while another is open
    // gets a buffer of its own.
    const pool = this.streamBusy ? undefined : this.streamPool;
    this.streamBusy ||= pool !== undefined;
    // This file's shut gates, marked from its first chunk (before the matcher sees any byte).
    const shut = this.gates ? new Uint8Array(this.gates.size) : undefined;
    let marked = false;
    const stream = this.patterns.stream(undefined, pool, shut);
    let matchMs = 0;
    return {
      feed: (chunk) => {
        const m0 = performance.now();
        if (!marked && shut) this.gates!.mark(size, chunk, shut);
        marked = true;
        stream.feed(chunk);
        matchMs += performance.now() - m0;
      },
      end: (source, ext) => {
        this.st.files++;
        const m0 = performance.now();
        const matches = stream.end();
        if (pool) this.streamBusy = false;
        this.st.matchMs += matchMs + performance.now() - m0;
        if (stream.position !== source.size) throw Object.assign(new Error(`the file changed while being scanned: ${stream.position} bytes read, ${source.size} now`), { code: "ECHANGED" });
        // A file that fit in one matcher window is in memory already: the conditions read it there.
        const held = stream.whole();
        return this.finish(matches, held ? FileReader.of(held) : FileReader.from(source), ext);
      },
    };
  }

  /**
   * The conditions over the file's matches, read through `file`; the rules they leave UNKNOWN go
   * to YARA-X with the whole file when it is at most WHOLE_FILE_MAX bytes, else stay undecided.
   */
  private finish(matches: MatchTable, file: FileReader, ext: FileExternals): { findings: Finding[]; undecided: number; reason?: string } {
    const st = this.st;
    const e0 = performance.now();
    for (const k of this.init.perFileExternals) this.externals[k] = ext[k];
    const outcome = this.program.evaluate({ source: file, matches, externals: this.externals, modules: this.modules, into: this.outcomes });
    st.evalMs += performance.now() - e0;

    const rules = this.program.rules;
    const { found, unknown } = this.decide(outcome, matches);
    st.decided += rules.length - unknown.length;
    let undecided = 0;
    let reason: string | undefined;
    if (unknown.length > 0) {
      const y0 = performance.now();
      const data = file.whole(WHOLE_FILE_MAX);
      if (data) {
        st.deferred += unknown.length;
        st.yaraxFiles++;
        for (const f of this.fallback(unknown, data, ext)) found.push(f);
      } else {
        undecided = unknown.length;
        reason = `${undecided} rule(s) left to YARA-X, which needs the file in one buffer: ${file.size} bytes is over ${WHOLE_FILE_MAX}`;
      }
      st.yaraxMs += performance.now() - y0;
    }
    found.sort((a, b) => a.index - b.index);
    return { findings: found.map((f) => f.finding), undecided, ...(reason ? { reason } : {}) };
  }

  /** True rules with every match known are findings; UNKNOWN ones (or true with incomplete matches) are for YARA-X. */
  private decide(outcome: Tri[], matches: MatchTable): { found: { index: number; finding: Finding }[]; unknown: number[] } {
    const rules = this.program.rules;
    const found: { index: number; finding: Finding }[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < outcome.length; i++) {
      // Nearly every rule is false on a file: that test first, before the rule object is read.
      const o = outcome[i];
      if (o === false) continue;
      const r = rules[i]!;
      if (r.private) continue;
      if (o === true) {
        // True, but some of its strings' matches are not all known: YARA-X lists them exactly.
        if (r.patterns.some((p) => matches.get(p)?.complete === false)) unknown.push(i);
        else found.push({ index: i, finding: this.finding(r, matches) });
      } else if (o === UNKNOWN) unknown.push(i);
    }
    return { found, unknown };
  }

  /** A rule the fast path found true, as YARA-X would report it (strings capped, private ones hidden). */
  private finding(r: CompiledRule, matches: MatchTable): Finding {
    const m: YaraXMatch = {
      identifier: r.name,
      namespace: r.namespace,
      isPrivate: r.private,
      tags: r.tags,
      metadata: r.meta.map((x) => ({ identifier: x.key, value: x.value })),
      patterns: r.patterns.map((p) => {
        const pm = matches.get(p);
        const list = [];
        const anchor = this.anchors.get(p);
        if (pm)
          for (let i = 0; i < pm.offsets.length; i++) {
            if (anchor !== undefined && pm.offsets[i] !== anchor) continue;
            list.push({ offset: pm.offsets[i]!, length: pm.lengths[i]! });
          }
        return { identifier: this.patternIds[p]!, isPrivate: this.patternPrivate[p] === 1, matches: list };
      }),
    };
    return toFinding(m);
  }

  /**
   * The rules the fast path left UNKNOWN, decided by YARA-X: one group holds them and every rule
   * they need (referenced rules, their namespace's global rules), compiled once per distinct group.
   */
  private fallback(unknown: number[], data: Uint8Array, ext: FileExternals): { index: number; finding: Finding }[] {
    const memo = this.trapMemo;
    // Rules that were in a group YARA-X trapped on (on any worker) go one by one.
    const alone = memo ? unknown.filter((i) => Atomics.load(memo, i) !== 0) : [];
    const grouped = alone.length > 0 ? unknown.filter((i) => Atomics.load(memo!, i) === 0) : unknown;
    const out = grouped.length > 0 ? this.fallbackGroup(grouped, data, ext) : [];
    for (const i of alone) out.push(...this.fallbackGroup([i], data, ext));
    return out;
  }

  private fallbackGroup(unknown: number[], data: Uint8Array, ext: FileExternals): { index: number; finding: Finding }[] {
    try {
      return this.fallbackScan(unknown, data, ext);
    } catch (err) {
      if (!isTrap(err)) throw err;
      // This YARA-X instance is unusable now (yarax.ts): the worker retires, the pool retries the
      // file on a fresh one, where these rules go one by one; a rule that traps alone is named.
      const rules = this.program.rules;
      if (this.trapMemo) for (const i of unknown) Atomics.store(this.trapMemo, i, 1);
      const names = unknown.map((i) => `${rules[i]!.namespace}:${rules[i]!.name}`);
      const msg = (err as Error).message.split("\n", 1)[0];
      throw new Error(
        names.length === 1
          ? `YARA-X trapped on rule ${names[0]} (${msg})`
          : `YARA-X trapped on a group of ${names.length} rules (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}), retried one by one (${msg})`,
      );
    }
  }

  private fallbackScan(unknown: number[], data: Uint8Array, ext: FileExternals): { index: number; finding: Finding }[] {
    const rules = this.program.rules;
    const members = new Set<number>();
    for (const i of unknown) {
      members.add(i);
      for (const d of rules[i]!.deps) members.add(d);
    }
    const ordered = [...members].sort((a, b) => a - b);
    const key = ordered.join(",");
    let g = this.groups.get(key);
    if (g) {
      this.groups.delete(key); // re-insert: the map's order is the LRU order
      this.groups.set(key, g);
    } else {
      g = this.compileGroup(ordered);
      this.groups.set(key, g);
      if (this.groups.size > GROUP_CACHE) {
        const [oldKey, old] = this.groups.entries().next().value as [string, YaraScanner];
        this.groups.delete(oldKey);
        old.free();
      }
    }
    this.st.yaraxCalls++;
    if (TRAP_FAILPOINT !== undefined && ordered.some((i) => rules[i]!.name === TRAP_FAILPOINT)) throw new WebAssembly.RuntimeError("unreachable (RING3_FAILPOINT)");
    // The group's other rules (dependencies) were decided here already: keep the unknown ones.
    const byName = new Map<string, number>();
    for (const i of unknown) byName.set(`${rules[i]!.namespace}\u0000${rules[i]!.name}`, i);
    const out: { index: number; finding: Finding }[] = [];
    for (const f of g.scan(data, ext)) {
      const i = byName.get(`${f.namespace}\u0000${f.rule}`);
      if (i !== undefined) out.push({ index: i, finding: f });
    }
    return out;
  }

  private compileGroup(ordered: number[]): YaraScanner {
    return compileRuleGroup(this.init, this.program.rules, this.defines, ordered, this.st);
  }
}

