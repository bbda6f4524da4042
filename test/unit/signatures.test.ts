// The bundled signature set as files: YARA-X compiles it without errors or warnings (all together,
// as ring3 loads it, and each file alone, as `ring3 rules check` does), every rule carries the
// metadata that reports and SARIF read, every hash line names its public report, and every file
// under signatures/ is compiled into the binary.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { readHashList } from "../../src/engines/hash/lists";
import { BUNDLED_HASH_FILES, BUNDLED_YARA_FILES, readBundledHashes, readBundledYara } from "../../src/signatures/bundled";

const ROOT = path.resolve(__dirname, "../..");
const YARA_DIR = path.join(ROOT, "signatures", "yara");
const HASH_DIR = path.join(ROOT, "signatures", "hashes");
const EXTERNALS = ["filename", "filepath", "extension", "filetype", "owner"];

const yaraFiles = fs.readdirSync(YARA_DIR).filter((f) => /\.yara?$/.test(f)).sort();
const hashFiles = fs.readdirSync(HASH_DIR).sort();
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), "utf8");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let yarax: any;
beforeAll(async () => {
  yarax = await import("@virustotal/yara-x");
  yarax.initSync({ module: fs.readFileSync(path.join(ROOT, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")) });
});

function compile(sources: string[]): { errors: string[]; warnings: string[] } {
  const compiler = new yarax.Compiler();
  const errors: string[] = [];
  let built = false;
  try {
    for (const k of EXTERNALS) compiler.defineGlobal(k, "");
    compiler.newNamespace("ring3");
    for (const s of sources) {
      try {
        compiler.addSource(s);
      } catch (err) {
        errors.push(compiler.errors.at(-1) ?? String(err));
      }
    }
    // build() consumes the compiler: read the warnings first.
    const warnings: string[] = [...compiler.warnings];
    if (errors.length === 0) {
      built = true;
      compiler.build().free();
    }
    return { errors, warnings };
  } finally {
    if (!built) compiler.free();
  }
}

interface RuleMeta {
  file: string;
  rule: string;
  isPrivate: boolean;
  meta: Map<string, string>;
}

/** Each rule's declaration and its meta: block (the set keeps one `key = "value"` per line). */
function rulesOf(file: string, text: string): RuleMeta[] {
  const out: RuleMeta[] = [];
  const decl = /^[ \t]*((?:(?:private|global)[ \t]+)*)rule[ \t]+(\w+)/gm;
  const starts: { rule: string; mods: string; at: number }[] = [];
  for (let m = decl.exec(text); m; m = decl.exec(text)) starts.push({ rule: m[2], mods: m[1], at: m.index });
  starts.forEach((s, i) => {
    const body = text.slice(s.at, i + 1 < starts.length ? starts[i + 1].at : text.length);
    const metaBlock = /\n\s*meta:\s*\n([\s\S]*?)\n\s*(strings|condition):/.exec(body)?.[1] ?? "";
    const meta = new Map<string, string>();
    for (const line of metaBlock.split("\n")) {
      const kv = /^\s*(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(line);
      if (kv) meta.set(kv[1], kv[2]);
    }
    out.push({ file, rule: s.rule, isPrivate: /private/.test(s.mods), meta });
  });
  return out;
}

const allRules = yaraFiles.flatMap((f) => rulesOf(f, read(YARA_DIR, f)));

describe("YARA-X compiles the bundled rules", () => {
  test("all files together in one namespace: no errors, no warnings", () => {
    const out = compile(yaraFiles.map((f) => read(YARA_DIR, f)));
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
  });

  test.each(yaraFiles)("%s alone: no errors, no warnings", (f) => {
    const out = compile([read(YARA_DIR, f)]);
    expect(out.errors).toEqual([]);
    expect(out.warnings).toEqual([]);
  });

  test("the set is not a seed any more: at least 25 reporting rules", () => {
    expect(allRules.filter((r) => !r.isPrivate).length).toBeGreaterThanOrEqual(25);
  });
});

describe("rule metadata", () => {
  const SEVERITIES = ["low", "medium", "high", "critical"];

  test.each(allRules.map((r) => [`${r.file}: ${r.rule}`, r] as const))("%s has every field with a valid value", (_n, r) => {
    const m = r.meta;
    expect(m.get("id")).toMatch(/^ring3\.[a-z]+\.[a-z0-9_]+$/);
    expect(m.get("description")?.length ?? 0).toBeGreaterThan(10);
    expect(m.get("category")).toMatch(/^[a-z][a-z-]*$/);
    expect(SEVERITIES).toContain(m.get("severity"));
    expect(m.get("reference")).toMatch(/^https:\/\/\S+$/);
    for (const [k, v] of m) if (/^reference\d+$/.test(k)) expect(v, k).toMatch(/^https:\/\/\S+$/);
    expect(m.get("date")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(m.get("date") ?? ""))).toBe(false);
    expect(m.get("action")?.length ?? 0).toBeGreaterThan(10);
  });

  test("ids and rule names are unique across the set", () => {
    const ids = allRules.map((r) => r.meta.get("id"));
    expect(new Set(ids).size).toBe(ids.length);
    const names = allRules.map((r) => r.rule);
    expect(new Set(names).size).toBe(names.length);
  });

  test("private rules are guards only (a private rule is never reported)", () => {
    for (const r of allRules.filter((x) => x.isPrivate)) expect(r.meta.get("category"), r.rule).toBe("guard");
  });
});

describe("hash lists", () => {
  test.each(hashFiles)("%s parses, and every signature follows a comment naming its public report", (f) => {
    const text = read(HASH_DIR, f);
    const sigs = readHashList({ name: `bundled/hashes/${f}`, text });
    expect(sigs.length).toBeGreaterThan(0);
    let lastUrl = "";
    for (const line of text.split(/\r?\n/)) {
      if (line.startsWith("#")) {
        const url = /https:\/\/\S+/.exec(line)?.[0];
        if (url) lastUrl = url;
        continue;
      }
      if (line.trim() === "") continue;
      expect(lastUrl, line).toMatch(/^https:\/\//);
    }
    const names = sigs.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("everything under signatures/ is bundled", () => {
  const bundledTs = fs.readFileSync(path.join(ROOT, "src/signatures/bundled.ts"), "utf8");

  test("every YARA file and hash list is listed for the build's compiled set, once", () => {
    expect([...BUNDLED_YARA_FILES].sort()).toEqual(yaraFiles);
    expect([...BUNDLED_HASH_FILES].sort()).toEqual(hashFiles);
    expect(bundledTs).toContain("BUNDLED_YARA_FILES");
  });

  test("the bundled lists name every file once, with the file's own text", () => {
    const BUNDLED_YARA = readBundledYara(path.join(ROOT, "signatures"));
    const BUNDLED_HASHES = readBundledHashes(path.join(ROOT, "signatures"));
    expect(BUNDLED_YARA.map((b) => b.name).sort()).toEqual(yaraFiles.map((f) => `bundled/yara/${f}`).sort());
    expect(BUNDLED_HASHES.map((b) => b.name).sort()).toEqual(hashFiles.map((f) => `bundled/hashes/${f}`).sort());
    for (const b of BUNDLED_YARA) expect(b.text).toBe(read(YARA_DIR, path.basename(b.name)));
    for (const b of BUNDLED_HASHES) expect(b.text).toBe(read(HASH_DIR, path.basename(b.name)));
  });

  test("VERSION is date-based (YYYY.MM.DD.N)", () => {
    expect(fs.readFileSync(path.join(ROOT, "signatures/VERSION"), "utf8").trim()).toMatch(/^\d{4}\.\d{2}\.\d{2}\.\d+$/);
  });
});
