// The third-party rule packs vendored under signatures/packs/NAME/ by scripts/import-rulesets.mjs:
// each pack's SOURCE (upstream repository, commit, licence, on by default or not), its rule files
// (each in a namespace of its own, PACK/path, so that equal rule names in two files do not
// collide), its hash lists, and the rules left out of the set (EXCLUDED.tsv: cannot be compiled;
// fp-excluded.tsv: matched a clean file in `make fp-check`). Used at build time and by tests.
import * as fs from "node:fs";
import * as path from "node:path";
import { buildImage } from "../engines/yara/image";
import { parse } from "../engines/yara/parser";
import { compile, type Diagnostic, type ExternalValue, type RuleSource } from "../engines/yara/yarax";

export interface PackSource {
  name: string;
  /** What the pack is, in a few words. */
  title: string;
  repository: string;
  commit: string;
  /** SPDX id. */
  license: string;
  /** Whether `ring3 scan` uses the pack without --pack. */
  default: boolean;
  /** The date of the import. */
  imported: string;
}

/** A rule left out: which file (the namespace, PACK/path) and rule, and why. */
export interface Exclusion {
  namespace: string;
  rule: string;
  reason: string;
}

export const PACKS_DIR = "packs";
export const IMPORT_EXCLUSIONS = "EXCLUDED.tsv";
export const FP_EXCLUSIONS = "fp-excluded.tsv";
const RULE_FILE = /\.(yar|yara)$/i;
const HASH_FILE = /\.(hsb|hdb)$/i;

/** SOURCE: `key: value` lines. */
export function parseSource(name: string, text: string): PackSource {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z]+):\s*(.*?)\s*$/.exec(line);
    if (m) kv.set(m[1]!, m[2]!);
  }
  const need = (k: string) => {
    const v = kv.get(k);
    if (!v) throw new Error(`signatures/packs/${name}/SOURCE: no ${k}`);
    return v;
  };
  const on = need("default");
  if (on !== "on" && on !== "off") throw new Error(`signatures/packs/${name}/SOURCE: default must be on or off, not ${on}`);
  return { name, title: need("title"), repository: need("repository"), commit: need("commit"), license: need("license"), default: on === "on", imported: need("imported") };
}

export function formatSource(p: PackSource): string {
  return [`title: ${p.title}`, `repository: ${p.repository}`, `commit: ${p.commit}`, `license: ${p.license}`, `default: ${p.default ? "on" : "off"}`, `imported: ${p.imported}`, ""].join("\n");
}

/** The packs under signatures/packs, by name. */
export function packNames(signaturesDir: string): string[] {
  const dir = path.join(signaturesDir, PACKS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, "SOURCE")))
    .map((e) => e.name)
    .sort();
}

export function readPackSource(signaturesDir: string, name: string): PackSource {
  return parseSource(name, fs.readFileSync(path.join(signaturesDir, PACKS_DIR, name, "SOURCE"), "utf8"));
}

function walk(dir: string, test: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && test.test(e.name)) out.push(full);
    }
  };
  visit(dir);
  return out;
}

/** A pack's rule files as sources, each in its namespace PACK/path (path below the pack's yara/). */
export function packRuleFiles(signaturesDir: string, name: string): RuleSource[] {
  const root = path.join(signaturesDir, PACKS_DIR, name, "yara");
  return walk(root, RULE_FILE).map((f) => {
    const rel = path.relative(root, f).split(path.sep).join("/");
    return { name: `bundled/packs/${name}/yara/${rel}`, namespace: `${name}/${rel}`, text: fs.readFileSync(f, "utf8") };
  });
}

/** A pack's hash lists, named as findings show them (bundled/packs/PACK/hashes/FILE). */
export function packHashFiles(signaturesDir: string, name: string): { name: string; text: string }[] {
  const root = path.join(signaturesDir, PACKS_DIR, name, "hashes");
  return walk(root, HASH_FILE).map((f) => ({ name: `bundled/packs/${name}/hashes/${path.relative(root, f).split(path.sep).join("/")}`, text: fs.readFileSync(f, "utf8") }));
}

/** EXCLUDED.tsv / fp-excluded.tsv: a header line, then namespace, rule, reason (and more columns, kept as the reason). */
export function parseExclusions(text: string): Exclusion[] {
  const out: Exclusion[] = [];
  for (const line of text.split("\n").slice(1)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [namespace, rule, ...rest] = line.split("\t");
    if (!namespace || !rule) continue;
    out.push({ namespace, rule, reason: rest.join(" ") });
  }
  return out;
}

export function readExclusions(signaturesDir: string, file: string): Exclusion[] {
  const p = path.join(signaturesDir, PACKS_DIR, file);
  return fs.existsSync(p) ? parseExclusions(fs.readFileSync(p, "utf8")) : [];
}

/**
 * `text` without the named rules, and without the rules of the same file that name a removed one
 * in their condition (they would no longer compile), repeated until nothing more goes. Removed
 * rules become blank lines, so that the lines of the rest keep their numbers. Returns the names
 * removed.
 */
export function withoutRules(file: string, text: string, drop: ReadonlySet<string>): { text: string; removed: string[] } {
  if (drop.size === 0) return { text, removed: [] };
  const parsed = parse(text, { file });
  if (!parsed.source) return { text, removed: [] };
  const rules = parsed.source.rules;
  const gone = new Set<string>();
  for (const r of rules) if (drop.has(r.name)) gone.add(r.name);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rules) {
      if (gone.has(r.name)) continue;
      const body = r.text.slice(r.text.indexOf("condition"));
      for (const g of gone) {
        if (new RegExp(`\\b${g}\\b`).test(body)) {
          gone.add(r.name);
          grew = true;
          break;
        }
      }
    }
  }
  let out = text;
  let from = 0;
  for (const r of rules) {
    const at = out.indexOf(r.text, from);
    if (at < 0) continue;
    if (gone.has(r.name)) {
      out = out.slice(0, at) + r.text.replace(/[^\n]/g, "") + out.slice(at + r.text.length);
      from = at;
    } else from = at + r.text.length;
  }
  return { text: out, removed: [...gone] };
}

/** The name of the rule whose text covers `line` (1-based) of a source, for a diagnostic's position. */
export function ruleAtLine(file: string, text: string, line: number): string | undefined {
  const parsed = parse(text, { file });
  let best: string | undefined;
  for (const r of parsed.source?.rules ?? []) if (r.pos.line <= line) best = r.name;
  return best;
}

/**
 * One pack rule file as the set will use it: compiled alone by ring3's compiler and by YARA-X
 * (the fallback for rules the fast path leaves undecided); a rule either rejects is removed, with
 * the diagnostic as the reason, until both accept the rest. `text` is undefined when nothing of
 * the file could be kept (then `excluded` has one entry with rule "*").
 */
export function vetRuleFile(src: RuleSource, defines: Record<string, ExternalValue>): { text?: string; excluded: Exclusion[] } {
  const excluded: Exclusion[] = [];
  let text = src.text;
  for (let round = 0; round < 100; round++) {
    const s = { ...src, text };
    const errors: Diagnostic[] = [...buildImage([s], defines).errors];
    const yx = compile([s], defines);
    yx.rules?.free();
    errors.push(...yx.errors);
    if (errors.length === 0) return { text, excluded };
    const drop = new Set<string>();
    for (const e of errors) {
      const rule = ruleAtLine(src.name, text, e.line);
      if (rule === undefined || drop.has(rule)) continue;
      drop.add(rule);
      excluded.push({ namespace: src.namespace, rule, reason: `${e.message} (line ${e.line})` });
    }
    const next = withoutRules(src.name, text, drop);
    for (const r of next.removed) if (!drop.has(r)) excluded.push({ namespace: src.namespace, rule: r, reason: "names a rule left out" });
    if (drop.size === 0 || next.text === text) break;
    text = next.text;
  }
  return { excluded: [{ namespace: src.namespace, rule: "*", reason: "the file does not compile, and no rule could be singled out" }] };
}
