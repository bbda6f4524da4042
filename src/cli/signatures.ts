// Gathers the signatures a scan uses: the bundled set (unless --no-bundled) plus the user's
// --rules files/folders and --hashes lists. Rule files are read here (they are configuration,
// not scanned content) and compiled once into the program every worker attaches to.
import * as fs from "node:fs";
import * as path from "node:path";
import { HashDb, type HashListInput } from "../engines/hash/db";
import { FILE_EXTERNALS, parseExternalValue, type Diagnostic, type ExternalValue, type FileExternals, type RuleSource } from "../engines/yara/yarax";
import { CompiledFileError, isCompiled, MAGIC, readCompiled, type CompiledHeader } from "../engines/yara/compiled";
import { readIncludes } from "../engines/yara/includes";
import { deferredWarnings } from "../engines/yara/deferred";
import { buildImage, countRules, ImageError, imageSources, imageSummary, joinParts, mergeImages, MergeError, partModules, referencedExternals } from "../engines/yara/image";
import { buildInThread, startCompileThreads, type CompileThread } from "./compile-threads";
import { RuleCompileError } from "../pool/pool";
import { bundledHashDb, bundledHashes, BUNDLED_VERSION, bundledCompiled, bundledContentId } from "../signatures/bundled";
import { VERSION } from "./version";
import type { SignatureInfo } from "../types";
import { UsageError } from "./options";
import { chosenPacks } from "./packs"; // issue 10
import { CORE_PACK } from "../signatures/attribution"; // issue 10

export interface LoadedSignatures {
  /** Sources for YARA-X alone (--engine yara-x without the bundled set or compiled files); else empty. */
  yara: RuleSource[];
  /** The scan's compiled rule program (copied into a SharedArrayBuffer when the workers start); null without YARA rules or with `yara`. */
  program: Uint8Array | null;
  hashDb: HashDb | null;
  defines: Record<string, ExternalValue>;
  perFileExternals: (keyof FileExternals)[];
  info: SignatureInfo;
  /** How the YARA program was made, for --stats: "compiled from sources in N ms" or "read in N ms". */
  programNote: string;
}

const RULE_FILE = /\.(yar|yara)$/i;

/** Rule files under a path: the file itself, or every .yar/.yara below a folder, sorted. */
export function ruleFiles(p: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    throw new UsageError(`--rules ${p}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or folder" : (err as Error).message}`);
  }
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && RULE_FILE.test(e.name)) out.push(full);
    }
  };
  visit(p);
  if (out.length === 0) throw new UsageError(`--rules ${p}: no .yar or .yara files in this folder`);
  return out;
}

export { countRules };

function readText(what: string, p: string): string {
  try {
    return fs.readFileSync(p, "utf8");
  } catch (err) {
    throw new UsageError(`${what} ${p}: ${(err as Error).message}`);
  }
}

/**
 * The external variables every rule set sees: the LOKI/THOR file variables exist always (as
 * strings) so that rules using them compile, and ring3 fills them in per file unless the user
 * fixed a value with --define; then the user's --define values.
 */
export function externalDefines(args: Record<string, string>): { defines: Record<string, ExternalValue>; perFileExternals: (keyof FileExternals)[] } {
  const defines: Record<string, ExternalValue> = {};
  for (const k of FILE_EXTERNALS) defines[k] = "";
  for (const [k, v] of Object.entries(args)) defines[k] = parseExternalValue(v);
  return { defines, perFileExternals: FILE_EXTERNALS.filter((k) => !(k in args)) };
}

export { referencedExternals };

/**
 * One --rules path: a compiled rule file (recognised by its magic, whatever its name), or YARA
 * sources (a file, or every .yar/.yara below a folder).
 */
export type RuleInput = { kind: "compiled"; path: string; header: CompiledHeader; image: Uint8Array } | { kind: "sources"; path: string; files: RuleSource[] };

export function readRuleInput(p: string): RuleInput {
  const files = ruleFiles(p);
  if (files.length === 1 && files[0] === p) {
    let head: Buffer;
    try {
      head = fileHead(p);
    } catch (err) {
      throw new UsageError(`--rules ${p}: ${(err as Error).message}`);
    }
    if (isCompiled(head)) {
      let bytes: Uint8Array;
      try {
        bytes = readAligned(p);
      } catch (err) {
        throw new UsageError(`--rules ${p}: ${(err as Error).message}`);
      }
      try {
        const file = readCompiled(bytes, `--rules ${p}`, VERSION);
        imageSummary(file.image); // its layout, checked here rather than in a worker
        return { kind: "compiled", path: p, ...file };
      } catch (err) {
        if (err instanceof CompiledFileError) throw new UsageError(err.message);
        // Any other error reading its layout is damage too (issue 13's fuzzer: a RangeError).
        if (err instanceof ImageError || err instanceof Error) throw new UsageError(`--rules ${p}: damaged compiled rule program (${err.message})`);
        throw err;
      }
    }
  }
  return { kind: "sources", path: p, files: files.map((f) => readIncludes({ name: f, text: readText("--rules", f), namespace: "default" })) };
}

/** The size of the YARA sources under --rules paths (compiled files count 0; so do paths readRuleInput will refuse). */
function sourceBytes(paths: string[]): number {
  let bytes = 0;
  for (const p of paths) {
    try {
      const files = ruleFiles(p);
      if (files.length === 1 && files[0] === p && isCompiled(fileHead(p))) continue;
      for (const f of files) bytes += fs.statSync(f).size;
    } catch {
      // reported by readRuleInput
    }
  }
  return bytes;
}

/** A file's first bytes, as many as a compiled rule file's magic. */
function fileHead(p: string): Buffer {
  const fd = fs.openSync(p, "r");
  try {
    const head = Buffer.alloc(MAGIC.length);
    return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** A file's bytes at offset 0 of their own buffer (the image's arrays are viewed where they lie). */
function readAligned(p: string): Uint8Array {
  const fd = fs.openSync(p, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const out = new Uint8Array(new ArrayBuffer(size));
    let n = 0;
    while (n < size) {
      const got = fs.readSync(fd, out, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return out.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The scan's YARA rules as one program: the bundled set's compiled image, each compiled --rules
 * file's image, and one image compiled here from all the --rules sources (in the order given),
 * merged. A compile error is a RuleCompileError with every diagnostic. `image` is null when
 * there are no YARA rules.
 */
export async function compileRuleSet(inputs: {
  bundled: boolean;
  /** Issue 10: the bundled packs to use (default: those on by default). */
  packs?: readonly string[];
  rules: RuleInput[];
  defines: Record<string, ExternalValue>;
  /** Compile sources in a thread of their own, whose memory is freed when it ends (a scan). */
  thread?: boolean;
  /** With `thread`: compile threads already started (startCompileThreads); those not needed are ended. */
  threads?: CompileThread[];
}): Promise<{
  image: Uint8Array | null;
  yaraRules: number;
  fileExternals: (keyof FileExternals)[];
  /** Threads the sources were compiled in side by side (0: none, 1: whole). */
  parts: number;
  /** The sources were compiled in threads that ran from the build's code cache (compile-threads.ts). */
  codeCache: boolean;
}> {
  const sources = inputs.rules.flatMap((r) => (r.kind === "sources" ? r.files : []));
  // The compile starts first: the bundled image and the compiled files are read meanwhile.
  const pending: Promise<{ image?: Uint8Array; parts?: Uint8Array[]; errors: Diagnostic[]; codeCache?: boolean }> | undefined =
    sources.length === 0 ? undefined : inputs.thread ? buildInThread(sources, inputs.defines, true, inputs.threads) : Promise.resolve(buildImage(sources, inputs.defines));
  if (!pending) for (const t of inputs.threads ?? []) t.end();
  pending?.catch(() => undefined); // awaited below; not "unhandled" if reading the others throws first
  const images: Uint8Array[] = [];
  let pendingAt = -1;
  if (inputs.bundled) images.push(bundledCompiled(inputs.packs).image);
  for (const r of inputs.rules) {
    if (r.kind === "compiled") {
      checkDefines(r.path, imageSummary(r.image).defines, inputs.defines);
      images.push(r.image);
    } else if (pendingAt < 0) pendingAt = images.push(new Uint8Array(0)) - 1;
  }
  let parts: Uint8Array[] | undefined;
  let codeCache = false;
  if (pending) {
    const built = await pending;
    codeCache = built.codeCache ?? false;
    if (built.parts) {
      // Merged once, with the other images (a second pass over the parts' merge cost ~0.1 s).
      parts = built.parts;
      images.splice(pendingAt, 1, ...parts);
    } else {
      if (!built.image) throw new RuleCompileError(built.errors);
      images[pendingAt] = built.image;
    }
  }
  if (images.length === 0) return { image: null, yaraRules: 0, fileExternals: [], parts: 0, codeCache };
  for (const im of inputs.bundled ? images.slice(1) : images) for (const w of deferredWarnings(imageSummary(im).deferred)) process.stderr.write(w + "\n");
  let image: Uint8Array | undefined;
  if (parts) {
    try {
      image = mergeImages(images, true, partModules(parts));
    } catch (err) {
      if (!(err instanceof MergeError)) throw err;
      // The parts themselves, or the parts with the other images: find out which, the slow way.
      let joined = joinParts(parts);
      if (!joined) {
        const whole = await buildInThread(sources, inputs.defines, false);
        if (!whole.image) throw new RuleCompileError(whole.errors);
        joined = whole.image;
      }
      images.splice(pendingAt, parts.length, joined);
      parts = undefined;
    }
  }
  try {
    image ??= mergeImages(images, true);
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(`--rules: ${err.message}`);
    throw err;
  }
  const s = imageSummary(image);
  return { image, yaraRules: s.yaraRules, fileExternals: s.fileExternals, parts: parts?.length ?? (pending ? 1 : 0), codeCache };
}

/** A --define may set a compiled program's external to another value, not to another type. */
function checkDefines(p: string, compiled: Record<string, ExternalValue>, scan: Record<string, ExternalValue>): void {
  for (const [k, v] of Object.entries(scan)) {
    if (k in compiled && typeof compiled[k] !== typeof v) {
      throw new UsageError(`--define ${k}: ${p} was compiled with ${k} as a ${typeof compiled[k]}, not a ${typeof v} (compile it again with this --define)`);
    }
  }
}

export async function loadSignatures(opts: { bundled: boolean; packs?: string[]; noPacks?: string[]; rules: string[]; hashes: string[]; defines: Record<string, string>; engine?: "auto" | "yara-x" }): Promise<LoadedSignatures> {
  const lists: HashListInput[] = [];
  const sources: string[] = [];
  // issue 10: the bundled packs chosen by --pack/--no-pack. YARA-X compiles rule text in every
  // worker (minutes for the 7,300 rules of every pack), so --engine yara-x takes the core set
  // unless --pack names others.
  const named = opts.packs ?? [];
  const packs = opts.bundled ? chosenPacks(opts.engine === "yara-x" && named.length === 0 ? [CORE_PACK] : named, opts.noPacks ?? []) : [];
  // The default packs' hash lists come indexed from the build; with other lists beside them
  // (--hashes) or other packs, all are indexed here.
  let prebuilt: HashDb | undefined;
  if (opts.bundled) {
    sources.push("bundled");
    prebuilt = opts.hashes.length === 0 ? bundledHashDb(packs) : undefined;
    if (!prebuilt) for (const f of bundledHashes(packs)) lists.push({ name: f.name, text: f.text });
  }
  const t0 = performance.now();
  const threads = opts.engine === "yara-x" ? [] : startCompileThreads(sourceBytes(opts.rules));
  const inputs: RuleInput[] = [];
  let defines: Record<string, ExternalValue>;
  let settable: (keyof FileExternals)[];
  try {
    for (const r of opts.rules) {
      sources.push(r);
      inputs.push(readRuleInput(r));
    }
    for (const h of opts.hashes) {
      sources.push(h);
      lists.push({ name: h, text: readText("--hashes", h) });
    }
    ({ defines, perFileExternals: settable } = externalDefines(opts.defines));
  } catch (err) {
    for (const t of threads) t.end();
    throw err;
  }

  let yara: RuleSource[] = [];
  let program: Uint8Array | null = null;
  let yaraRules = 0;
  let perFileExternals: (keyof FileExternals)[] = [];
  let compiledParts = 0;
  let codeCache = false;
  if (opts.engine === "yara-x") {
    // Every rule in YARA-X, which compiles text: compiled programs give back their rules' sources.
    if (opts.bundled) yara.push(...imageSources(bundledCompiled(packs).image));
    for (const i of inputs) yara.push(...(i.kind === "sources" ? i.files : imageSources(i.image)));
    yaraRules = yara.reduce((n, s) => n + countRules(s), 0);
    perFileExternals = referencedExternals(yara, settable);
  } else {
    const set = await compileRuleSet({ bundled: opts.bundled, packs, rules: inputs, defines, thread: true, threads });
    program = set.image;
    compiledParts = set.parts;
    codeCache = set.codeCache;
    yaraRules = set.yaraRules;
    perFileExternals = set.fileExternals.filter((k) => settable.includes(k));
  }
  const ruleMs = Math.round(performance.now() - t0);
  let hashDb: HashDb | null = prebuilt ?? null;
  if (lists.length > 0) {
    try {
      hashDb = HashDb.build(lists);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    yara,
    program,
    programNote: `${program ? `one program of ${imageSummary(program).rules} rule(s)` : "no program (YARA-X compiles the sources in each worker)"}, ${inputs.some((i) => i.kind === "sources") ? `sources compiled${compiledParts > 1 ? ` in ${compiledParts} parts` : ""}` : "read"} in ${ruleMs} ms${codeCache ? " (compile threads from the code cache)" : ""}`,
    hashDb,
    defines,
    perFileExternals,
    info: {
      version: opts.bundled ? BUNDLED_VERSION : "none",
      contentId: opts.bundled ? bundledContentId() : "none",
      yaraRules,
      hashSignatures: hashDb?.count ?? 0,
      sources,
    },
  };
}
