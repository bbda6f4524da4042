// YARA `include` directives end to end: an index file that includes the rest (relative to the
// including file, through subfolders and `..`), scanned from --rules with both engines and
// compiled into a rule file that still works once the sources are gone; a missing file, a cycle
// and nesting too deep end the run with exit 2, naming the file and line of the directive.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findingsByFile, ring3, tempDir, write } from "./helpers";

const findings = (out: string) => findingsByFile(out);

describe("include directives", () => {
  let dir: string;
  let samples: string;
  let index: string;
  beforeAll(() => {
    dir = tempDir();
    // index.yar includes families/a.yar, which includes ../common/base.yar and (by a path relative
    // to itself) b.yar; the rule in index.yar refers to a rule defined in an included file.
    index = write(dir, "rules/index.yar", 'import "pe"\ninclude "families/a.yar"\nrule Index_Uses_Base { condition: Base_Marker and not pe.is_pe }\n');
    write(dir, "rules/families/a.yar", 'include "../common/base.yar"\ninclude "b.yar"\nrule Family_A { strings: $a = "family-a-incl-marker" condition: $a }\n');
    write(dir, "rules/families/b.yar", 'rule Family_B { strings: $b = "family-b-incl-marker" wide condition: $b }\n');
    write(dir, "rules/common/base.yar", 'rule Base_Marker { strings: $m = "base-incl-marker" condition: $m }\n');
    samples = path.join(dir, "samples");
    write(samples, "a.txt", "xx family-a-incl-marker yy");
    write(samples, "b.bin", Buffer.from("family-b-incl-marker", "utf16le"));
    write(samples, "base.txt", "the base-incl-marker here");
    write(samples, "clean.txt", "nothing");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // (clean.txt is clean: the report lists files with findings.)
  const expected = { "a.txt": ["Family_A"], "b.bin": ["Family_B"], "base.txt": ["Base_Marker", "Index_Uses_Base"] };

  it("resolves them relative to the including file, with both engines", () => {
    for (const engine of ["auto", "yara-x"]) {
      const r = ring3(["scan", "-f", "json", "--no-bundled", "--engine", engine, "--rules", index, samples]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(findings(r.stdout)).toEqual(expected);
      expect((JSON.parse(r.stdout) as { signatures: { yaraRules: number } }).signatures.yaraRules).toBe(4);
    }
  });

  it("a compiled rule file holds the included rules: it scans the same with the sources gone", () => {
    const compiled = path.join(dir, "out/index.compiled");
    fs.mkdirSync(path.dirname(compiled), { recursive: true });
    const c = ring3(["rules", "compile", index, "-o", compiled], { cwd: dir });
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/4 rule\(s\)/);
    const moved = path.join(dir, "moved");
    fs.renameSync(path.join(dir, "rules"), moved);
    try {
      for (const engine of ["auto", "yara-x"]) {
        const r = ring3(["scan", "-f", "json", "--no-bundled", "--engine", engine, "--rules", compiled, samples]);
        expect(r.code).toBe(1);
        expect(findings(r.stdout)).toEqual(expected);
      }
    } finally {
      fs.renameSync(moved, path.join(dir, "rules"));
    }
  });

  it("a compiled file's source digest covers every included file: editing one changes it", () => {
    const own = tempDir();
    try {
      const top = write(own, "top.yar", 'include "sub/inc.yar"\nrule Top { condition: Inc }\n');
      const inc = write(own, "sub/inc.yar", 'include "deeper.yar"\nrule Inc { condition: true }\n');
      const deeper = write(own, "sub/deeper.yar", 'rule Deeper { strings: $a = "deeper-one" condition: $a }\n');
      /** The header's sourcesDigest of `rules compile top.yar` (layout: compiled.ts). */
      const digest = (): string => {
        const out = path.join(own, "top.compiled");
        const c = ring3(["rules", "compile", top, "-o", out]);
        expect(c.code, c.stderr).toBe(0);
        const bytes = fs.readFileSync(out);
        const header = JSON.parse(bytes.subarray(48, 48 + bytes.readUInt32LE(12)).toString("utf8")) as { sourcesDigest: string };
        expect(header.sourcesDigest).toMatch(/^[0-9a-f]{64}$/);
        return header.sourcesDigest;
      };
      const first = digest();
      expect(digest(), "the same sources, the same digest").toBe(first);
      // A file included through another one (top -> inc -> deeper), then the one top includes.
      fs.writeFileSync(deeper, 'rule Deeper { strings: $a = "deeper-two" condition: $a }\n');
      const second = digest();
      expect(second).not.toBe(first);
      fs.appendFileSync(inc, "// edited\n");
      const third = digest();
      expect(third).not.toBe(second);
      expect(third).not.toBe(first);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });

  it("rules check follows them too", () => {
    const r = ring3(["rules", "check", index]);
    expect(r.stdout).toMatch(/1 file\(s\), .* 0 error\(s\)/);
    expect(r.code).toBe(0);
  });

  it("a missing file, a cycle, nesting too deep: exit 2, naming the file and the line", () => {
    const bad = path.join(dir, "bad");
    const missing = write(bad, "missing.yar", 'rule M { condition: true }\n\ninclude "nope/none.yar"\n');
    write(bad, "cycle/x.yar", 'rule X { condition: true }\ninclude "y.yar"\n');
    write(bad, "cycle/y.yar", '\n\ninclude "x.yar"\nrule Y { condition: true }\n');
    for (let i = 0; i < 40; i++) write(bad, `deep/d${i}.yar`, `include "d${i + 1}.yar"\n`);
    write(bad, "deep/d40.yar", "rule Deep { condition: true }\n");
    const cases: [string, RegExp][] = [
      [missing, /missing\.yar:3:\d+: .*cannot include "nope\/none\.yar"/],
      [path.join(bad, "cycle/x.yar"), /y\.yar:3:\d+: .*include cycle/],
      [path.join(bad, "deep/d0.yar"), /d\d+\.yar:1:\d+: .*nested deeper than 16/],
    ];
    for (const [file, message] of cases) {
      const scan = ring3(["scan", "--no-bundled", "--rules", file, path.join(dir, "samples")]);
      expect(scan.code, scan.stderr).toBe(2);
      expect(scan.stderr).toMatch(message);
      expect(scan.stdout).toBe("");
      const compiled = path.join(bad, "x.compiled");
      const c = ring3(["rules", "compile", file, "-o", compiled]);
      expect(c.code).toBe(2);
      expect(c.stderr).toMatch(message);
      expect(fs.existsSync(compiled)).toBe(false);
    }
  });
});
