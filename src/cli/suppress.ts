// The false-positive controls users expect: --allow (files by SHA-256, also ClamAV .sfp lists),
// --exclude-rule ID|GLOB and --exclude-tag TAG. A suppressed finding leaves the result's
// findings but stays on the result (`suppressed`) and in the summary's count: never hidden.
import * as fs from "node:fs";
import picomatch from "picomatch";
import { verdictOfResult } from "../scan";
import type { Finding, ScanResult, Suppression } from "../types";
import { UsageError } from "./options";

export interface SuppressOptions {
  allow: string[];
  excludeRules: string[];
  excludeTags: string[];
}

/**
 * Reads allowlists: one SHA-256 per line, optionally followed by a name (`HASH name`,
 * `HASH;name`), or ClamAV .sfp lines (`sha256:size:name`). `#` starts a comment. A line that is
 * not one of these is an error with file:line: a silently ignored entry is a surprise later.
 */
export function loadAllowlist(files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--allow ${file}: ${(err as Error).message}`);
    }
    text.replace(/^\ufeff/, "")
      .split("\n")
      .forEach((raw, i) => {
        const line = raw.replace(/\r$/, "").trim();
        if (line === "" || line.startsWith("#")) return;
        const m = /^([0-9a-fA-F]{64})(?:[:;\s]|$)/.exec(line);
        if (!m) throw new UsageError(`${file}:${i + 1}: not a SHA-256 allowlist entry (HASH [name], HASH;name or sha256:size:name)`);
        out.set(m[1].toLowerCase(), file);
      });
  }
  return out;
}

export type Suppressor = (r: ScanResult) => ScanResult;

export function makeSuppressor(opts: SuppressOptions): Suppressor | undefined {
  const allow = loadAllowlist(opts.allow);
  const rules = opts.excludeRules.map((p) => ({ pattern: p, test: picomatch(p, { dot: true, nocase: false }) }));
  const tags = new Set(opts.excludeTags);
  if (allow.size === 0 && rules.length === 0 && tags.size === 0) return undefined;

  const why = (r: ScanResult, f: Finding): Pick<Suppression, "by" | "match"> | undefined => {
    const allowedBy = r.hashes.sha256 !== undefined ? allow.get(r.hashes.sha256) : undefined;
    if (allowedBy !== undefined) return { by: "allow", match: allowedBy };
    for (const { pattern, test } of rules) {
      if (test(f.rule) || (f.id !== undefined && test(f.id))) return { by: "exclude-rule", match: pattern };
    }
    const tag = f.tags.find((t) => tags.has(t));
    if (tag !== undefined) return { by: "exclude-tag", match: tag };
    return undefined;
  };

  return (r) => {
    if (r.findings.length === 0) return r;
    const kept: Finding[] = [];
    const suppressed: Suppression[] = [...(r.suppressed ?? [])];
    for (const f of r.findings) {
      const w = why(r, f);
      if (w === undefined) kept.push(f);
      else suppressed.push({ engine: f.engine, rule: f.rule, namespace: f.namespace, ...(f.id !== undefined ? { id: f.id } : {}), ...w });
    }
    if (kept.length === r.findings.length) return r;
    // With nothing left, the file is what the scan otherwise found it: partial if only part of
    // it was scanned, clean if all of it was (or detected still, through a member).
    const out = { ...r, findings: kept, suppressed };
    out.verdict = verdictOfResult(out);
    return out;
  };
}
