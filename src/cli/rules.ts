// `ring3 rules list` (the bundled set), `ring3 rules check PATH...` (compile each file with
// YARA-X and print file:line:col diagnostics, as compilers do) and `ring3 rules compile` (a
// compiled rule file for --rules).
import * as fs from "node:fs";
import { readHashList } from "../engines/hash/lists";
import { readIncludes } from "../engines/yara/includes";
import { compile, formatDiagnostic, initYaraX } from "../engines/yara/yarax";
import { sourcesDigest, writeCompiled } from "../engines/yara/compiled";
import { imageRules, imageSummary } from "../engines/yara/image";
import { RuleCompileError } from "../pool/pool";
import { bundledHashes, BUNDLED_VERSION, bundledCompiled, bundledContentId, bundledPacks } from "../signatures/bundled";
import { packTable } from "./packs"; // issue 10
import type { ExitCode } from "../types";
import { getAsset } from "../util/assets";
import { UsageError } from "./options";
import { compileRuleSet, countRules, externalDefines, readRuleInput, ruleFiles } from "./signatures";
import { VERSION } from "./version";

export interface RuleRow {
  id: string;
  engine: "yara" | "hash";
  rule: string;
  severity: string;
  category: string;
  description: string;
  source: string;
}

/** Reads each rule's meta block from YARA source (the bundled set is written in this shape). */
export function ruleRows(name: string, text: string): RuleRow[] {
  const rows: RuleRow[] = [];
  const decl = /^\s*(?:(?:private|global)\s+)*rule\s+(\w+)/gm;
  const starts: { rule: string; at: number }[] = [];
  for (let m = decl.exec(text); m; m = decl.exec(text)) starts.push({ rule: m[1], at: m.index });
  starts.forEach((s, i) => {
    const body = text.slice(s.at, i + 1 < starts.length ? starts[i + 1].at : text.length);
    const meta = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`, "m").exec(body)?.[1] ?? "";
    rows.push({
      id: meta("id") || s.rule,
      engine: "yara",
      rule: s.rule,
      severity: meta("severity") || "medium",
      category: meta("category"),
      description: meta("description"),
      source: name,
    });
  });
  return rows;
}

/** The rows of a compiled program's rules, from their metadata (the bundled set keeps one value per key). */
export function imageRows(image: Uint8Array): RuleRow[] {
  return imageRules(image).map((r) => {
    const meta = (key: string) => {
      const m = r.meta.find(([k]) => k === key);
      return m && typeof m[1] === "string" ? m[1] : "";
    };
    return { id: meta("id") || r.name, engine: "yara", rule: r.name, severity: meta("severity") || "medium", category: meta("category"), description: meta("description"), source: r.file };
  });
}

export function listBundled(json: boolean): ExitCode {
  // issue 10: every pack, on by default or not, with its table first
  const packs = bundledPacks();
  const all = packs.map((p) => p.name);
  const rows: RuleRow[] = imageRows(bundledCompiled(all).image);
  for (const f of bundledHashes(all)) {
    for (const sig of readHashList(f)) {
      rows.push({ id: `hash:${sig.name}`, engine: "hash", rule: sig.name, severity: "high", category: "hash", description: `${sig.algorithm.toUpperCase()} ${sig.digest}`, source: f.name });
    }
  }
  if (json) {
    const packRows = packs.map(({ hashes: _h, ...p }) => p);
    process.stdout.write(JSON.stringify({ version: BUNDLED_VERSION, contentId: bundledContentId(), packs: packRows, rules: rows }, null, 2) + "\n");
    return 0;
  }
  const w = (k: keyof RuleRow) => Math.max(k.length, ...rows.map((r) => r[k].length));
  const [wi, ws] = [w("id"), w("severity")];
  process.stdout.write(`signatures ${BUNDLED_VERSION} (content ${bundledContentId()}): ${rows.length} signatures in ${packs.length} packs\n\n`);
  process.stdout.write(packTable(packs) + "\n");
  process.stdout.write(`${"ID".padEnd(wi)}  ${"SEVERITY".padEnd(ws)}  DESCRIPTION\n`);
  for (const r of rows) process.stdout.write(`${r.id.padEnd(wi)}  ${r.severity.padEnd(ws)}  ${r.description}\n`);
  return 0;
}

export function checkRules(paths: string[], defineArgs: Record<string, string>): ExitCode {
  initYaraX(getAsset("yara_x_js_bg.wasm"));
  const { defines } = externalDefines(defineArgs);
  let files = 0;
  let rules = 0;
  let errors = 0;
  let warnings = 0;
  for (const p of paths) {
    for (const f of ruleFiles(p)) {
      files++;
      const text = readRuleFile(f);
      if (text === undefined) {
        errors++;
        continue;
      }
      // One compiler per file: every file's errors are found, not only the first file's.
      const out = compile([readIncludes({ name: f, text, namespace: "default" })], defines);
      for (const d of [...out.errors, ...out.warnings]) process.stdout.write(formatDiagnostic(d) + "\n");
      errors += out.errors.length;
      warnings += out.warnings.length;
      if (out.rules) {
        rules += countRules(text);
        out.rules.free();
      }
    }
  }
  process.stdout.write(`${files} file(s), ${rules} rule(s), ${errors} error(s), ${warnings} warning(s)\n`);
  return errors > 0 ? 2 : 0;
}

function readRuleFile(f: string): string | undefined {
  try {
    return fs.readFileSync(f, "utf8");
  } catch (err) {
    process.stdout.write(`${f}:0:0: error: ${(err as Error).message}\n`);
    return undefined;
  }
}

/**
 * `ring3 rules compile RULES... -o FILE`: the rules (sources, as --rules reads them, or compiled
 * files) compiled into one program and written as a compiled rule file, which `scan --rules FILE`
 * loads without parsing. Diagnostics as `rules check` prints them; nothing is written on an error.
 */
export async function compileRules(paths: string[], defineArgs: Record<string, string>, output: string): Promise<ExitCode> {
  const t0 = performance.now();
  const { defines } = externalDefines(defineArgs);
  const inputs = paths.map(readRuleInput);
  let set: Awaited<ReturnType<typeof compileRuleSet>>;
  try {
    set = await compileRuleSet({ bundled: false, rules: inputs, defines });
  } catch (err) {
    if (!(err instanceof RuleCompileError)) throw err;
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
    process.stderr.write(`ring3: ${err.message}; ${output} not written\n`);
    return 2;
  }
  if (!set.image) throw new UsageError("rules compile: no rules given");
  const digestOf = inputs.flatMap((i) => (i.kind === "sources" ? i.files : [{ name: i.path, text: i.header.sourcesDigest }]));
  const file = writeCompiled(set.image, { ring3: VERSION, sourcesDigest: sourcesDigest(digestOf) });
  const tmp = `${output}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, file);
    fs.renameSync(tmp, output);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new UsageError(`-o ${output}: ${(err as Error).message}`);
  }
  const ms = Math.round(performance.now() - t0);
  process.stderr.write(`${output}: ${imageSummary(set.image).rules} rule(s) from ${digestOf.length} file(s), ${file.length} bytes, in ${ms} ms\n`);
  return 0;
}
