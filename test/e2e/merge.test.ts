// End to end: `ring3 report merge` on reports the binary wrote for trees the test builds. The
// merged report of N shards equals the full scan's (results and summary), SARIF merges into one
// run whose rules are unique and whose results point at the right rule, and GitHub's limits hold.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import Ajv2020 from "ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ndjsonLineSchema from "../../src/report/schema/ndjson-line.schema.json";
import reportSchema from "../../src/report/schema/report.schema.json";
import { validate } from "../support/sarif-validator";
import { EICAR, ring3, tempDir, write, type Json } from "./helpers";

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(reportSchema);
const validateReport = ajv.compile(reportSchema);
const validateLine = ajv.compile(ndjsonLineSchema);

function expectValid(doc: Json): void {
  if (!validateReport(doc)) throw new Error(JSON.stringify(validateReport.errors, null, 2));
}

const RULES = `
rule Alpha { meta: severity = "low" strings: $a = "alpha-marker" condition: $a }
rule Beta { meta: severity = "critical" strings: $b = "beta-marker" condition: $b }
rule Gamma { meta: severity = "medium" strings: $g = "gamma-marker" condition: $g }
`;

let dir: string;
let tree: string;
let rules: string;
beforeAll(() => {
  dir = tempDir();
  tree = path.join(dir, "tree");
  rules = write(dir, "rules/test.yar", RULES);
  const markers = ["alpha-marker", "beta-marker", "gamma-marker"];
  for (let i = 0; i < 30; i++) write(tree, `d${i % 4}/f${i}.txt`, i % 3 === 0 ? `x ${markers[(i / 3) % 3]} y\n` : `plain ${i}\n`);
  write(tree, "eicar.com", EICAR);
  write(tree, "locked/secret.txt", "unreadable\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function scanTo(format: string, out: string, args: string[]): number | null {
  const run = ring3(["scan", "--no-progress", "--rules", rules, "--format", format, "-o", out, ...args]);
  expect(run.stderr).not.toContain("internal error");
  return run.code;
}

function key(r: Json): string {
  return [r.path, ...(r.members ?? [])].join("!");
}

const COUNTS = ["files", "clean", "detected", "partial", "skipped", "error", "incomplete", "findings", "suppressed", "members", "bytesScanned"];

describe("report merge", () => {
  it("json: the merged report of 3 shards equals the full scan (results, summary, exit code)", () => {
    const full = path.join(dir, "full.json");
    expect(scanTo("json", full, ["--all", tree])).toBe(1);
    const parts = [1, 2, 3].map((k) => {
      const p = path.join(dir, `shard${k}.json`);
      scanTo("json", p, ["--all", "--shard", `${k}/3`, tree]);
      return p;
    });
    const out = path.join(dir, "merged.json");
    const run = ring3(["report", "merge", ...parts, "-o", out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const merged: Json = JSON.parse(fs.readFileSync(out, "utf8"));
    const want = JSON.parse(fs.readFileSync(full, "utf8"));
    expectValid(merged);
    expect(merged.results.map(key).sort()).toEqual(want.results.map(key).sort());
    for (const c of COUNTS) expect(merged.summary[c], c).toBe(want.summary[c]);
    expect(merged.summary.reasons).toEqual(want.summary.reasons);
    expect(merged.summary.exitCode).toBe(1);
    expect(merged.scan.options.shards).toEqual(["1/3", "2/3", "3/3"]);
    expect(merged.scan.options.shard).toBeUndefined();
  });

  it("ndjson: merged into ndjson lines (and into json), a missing shard is a warning", () => {
    const parts = [1, 2].map((k) => {
      const p = path.join(dir, `shard${k}.ndjson`);
      scanTo("ndjson", p, ["--shard", `${k}/3`, tree]);
      return p;
    });
    const out = path.join(dir, "merged.ndjson");
    const run = ring3(["report", "merge", ...parts, "-o", out]);
    expect(run.stderr).toContain("shard(s) 3/3 missing");
    const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    for (const l of lines) if (!validateLine(l)) throw new Error(JSON.stringify(validateLine.errors, null, 2));
    expect(lines[0].type).toBe("begin");
    expect(lines[lines.length - 1].type).toBe("summary");
    const inputs = parts.map((p) => fs.readFileSync(p, "utf8").trim().split("\n").map((l) => JSON.parse(l)));
    const resultLines = inputs.flatMap((ls) => ls.filter((l) => l.type === "result"));
    expect(lines.filter((l) => l.type === "result").length).toBe(resultLines.length);
    const files = inputs.reduce((n, ls) => n + ls[ls.length - 1].files, 0);
    expect(lines[lines.length - 1].files).toBe(files);
    expect(run.code).toBe(lines[lines.length - 1].exitCode);

    const asJson = path.join(dir, "merged-from-ndjson.json");
    expect(ring3(["report", "merge", ...parts, "-o", asJson, "--format", "json"]).code).toBe(run.code);
    const doc: Json = JSON.parse(fs.readFileSync(asJson, "utf8"));
    expectValid(doc);
    expect(doc.summary.files).toBe(files);
  });

  it("sarif: one run, rules de-duplicated, each result's ruleIndex remapped to its rule; validates", () => {
    // Two reports whose rule lists differ: Beta is only in a, so b's first rule moves in the merge.
    const onlyBeta = path.join(dir, "beta");
    write(onlyBeta, "b1.txt", "beta-marker\n");
    write(onlyBeta, "b2.txt", "beta-marker gamma-marker\n");
    const both = path.join(dir, "both");
    write(both, "a1.txt", "alpha-marker\n");
    write(both, "a2.txt", "alpha-marker gamma-marker\n");
    const a = path.join(dir, "a.sarif");
    const b = path.join(dir, "b.sarif");
    expect(scanTo("sarif", a, [onlyBeta])).toBe(1);
    expect(scanTo("sarif", b, [both])).toBe(1);
    const inB = JSON.parse(fs.readFileSync(b, "utf8")).runs[0];
    const firstOfB: string = inB.tool.driver.rules[0].id;
    expect(inB.results.some((r: Json) => r.ruleIndex === 0)).toBe(true);
    const out = path.join(dir, "merged.sarif");
    const run = ring3(["report", "merge", a, b, "-o", out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const log = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(log.runs).toHaveLength(1);
    const r0 = log.runs[0];
    const ids: string[] = r0.tool.driver.rules.map((r: Json) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(["yara/default/Alpha", "yara/default/Beta", "yara/default/Gamma"]);
    expect(r0.results).toHaveLength(6);
    for (const res of r0.results) expect(r0.tool.driver.rules[res.ruleIndex].id).toBe(res.ruleId);
    expect(ids.indexOf("yara/default/Beta")).toBe(0);
    expect(r0.tool.driver.rules.findIndex((r: Json) => r.id === firstOfB)).toBeGreaterThan(0);
    // b was scanned from another %SRCROOT%: its locations were rebased, every one names its file.
    const base: string = r0.originalUriBaseIds["%SRCROOT%"].uri;
    for (const res of r0.results) {
      const loc = res.locations[0].physicalLocation.artifactLocation;
      const file = fileURLToPath(loc.uriBaseId === "%SRCROOT%" ? base + loc.uri : loc.uri);
      expect(fs.readFileSync(file, "utf8")).toContain(res.ruleId.split("/")[2].toLowerCase() + "-marker");
    }
    expect(r0.properties.summary.files).toBe(4);
    expect(r0.invocations).toHaveLength(1);
    expect(r0.invocations[0].exitCode).toBe(1);
    const problems = validate([out]).filter((x) => x.level === "error");
    expect(problems).toEqual([]);
  });

  it("sarif over the results limit keeps the most severe and says so in a notification; validates", () => {
    const parts = [1, 2].map((k) => {
      const p = path.join(dir, `lim${k}.sarif`);
      scanTo("sarif", p, ["--shard", `${k}/2`, tree]);
      return p;
    });
    const total = parts.reduce((n, p) => n + JSON.parse(fs.readFileSync(p, "utf8")).runs[0].results.length, 0);
    expect(total).toBeGreaterThan(4);
    const out = path.join(dir, "limited.sarif");
    ring3(["report", "merge", ...parts, "-o", out, "--max-results", "4"]);
    const r0 = JSON.parse(fs.readFileSync(out, "utf8")).runs[0];
    expect(r0.results).toHaveLength(4);
    // EICAR (hash, high) and Beta (critical) outrank Gamma (medium) and Alpha (low).
    const rank: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
    const kept = r0.results.map((r: Json) => rank[r.properties.severity]);
    expect(Math.max(...kept)).toBeLessThanOrEqual(2);
    expect(r0.results.some((r: Json) => r.ruleId === "yara/default/Alpha")).toBe(false);
    expect(r0.properties.summary.resultsOmitted).toBe(total - 4);
    const notes = r0.invocations[0].toolExecutionNotifications.map((n: Json) => n.message.text);
    expect(notes.some((t: string) => t.startsWith(`${total - 4} results of lower severity were left out`))).toBe(true);
    expect(validate([out]).filter((x) => x.level === "error")).toEqual([]);
  });

  it("sarif over the gzip size limit drops artifacts, then the least severe results, and says so", () => {
    const parts = [1, 2].map((k) => {
      const p = path.join(dir, `gz${k}.sarif`);
      scanTo("sarif", p, ["--all", "--shard", `${k}/2`, tree]);
      return p;
    });
    const whole = path.join(dir, "whole.sarif");
    ring3(["report", "merge", ...parts, "-o", whole]);
    const wholeText = fs.readFileSync(whole, "utf8");
    const results = JSON.parse(wholeText).runs[0].results.length;
    // Half the size: the artifacts alone cannot make up for it, results go too.
    const limit = Math.floor(zlib.gzipSync(wholeText).length / 2);
    const out = path.join(dir, "small.sarif");
    ring3(["report", "merge", ...parts, "-o", out, "--max-gzip-size", String(limit)]);
    const text = fs.readFileSync(out, "utf8");
    const r0 = JSON.parse(text).runs[0];
    expect(r0.artifacts).toBeUndefined();
    expect(zlib.gzipSync(text).length).toBeLessThanOrEqual(limit);
    expect(r0.results.length).toBeLessThan(results);
    expect(r0.properties.summary.resultsOmitted).toBe(results - r0.results.length);
    const notes = r0.invocations[0].toolExecutionNotifications.map((n: Json) => n.message.text).join("\n");
    expect(notes).toContain("artifacts (files listed with their digests) were left out");
    expect(validate([out]).filter((x) => x.level === "error")).toEqual([]);
  });

  it("refuses mixed formats, different signature sets and the same shard twice (exit 2)", () => {
    const j = path.join(dir, "one.json");
    const s = path.join(dir, "one.sarif");
    scanTo("json", j, [tree]);
    scanTo("sarif", s, [tree]);
    const mixed = ring3(["report", "merge", j, s, "-o", path.join(dir, "x")]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("cannot merge reports of different formats");
    expect(fs.existsSync(path.join(dir, "x"))).toBe(false);

    const other = path.join(dir, "other.json");
    ring3(["scan", "--no-progress", "--format", "json", "-o", other, tree]);
    const sets = ring3(["report", "merge", j, other, "-o", path.join(dir, "x")]);
    expect(sets.code).toBe(2);
    expect(sets.stderr).toContain("different signature sets");

    const p = path.join(dir, "s1.json");
    scanTo("json", p, ["--shard", "1/2", tree]);
    const twice = ring3(["report", "merge", p, p, "-o", path.join(dir, "x")]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("are both shard 1/2");

    write(dir, "junk.txt", "not a report\n");
    const junk = ring3(["report", "merge", path.join(dir, "junk.txt"), "-o", path.join(dir, "x")]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain("not a ring3 report");
  });
});
