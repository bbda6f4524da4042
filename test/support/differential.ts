// Differential testing of the YARA fast path: the same rules and files through `--engine auto`
// (parser, matcher, three-valued evaluator, YARA-X only for what stays unknown) and through
// `--engine yara-x` (every rule in YARA-X, the oracle). Both must report the same rules per file
// and the same string offsets. Used by test/unit/yara-differential.test.ts (a fast subset in
// `make test`) and test/conformance/sigbase.conf.ts (`make conformance`: all of signature-base).
//
// A disagreement fails, except one that `explain` attributes to a YARA-X divergence documented in
// docs/yara-x-differences.md, with evidence from that very file: YARA-X given the rule alone and
// native YARA 4 (`yara`; when it is not installed nothing is explained) both give the fast path's
// answer.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HexToken, Rule, SourceFile, StringDecl } from "../../src/engines/yara/ast";
import { createEngine, type YaraEngine } from "../../src/engines/yara/engine";
import { parse } from "../../src/engines/yara/parser";
import { FILE_EXTERNALS, initYaraX, type FileExternals, type RuleSource } from "../../src/engines/yara/yarax";
import { MAX_STRING_MATCHES, type Finding } from "../../src/types";

export const ROOT = path.resolve(__dirname, "../..");
export const SIGBASE = path.resolve(ROOT, "../shared/rulesets/signature-base/yara");

export function initEngines(): void {
  initYaraX(fs.readFileSync(path.join(ROOT, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")));
}

/** signature-base's rule files, sorted; fails loudly when ../shared is not beside the checkout. */
export function sigbaseFiles(): string[] {
  if (!fs.existsSync(SIGBASE)) throw new Error(`signature-base not found at ${SIGBASE}: the differential tests need ../shared beside the checkout`);
  return fs
    .readdirSync(SIGBASE)
    .filter((f) => /\.yara?$/.test(f))
    .sort()
    .map((f) => path.join(SIGBASE, f));
}

export function sources(files: string[], namespace = "default"): RuleSource[] {
  return files.map((f) => ({ name: f, text: fs.readFileSync(f, "utf8"), namespace }));
}

export function engines(srcs: RuleSource[]): { auto: YaraEngine; oracle: YaraEngine } {
  const defines: Record<string, string> = {};
  for (const k of FILE_EXTERNALS) defines[k] = "";
  const common = { sources: srcs, defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0 };
  const a = createEngine({ ...common, mode: "auto" });
  if (!a.engine) throw new Error(`auto engine: ${a.errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join("\n")}`);
  const o = createEngine({ ...common, mode: "yara-x" });
  if (!o.engine) throw new Error(`yara-x engine: ${o.errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join("\n")}`);
  return { auto: a.engine, oracle: o.engine };
}

export function externalsFor(name: string): FileExternals {
  const base = path.basename(name);
  const extension = path.extname(base).toLowerCase();
  return { filename: base, filepath: `/scan/${base}`, extension, filetype: "", owner: "root" };
}

/** A finding reduced to what both engines must agree on: the rule and every string offset. */
export function signature(f: Finding): string {
  const strings = (f.strings ?? []).map((s) => `${s.id}@${s.offset}+${s.length}`).sort();
  return `${f.namespace}:${f.rule}${strings.length ? ` [${strings.join(" ")}]` : ""}`;
}

export interface Disagreement {
  file: string;
  auto: string[];
  oracle: string[];
}

export function compare(e: { auto: YaraEngine; oracle: YaraEngine }, name: string, data: Uint8Array): Disagreement | undefined {
  const ext = externalsFor(name);
  const a = e.auto.scan(data, ext).map(signature).sort();
  const o = e.oracle.scan(data, ext).map(signature).sort();
  if (a.join("\n") === o.join("\n")) return undefined;
  return { file: name, auto: a.filter((x) => !o.includes(x)), oracle: o.filter((x) => !a.includes(x)) };
}

/** compare(), plus how many rule evaluations of `auto` it took were decided here and deferred to YARA-X. */
export function compareCounted(e: { auto: YaraEngine; oracle: YaraEngine }, name: string, data: Uint8Array): { disagreement: Disagreement | undefined; decided: number; deferred: number } {
  const before = { ...e.auto.stats() }; // stats() is the live counter object
  const disagreement = compare(e, name, data);
  const after = e.auto.stats();
  return { disagreement, decided: after.decided - before.decided, deferred: after.deferred - before.deferred };
}

/**
 * Files made to hit rules, from the rules' own strings: for each rule, its text and hex strings
 * rendered as bytes a match would contain (modifiers applied, wildcards filled, the shortest jump),
 * separated by filler, once as they are and once after an "MZ" header.
 */
export function filesFromRules(srcs: RuleSource[], perRule = 2): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  for (const s of srcs) {
    const parsed = parse(s.text, { file: s.name, namespace: s.namespace });
    if (!parsed.source) continue;
    for (const rule of parsed.source.rules) {
      const parts = rule.strings.map(render).filter((b): b is Uint8Array => b !== undefined);
      if (parts.length === 0) continue;
      const body = join(parts, Buffer.from("\n filler \n"));
      out.push({ name: `${rule.name}.bin`, data: body });
      if (perRule > 1) out.push({ name: `${rule.name}.exe`, data: Buffer.concat([Buffer.from("MZ\x90\x00"), Buffer.alloc(60), body]) });
    }
  }
  return out;
}

function join(parts: Uint8Array[], sep: Uint8Array): Uint8Array {
  const list: Uint8Array[] = [];
  for (const p of parts) list.push(p, sep);
  return Buffer.concat(list);
}

function render(d: StringDecl): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (d.kind === "text") bytes = d.value;
  else if (d.kind === "hex") bytes = Uint8Array.from(hexBytes(d.tokens));
  else return literalOfRegex(d.source);
  const m = d.modifiers;
  if (m.base64 || m.base64wide) {
    const b64 = Buffer.from(Buffer.from(bytes).toString("base64"));
    bytes = m.base64wide && !m.base64 ? widen(b64) : b64;
    return bytes;
  }
  if (m.xor) {
    const key = m.xor.min === 0 && m.xor.max > 0 ? 1 : m.xor.min;
    bytes = Uint8Array.from(m.wide && !m.ascii ? widen(bytes) : bytes, (b) => b ^ key);
    return bytes;
  }
  if (m.wide && !m.ascii) bytes = widen(bytes);
  return bytes;
}

function widen(b: Uint8Array): Uint8Array {
  const w = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) w[i * 2] = b[i]!;
  return w;
}

function hexBytes(tokens: HexToken[]): number[] {
  const out: number[] = [];
  for (const t of tokens) {
    if (t.type === "byte") out.push(t.not ? (t.value ^ 0xff) & 0xff : t.value & t.mask);
    else if (t.type === "jump") for (let i = 0; i < t.min; i++) out.push(0x41);
    else out.push(...hexBytes(t.alternatives[0] ?? []));
  }
  return out;
}

/** The literal text of a simple regex (escapes of punctuation undone), or nothing for others. */
function literalOfRegex(src: string): Uint8Array | undefined {
  const s = src.replace(/^\^/, "").replace(/\$$/, "");
  if (/[[\](){}|*+?.]/.test(s.replace(/\\./g, ""))) return undefined;
  if (/\\[a-zA-Z0-9]/.test(s)) return undefined;
  return Buffer.from(s.replace(/\\(.)/g, "$1"), "latin1");
}

// ---------------------------------------------------------------------------------------------
// Documented YARA-X divergences (docs/yara-x-differences.md)

/**
 * `yarax-shared-pattern-gate`: YARA-X 1.20 gives one pattern id to identical patterns of different
 * rules, and when the rule that declared it first cannot match this file because of a condition
 * that needs no pattern (`uint16(0) == 0x5a4d and $a`, `filesize > 100 and $a`), the pattern's
 * matches are lost for every later rule that shares it: those rules lose strings, or do not match
 * at all. The same rule alone in YARA-X, and YARA 4 with the whole set, report them.
 */
export const SHARED_PATTERN_GATE = "yarax-shared-pattern-gate";
export const DOCUMENTED_DIVERGENCES = [SHARED_PATTERN_GATE] as const;

export interface Explained {
  divergence: (typeof DOCUMENTED_DIVERGENCES)[number];
  rule: string;
  /** What was checked, for the log: the earlier rules that share the lost strings. */
  evidence: string;
}

interface RuleEntry {
  rule: Rule;
  source: SourceFile;
  /** Declaration order over all sources (YARA-X assigns pattern ids in this order). */
  order: number;
}

/** The parsed rule set, and a cache of native YARA 4's compiled rules, for `explain`. */
export interface DivergenceContext {
  srcs: RuleSource[];
  rules: Map<string, RuleEntry>;
  /** Declaration key of each string -> order of the first rule that declares it. */
  firstDeclared: Map<string, number>;
  yarac?: string;
}

export function divergenceContext(srcs: RuleSource[]): DivergenceContext {
  const rules = new Map<string, RuleEntry>();
  const firstDeclared = new Map<string, number>();
  let order = 0;
  for (const s of srcs) {
    const parsed = parse(s.text, { file: s.name, namespace: s.namespace });
    if (!parsed.source) continue;
    for (const rule of parsed.source.rules) {
      rules.set(`${rule.namespace}:${rule.name}`, { rule, source: parsed.source, order });
      for (const d of rule.strings) {
        const k = declKey(d);
        if (!firstDeclared.has(k)) firstDeclared.set(k, order);
      }
      order++;
    }
  }
  return { srcs, rules, firstDeclared };
}

/** Two declarations with the same key are one pattern to YARA-X (same bytes, same modifiers). */
export function declKey(d: StringDecl): string {
  const m = JSON.stringify(d.modifiers);
  if (d.kind === "text") return `text:${Buffer.from(d.value).toString("hex")}:${m}`;
  if (d.kind === "hex") return `hex:${JSON.stringify(d.tokens)}:${m}`;
  return `regex:${d.source}:${d.nocase}:${d.dotAll}:${m}`;
}

/**
 * Explains every rule of a disagreement by a documented divergence, or returns undefined (the
 * disagreement then fails). For SHARED_PATTERN_GATE, per rule R that differs:
 *   - the fast path reports R, and YARA-X's strings for R (if it reports R) are a subset of them;
 *   - a string YARA-X lost is declared identically by a rule before R;
 *   - YARA-X with R alone (plus the rules it references and the namespace's global rules) gives
 *     exactly the fast path's answer for R;
 *   - native YARA 4 with the whole set gives exactly the fast path's answer for R.
 */
export function explain(ctx: DivergenceContext, d: Disagreement, data: Uint8Array): Explained[] | undefined {
  if (!nativeYaraInstalled()) return undefined;
  const byRule = (sigs: string[]) => new Map(sigs.map((s) => [s.split(" ", 1)[0]!, s]));
  const auto = byRule(d.auto);
  const oracle = byRule(d.oracle);
  let native: Map<string, string> | undefined;
  const out: Explained[] = [];
  for (const key of new Set([...auto.keys(), ...oracle.keys()])) {
    const a = auto.get(key);
    const entry = ctx.rules.get(key);
    if (a === undefined || entry === undefined) return undefined;
    const aStrings = stringsOf(a);
    const oStrings = oracle.has(key) ? stringsOf(oracle.get(key)!) : [];
    if (!oStrings.every((s) => aStrings.includes(s))) return undefined;
    const lostIds = new Set(aStrings.filter((s) => !oStrings.includes(s)).map((s) => s.slice(0, s.indexOf("@"))));
    const sharers = new Set<string>();
    for (const decl of entry.rule.strings) {
      if (!lostIds.has(decl.id)) continue;
      const first = ctx.firstDeclared.get(declKey(decl));
      if (first !== undefined && first < entry.order) sharers.add(ruleAt(ctx, first));
    }
    if (sharers.size === 0) return undefined;
    if (isolatedSignature(ctx, entry, d.file, data) !== a) return undefined;
    try {
      native ??= nativeSignatures(ctx, d.file, data);
    } catch {
      return undefined; // yara could not compile the set or scan the file: no confirmation
    }
    if (native.get(key) !== a) return undefined;
    out.push({ divergence: SHARED_PATTERN_GATE, rule: key, evidence: `strings shared with earlier ${[...sharers].join(", ")}; YARA-X alone and YARA 4 agree with the fast path` });
  }
  return out;
}

function stringsOf(sig: string): string[] {
  const m = /\[(.*)\]$/.exec(sig);
  return m ? m[1]!.split(" ") : [];
}

function ruleAt(ctx: DivergenceContext, order: number): string {
  for (const [k, e] of ctx.rules) if (e.order === order) return k;
  return `#${order}`;
}

/** R with what it needs and nothing else: its imports, the namespace's global rules, the rules it references. */
export function isolatedSource(ctx: DivergenceContext, entry: RuleEntry): RuleSource {
  const ns = entry.rule.namespace;
  const inNs = [...ctx.rules.values()].filter((e) => e.rule.namespace === ns);
  const keep = new Set<RuleEntry>();
  const visit = (e: RuleEntry) => {
    if (keep.has(e)) return;
    keep.add(e);
    for (const name of referencedNames(e.rule.condition)) {
      for (const o of inNs) if (name.endsWith("*") ? o.rule.name.startsWith(name.slice(0, -1)) : o.rule.name === name) visit(o);
    }
  };
  for (const e of inNs) if (e.rule.global && e.order < entry.order) visit(e);
  visit(entry);
  const imports = new Set<string>();
  for (const e of keep) for (const m of e.source.imports) imports.add(m);
  const rules = [...keep].sort((x, y) => x.order - y.order).map((e) => e.rule.text);
  return { name: `isolated:${entry.rule.name}`, namespace: ns, text: [...[...imports].map((m) => `import "${m}"`), ...rules].join("\n") };
}

/** Identifiers a condition names (rule references among them) and rule-set items (`Prefix*`). */
function referencedNames(e: unknown, out: string[] = []): string[] {
  if (Array.isArray(e)) {
    for (const x of e) referencedNames(x, out);
  } else if (e !== null && typeof e === "object" && !(e instanceof Uint8Array)) {
    const o = e as Record<string, unknown>;
    if (o.type === "ident" && typeof o.name === "string") out.push(o.name);
    if (o.kind === "rules" && Array.isArray(o.items)) for (const it of o.items as { name: string; wildcard: boolean }[]) out.push(it.wildcard ? `${it.name}*` : it.name);
    for (const v of Object.values(o)) referencedNames(v, out);
  }
  return out;
}

function isolatedSignature(ctx: DivergenceContext, entry: RuleEntry, name: string, data: Uint8Array): string | undefined {
  const { oracle } = engines([isolatedSource(ctx, entry)]);
  const key = `${entry.rule.namespace}:${entry.rule.name}`;
  return oracle.scan(data, externalsFor(name)).map(signature).find((s) => s.split(" ", 1)[0] === key);
}

let yaraInstalled: boolean | undefined;
/** Tests: act as if `yara` were missing (false) or look again (undefined). */
export function assumeNativeYara(installed: boolean | undefined): void {
  yaraInstalled = installed;
}
export function nativeYaraInstalled(): boolean {
  if (yaraInstalled === undefined) {
    try {
      execFileSync("yara", ["--version"], { stdio: "pipe" });
      yaraInstalled = true;
    } catch {
      yaraInstalled = false;
    }
  }
  return yaraInstalled;
}

/**
 * Native YARA 4 over the whole rule set (compiled once per context with `yarac`), on `data` with
 * the same externals: each matching rule as `signature()` writes it (yara prints no private
 * strings or rules; at most MAX_STRING_MATCHES offsets per named string, as ring3 reports).
 */
export function nativeSignatures(ctx: DivergenceContext, name: string, data: Uint8Array): Map<string, string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-yara4-"));
  try {
    if (!ctx.yarac || !fs.existsSync(ctx.yarac)) {
      const h = createHash("sha256");
      for (const s of ctx.srcs) h.update(`${s.namespace}\0${s.name}\0${s.text}\0`);
      const out = path.join(os.tmpdir(), `ring3-yarac-${h.digest("hex").slice(0, 16)}.yarc`);
      if (!fs.existsSync(out)) {
        const args = ["-w", ...FILE_EXTERNALS.flatMap((k) => ["-d", `${k}=`])];
        ctx.srcs.forEach((s, i) => {
          const f = path.join(tmp, `${i}.yar`);
          fs.writeFileSync(f, s.text);
          args.push(`${s.namespace}:${f}`);
        });
        execFileSync("yarac", [...args, `${out}.part`], { stdio: "pipe" });
        fs.renameSync(`${out}.part`, out);
      }
      ctx.yarac = out;
    }
    const target = path.join(tmp, "data");
    fs.writeFileSync(target, data);
    const ext = externalsFor(name);
    const defs = FILE_EXTERNALS.flatMap((k) => ["-d", `${k}=${ext[k]}`]);
    const text = execFileSync("yara", ["-C", "-w", "-s", "-L", "-e", ...defs, ctx.yarac, target], { stdio: "pipe", maxBuffer: 1 << 28 }).toString("latin1");
    const found = new Map<string, string>();
    let rule: string | undefined;
    let strings: Map<string, { offset: number; length: number }[]> = new Map();
    const flush = () => {
      if (rule === undefined) return;
      const list: string[] = [];
      // ring3 caps each declared string; yara prints every anonymous string as "$", so those
      // are left uncapped (a mismatch then only fails, never explains).
      for (const [id, ms] of strings) {
        const shown = id === "$" ? ms : ms.sort((x, y) => x.offset - y.offset).slice(0, MAX_STRING_MATCHES);
        for (const m of shown) list.push(`${id}@${m.offset}+${m.length}`);
      }
      list.sort();
      found.set(rule, `${rule}${list.length ? ` [${list.join(" ")}]` : ""}`);
    };
    for (const line of text.split("\n")) {
      const m = /^0x([0-9a-f]+):(\d+):(\$\w*):/.exec(line);
      if (m) {
        const l = strings.get(m[3]!) ?? [];
        l.push({ offset: parseInt(m[1]!, 16), length: Number(m[2]) });
        strings.set(m[3]!, l);
        continue;
      }
      const h = /^(\S+) (.*)$/.exec(line);
      if (h && h[2] === target) {
        flush();
        rule = h[1]!;
        strings = new Map();
      }
    }
    flush();
    return found;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
