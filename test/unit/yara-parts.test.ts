// A rule set compiled in parts (image.ts: splitSources, buildPart, joinParts; the scan runs the
// parts in threads) must be the program one compile of the whole set makes: the same rules in the
// same order with the same metadata, texts and summary, and the same findings on every file. Where
// a part cannot be compiled alone as it would be within the whole set (a reference to an earlier
// part's rule, a name defined twice, an error, a rule shadowing a module or a builtin), the whole
// set is compiled once instead: the same bytes and the same diagnostics as buildImage.
import * as fs from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { createEngine, type YaraEngine } from "../../src/engines/yara/engine";
import { buildImage, buildImageInParts, buildPart, imageRules, imageSources, imageSummary, joinParts, splitSources } from "../../src/engines/yara/image";
import { FILE_EXTERNALS, type RuleSource } from "../../src/engines/yara/yarax";
import { externalsFor, filesFromRules, initEngines, sigbaseFiles, sources } from "../support/differential";

const defines: Record<string, string> = Object.fromEntries(FILE_EXTERNALS.map((k) => [k, ""]));
const common = { defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0 };

function attached(image: Uint8Array): YaraEngine {
  const shared = new Uint8Array(new SharedArrayBuffer(image.byteLength));
  shared.set(image);
  const out = createEngine({ ...common, mode: "auto", program: shared });
  if (!out.engine) throw new Error(out.errors.map((e) => e.message).join("\n"));
  return out.engine;
}

/** Every part on its own (no fallback): the images joinParts merges, or null where a part gave up. */
function partsOf(srcs: RuleSource[], n: number): (Uint8Array | null)[] {
  const parts = splitSources(srcs, n, 1);
  expect(parts.length).toBe(n);
  expect(parts.flat()).toEqual(srcs);
  return parts.map((p) => buildPart(p, defines));
}

function whole(srcs: RuleSource[]): Uint8Array {
  const out = buildImage(srcs, defines);
  if (!out.image) throw new Error(out.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join("\n"));
  return out.image;
}

/** The program as the scan sees it: rules, metadata, sources, summary, and findings on `files`. */
function expectSameProgram(a: Uint8Array, b: Uint8Array, files: { name: string; data: Uint8Array }[]): number {
  expect(imageRules(a)).toEqual(imageRules(b));
  expect(imageSources(a)).toEqual(imageSources(b));
  expect(imageSummary(a)).toEqual(imageSummary(b));
  const [x, y] = [attached(a), attached(b)];
  let found = 0;
  for (const f of files) {
    const got = x.scan(f.data, externalsFor(f.name));
    expect(got, f.name).toEqual(y.scan(f.data, externalsFor(f.name)));
    found += got.length;
  }
  return found;
}

const src = (name: string, text: string, namespace = "default"): RuleSource => ({ name: `/rules/${name}`, text, namespace });

/** Several files over two namespaces: private and global rules, references within a file, shared strings, modules. */
const SET: RuleSource[] = [
  src(
    "a.yar",
    `import "pe"
global rule small_enough { condition: filesize < 1MB }
private rule has_marker { strings: $m = "RING3-MARKER" condition: $m }
rule a_text { meta: author = "t" score = 70 strings: $a = "evil-payload-one" nocase $b = { 4D 5A ?? 00 [2-4] 50 45 } condition: $a or ($b and has_marker) }
rule a_pe { condition: pe.is_pe and has_marker }`,
  ),
  src(
    "b.yar",
    `rule b_regex : tag1 tag2 { strings: $r = /download[0-9]{2,4}\\.exe/ wide ascii $s = "evil-payload-one" nocase condition: $r or #s > 1 }
rule b_anchor { strings: $h = "MZ-ANCHOR" condition: $h at 0 }
rule b_xor { strings: $x = "xor-secret-text" xor(1-3) condition: $x and uint8(0) != 0x7f }`,
  ),
  src(
    "c.yar",
    `rule c_ref { strings: $c = "c-indicator-string" condition: $c and uint16(0) == 0x5a4d }
private rule c_private { strings: $p = "private-part-c" fullword condition: $p }
rule c_uses { condition: c_private and filename != "skip.me" }
rule c_count { strings: $k = { 63 2D 6B 65 79 } condition: #k >= 2 and @k[1] < 100 }`,
  ),
  src("d.yar", `rule d_other { strings: $a = "evil-payload-one" nocase condition: $a }`, "other"),
  src(
    "e.yar",
    `global rule other_global { condition: not (filename matches /\\.skip$/) }
rule e_other { strings: $e = "e-file-marker" base64 condition: $e }`,
    "other",
  ),
];

/** Files that hit each rule (and some that miss): built from the rules' own strings. */
function setFiles(): { name: string; data: Uint8Array }[] {
  const b = (s: string) => Buffer.from(s, "latin1");
  const wide = (s: string) => Buffer.from(s, "utf16le");
  return [
    ...filesFromRules(SET, 2),
    { name: "marker.bin", data: b("xx RING3-MARKER evil-PAYLOAD-one EVIL-payload-one") },
    { name: "mz.bin", data: Buffer.concat([b("MZ-ANCHOR"), Buffer.from([0x4d, 0x5a, 0x01, 0x00, 0x11, 0x22, 0x50, 0x45]), b(" RING3-MARKER")]) },
    { name: "ref.bin", data: b("MZ-ANCHOR ... c-indicator-string") },
    { name: "ref-miss.bin", data: b("x MZ-ANCHOR ... c-indicator-string") },
    { name: "uses.bin", data: b("\u0000private-part-c\u0000") },
    { name: "wide.bin", data: wide("get download123.exe now") },
    { name: "xor.bin", data: Buffer.concat([b("a"), Buffer.from(b("xor-secret-text").map((c) => c ^ 2))]) },
    { name: "private.bin", data: b("the private-part-c here") },
    { name: "skip.me", data: b("the private-part-c here") },
    { name: "count.bin", data: b("c-key c-key c-key") },
    { name: "b64.bin", data: b(Buffer.from("xx e-file-marker yy").toString("base64")) },
    { name: "evil.skip", data: b("evil-payload-one e-file-marker") },
    { name: "empty", data: new Uint8Array(0) },
  ];
}

describe("a rule set compiled in parts is the program of one compile", () => {
  beforeAll(() => initEngines());

  test("splitSources: runs of whole files in order, of about equal cost (text and rules), fewer for a small set", () => {
    const files = Array.from({ length: 9 }, (_, i) => src(`f${i}.yar`, "x".repeat(1000 * (i + 1))));
    for (const n of [1, 2, 3, 4]) {
      const parts = splitSources(files, n, 1);
      expect(parts.length).toBe(n);
      expect(parts.flat()).toEqual(files);
      const sizes = parts.map((p) => p.reduce((a, s) => a + s.text.length, 0));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(9000);
    }
    expect(splitSources(files, 4).length).toBe(1); // 45 KB: below the cost worth a thread
    expect(splitSources(files.slice(0, 2), 4, 1).length).toBe(2);
    // Many small rules weigh as much as one long text.
    const rules = "rule r { condition: true }\n".repeat(64);
    const mixed = [src("a.yar", "x".repeat(10_000)), src("many.yar", rules), src("c.yar", "x".repeat(10_000)), src("long.yar", "x".repeat(500_000))];
    expect(splitSources(mixed, 2, 1).map((p) => p.map((s) => s.name))).toEqual([
      ["/rules/a.yar", "/rules/many.yar"],
      ["/rules/c.yar", "/rules/long.yar"],
    ]);
  });

  test("files over two namespaces, private and global rules, references: same rules and findings", () => {
    for (const n of [2, 3, 5]) {
      const parts = partsOf(SET, n);
      const joined = joinParts(parts);
      expect(joined, `${n} parts`).not.toBeNull();
      const found = expectSameProgram(joined!, whole(SET), setFiles());
      expect(found).toBeGreaterThan(12);
    }
    // The global rule of `other` (in e.yar) holds back d.yar's rule of an earlier part too.
    const engine = attached(joinParts(partsOf(SET, 5))!);
    const names = (f: string, data: string) => engine.scan(Buffer.from(data, "latin1"), externalsFor(f)).map((x) => x.rule);
    expect(names("plain.bin", "evil-payload-one")).toContain("d_other");
    expect(names("evil.skip", "evil-payload-one")).not.toContain("d_other");
  });

  test("a reference to an earlier part's rule: that part gives up, and the set compiles whole", () => {
    const set = [src("a.yar", `rule first { strings: $a = "first-one" condition: $a }`), src("b.yar", `rule second { strings: $b = "second-one" condition: $b and first }`)];
    const parts = partsOf(set, 2);
    expect(parts[1]).toBeNull();
    expect(joinParts(parts)).toBeNull();
    expect(Buffer.from(buildImageInParts(set, defines, 2, 1).image!)).toEqual(Buffer.from(whole(set)));
  });

  test("a rule named as a builtin, a define or a module of another part: the set compiles whole", () => {
    const later = (name: string, use: string, head = "") => [
      src("a.yar", `rule ${name} { strings: $a = "first-one" condition: $a }`),
      src("b.yar", `${head}rule second { strings: $b = "second-one" condition: $b and ${use} }`),
    ];
    for (const [set, gaveUp] of [
      [later("uint16", "uint16(0) == 0x5a4d"), 0],
      [later("filename", 'filename == "x"'), 0],
      [later("math", "math.entropy(0, filesize) > 7", 'import "math"\n'), -1],
    ] as const) {
      const parts = partsOf(set, 2);
      if (gaveUp >= 0) expect(parts[gaveUp]).toBeNull();
      expect(joinParts(parts)).toBeNull();
      const { image, errors } = buildImageInParts(set, defines, 2, 1);
      const single = buildImage(set, defines);
      expect(errors).toEqual(single.errors);
      expect(Buffer.from(image ?? [])).toEqual(Buffer.from(single.image ?? []));
    }
  });

  test("a name defined in two parts, or an error in one file: the single compile's diagnostics", () => {
    const twice = [src("a.yar", `rule same { condition: true }`), src("b.yar", `rule other { condition: false }\nrule same { condition: false }`)];
    expect(joinParts(partsOf(twice, 2))).toBeNull();
    const a = buildImageInParts(twice, defines, 2, 1);
    expect(a.image).toBeUndefined();
    expect(a.errors).toEqual(buildImage(twice, defines).errors);
    expect(a.errors.map((e) => [e.file, e.line])).toEqual([["/rules/b.yar", 2]]);

    const broken = [src("a.yar", `rule fine { condition: true }`), src("b.yar", `rule fine2 { condition: true }\n\nrule bad { condition: $nope }`), src("c.yar", `rule fine3 { condition: true }`)];
    expect(partsOf(broken, 3)[1]).toBeNull();
    const b = buildImageInParts(broken, defines, 3, 1);
    expect(b.image).toBeUndefined();
    expect(b.errors).toEqual(buildImage(broken, defines).errors);
    expect(b.errors[0]).toMatchObject({ file: "/rules/b.yar", line: 3 });
  });
});

describe("signature-base in parts", () => {
  let slice: RuleSource[];
  beforeAll(() => {
    initEngines();
    // Files the fast path compiles alone, every 16th: enough rules for every table to merge.
    slice = sources(sigbaseFiles().filter((_, i) => i % 16 === 3)).filter((s) => buildPart([s], defines) !== null);
    expect(slice.length).toBeGreaterThan(30);
  });

  test("two and three parts: the same rules and findings as one compile", () => {
    const single = whole(slice);
    const files = [
      ...filesFromRules(slice, 1).filter((_, i) => i % 2 === 0),
      ...["/usr/bin/ls", "/bin/sh"].filter((f) => fs.existsSync(f)).map((f) => ({ name: f, data: fs.readFileSync(f) })),
    ];
    for (const n of [2, 3]) {
      const joined = joinParts(partsOf(slice, n));
      expect(joined).not.toBeNull();
      expect(expectSameProgram(joined!, single, files)).toBeGreaterThan(30);
    }
  }, 600_000);
});
