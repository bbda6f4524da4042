// A compiled rule program as one flat image: the matcher's tables (strings/ PatternTables), the
// condition plan (which rules run without a hit), each rule's metadata, patterns, references and
// source text. Built once per scan (or read from a compiled rule file, compiled.ts); each worker
// attaches to the same bytes (a SharedArrayBuffer) through typed-array views, parsing nothing up
// front: a rule's condition is compiled from its text the first time it runs on a file, and a
// pattern's variant (regex, base64) is rebuilt from its declaration on its first hit.
import type { Expr, Rule, SourceFile, StringDecl } from "./ast";
import { assembleProgram, compileProgram, computeDeps, conditionCompiler, type CompiledRule, type HeaderGuard, type Program, type ProgramPlan } from "./eval";
import type { Fn } from "./eval/compile";
import { deferFailing, deferredRule, type DeferredRule } from "./deferred";
import type { RuleGate } from "./gates";
import { allTexts, includer } from "./includes";
import { parse } from "./parser";
import { atomTableOf, compilePatternTables, type PatternTables } from "./strings";
import { variantsOf, type Variant } from "./strings/variants";
import { FILE_EXTERNALS, parseDiagnostic, type Diagnostic, type ExternalValue, type FileExternals, type RuleSource } from "./yarax";

/** Bumped whenever the layout or the meaning of any part changes. */
export const IMAGE_FORMAT = 1;

type ArrayKind = "i32" | "u8";
type Typed = Int32Array | Uint8Array;

/**
 * A rule in the image's rule list: [name, namespace, flags, tags, (unused), file, line, column,
 * imports, first pattern, pattern count, refs]. Its metadata is apart (metaJson, read per rule when
 * a finding needs it), as is its text.
 */
type RuleRow = [string, string, number, string[], 0, number, number, number, number, number, number, number[]];
type MetaPairs = [string, string | number | boolean][];

/**
 * The rule list is stored apart from ImageMeta, so that the main thread reads none of it and
 * merging renumbers typed arrays and joins JSON arrays as text: the strings as JSON arrays
 * (`rulesJson`: [name, namespace, tags] per rule; `filesJson`, `importsJson`, `patternIdsJson`),
 * the numbers per rule as Int32Arrays (RULE_INTS), each rule's references flat (refsOff, refs).
 */
const RULE_JSON = ["rulesJson", "filesJson", "importsJson", "patternIdsJson"] as const;
const RULE_INTS = ["rFlags", "rFile", "rLine", "rCol", "rImports", "rFirst", "rCount"] as const;

/** What decode() gives: the stored meta, and with `rules`, the rule list read back. */
interface ImageMeta extends StoredMeta {
  rules: RuleRow[];
  files: string[];
  imports: string[][];
  patternIds: string[];
}

interface StoredMeta {
  format: number;
  arrays: Record<string, [ArrayKind, number, number]>;
  patterns: number;
  atoms: number;
  /** Rule and file counts (the lists are in the arrays), and the namespaces used. */
  ruleCount: number;
  fileCount: number;
  importCount: number;
  namespaces: string[];
  always: number[];
  guarded: { size: 1 | 2 | 4; signed: boolean; be: boolean; key: string; offset: string; rules: [string, number[]][] }[];
  slotCount: number;
  externalNames: string[];
  defines: Record<string, ExternalValue>;
  moduleNames: string[];
  /** The LOKI file externals some rule mentions (only those are set per file). */
  fileExternals: (keyof FileExternals)[];
  /** Rule declarations counted in the sources (reports' yaraRules, as for sources). */
  yaraRules: number;
  /** The rule files compiled, with their namespaces. */
  sources: { name: string; namespace: string }[];
  /** Rules left to YARA-X on every file (deferred.ts); absent in older images. */
  deferred?: DeferredRule[];
}

/** Rule flag: its condition is YARA-X's alone (deferred.ts); its text is not for ring3's parser. */
const DEFERRED = 4;

/** Counts rule declarations in YARA source (for --version and reports; the compiler is the authority). */
export function countRules(text: string | RuleSource): number {
  if (typeof text !== "string") return allTexts(text).reduce((n, t) => n + countRules(t), 0);
  return (text.match(/^\s*(?:(?:private|global)\s+)*rule\s+\w+/gm) ?? []).length;
}

/** The file externals some rule mentions: only those are set per file (each set costs, see yarax.ts). */
export function referencedExternals(sources: RuleSource[], candidates: readonly (keyof FileExternals)[]): (keyof FileExternals)[] {
  return candidates.filter((k) => sources.some((s) => allTexts(s).some((t) => new RegExp(`\\b${k}\\b`).test(t))));
}

// ---------------------------------------------------------------------------------------------
// Layout: u32 format, u32 JSON length, the JSON (ImageMeta), padding to 8, then the arrays, each
// at an offset that is a multiple of 8.

/** `shared`: the image in a SharedArrayBuffer (what workers attach to). */
function encode(meta: Omit<StoredMeta, "arrays">, arrays: Record<string, Typed>, shared = false): Uint8Array {
  const table: Record<string, [ArrayKind, number, number]> = {};
  let at = 0;
  for (const [name, a] of Object.entries(arrays)) {
    table[name] = [a instanceof Int32Array ? "i32" : "u8", at, a.length];
    at += (a.byteLength + 7) & ~7;
  }
  const json = Buffer.from(JSON.stringify({ ...meta, arrays: table }), "utf8");
  const start = (8 + json.length + 7) & ~7;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(start + at) : new ArrayBuffer(start + at));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, IMAGE_FORMAT, true);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  for (const [name, a] of Object.entries(arrays)) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + table[name]![1]);
  return out;
}

interface Decoded {
  meta: ImageMeta;
  arrays: Record<string, Typed>;
}

/** Thrown for bytes that are not a whole image of this format (compiled.ts names the file). */
export class ImageError extends Error {}

/** `rules`: parse the rule list too (the main thread mostly needs only the summary). */
function decode(bytes: Uint8Array, rules = true): Decoded {
  if (bytes.byteLength < 8) throw new ImageError("truncated");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = dv.getUint32(0, true);
  if (format !== IMAGE_FORMAT) throw new ImageError(`program format ${format}, this ring3 reads format ${IMAGE_FORMAT}`);
  const len = dv.getUint32(4, true);
  if (8 + len > bytes.byteLength) throw new ImageError("truncated");
  let meta: ImageMeta;
  try {
    meta = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, len).toString("utf8")) as ImageMeta;
  } catch {
    throw new ImageError("damaged (unreadable header)");
  }
  if (typeof meta !== "object" || meta === null || typeof meta.arrays !== "object" || meta.format !== IMAGE_FORMAT) throw new ImageError("damaged (unreadable header)");
  const start = bytes.byteOffset + ((8 + len + 7) & ~7);
  // Views need aligned offsets: copy bytes that come unaligned (a Buffer slice of a file, say).
  let base = bytes.buffer;
  let shift = 0;
  if (start % 8 !== 0) {
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    base = copy.buffer;
    shift = -bytes.byteOffset;
  }
  const arrays: Record<string, Typed> = {};
  for (const [name, [kind, off, n]] of Object.entries(meta.arrays)) {
    const byteLen = kind === "i32" ? 4 * n : n;
    if (start + off + byteLen > bytes.byteOffset + bytes.byteLength) throw new ImageError("truncated");
    arrays[name] = kind === "i32" ? new Int32Array(base, start + shift + off, n) : new Uint8Array(base, start + shift + off, n);
  }
  for (const k of [...RULE_JSON, ...RULE_INTS, "refsOff", "refs", "textOff", "text", "metaOff", "metaJson"]) if (!arrays[k]) throw new ImageError(`damaged (no ${k})`);
  if (rules) {
    const json = (k: string): unknown => jsonArray(arrays[k] as Uint8Array);
    const names = json("rulesJson") as [string, string, string[]][];
    const [flags, file, line, col, imports, first, count] = RULE_INTS.map((k) => arrays[k] as Int32Array);
    const refsOff = arrays.refsOff as Int32Array;
    const refs = arrays.refs as Int32Array;
    meta.rules = names.map(([name, ns, tags], i) => [name, ns, flags![i]!, tags, 0, file![i]!, line![i]!, col![i]!, imports![i]!, first![i]!, count![i]!, Array.from(refs.subarray(refsOff[i]!, refsOff[i + 1]!))]);
    // Each rule lists its patterns as a range: a damaged count made attach allocate one entry per
    // pattern of a 2^29-long range until the heap ran out (issue 13's fuzzer).
    for (const r of meta.rules) if (!(r[9] >= 0 && r[10] >= 0 && r[9] + r[10] <= meta.patterns)) throw new ImageError("damaged (a rule's patterns are out of range)");
    meta.files = json("filesJson") as string[];
    meta.imports = json("importsJson") as string[][];
    meta.patternIds = json("patternIdsJson") as string[];
  }
  return { meta, arrays };
}

/** One of the rule list's JSON arrays (RULE_JSON), read back. */
function jsonArray(a: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("utf8"));
  } catch {
    throw new ImageError("damaged (unreadable rule list)");
  }
}

// ---------------------------------------------------------------------------------------------
// Building

/** Parses and compiles `sources` once: the image, or every diagnostic. */
export function buildImage(sources: RuleSource[], defines: Record<string, ExternalValue>): { image?: Uint8Array; errors: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  let parsed: SourceFile[] = [];
  for (const src of sources) {
    const out = parse(src.text, { file: src.name, namespace: src.namespace, include: includer(src) });
    for (const e of out.errors) errors.push(diag(e.file, e.line, e.column, e.message));
    if (out.source) parsed.push(out.source);
  }
  let program: Program | undefined;
  if (errors.length === 0) {
    const compiled = compileProgram(parsed, { externals: defines });
    for (const e of compiled.errors) errors.push(diag(e.file, e.line, e.column, e.message));
    if (errors.length === 0) program = compiled.program;
  }
  let deferred: DeferredRule[] = [];
  if (!program) {
    // Rules YARA-X accepts and the fast path does not are left to YARA-X rather than failing the set.
    const d = deferFailing(sources, defines);
    if (!d) return { errors };
    ({ parsed, program, deferred } = d);
  }
  return { image: imageOf(sources, defines, parsed, program, deferred), errors: [] };
}

/**
 * One part of a compile split by file (splitSources; cli/signatures.ts runs each in a thread and
 * merges them, as joinParts does): its image in a SharedArrayBuffer, or null when the part alone
 * might not compile as it does within the whole set. A part knows none of the rules of the parts
 * before it, so any error (a reference to one of them, say) and any rule whose name would shadow
 * what a later part's identifier means without it (an external, a builtin such as uint16 here, a
 * module in joinParts) send the whole set to buildImage, which gives the single compile's answer,
 * diagnostics and YARA-X deferrals included. Two parts defining one name are caught by
 * mergeImages (MergeError).
 */
export function buildPart(sources: RuleSource[], defines: Record<string, ExternalValue>): Uint8Array | null {
  const parsed: SourceFile[] = [];
  for (const src of sources) {
    const out = parse(src.text, { file: src.name, namespace: src.namespace, include: includer(src) });
    if (out.errors.length > 0 || !out.source) return null;
    parsed.push(out.source);
  }
  const compiled = compileProgram(parsed, { externals: defines });
  if (!compiled.program || compiled.errors.length > 0) return null;
  if (compiled.program.rules.some((r) => Object.hasOwn(defines, r.name) || SHADOWED_BUILTIN.test(r.name))) return null;
  return imageOf(sources, defines, parsed, compiled.program, [], true);
}

/** The builtin functions a rule of the same name shadows (eval/compile.ts: BUILTINS, FLOATS). */
const SHADOWED_BUILTIN = /^(?:u?int(?:8|16|32)(?:be)?|float(?:32|64)(?:be)?)$/;

/**
 * The sources cut into at most `n` runs of whole files, in order, of about equal compile cost.
 * Fewer parts when the set is small: a part costs a thread's start and the merge.
 */
export function splitSources(sources: RuleSource[], n: number, minPart = PART_MIN_COST): RuleSource[][] {
  const prefix = [0];
  for (const s of sources) prefix.push(prefix[prefix.length - 1]! + allTexts(s).reduce((a, t) => a + compileCost(t), 0));
  const total = prefix[sources.length]!;
  const parts = Math.max(1, Math.min(n, Math.floor(total / minPart), sources.length));
  // Each cut at the file boundary nearest its share, leaving at least one file to every part.
  const cuts = [0];
  for (let k = 1; k < parts; k++) {
    const goal = (total * k) / parts;
    let at = cuts[k - 1]! + 1;
    while (at < sources.length - (parts - k) && Math.abs(prefix[at + 1]! - goal) <= Math.abs(prefix[at]! - goal)) at++;
    cuts.push(at);
  }
  cuts.push(sources.length);
  return cuts.slice(1).map((end, k) => sources.slice(cuts[k], end));
}

/**
 * A text's compile cost in bytes of text: its length, and 8 KB per occurrence of "rule" (measured
 * per file of signature-base: a rule costs about that much besides its text; by length alone the
 * first half of its files cost 60 % of the time, with this 53 %).
 */
function compileCost(text: string): number {
  let rules = 0;
  for (let i = text.indexOf("rule"); i >= 0; i = text.indexOf("rule", i + 4)) rules++;
  return text.length + 8192 * rules;
}

/** Below this compile cost per part, splitting costs more (a thread's start, the merge) than it saves. */
export const PART_MIN_COST = 1 << 20;

/**
 * The parts' images as one (mergeImages), or null when the set must be compiled whole: a part
 * that was null, a rule named as a module some part imports (within one compile the rule wins),
 * or a rule name defined in two parts (buildImage names both places).
 */
export function joinParts(parts: (Uint8Array | null)[]): Uint8Array | null {
  if (parts.some((p) => p === null)) return null;
  try {
    return mergeImages(parts as Uint8Array[], true, partModules(parts as Uint8Array[]));
  } catch (err) {
    if (err instanceof MergeError) return null;
    throw err;
  }
}

/**
 * The modules the parts import: no rule of theirs may have such a name (mergeImages' `reserved`;
 * a rule and a module only meet within a namespace, where mergeImages reads the rule names).
 */
export function partModules(parts: Uint8Array[]): Set<string> {
  return new Set(parts.flatMap((p) => decode(p, false).meta.moduleNames));
}

/** buildImage by parts, one after the other (the threads' result without threads: tests, tools). */
export function buildImageInParts(sources: RuleSource[], defines: Record<string, ExternalValue>, n: number, minPart?: number): { image?: Uint8Array; errors: Diagnostic[] } {
  const parts = splitSources(sources, n, minPart);
  if (parts.length > 1) {
    const image = joinParts(parts.map((p) => buildPart(p, defines)));
    if (image) return { image, errors: [] };
  }
  return buildImage(sources, defines);
}

/** The image of a compiled program (`parsed` are its sources' trees; `shared`: in a SharedArrayBuffer). */
function imageOf(sources: RuleSource[], defines: Record<string, ExternalValue>, parsed: SourceFile[], program: Program, deferred: DeferredRule[], shared = false): Uint8Array {
  const deferredIndex = new Set<number>();
  parsed.flatMap((s) => s.rules).forEach((r, i) => r.condition.type === "deferred" && deferredIndex.add(i));
  const { tables } = compilePatternTables(program.decls);
  const anchors = anchoredPatterns(parsed, program);
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const importSets: string[][] = [];
  const importIndex = new Map<string, number>();
  const texts: Buffer[] = [];
  const textOff = new Int32Array(program.rules.length + 1);
  let textAt = 0;
  const metas: Buffer[] = [];
  const metaOff = new Int32Array(program.rules.length + 1);
  let metaAt = 0;
  const rows: RuleRow[] = program.rules.map((r, i) => {
    let f = fileIndex.get(r.file);
    if (f === undefined) fileIndex.set(r.file, (f = files.push(r.file) - 1));
    const ik = r.imports.join("\u0000");
    let im = importIndex.get(ik);
    if (im === undefined) importIndex.set(ik, (im = importSets.push(r.imports) - 1));
    const t = Buffer.from(r.text, "utf8");
    texts.push(t);
    textOff[i] = textAt;
    textAt += t.length;
    const m = Buffer.from(JSON.stringify(r.meta.map((x) => [x.key, x.value])), "utf8");
    metas.push(m);
    metaOff[i] = metaAt;
    metaAt += m.length;
    const first = r.patterns.length > 0 ? r.patterns[0]! : 0;
    return [r.name, r.namespace, (r.private ? 1 : 0) | (r.global ? 2 : 0) | (deferredIndex.has(i) ? DEFERRED : 0), r.tags, 0, f, r.pos.line, r.pos.column, im, first, r.patterns.length, r.refs];
  });
  textOff[program.rules.length] = textAt;
  metaOff[program.rules.length] = metaAt;
  const plan = (program as Program & { plan: ProgramPlan }).plan;
  const p = program as Program & { slotCount: number; externalNames: string[]; moduleNames: string[] };
  const patPrivate = Uint8Array.from(program.decls, (d) => (d.modifiers.private ? 1 : 0));
  const anchorPairs = new Int32Array(2 * anchors.size);
  let k = 0;
  for (const [pat, at] of anchors) {
    anchorPairs[k++] = pat;
    anchorPairs[k++] = at;
  }
  const meta: Omit<StoredMeta, "arrays"> = {
    format: IMAGE_FORMAT,
    patterns: tables.patterns,
    atoms: tables.atoms,
    ruleCount: rows.length,
    fileCount: files.length,
    importCount: importSets.length,
    namespaces: [...new Set(rows.map((r) => r[1]))],
    always: plan.always,
    guarded: plan.guarded.map((g) => ({
      size: g.guard.size,
      signed: g.guard.signed,
      be: g.guard.be,
      key: g.guard.key,
      offset: String(g.guard.offset),
      rules: g.rules.map(([v, list]) => [String(v), list]),
    })),
    slotCount: p.slotCount,
    externalNames: p.externalNames,
    defines,
    moduleNames: p.moduleNames,
    fileExternals: referencedExternals(sources, FILE_EXTERNALS),
    yaraRules: sources.reduce((n, s) => n + countRules(s), 0),
    sources: sources.map((s) => ({ name: s.name, namespace: s.namespace })),
    deferred,
  };
  const arrays: Record<string, Typed> = {
    ...tableArrays(tables),
    patPrivate,
    anchors: anchorPairs,
    trapMemo: new Int32Array(rows.length),
    textOff,
    text: Buffer.concat(texts),
    metaOff,
    metaJson: Buffer.concat(metas),
    ...ruleArrays(rows, files, importSets, program.decls.map((d) => d.id)),
    ...gateArrays(program.gates ?? [], rows.length),
  };
  return encode(meta, arrays, shared);
}

/** Each rule's gate (gates.ts) as five Int32 columns; a rule without one has spec 0, min 0, max -1. */
const GATE_ARRAYS = ["rGateSpec", "rGateOff", "rGateVal", "rGateMin", "rGateMax"] as const;

function gateArrays(gates: readonly (RuleGate | undefined)[], rules: number): Record<string, Typed> {
  const col = (f: (g: RuleGate) => number, none: number) => Int32Array.from({ length: rules }, (_, i) => (gates[i] ? f(gates[i]) : none));
  return {
    rGateSpec: col((g) => g.spec, 0),
    rGateOff: col((g) => g.off, 0),
    rGateVal: col((g) => g.val, 0),
    rGateMin: col((g) => g.min, 0),
    rGateMax: col((g) => g.max, -1),
  };
}

/** The gates stored in an image, or undefined for an image made before they were. */
function storedGates(arrays: Record<string, Typed>, rules: number): RuleGate[] | undefined {
  const cols = GATE_ARRAYS.map((k) => arrays[k] as Int32Array | undefined);
  if (cols.some((c) => !c || c.length !== rules)) return undefined;
  const [spec, off, val, min, max] = cols as Int32Array[];
  return Array.from({ length: rules }, (_, i) => ({ spec: spec![i]!, off: off![i]!, val: val![i]!, min: min![i]!, max: max![i]! }));
}

function jsonBytes(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v), "utf8");
}

/** The rule list as stored (see RULE_JSON). */
function ruleArrays(rows: RuleRow[], files: string[], imports: string[][], patternIds: string[]): Record<string, Typed> {
  const out: Record<string, Typed> = {
    rulesJson: jsonBytes(rows.map((r) => [r[0], r[1], r[3]])),
    filesJson: jsonBytes(files),
    importsJson: jsonBytes(imports),
    patternIdsJson: jsonBytes(patternIds),
  };
  const col = [2, 5, 6, 7, 8, 9, 10] as const;
  RULE_INTS.forEach((k, j) => (out[k] = Int32Array.from(rows, (r) => r[col[j]!] as number)));
  const refsOff = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (refsOff[i + 1] = refsOff[i]! + r[11].length));
  out.refsOff = refsOff;
  out.refs = Int32Array.from(rows.flatMap((r) => r[11]));
  return out;
}

const TABLE_ARRAYS = [
  "byLength", "kinds", "varPattern", "varSub", "entVariant", "entOffMin", "entOffMax", "tableBits", "t4keys", "t4first", "t4end",
  "t3keys", "t3first", "t3end", "filter4", "filter3", "shortGate", "first2", "end2", "first1", "end1", "atomless", "canonical",
  "litPool", "litStart", "litLen", "litFlags", "litXor", "chkOff", "chkMask", "chkValue", "geo", "geoUnbounded",
] as const satisfies readonly (keyof PatternTables)[];

function tableArrays(t: PatternTables): Record<string, Typed> {
  const out: Record<string, Typed> = {};
  for (const k of TABLE_ARRAYS) out[k] = t[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merging: several images (the bundled set, a compiled file, the --rules sources) into the one
// program a scan runs, as if compiled together, without compiling anything again. Rules,
// patterns and variants are renumbered; the atom tables are rebuilt from the entries' runs.

/** Rules of two images that cannot share a program (the same name in one namespace). */
export class MergeError extends Error {}

/**
 * `shared`: the result in a SharedArrayBuffer (a single image is returned as it is). `reserved`:
 * names that no rule of images sharing a namespace may have (a MergeError; joinParts).
 */
export function mergeImages(images: Uint8Array[], shared = false, reserved?: ReadonlySet<string>): Uint8Array {
  if (images.length === 1) return images[0]!;
  // Rule names are read only where two images share a namespace (then a name may be defined twice).
  const parts = images.map((b) => decode(b, false));
  const spaces = parts.map((p) => p.meta.namespaces);
  const overlap = new Set(spaces.flat()).size < spaces.reduce((n, x) => n + x.length, 0);
  const metas = parts.map((p) => p.meta);
  const seen = new Map<string, string>();
  const always: number[] = [];
  const guards = new Map<string, ImageMeta["guarded"][number] & { byValue: Map<string, number[]> }>();
  const externalNames: string[] = [];
  const defines: Record<string, ExternalValue> = {};
  const moduleNames: string[] = [];
  const fileExternals = new Set<keyof FileExternals>();
  const ruleOff: number[] = [];
  const patOff: number[] = [];
  const varOff: number[] = [];
  let nRules = 0;
  let nPats = 0;
  let nVars = 0;
  const fileOff: number[] = [];
  const importOff: number[] = [];
  let nFiles = 0;
  let nImports = 0;
  parts.forEach(({ meta, arrays }, k) => {
    ruleOff.push(nRules);
    patOff.push(nPats);
    varOff.push(nVars);
    fileOff.push(nFiles);
    importOff.push(nImports);
    if (overlap) {
      // Only names, namespaces and files: the whole rule list (decode) is for attaching.
      const names = jsonArray(arrays.rulesJson as Uint8Array) as [string, string, string[]][];
      const files = jsonArray(arrays.filesJson as Uint8Array) as string[];
      const rFile = arrays.rFile as Int32Array;
      names.forEach(([name, ns], i) => {
        const key = `${ns}\u0000${name}`;
        const where = files[rFile[i]!]!;
        if (seen.has(key)) throw new MergeError(`rule ${name} in namespace ${ns} is defined twice (${seen.get(key)} and ${where})`);
        if (reserved?.has(name)) throw new MergeError(`rule ${name} in namespace ${ns} is named as a module`);
        seen.set(key, where);
      });
    }
    for (const i of meta.always) always.push(i + nRules);
    for (const g of meta.guarded) {
      let into = guards.get(g.key);
      if (!into) guards.set(g.key, (into = { ...g, rules: [], byValue: new Map() }));
      for (const [v, list] of g.rules) into.byValue.set(v, [...(into.byValue.get(v) ?? []), ...list.map((x) => x + nRules)]);
    }
    for (const n of meta.externalNames) if (!externalNames.includes(n)) externalNames.push(n);
    for (const [n, v] of Object.entries(meta.defines)) if (!(n in defines)) defines[n] = v;
    for (const m of meta.moduleNames) if (!moduleNames.includes(m)) moduleNames.push(m);
    for (const e of meta.fileExternals) fileExternals.add(e);
    nRules += meta.ruleCount;
    nFiles += meta.fileCount;
    nImports += meta.importCount;
    nPats += meta.patterns;
    nVars += (arrays.kinds as Uint8Array).length;
  });

  const cat = <T extends Typed>(name: string, make: (n: number) => T, add: (k: number) => number = () => 0): T => {
    const list = parts.map((p) => p.arrays[name] as T);
    const out = make(list.reduce((n, a) => n + a.length, 0));
    let at = 0;
    list.forEach((a, k) => {
      out.set(a, at);
      const d = add(k);
      if (d !== 0) for (let i = at; i < at + a.length; i++) out[i]! += d;
      at += a.length;
    });
    return out;
  };
  const i32 = (n: number) => new Int32Array(n);
  const u8 = (n: number) => new Uint8Array(n);
  const pools = parts.map((p) => (p.arrays.litPool as Uint8Array).length);
  const poolOff = pools.map((_, k) => pools.slice(0, k).reduce((a, b) => a + b, 0));
  // Per-rule blobs: offsets have rules+1 entries per image; drop each image's last, add the total.
  const blobOffsets = (blob: string, offsets: string): Int32Array => {
    const sizes = parts.map((p) => (p.arrays[blob] as Typed).length);
    const out = new Int32Array(nRules + 1);
    let base = 0;
    parts.forEach((p, k) => {
      const off = p.arrays[offsets] as Int32Array;
      for (let i = 0; i < off.length - 1; i++) out[ruleOff[k]! + i] = off[i]! + base;
      base += sizes[k]!;
    });
    out[nRules] = base;
    return out;
  };
  const anchors = cat("anchors", i32);
  let at = 0;
  parts.forEach((p, k) => {
    const n = (p.arrays.anchors as Int32Array).length;
    for (let i = at; i < at + n; i += 2) anchors[i]! += patOff[k]!;
    at += n;
  });

  // Atom entries: per length and key, each image's run in image order. Runs are flat: key i of a
  // length has, for image k, entries [from, to) at index i * P + k (from = to: none there).
  const P = parts.length;
  const atoms = metas.reduce((n, m) => n + m.atoms, 0);
  const entVariant = new Int32Array(atoms);
  const entOffMin = new Int32Array(atoms);
  const entOffMax = new Int32Array(atoms);
  const first2 = new Int32Array(1 << 16);
  const end2 = new Int32Array(1 << 16);
  const first1 = new Int32Array(256);
  const end1 = new Int32Array(256);
  const tabs = parts.map((p) => p.arrays as unknown as PatternTables);
  let next = 0;
  /** One length: its keys in first-seen order, the merged entries laid out; per key base and count. */
  const layout = (len: number) => {
    const index = new Map<number, number>();
    let cap = 0;
    for (const t of tabs) cap += len === 4 ? t.t4keys.length : len === 3 ? t.t3keys.length : len === 2 ? 1 << 16 : 256;
    const keys = new Int32Array(cap);
    const from = new Int32Array(cap * P);
    const to = new Int32Array(cap * P);
    const slots = new Int32Array(cap * P).fill(-1);
    let n = 0;
    tabs.forEach((t, k) => {
      const add = (key: number, f: number, e: number, slot: number) => {
        let i = index.get(key);
        if (i === undefined) {
          index.set(key, (i = n++));
          keys[i] = key;
        }
        from[i * P + k] = f;
        to[i * P + k] = e;
        slots[i * P + k] = slot;
      };
      if (len === 4) for (let slot = 0; slot < t.t4keys.length; slot++) t.t4first[slot] !== 0 && add(t.t4keys[slot]!, t.t4first[slot]! - 1, t.t4end[slot]!, slot);
      else if (len === 3) for (let slot = 0; slot < t.t3keys.length; slot++) t.t3first[slot] !== 0 && add(t.t3keys[slot]!, t.t3first[slot]! - 1, t.t3end[slot]!, slot);
      else if (len === 2) for (let key = 0; key < 1 << 16; key++) t.first2[key] !== 0 && add(key, t.first2[key]! - 1, t.end2[key]!, -1);
      else for (let key = 0; key < 256; key++) t.first1[key] !== 0 && add(key, t.first1[key]! - 1, t.end1[key]!, -1);
    });
    const base = new Int32Array(n);
    const count = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      base[i] = next;
      for (let k = 0; k < P; k++) {
        const t = tabs[k]!;
        for (let e = from[i * P + k]!; e < to[i * P + k]!; e++) {
          entVariant[next] = t.entVariant[e]! + varOff[k]!;
          entOffMin[next] = t.entOffMin[e]!;
          entOffMax[next] = t.entOffMax[e]!;
          next++;
        }
      }
      count[i] = next - base[i]!;
      if (len === 2) {
        first2[keys[i]!] = base[i]! + 1;
        end2[keys[i]!] = next;
      } else if (len === 1) {
        first1[keys[i]!] = base[i]! + 1;
        end1[keys[i]!] = next;
      }
    }
    return { index, keys: keys.subarray(0, n), base, count, from, to, slots };
  };
  layout(1);
  layout(2);
  const l3 = layout(3);
  const l4 = layout(4);
  const t4 = atomTableOf(l4.keys, l4.base, l4.count);
  const t3 = atomTableOf(l3.keys, l3.base, l3.count);
  // A slot's check stays only where the key's single entry comes from one image (as it was built).
  const chkOff = new Int32Array(t4.keys.length);
  const chkMask = new Int32Array(t4.keys.length);
  const chkValue = new Int32Array(t4.keys.length);
  for (let slot = 0; slot < t4.keys.length; slot++) {
    if (t4.first[slot] === 0 || t4.end[slot]! - (t4.first[slot]! - 1) !== 1) continue;
    const i = l4.index.get(t4.keys[slot]!)!;
    for (let k = 0; k < P; k++) {
      if (l4.to[i * P + k]! - l4.from[i * P + k]! !== 1) continue;
      const old = l4.slots[i * P + k]!;
      chkOff[slot] = tabs[k]!.chkOff[old]!;
      chkMask[slot] = tabs[k]!.chkMask[old]!;
      chkValue[slot] = tabs[k]!.chkValue[old]!;
    }
  }
  const or = (name: string): Int32Array => {
    const out = new Int32Array((parts[0]!.arrays[name] as Int32Array).length);
    for (const p of parts) {
      const a = p.arrays[name] as Int32Array;
      for (let i = 0; i < a.length; i++) out[i]! |= a[i]!;
    }
    return out;
  };
  const geos = parts.map((p) => p.arrays.geo as Int32Array);
  const byLength = new Int32Array(5);
  for (const p of parts) for (let i = 0; i < 5; i++) byLength[i]! += (p.arrays.byLength as Int32Array)[i]!;
  const tables: Record<(typeof TABLE_ARRAYS)[number], Typed> = {
    byLength,
    kinds: cat("kinds", u8),
    varPattern: cat("varPattern", i32, (k) => patOff[k]!),
    varSub: cat("varSub", i32),
    entVariant,
    entOffMin,
    entOffMax,
    tableBits: Int32Array.of(t4.bits, t3.bits),
    t4keys: t4.keys,
    t4first: t4.first,
    t4end: t4.end,
    t3keys: t3.keys,
    t3first: t3.first,
    t3end: t3.end,
    filter4: or("filter4"),
    filter3: or("filter3"),
    shortGate: or("shortGate"),
    first2,
    end2,
    first1,
    end1,
    atomless: cat("atomless", i32, (k) => varOff[k]!),
    canonical: cat("canonical", i32, (k) => patOff[k]!),
    litPool: cat("litPool", u8),
    litStart: cat("litStart", i32, (k) => poolOff[k]!),
    litLen: cat("litLen", i32),
    litFlags: cat("litFlags", u8),
    litXor: cat("litXor", i32),
    chkOff,
    chkMask,
    chkValue,
    geo: Int32Array.of(Math.max(...geos.map((g) => g[0]!)), Math.max(...geos.map((g) => g[1]!))),
    geoUnbounded: cat("geoUnbounded", i32, (k) => patOff[k]!),
  };
  // litStart of a non-literal variant is 0 in its image; shifted here, and never read.
  /** JSON arrays joined as text. */
  const joinJson = (name: string): Buffer => {
    const inner = parts.map((p) => Buffer.from((p.arrays[name] as Uint8Array).subarray(1, -1))).filter((b) => b.length > 0);
    const out: Buffer[] = [Buffer.from("[")];
    inner.forEach((b, i) => out.push(...(i > 0 ? [Buffer.from(","), b] : [b])));
    out.push(Buffer.from("]"));
    return Buffer.concat(out);
  };
  const rulesStored: Record<string, Typed> = {
    rulesJson: joinJson("rulesJson"),
    filesJson: joinJson("filesJson"),
    importsJson: joinJson("importsJson"),
    patternIdsJson: joinJson("patternIdsJson"),
    rFlags: cat("rFlags", i32),
    rFile: cat("rFile", i32, (k) => fileOff[k]!),
    rLine: cat("rLine", i32),
    rCol: cat("rCol", i32),
    rImports: cat("rImports", i32, (k) => importOff[k]!),
    rFirst: cat("rFirst", i32, (k) => patOff[k]!),
    rCount: cat("rCount", i32),
    refsOff: blobOffsets("refs", "refsOff"),
    refs: cat("refs", i32, (k) => ruleOff[k]!),
  };
  const meta: Omit<StoredMeta, "arrays"> = {
    format: IMAGE_FORMAT,
    patterns: nPats,
    atoms,
    ruleCount: nRules,
    fileCount: nFiles,
    importCount: nImports,
    namespaces: [...new Set(spaces.flat())],
    always,
    guarded: [...guards.values()].map(({ byValue, ...g }) => ({ ...g, rules: [...byValue] })),
    slotCount: Math.max(...metas.map((m) => m.slotCount)),
    externalNames,
    defines,
    moduleNames,
    fileExternals: FILE_EXTERNALS.filter((e) => fileExternals.has(e)),
    yaraRules: metas.reduce((n, m) => n + m.yaraRules, 0),
    sources: metas.flatMap((m) => m.sources),
    deferred: metas.flatMap((m) => m.deferred ?? []),
  };
  const blobs = { textOff: blobOffsets("text", "textOff"), text: cat("text", u8), metaOff: blobOffsets("metaJson", "metaOff"), metaJson: cat("metaJson", u8) };
  // Gates only when every part has them (an older image has none: its rules are never skipped).
  const gated = parts.every((p) => GATE_ARRAYS.every((k) => p.arrays[k] !== undefined));
  const gates: Record<string, Typed> = gated ? Object.fromEntries(GATE_ARRAYS.map((k) => [k, cat(k, i32)])) : {};
  return encode(meta, { ...tables, ...rulesStored, ...blobs, ...gates, patPrivate: cat("patPrivate", u8), anchors, trapMemo: i32(nRules) }, shared);
}

// ---------------------------------------------------------------------------------------------
// Attaching

/** What the main thread needs of an image: no rule is built. */
export interface ImageSummary {
  rules: number;
  yaraRules: number;
  defines: Record<string, ExternalValue>;
  fileExternals: (keyof FileExternals)[];
  sources: { name: string; namespace: string }[];
  deferred: DeferredRule[];
}

export function imageSummary(bytes: Uint8Array): ImageSummary {
  const { meta } = decode(bytes, false);
  return { rules: meta.ruleCount, yaraRules: meta.yaraRules, defines: meta.defines, fileExternals: meta.fileExternals, sources: meta.sources, deferred: meta.deferred ?? [] };
}

function metaPairs(arrays: Record<string, Typed>, i: number): MetaPairs {
  const blob = arrays.metaJson as Uint8Array;
  const off = arrays.metaOff as Int32Array;
  return JSON.parse(Buffer.from(blob.buffer, blob.byteOffset + off[i]!, off[i + 1]! - off[i]!).toString("utf8")) as MetaPairs;
}

/** An image's rules with their metadata, in order (`ring3 rules list`). */
export function imageRules(bytes: Uint8Array): { name: string; namespace: string; file: string; private: boolean; meta: [string, string | number | boolean][] }[] {
  const { meta, arrays } = decode(bytes);
  return meta.rules.map((r, i) => ({ name: r[0], namespace: r[1], file: meta.files[r[5]]!, private: (r[2] & 1) !== 0, meta: metaPairs(arrays, i) }));
}

/** An image's rules as YARA sources (--engine yara-x, which compiles text): per file and namespace, in order. */
export function imageSources(bytes: Uint8Array): RuleSource[] {
  const { meta, arrays } = decode(bytes);
  const text = arrays.text as Uint8Array;
  const off = arrays.textOff as Int32Array;
  const out: RuleSource[] = [];
  let last = "";
  meta.rules.forEach((r, i) => {
    const key = `${r[5]}\u0000${r[1]}`;
    const body = Buffer.from(text.buffer, text.byteOffset + off[i]!, off[i + 1]! - off[i]!).toString("utf8");
    if (key !== last || out.length === 0) {
      last = key;
      out.push({ name: meta.files[r[5]]!, namespace: r[1], text: meta.imports[r[8]]!.map((m) => `import "${m}"\n`).join("") });
    }
    out[out.length - 1]!.text += body + "\n";
  });
  return out;
}

export interface Attached {
  program: Program;
  tables: PatternTables;
  /** A variant object for the matcher (built on its first use). */
  variant: (vi: number) => Variant;
  anchors: Map<number, number>;
  patternIds: string[];
  patternPrivate: Uint8Array;
  defines: Record<string, ExternalValue>;
  /**
   * Per rule, written by any worker of the scan (the image is one SharedArrayBuffer): non-zero once
   * the rule was in a YARA-X group that trapped, so that it then goes to YARA-X alone (engine.ts).
   * Absent in images made before it existed.
   */
  trapMemo?: Int32Array;
  /** Per rule, its gate: the matcher skips the hits of rules a file cannot satisfy (absent in older images). */
  gates?: (RuleGate | undefined)[];
}

const AST_CACHE = 256;

/** A rule of an attached image: its text and metadata are read from the image when asked for. */
class ImageRule implements CompiledRule {
  index: number;
  name: string;
  namespace: string;
  private: boolean;
  global: boolean;
  tags: string[];
  file: string;
  pos: CompiledRule["pos"];
  imports: string[];
  patterns: number[];
  deps: number[] = [];
  refs: number[];
  /** Left to YARA-X: its text is YARA-X's alone. */
  deferred: boolean;
  private metaList: CompiledRule["meta"] | undefined;

  constructor(
    index: number,
    row: RuleRow,
    meta: ImageMeta,
    private readonly bytes: Uint8Array,
    private readonly arrays: Record<string, Typed>,
  ) {
    this.index = index;
    this.name = row[0];
    this.namespace = row[1];
    this.private = (row[2] & 1) !== 0;
    this.global = (row[2] & 2) !== 0;
    this.deferred = (row[2] & DEFERRED) !== 0;
    this.tags = row[3];
    this.file = meta.files[row[5]]!;
    this.pos = { line: row[6], column: row[7], offset: 0 };
    this.imports = meta.imports[row[8]]!;
    this.patterns = Array.from({ length: row[10] }, (_, k) => row[9] + k);
    this.refs = row[11];
  }

  /** Read when a finding needs it: most rules never match, and metadata is most of a rule list. */
  get meta(): CompiledRule["meta"] {
    return (this.metaList ??= metaPairs(this.arrays, this.index).map(([key, value]) => ({ key, value, pos: { line: 0, column: 0, offset: 0 } })));
  }

  /** Decoded on each use, not kept: it is read when the rule is parsed or sent to YARA-X. */
  get text(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString("utf8");
  }
}

/**
 * Attaches to an image: views on its bytes, rule objects from its JSON part; nothing is parsed or
 * compiled until a file needs it. `defines`: the scan's values for the image's external variables.
 */
export function attachImage(bytes: Uint8Array, defines: Record<string, ExternalValue> = {}): Attached {
  const { meta, arrays } = decode(bytes);
  const text = arrays.text as Uint8Array;
  const off = arrays.textOff as Int32Array;
  const rules = meta.rules.map((row, i) => new ImageRule(i, row, meta, text.subarray(off[i]!, off[i + 1]!), arrays));
  computeDeps(rules);
  const owner = new Int32Array(meta.patterns);
  for (const r of rules) for (const p of r.patterns) owner[p] = r.index;

  // Parsed rules, kept for their next use (the condition, then each pattern's first hit) but not
  // all: a long scan would end up holding every rule's tree. Map order is LRU order.
  const asts = new Map<number, Rule>();
  const astOf = (i: number): Rule => {
    let ast = asts.get(i);
    if (ast) {
      asts.delete(i);
      asts.set(i, ast);
      return ast;
    }
    const r = rules[i]!;
    if (r.deferred) {
      ast = deferredRule(r);
      asts.set(i, ast);
      return ast;
    }
    const out = parse(r.text, { file: r.file, namespace: r.namespace });
    ast = out.source?.rules[0];
    if (!ast || ast.name !== r.name) throw new Error(`rule ${r.name}: its stored text does not parse (a damaged compiled rule program?)`);
    asts.set(i, ast);
    if (asts.size > AST_CACHE) asts.delete(asts.keys().next().value!);
    return ast;
  };

  const all: Record<string, ExternalValue> = { ...meta.defines };
  for (const [k, v] of Object.entries(defines)) if (k in all) all[k] = v;
  const compile = conditionCompiler(rules, meta.externalNames, meta.moduleNames);
  const conditions: Fn[] = rules.map((r) => {
    const stub: Fn = (env) => {
      const fn = compile(r, astOf(r.index));
      conditions[r.index] = fn;
      return fn(env);
    };
    return stub;
  });
  const plan: ProgramPlan = {
    always: meta.always,
    guarded: meta.guarded.map((g) => {
      const guard: HeaderGuard = { key: g.key, size: g.size, signed: g.signed, be: g.be, offset: BigInt(g.offset), value: 0n };
      return { guard, rules: g.rules.map(([v, list]) => [BigInt(v), list] as [bigint, number[]]) };
    }),
  };
  const program = assembleProgram({
    rules,
    decls: [],
    conditions,
    plan,
    slotCount: meta.slotCount,
    externalNames: meta.externalNames,
    externalDefaults: all,
    moduleNames: meta.moduleNames,
  });

  const tables = { patterns: meta.patterns, atoms: meta.atoms } as PatternTables;
  for (const k of TABLE_ARRAYS) (tables as unknown as Record<string, Typed>)[k] = arrays[k]!;
  const made = new Map<number, Variant[]>();
  const variant = (vi: number): Variant => {
    const p = tables.varPattern[vi]!;
    let list = made.get(p);
    if (!list) {
      const r = rules[owner[p]!]!;
      const decl: StringDecl = astOf(r.index).strings[p - r.patterns[0]!]!;
      list = variantsOf(decl, p).variants;
      made.set(p, list);
    }
    return list[tables.varSub[vi]!]!;
  };
  const anchors = new Map<number, number>();
  const ap = arrays.anchors as Int32Array;
  for (let i = 0; i < ap.length; i += 2) anchors.set(ap[i]!, ap[i + 1]!);
  const memo = arrays.trapMemo as Int32Array | undefined;
  const gates = storedGates(arrays, rules.length);
  return {
    program,
    tables,
    variant,
    anchors,
    patternIds: meta.patternIds,
    patternPrivate: arrays.patPrivate as Uint8Array,
    defines: all,
    ...(memo && memo.length === rules.length ? { trapMemo: memo } : {}),
    ...(gates ? { gates } : {}),
  };
}

/**
 * YARA-X anchors a pattern whose every use in its rule's condition is `$a at <integer literal>`
 * (always the same offset) when the pattern is a literal (see isLiteral): it looks for it at that
 * offset only, so a matching rule lists no other match of it. Other patterns are searched
 * everywhere and every match is listed. The fast path finds every match; the report keeps the
 * anchored one, as YARA-X does (test/unit/yara-conformance-cases.test.ts, "anchoring").
 */
export function anchoredPatterns(sources: SourceFile[], program: Program): Map<number, number> {
  const byName = new Map<string, CompiledRule>();
  for (const r of program.rules) byName.set(`${r.namespace}\u0000${r.name}`, r);
  const out = new Map<number, number>();
  for (const src of sources) {
    for (const rule of src.rules) {
      const compiled = byName.get(`${rule.namespace}\u0000${rule.name}`);
      // Only `$a at N` anchors, so a rule whose text has no `at` has none: most rules are skipped
      // without walking their condition (the walk was 5 % of signature-base's compile).
      if (!compiled || rule.strings.length === 0 || !AT_WORD.test(rule.text)) continue;
      const uses = new Map<string, number | null>(); // id -> the one anchor offset, or null
      const other = (id: string) => uses.set(id, null);
      const visit = (e: Expr | undefined): void => {
        if (!e) return;
        switch (e.type) {
          case "string_match":
            if (e.at?.type === "int" && e.in === undefined) {
              const at = Number(e.at.value);
              const prev = uses.get(e.id);
              uses.set(e.id, prev === undefined || prev === at ? at : null);
            } else {
              other(e.id);
              visit(e.at);
              if (e.in) (visit(e.in.lo), visit(e.in.hi));
            }
            return;
          case "string_count":
          case "string_offset":
          case "string_length":
            other(e.id);
            if (e.type === "string_count" && e.in) (visit(e.in.lo), visit(e.in.hi));
            if (e.type !== "string_count") visit(e.index);
            return;
          case "of":
          case "for_of":
            if (e.set.kind === "them") for (const d of rule.strings) other(d.id);
            else if (e.set.kind === "strings")
              for (const it of e.set.items) for (const d of rule.strings) if (it.wildcard ? d.id.startsWith(it.id) : d.id === it.id) other(d.id);
            if (e.quantifier.kind === "expr" || e.quantifier.kind === "percent") visit(e.quantifier.expr);
            if (e.type === "of") {
              visit(e.at);
              if (e.in) (visit(e.in.lo), visit(e.in.hi));
            } else visit(e.body);
            return;
          default:
            walkLoose(e, visit, true);
        }
      };
      visit(rule.condition);
      rule.strings.forEach((d, k) => {
        const at = uses.get(d.id);
        if (typeof at === "number" && d.id !== "$" && isLiteral(d)) out.set(compiled.patterns[k]!, at);
      });
    }
  }
  return out;
}

const AT_WORD = /\bat\b/;

/**
 * A pattern YARA-X treats as one literal byte string: text without nocase, xor or base64 (wide,
 * fullword and private keep it literal), hex of plain bytes only, and a regex that spells out a
 * literal (no flags, no metacharacters; escaped punctuation and \xHH are literal).
 */
function isLiteral(d: StringDecl): boolean {
  const m = d.modifiers;
  if (m.nocase || m.xor || m.base64 || m.base64wide) return false;
  if (d.kind === "text") return true;
  if (d.kind === "hex") return d.tokens.every((t) => t.type === "byte" && t.mask === 0xff && !t.not);
  if (d.nocase || d.dotAll) return false;
  return /^(?:[^\\^$.|?*+()[\]{}]|\\[^a-zA-Z0-9]|\\x[0-9a-fA-F]{2})+$/.test(d.source);
}

/** Visits the expressions below a node (ranges, iterables, bindings, quantifiers, operands). */
function walkLoose(o: object, visit: (e: Expr) => void, isRoot = false): void {
  if (!isRoot && "type" in o && typeof (o as { type: unknown }).type === "string" && "pos" in o) {
    visit(o as Expr);
    return;
  }
  for (const v of Object.values(o)) {
    if (!v || typeof v !== "object" || v instanceof Uint8Array) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x && typeof x === "object") walkLoose(x as object, visit);
    } else walkLoose(v as object, visit);
  }
}

export function diag(file: string, line: number, column: number, message: string): Diagnostic {
  const d = parseDiagnostic(file, `error: ${message}`, "error");
  d.line = line;
  d.column = column;
  return d;
}
