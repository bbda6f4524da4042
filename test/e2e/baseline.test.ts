// End to end: --baseline and --update-baseline on trees the test builds. Known findings (same rule
// identity, namespace included, and same file SHA-256) are counted as baselined and leave the exit
// code to the new ones; SARIF marks them with baselineState.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "../support/sarif-validator";
import { EICAR, json, ring3, tempDir, write, type Json } from "./helpers";

const RULES = `
rule Alpha { meta: severity = "high" strings: $a = "alpha-marker" condition: $a }
rule Beta { meta: severity = "medium" strings: $b = "beta-marker" condition: $b }
`;

let dir: string;
let rules: string;
beforeAll(() => {
  dir = tempDir();
  rules = write(dir, "rules/test.yar", RULES);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tree(name: string): string {
  const t = path.join(dir, name);
  write(t, "eicar.com", EICAR);
  write(t, "a/one.txt", "x alpha-marker y\n");
  write(t, "b/two.txt", "beta-marker\n");
  for (let i = 0; i < 5; i++) write(t, `clean/c${i}.txt`, `nothing ${i}\n`);
  return t;
}

function scan(args: string[]): { code: number | null; doc: Json; stderr: string } {
  const run = ring3(["scan", "--no-progress", "--rules", rules, "--format", "json", ...args]);
  return { code: run.code, doc: json(run), stderr: run.stderr };
}

const findings = (doc: Json): Json[] => doc.results.flatMap((r: Json) => r.findings);

describe("--baseline", () => {
  it("a rescan against its own report: every finding baselined, exit 0; a new one alone makes it 1", () => {
    const t = tree("t1");
    const base = path.join(dir, "t1.json");
    const first = ring3(["scan", "--no-progress", "--rules", rules, "--format", "json", "-o", base, t]);
    expect(first.code).toBe(1);
    const known = findings(JSON.parse(fs.readFileSync(base, "utf8"))).length;
    expect(known).toBeGreaterThanOrEqual(3);

    const again = scan(["--baseline", base, t]);
    expect(again.code).toBe(0);
    expect(again.doc.summary.exitCode).toBe(0);
    expect(again.doc.summary.findings).toBe(known);
    expect(again.doc.summary.baselined).toBe(known);
    expect(findings(again.doc).every((f: Json) => f.baselined === true)).toBe(true);
    expect(again.doc.scan.options.baseline).toBe(base);

    // The same bytes elsewhere are the same finding; other bytes matching the same rule are new.
    write(t, "copy/eicar-again.com", EICAR);
    write(t, "a/three.txt", "another alpha-marker\n");
    const text = ring3(["scan", "--no-progress", "--rules", rules, "--baseline", base, t]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/three\.txt: Alpha FOUND/);
    expect(text.stdout).not.toMatch(/three\.txt: .*\[baselined\]/);
    expect(text.stdout).toMatch(/eicar-again\.com: .*\[baselined\]/);
    expect(text.stdout).toMatch(new RegExp(`Findings: +${known + 3} \\(1 new, ${known + 2} in the baseline\\)`));
    fs.rmSync(path.join(t, "a/three.txt"));
    const clean = ring3(["scan", "--no-progress", "--rules", rules, "--baseline", base, t]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("CLEAN (exit 0): nothing new found");
  });

  it("SARIF: baselineState unchanged/new, the invocation's exit code from new findings; validates", () => {
    const t = tree("t2");
    const base = path.join(dir, "t2.sarif");
    expect(ring3(["scan", "--no-progress", "--rules", rules, "--format", "sarif", "-o", base, t]).code).toBe(1);
    write(t, "b/new.txt", "fresh beta-marker\n");
    const out = path.join(dir, "t2-again.sarif");
    // The baseline may be a SARIF report too.
    const run = ring3(["scan", "--no-progress", "--rules", rules, "--format", "sarif", "-o", out, "--baseline", base, t]);
    expect(run.code).toBe(1);
    const r0 = JSON.parse(fs.readFileSync(out, "utf8")).runs[0];
    const fresh = r0.results.filter((r: Json) => r.baselineState === "new");
    expect(fresh).toHaveLength(1);
    expect(fresh[0].locations[0].physicalLocation.artifactLocation.uri).toMatch(/new\.txt$/);
    expect(r0.results.filter((r: Json) => r.baselineState === "unchanged").length).toBe(r0.results.length - 1);
    expect(r0.invocations[0].exitCode).toBe(1);
    expect(r0.properties.summary.baselined).toBe(r0.results.length - 1);
    expect(validate([out]).filter((x) => x.level === "error")).toEqual([]);
  });

  it("the rule identity includes the namespace: the same signature from another hash list is new", () => {
    const t = path.join(dir, "t3");
    const data = "a file named on a hash list\n";
    write(t, "listed.bin", data);
    const sha = createHash("sha256").update(data).digest("hex");
    const listA = write(dir, "lists/vendor-a.txt", `${sha};Listed_File\n`);
    const listB = write(dir, "lists/vendor-b.txt", `${sha};Listed_File\n`);
    const base = path.join(dir, "t3.json");
    expect(ring3(["scan", "--no-progress", "--no-bundled", "--hashes", listA, "--format", "json", "-o", base, t]).code).toBe(1);
    const same = ring3(["scan", "--no-progress", "--no-bundled", "--hashes", listA, "--format", "json", "--baseline", base, t]);
    expect(same.code).toBe(0);
    const other = ring3(["scan", "--no-progress", "--no-bundled", "--hashes", listB, "--format", "json", "--baseline", base, t]);
    expect(other.code).toBe(1);
    expect(json(other).summary.baselined).toBe(0);
  });

  it("--update-baseline creates the baseline and accepts today's findings; it needs --baseline", () => {
    const t = tree("t4");
    const base = path.join(dir, "t4-baseline.json");
    const first = scan(["--baseline", base, "--update-baseline", t]);
    // Against an empty baseline everything is new; the new baseline holds all of it.
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`baseline ${base} updated`);
    const written = JSON.parse(fs.readFileSync(base, "utf8"));
    expect(findings(written).length).toBe(first.doc.summary.findings);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    expect(scan(["--baseline", base, t]).code).toBe(0);
    // A detected file changed: new bytes, a new finding; updating the baseline accepts it.
    write(t, "a/one.txt", "x alpha-marker y, edited\n");
    expect(scan(["--baseline", base, t]).code).toBe(1);
    expect(scan(["--baseline", base, "--update-baseline", t]).code).toBe(1);
    expect(scan(["--baseline", base, t]).code).toBe(0);

    const alone = ring3(["scan", "--update-baseline", t]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--update-baseline needs --baseline");
    write(dir, "junk.json", "{ not json");
    const junk = ring3(["scan", "--baseline", path.join(dir, "junk.json"), t]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain("not a ring3 report");
  });
});
