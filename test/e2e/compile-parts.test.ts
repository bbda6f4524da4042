// A large rule set is compiled in two threads (issue 9: image.ts buildPart, cli/signatures.ts):
// with the built binary, on a set the test writes (big enough to be split), the scan finds what
// YARA-X finds with the same sources and what the file of `rules compile` (one compile of the
// whole set) finds; where the parts cannot be compiled apart (a rule naming an earlier file's rule) the
// set is compiled whole and still scans; a name defined in two files and an error in one file
// end with exit 2 and the single compile's diagnostic, naming the file and line.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findingsByFile, ring3, tempDir, write } from "./helpers";

/** `count` rules per file, each with its own marker string, some hex and regex: ~2.5 MB of compile cost in all. */
function ruleFile(file: number, count: number, extra = ""): string {
  let out = file === 0 ? 'import "math"\nglobal private rule not_skipped { condition: not (filename matches /\\.skip$/) }\n' : "";
  for (let i = 0; i < count; i++) {
    const id = `f${file}_r${i}`;
    out += `rule ${id} : t${file} {\n  meta:\n    n = ${i}\n  strings:\n    $a = "parts-marker-${id}-x"\n    $h = { 70 61 72 74 ?? 2D ${(0x30 + (i % 10)).toString(16)} [1-3] 45 4E 44 }\n    $r = /re-${id}-[0-9]{3}/ nocase\n  condition:\n    $a or ($h and $r)\n}\n`;
  }
  return out + extra;
}

/** Findings per file, as rule names sorted. */
const findings = (out: string) => findingsByFile(out);

describe("a large rule set compiled in parts", () => {
  let dir: string;
  let rules: string;
  let samples: string;
  beforeAll(() => {
    dir = tempDir();
    rules = path.join(dir, "rules");
    for (let f = 0; f < 4; f++) write(rules, `f${f}.yar`, ruleFile(f, 80));
    samples = path.join(dir, "samples");
    write(samples, "one.txt", "xx parts-marker-f0_r7-x yy");
    write(samples, "late.txt", "parts-marker-f3_r79-x and RE-F2_R5-123 part\x01-5\x00\x00END");
    write(samples, "both.bin", Buffer.from("part\x99-3\x00END re-f1_r3-999", "latin1"));
    write(samples, "many.txt", "parts-marker-f1_r0-x parts-marker-f2_r40-x parts-marker-f3_r1-x");
    write(samples, "held.skip", "parts-marker-f2_r2-x");
    write(samples, "clean.txt", "nothing here");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("finds what YARA-X finds, and what one compile of the whole set (rules compile) finds", () => {
    const fast = ring3(["scan", "-f", "json", "--no-bundled", "--stats", "--rules", rules, samples], { timeout: 300_000 });
    expect(fast.stderr).toMatch(/sources compiled in 2 parts/);
    // Both threads ran compile.js from the build's V8 code cache (V8 refuses one made under other flags).
    expect(fast.stderr).toMatch(/in \d+ ms \(compile threads from the code cache\)/);
    const oracle = ring3(["scan", "-f", "json", "--no-bundled", "--engine", "yara-x", "--rules", rules, samples], { timeout: 300_000 });
    expect(fast.code).toBe(1);
    const got = findings(fast.stdout);
    expect(got).toEqual(findings(oracle.stdout));
    expect(got["one.txt"]).toEqual(["f0_r7"]);
    expect(got["late.txt"]).toEqual(["f2_r5", "f3_r79"]);
    expect(got["both.bin"]).toEqual(["f1_r3"]);
    expect(got["many.txt"]).toEqual(["f1_r0", "f2_r40", "f3_r1"]);
    expect(got["held.skip"] ?? []).toEqual([]); // the global rule of the first file holds the last files' rules too
    expect(Object.keys(got).sort()).toEqual(["both.bin", "late.txt", "many.txt", "one.txt"]);
    // rules compile compiles the set whole: its program finds what the parts' program finds.
    const compiled = path.join(dir, "set.r3c");
    const c = ring3(["rules", "compile", rules, "-o", compiled], { timeout: 300_000 });
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/321 rule\(s\) from 4 file\(s\)/);
    expect(findings(ring3(["scan", "-f", "json", "--no-bundled", "--rules", compiled, samples]).stdout)).toEqual(got);
  });

  it("a rule naming an earlier file's rule: compiled whole, and it scans", () => {
    const d = path.join(dir, "ref");
    for (let f = 0; f < 4; f++) write(d, `f${f}.yar`, ruleFile(f, 80, f === 3 ? "rule needs_first { strings: $n = \"needs-first-marker\" condition: $n and f0_r7 }\n" : ""));
    write(samples, "ref.txt", "parts-marker-f0_r7-x needs-first-marker");
    try {
      const out = ring3(["scan", "-f", "json", "--no-bundled", "--stats", "--rules", d, samples], { timeout: 300_000 });
      expect(out.stderr).not.toMatch(/in 2 parts/);
      expect(out.stderr).toMatch(/sources compiled in \d+ ms/);
      expect(findings(out.stdout)["ref.txt"]).toEqual(["f0_r7", "needs_first"]);
    } finally {
      fs.rmSync(path.join(samples, "ref.txt"));
    }
  });

  it("a name defined in two files, an error in one: exit 2, the file and line named", () => {
    const twice = path.join(dir, "twice");
    for (let f = 0; f < 4; f++) write(twice, `f${f}.yar`, ruleFile(f, 80, f === 3 ? "\nrule f0_r5 { condition: true }\n" : ""));
    const a = ring3(["scan", "--no-bundled", "--rules", twice, samples], { timeout: 300_000 });
    expect(a.code).toBe(2);
    const line = ruleFile(3, 80).split("\n").length + 1;
    expect(a.stderr).toContain(`${path.join(twice, "f3.yar")}:${line}:`);
    expect(a.stderr).toMatch(/duplicate rule `f0_r5`/);

    const broken = path.join(dir, "broken");
    for (let f = 0; f < 4; f++) write(broken, `f${f}.yar`, ruleFile(f, 80, f === 2 ? "\nrule bad_one { condition: $missing }\n" : ""));
    const b = ring3(["scan", "--no-bundled", "--rules", broken, samples], { timeout: 300_000 });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${path.join(broken, "f2.yar")}:${ruleFile(2, 80).split("\n").length + 1}:`);
  });
});
