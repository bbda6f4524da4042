// The vendored packs under signatures/packs (issue 10): each pinned to an upstream commit with its
// licence, every rule file in a namespace of its own, hash lists in ring3's format, exclusions
// applied by name (with the rules that depend on them), and findings attributed to pack, author
// and licence.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { readHashList } from "../../src/engines/hash/lists";
import { HashDb } from "../../src/engines/hash/db";
import { buildImage, imageRules } from "../../src/engines/yara/image";
import { initYaraX, type ExternalValue } from "../../src/engines/yara/yarax";
import { attribute, attributionText, packOf, PACK_LICENSES } from "../../src/signatures/attribution";
import { FP_EXCLUSIONS, IMPORT_EXCLUSIONS, packHashFiles, packNames, packRuleFiles, parseExclusions, readExclusions, readPackSource, vetRuleFile, withoutRules } from "../../src/signatures/packs";
import type { Finding } from "../../src/types";

const ROOT = path.resolve(__dirname, "../..");
const SIGS = path.join(ROOT, "signatures");
const DEFINES: Record<string, ExternalValue> = { filename: "", filepath: "", extension: "", filetype: "", owner: "" };
const PACKS = packNames(SIGS);

describe("the vendored packs", () => {
  test("signature-base, reversinglabs and eset are there", () => {
    expect(PACKS).toEqual(["eset", "reversinglabs", "signature-base"]);
  });

  test.each(PACKS)("%s: LICENSE, a SOURCE pinning a commit, and the licence attribution uses", (name) => {
    const src = readPackSource(SIGS, name);
    expect(src.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(src.repository).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    expect(fs.readFileSync(path.join(SIGS, "packs", name, "LICENSE"), "utf8").length).toBeGreaterThan(200);
    expect(PACK_LICENSES[name]).toBe(src.license);
    expect(packRuleFiles(SIGS, name).length).toBeGreaterThan(0);
  });

  test("each rule file has a namespace of its own, named PACK/path", () => {
    const all = PACKS.flatMap((p) => packRuleFiles(SIGS, p));
    expect(new Set(all.map((f) => f.namespace)).size).toBe(all.length);
    for (const f of all) expect(packOf(f.namespace)).toBe(f.namespace.split("/")[0]);
  });

  test("two files defining the same rule name compile together (PrikormkaDropper: signature-base and eset)", () => {
    const all = PACKS.flatMap((p) => packRuleFiles(SIGS, p));
    const two = all.filter((f) => /\brule\s+PrikormkaDropper\b/.test(f.text));
    expect(two.map((f) => f.namespace.split("/")[0]).sort()).toEqual(["eset", "signature-base"]);
    const built = buildImage(two, DEFINES);
    expect(built.errors).toEqual([]);
    expect(imageRules(built.image!).filter((r) => r.name === "PrikormkaDropper").map((r) => r.namespace).sort()).toEqual(two.map((f) => f.namespace).sort());
  });

  test("the hash lists parse, and hold at least 7,000 distinct digests with names", () => {
    const digests = new Set<string>();
    for (const p of PACKS) {
      for (const f of packHashFiles(SIGS, p)) {
        for (const s of readHashList(f)) {
          expect(s.name).not.toBe("");
          digests.add(s.digest);
        }
      }
    }
    expect(digests.size).toBeGreaterThanOrEqual(7000);
  });

  test("ESET's lists keep each family's name, and each group names its report", () => {
    const [list] = packHashFiles(SIGS, "eset");
    const names = new Set(readHashList(list!).map((s) => s.name));
    expect(names).toContain("ESET.emotet");
    expect(list!.text).toMatch(/^# emotet: Emotet .*\n# https:\/\/www\.welivesecurity\.com\//m);
  });

  test("the exclusion lists name rules that exist", () => {
    const files = new Map(PACKS.flatMap((p) => packRuleFiles(SIGS, p)).map((f) => [f.namespace, f.text]));
    for (const e of [...readExclusions(SIGS, IMPORT_EXCLUSIONS), ...readExclusions(SIGS, FP_EXCLUSIONS)]) {
      if (e.rule === "*") continue;
      const text = files.get(e.namespace);
      expect(text, e.namespace).toBeDefined();
      expect(text).toMatch(new RegExp(`\\brule\\s+${e.rule}\\b`));
    }
  });
});

describe("leaving rules out", () => {
  const SRC = [
    "import \"pe\"",
    "rule Keep { strings: $a = \"keep me\" condition: $a }",
    "private rule Base { strings: $b = \"base\" condition: $b }",
    "rule UsesBase { condition: Base and filesize < 100 }",
    "rule Drop {",
    "  strings: $c = \"drop me\"",
    "  condition: $c",
    "}",
    "rule Last { condition: Keep }",
    "",
  ].join("\n");

  test("withoutRules blanks the rule and every rule naming it, keeping line numbers", () => {
    const out = withoutRules("t.yar", SRC, new Set(["Base", "Drop"]));
    expect(out.removed.sort()).toEqual(["Base", "Drop", "UsesBase"]);
    expect(out.text.split("\n").length).toBe(SRC.split("\n").length);
    expect(out.text).toContain("rule Keep");
    expect(out.text).toContain("rule Last");
    expect(out.text).not.toMatch(/Drop|Base/);
    expect(buildImage([{ name: "t.yar", namespace: "t", text: out.text }], DEFINES).errors).toEqual([]);
  });

  test("vetRuleFile takes out a rule neither compiler accepts, with the reason, and keeps the rest", () => {
    initYaraX(fs.readFileSync(path.join(ROOT, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")));
    const bad = SRC.replace('rule Drop {\n  strings: $c = "drop me"\n  condition: $c', 'rule Drop {\n  strings: $c = "drop me"\n  condition: $c and no_such_identifier');
    const out = vetRuleFile({ name: "t.yar", namespace: "p/t.yar", text: bad }, DEFINES);
    expect(out.excluded.map((e) => e.rule)).toEqual(["Drop"]);
    expect(out.excluded[0]!.reason).toMatch(/no_such_identifier|unknown identifier/);
    expect(out.text).toContain("rule Keep");
    expect(out.text).not.toContain("rule Drop");
  });

  test("parseExclusions reads namespace, rule and the rest as the reason", () => {
    expect(parseExclusions("namespace\trule\thit\tdate\neset/a.yar\tR1\tbench: /x\t2026-12-03\n\n")).toEqual([{ namespace: "eset/a.yar", rule: "R1", reason: "bench: /x 2026-12-03" }]);
  });
});

describe("attribution", () => {
  const finding = (namespace: string, engine: Finding["engine"] = "yara"): Finding => ({ engine, rule: "R", namespace, severity: "high", description: "", references: [], tags: [] });

  test("a pack rule carries its pack, licence and author", () => {
    const f = attribute(finding("signature-base/apt_x.yar"), "Florian Roth (Nextron Systems)");
    expect(f).toMatchObject({ pack: "signature-base", license: "DRL-1.1", author: "Florian Roth (Nextron Systems)" });
    expect(attributionText(f)).toBe("by Florian Roth (Nextron Systems) (signature-base, DRL-1.1)");
  });

  test("the core set is ring3's; a user's rules get only their author", () => {
    expect(attribute(finding("ring3"))).toMatchObject({ pack: "ring3", license: "Apache-2.0", author: "ring3" });
    const user = attribute(finding("default"), "me");
    expect(user.pack).toBeUndefined();
    expect(user.license).toBeUndefined();
    expect(user.author).toBe("me");
    expect(attribute(finding("signature-base-copy/x.yar")).pack).toBeUndefined();
  });

  test("a hash finding from a pack list names the pack", () => {
    const db = HashDb.build([{ name: "bundled/packs/eset/hashes/samples.hsb", text: `${"ab".repeat(32)}:*:ESET.test\n` }]);
    const [f] = db.lookup(10, { sha256: "ab".repeat(32) });
    expect(f).toMatchObject({ rule: "ESET.test", pack: "eset", license: "BSD-2-Clause" });
  });
});
