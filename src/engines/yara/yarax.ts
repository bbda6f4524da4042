// The YARA engine over @virustotal/yara-x (the official YARA-X WASM build): rules are compiled
// once per worker, then each file is one scan() call. That call has a fixed cost (a new scanner
// and WASM module per call inside yara-x: 2-170 ms by rule-set size, see ARCHITECTURE.md); the
// fast path that avoids it for most files is issue #3's job.
import { initSync, Compiler, type Rules, type Scanner } from "@virustotal/yara-x";
import * as fs from "node:fs";
import * as path from "node:path";
import { getAsset } from "../../util/assets";
import type { Finding, Severity, StringMatch } from "../../types";
import { MAX_STRING_MATCHES, SEVERITIES } from "../../types";
import { expandIncludes } from "./includes";
import { attribute } from "../../signatures/attribution";

export interface RuleSource {
  /** File path (or "bundled/<name>") for diagnostics. */
  name: string;
  text: string;
  namespace: string;
  /** The files it includes, directly or not, by absolute path (includes.ts). */
  includes?: Record<string, string>;
}

export type ExternalValue = string | number | boolean;

/** The LOKI/THOR external variables that signature-base relies on; ring3 sets them per file. */
export const FILE_EXTERNALS = ["filename", "filepath", "extension", "filetype", "owner"] as const;
export type FileExternals = Record<(typeof FILE_EXTERNALS)[number], string>;

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: "error" | "warning";
  /** First line of YARA-X's message, e.g. "error[E025]: unknown pattern `$x`". */
  message: string;
  /** YARA-X's whole report with the source excerpt. */
  detail: string;
}

let externrefs: WebAssembly.Table | undefined;

/**
 * Instantiates the YARA-X WASM module (once per thread). Without `module` (the single executable
 * gives its workers no bytes; the rule compiler's thread gets none), the thread finds them itself:
 * the executable's asset or the assets folder beside the bundle, else the npm package's file.
 */
export function initYaraX(module?: WebAssembly.Module | Uint8Array | null): void {
  if (externrefs) return;
  module ??= ownWasm();
  if (!module) return;
  // WebAssembly.Module takes no view of shared memory: the scan's shared bytes are copied once.
  if (module instanceof Uint8Array && module.buffer instanceof SharedArrayBuffer) module = new Uint8Array(module);
  externrefs = initSync({ module }).__wbindgen_externrefs;
}

/**
 * YARA-X's WASM build (1.20) leaks a slot of its JS-reference table on every setGlobal() and
 * scan() call, and traps ("unreachable") once the table reaches 17,412 slots: measured after
 * about 12,900 calls, the same with or without a fresh Scanner. After the trap every call fails
 * ("recursive use of an object"). A worker therefore retires before the table gets there (the
 * pool starts a fresh one), and a worker whose engine trapped retires at once.
 */
const EXTERNREF_RETIRE_AT = 14_000;

function ownWasm(): Uint8Array | undefined {
  try {
    return getAsset("yara_x_js_bg.wasm");
  } catch {
    const pkg = path.join(__dirname, "../../../node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm");
    return fs.existsSync(pkg) ? fs.readFileSync(pkg) : undefined;
  }
}

/** Whether this thread has YARA-X's WASM instantiated. */
export function yaraxReady(): boolean {
  return externrefs !== undefined;
}

export function engineWorn(): boolean {
  return externrefs !== undefined && externrefs.length >= EXTERNREF_RETIRE_AT;
}

/** Parses one YARA-X diagnostic ("error[E025]: ...\n --> line:1:23\n ...") into a Diagnostic. */
export function parseDiagnostic(file: string, text: string, severity: "error" | "warning"): Diagnostic {
  const first = text.split("\n", 1)[0];
  const at = /-->\s*line:(\d+):(\d+)/.exec(text);
  return { file, line: at ? Number(at[1]) : 0, column: at ? Number(at[2]) : 0, severity, message: first, detail: text };
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

/** Parses a --define value as YARA does: integers, floats and booleans by form, else a string. */
export function parseExternalValue(v: string): ExternalValue {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  if (v === "true") return true;
  if (v === "false") return false;
  return v;
}

export interface CompileOutput {
  rules?: Rules;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/**
 * Compiles sources into one rule set. Every source is tried even after an error, so that a
 * `rules check` or a failed scan lists every broken file at once.
 */
export function compile(sources: RuleSource[], defines: Record<string, ExternalValue>): CompileOutput {
  const compiler = new Compiler();
  try {
    for (const [k, v] of Object.entries(defines)) compiler.defineGlobal(k, v);
    const errors: Diagnostic[] = [];
    const warnings: Diagnostic[] = [];
    let namespace = "";
    for (const src of sources) {
      if (src.namespace !== namespace) {
        compiler.newNamespace(src.namespace);
        namespace = src.namespace;
      }
      const w0 = compiler.warnings.length;
      try {
        compiler.addSource(expandIncludes(src).text);
      } catch (err) {
        const msgs = compiler.errors;
        const text = msgs.length > 0 ? msgs[msgs.length - 1] : String(err);
        errors.push(parseDiagnostic(src.name, text, "error"));
      }
      for (const w of compiler.warnings.slice(w0)) warnings.push(parseDiagnostic(src.name, w, "warning"));
    }
    if (errors.length > 0) return { errors, warnings };
    return { rules: compiler.build(), errors, warnings };
  } finally {
    compiler.free();
  }
}

export interface YaraXMatch {
  identifier: string;
  namespace: string;
  isPrivate: boolean;
  tags: string[];
  metadata: { identifier: string; value: unknown }[];
  patterns: { identifier: string; isPrivate: boolean; matches: { offset: number; length: number }[] }[];
}

export class YaraScanner {
  private readonly scanner: Scanner;
  private readonly perFile: (keyof FileExternals)[];

  constructor(
    private readonly rules: Rules,
    /** File externals that ring3 sets per file (those the user did not --define). */
    perFileExternals: (keyof FileExternals)[],
    timeoutMs: number,
  ) {
    this.scanner = rules.scanner();
    this.perFile = perFileExternals;
    // The WASM build (1.20) accepts but does not enforce this (measured: a 1M-iteration loop ran
    // 28 s under a 500 ms timeout); the pool's per-file timeout is the real bound. Kept so that a
    // build that enforces it stops earlier and reports a partial result.
    if (timeoutMs > 0) this.scanner.setTimeoutMs(timeoutMs);
  }

  /** Values last given to setGlobal: each call costs a leaked slot, so unchanged ones are not re-sent. */
  private readonly current = new Map<string, string>();

  /** Scans bytes; throws on an engine error (timeout included: message contains "timeout"). */
  scan(bytes: Uint8Array, ext: FileExternals): Finding[] {
    for (const k of this.perFile) {
      if (this.current.get(k) === ext[k]) continue;
      this.current.delete(k); // unknown if setGlobal throws
      this.scanner.setGlobal(k, ext[k]);
      this.current.set(k, ext[k]);
    }
    const res = this.scanner.scan(bytes) as { valid?: boolean; errors?: string[]; matches: YaraXMatch[] };
    if (res.valid === false) throw new Error((res.errors ?? []).join("; ") || "YARA-X scan failed");
    const findings: Finding[] = [];
    for (const m of res.matches) {
      if (m.isPrivate) continue;
      findings.push(toFinding(m));
    }
    return findings;
  }

  free(): void {
    this.scanner.free();
    this.rules.free();
  }
}

export function toFinding(m: YaraXMatch): Finding {
  const meta = new Map<string, unknown>();
  for (const { identifier, value } of m.metadata) if (!meta.has(identifier)) meta.set(identifier, value);
  const strings: StringMatch[] = [];
  let truncated = false;
  for (const p of m.patterns) {
    if (p.isPrivate) continue;
    const shown = p.matches.slice(0, MAX_STRING_MATCHES);
    if (p.matches.length > shown.length) truncated = true;
    for (const x of shown) strings.push({ id: p.identifier, offset: x.offset, length: x.length });
  }
  const f: Finding = {
    engine: "yara",
    ...(typeof meta.get("id") === "string" ? { id: meta.get("id") as string } : {}),
    rule: m.identifier,
    namespace: m.namespace,
    severity: severityOf(meta),
    description: String(meta.get("description") ?? ""),
    references: referencesOf(m.metadata),
    tags: m.tags,
    strings,
  };
  if (truncated) f.stringsTruncated = true;
  if (meta.has("action")) f.action = String(meta.get("action"));
  return attribute(f, meta.get("author")); // issue 10: pack, author, licence
}

/**
 * Severity from a rule's metadata: `severity` (low|medium|high|critical) if present, else a LOKI
 * style `score` (0-100), else medium.
 */
export function severityOf(meta: Map<string, unknown>): Severity {
  const s = meta.get("severity");
  if (typeof s === "string" && (SEVERITIES as readonly string[]).includes(s.toLowerCase())) return s.toLowerCase() as Severity;
  const score = Number(meta.get("score"));
  if (Number.isFinite(score) && meta.has("score")) {
    if (score >= 90) return "critical";
    if (score >= 70) return "high";
    if (score >= 40) return "medium";
    return "low";
  }
  return "medium";
}

function referencesOf(metadata: { identifier: string; value: unknown }[]): string[] {
  const out: string[] = [];
  for (const { identifier, value } of metadata) {
    if (!/^(reference|references|ref|url|link)\d*$/i.test(identifier) || typeof value !== "string") continue;
    for (const part of value.split(/[\s,]+/)) if (/^https?:\/\//.test(part) && !out.includes(part)) out.push(part);
  }
  return out;
}
