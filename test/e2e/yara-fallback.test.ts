// A rule YARA-X accepts but the fast path refuses never fails the scan: it goes to YARA-X on every
// file, with a warning naming it (file, line) and the cost, and rules that depend on it follow it;
// a compiled rule file keeps it that way. The refusal is forced with the test-only failpoint
// RING3_FAILPOINT=reject:NAME (the fast path accepts every construct YARA-X does that we know of);
// a rule set YARA-X rejects too still ends with exit 2 and the error.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findingsByFile, ring3, tempDir, write } from "./helpers";

const RULES = `import "pe"
rule Fast_Marker { strings: $a = "fast-marker-fb1" condition: $a }

rule Refused_Marker : tagged {
  meta:
    description = "decided by YARA-X"
  strings:
    $b = "refused-marker-fb2"
  condition:
    $b and not pe.is_pe
}
rule Uses_Refused { condition: Refused_Marker and filesize < 1000 }
rule After_Marker { strings: $c = "after-marker-fb3" condition: $c }
`;

const findings = (out: string) => findingsByFile(out, (f) => `${f.rule}[${f.tags.join(",")}]${f.description ? ` ${f.description}` : ""}`);

describe("rules the fast path refuses go to YARA-X", () => {
  let dir: string;
  let rules: string;
  let samples: string;
  beforeAll(() => {
    dir = tempDir();
    rules = write(dir, "rules/set.yar", RULES);
    samples = path.join(dir, "samples");
    write(samples, "fast.txt", "a fast-marker-fb1 here");
    write(samples, "refused.txt", "a refused-marker-fb2 here");
    write(samples, "after.txt", "after-marker-fb3");
    write(samples, "clean.txt", "nothing");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const expected = {
    "fast.txt": ["Fast_Marker[]"],
    "refused.txt": ["Refused_Marker[tagged] decided by YARA-X", "Uses_Refused[]"],
    "after.txt": ["After_Marker[]"],
  };
  const env = { RING3_FAILPOINT: "reject:Refused_Marker" };

  it("the scan goes on: a warning names the rule and its cost, YARA-X decides it (and what depends on it)", () => {
    const r = ring3(["scan", "-f", "json", "--no-bundled", "--stats", "--rules", rules, samples], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/warning: .*set\.yar:4: rule default:Refused_Marker is left to YARA-X on every file \(the fast path: rejected by RING3_FAILPOINT.*\); this costs one YARA-X scan per file/);
    expect(r.stderr).not.toMatch(/Fast_Marker|After_Marker|Uses_Refused/);
    expect(findings(r.stdout)).toEqual(expected);
    // Every file went through YARA-X (for that rule): --stats says so.
    expect(r.stderr).toMatch(/YARA-X never called for 0 /);
    // The same findings as the fast path alone gives without the failpoint, and as YARA-X alone.
    const plain = ring3(["scan", "-f", "json", "--no-bundled", "--stats", "--rules", rules, samples]);
    expect(plain.stderr).not.toMatch(/warning/);
    expect(findings(plain.stdout)).toEqual(expected);
    expect(plain.stderr).toMatch(/YARA-X never called for 4 /);
    const yx = ring3(["scan", "-f", "json", "--no-bundled", "--engine", "yara-x", "--rules", rules, samples], { env });
    expect(findings(yx.stdout)).toEqual(expected);
  });

  it("a compiled rule file keeps the rule with YARA-X, and says so when loaded", () => {
    const compiled = path.join(dir, "set.compiled");
    const c = ring3(["rules", "compile", rules, "-o", compiled], { env });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/rule default:Refused_Marker is left to YARA-X/);
    // Loaded without the failpoint: the rule is still YARA-X's (its flag is in the file).
    const r = ring3(["scan", "-f", "json", "--no-bundled", "--rules", compiled, samples]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/set\.yar:4: rule default:Refused_Marker is left to YARA-X/);
    expect(findings(r.stdout)).toEqual(expected);
  });

  it("a rule set YARA-X rejects too is still an error (exit 2), nothing scanned", () => {
    const bad = write(dir, "bad/bad.yar", RULES + "rule Broken { condition: no_such_identifier }\n");
    const r = ring3(["scan", "--no-bundled", "--rules", bad, samples], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yar:14:\d+: .*no_such_identifier/);
    expect(r.stdout).toBe("");
  });

  it("a YARA-X group that traps is retried rule by rule on a fresh worker; a rule that traps alone is an engine-error naming it", () => {
    // dex is YARA-X's: these rules go to YARA-X on files with their marker. YARA-X "traps" on
    // any group holding Trapper (failpoint); Other_Dex, in the same group at first, is found.
    const set = write(
      dir,
      "trap/set.yar",
      `import "dex"
rule Trapper { strings: $t = "trap-marker-fb4" condition: $t and not dex.is_dex }
rule Other_Dex { strings: $o = "other-marker-fb5" condition: $o and not dex.is_dex }
rule Fast_Too { strings: $f = "fast-marker-fb6" condition: $f }
`,
    );
    const files = path.join(dir, "trap-samples");
    write(files, "both.txt", "trap-marker-fb4 other-marker-fb5 fast-marker-fb6");
    write(files, "other.txt", "other-marker-fb5");
    write(files, "fast.txt", "fast-marker-fb6");
    const r = ring3(["scan", "-f", "json", "--no-bundled", "-w", "1", "--rules", set, files], { env: { RING3_FAILPOINT: "ruletrap:Trapper" } });
    const report = JSON.parse(r.stdout) as { results: { path: string; verdict: string; reason?: { code: string; message: string }; findings: { rule: string }[] }[] };
    const by = Object.fromEntries(report.results.map((x) => [path.basename(x.path), x]));
    expect(by["both.txt"]!.verdict).toBe("error");
    expect(by["both.txt"]!.reason!.code).toBe("engine-error");
    // The second attempt ran the rules one by one: the message names the one that traps alone.
    expect(by["both.txt"]!.reason!.message).toMatch(/YARA-X trapped on rule default:Trapper/);
    expect(by["other.txt"]!.findings.map((f) => f.rule)).toEqual(["Other_Dex"]);
    expect(by["fast.txt"]!.findings.map((f) => f.rule)).toEqual(["Fast_Too"]);
    // Detections win the exit code; the summary counts the error (never clean).
    expect(r.code).toBe(1);
  });
  it("--engine yara-x: a set that traps is split down to single rules on the retry; the rule that traps alone is each file's engine-error, never clean", () => {
    // The same failpoint: YARA-X "traps" on any group holding Trapper. With --engine yara-x every
    // rule runs on every file, so every file meets Trapper: the first file's retry runs the rules
    // one by one and names it; later files run the others as one group and Trapper alone.
    const set = write(
      dir,
      "trapx/set.yar",
      `rule Trapper { strings: $t = "trap-marker-fx4" condition: $t }
rule Other_Rule { strings: $o = "other-marker-fx5" condition: $o }
rule Third_Rule { strings: $f = "third-marker-fx6" condition: $f }
`,
    );
    const files = path.join(dir, "trapx-samples");
    write(files, "a-both.txt", "trap-marker-fx4 other-marker-fx5");
    write(files, "b-other.txt", "other-marker-fx5");
    write(files, "c-clean.txt", "nothing here");
    const r = ring3(["scan", "-f", "json", "--all", "--no-bundled", "--engine", "yara-x", "-w", "1", "--rules", set, files], { env: { RING3_FAILPOINT: "ruletrap:Trapper" } });
    const report = JSON.parse(r.stdout) as { results: { path: string; verdict: string; reason?: { code: string; message: string } }[] };
    expect(report.results.map((x) => path.basename(x.path)).sort()).toEqual(["a-both.txt", "b-other.txt", "c-clean.txt"]);
    for (const x of report.results) {
      expect(x.verdict, x.path).toBe("error");
      expect(x.reason!.code).toBe("engine-error");
      // Named alone, not as "a group of 3 rules": the set was split.
      expect(x.reason!.message).toMatch(/YARA-X trapped on rule default:Trapper /);
    }
    expect(r.code).not.toBe(0);
    // Without the failpoint the same scan finds the rules (the split is only taken on a trap).
    const ok = ring3(["scan", "-f", "json", "--no-bundled", "--engine", "yara-x", "-w", "1", "--rules", set, files]);
    expect(ok.code).toBe(1);
    expect(findings(ok.stdout)).toEqual({ "a-both.txt": ["Other_Rule[]", "Trapper[]"], "b-other.txt": ["Other_Rule[]"] });
  });
});
