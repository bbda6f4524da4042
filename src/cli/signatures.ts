// Gathers the signatures a scan uses: the bundled set (unless --no-bundled) plus the user's
// --rules files/folders and --hashes lists. Rule files are read here (they are configuration,
// not scanned content); compiling happens in each worker.
import * as fs from "node:fs";
import * as path from "node:path";
import { HashDb, type HashListInput } from "../engines/hash/db";
import { FILE_EXTERNALS, parseExternalValue, type ExternalValue, type FileExternals, type RuleSource } from "../engines/yara/yarax";
import { BUNDLED_HASHES, BUNDLED_VERSION, BUNDLED_YARA, bundledContentId } from "../signatures/bundled";
import type { SignatureInfo } from "../types";
import { UsageError } from "./options";

export interface LoadedSignatures {
  yara: RuleSource[];
  hashDb: HashDb | null;
  defines: Record<string, ExternalValue>;
  perFileExternals: (keyof FileExternals)[];
  info: SignatureInfo;
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

/** Counts rule declarations in YARA source (for --version and reports; the compiler is the authority). */
export function countRules(text: string): number {
  return (text.match(/^\s*(?:(?:private|global)\s+)*rule\s+\w+/gm) ?? []).length;
}

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

/** The file externals some rule mentions: only those are set per file (each set costs, see yarax.ts). */
export function referencedExternals(sources: RuleSource[], candidates: readonly (keyof FileExternals)[]): (keyof FileExternals)[] {
  return candidates.filter((k) => sources.some((s) => new RegExp(`\\b${k}\\b`).test(s.text)));
}

export function loadSignatures(opts: { bundled: boolean; rules: string[]; hashes: string[]; defines: Record<string, string> }): LoadedSignatures {
  const yara: RuleSource[] = [];
  const lists: HashListInput[] = [];
  const sources: string[] = [];
  if (opts.bundled) {
    sources.push("bundled");
    for (const f of BUNDLED_YARA) yara.push({ name: f.name, text: f.text, namespace: "ring3" });
    for (const f of BUNDLED_HASHES) lists.push({ name: f.name, text: f.text });
  }
  for (const r of opts.rules) {
    sources.push(r);
    for (const f of ruleFiles(r)) yara.push({ name: f, text: readText("--rules", f), namespace: "default" });
  }
  for (const h of opts.hashes) {
    sources.push(h);
    lists.push({ name: h, text: readText("--hashes", h) });
  }
  const { defines, perFileExternals: settable } = externalDefines(opts.defines);
  const perFileExternals = referencedExternals(yara, settable);
  let hashDb: HashDb | null = null;
  if (lists.length > 0) {
    try {
      hashDb = HashDb.build(lists);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    yara,
    hashDb,
    defines,
    perFileExternals,
    info: {
      version: opts.bundled ? BUNDLED_VERSION : "none",
      contentId: opts.bundled ? bundledContentId() : "none",
      yaraRules: yara.reduce((n, s) => n + countRules(s.text), 0),
      hashSignatures: hashDb?.count ?? 0,
      sources,
    },
  };
}
