// The engine on a file fed in chunks (begin/feed/end) with its conditions and modules reading it
// through a ByteSource: the same findings as scan() on the bytes in memory and as YARA-X on them,
// whatever the chunk sizes; uintXX at mid-file offsets, reads at match offsets, pe fields on a PE
// with bytes appended far past its headers, elf fields, math and hash over ranges that cross chunk,
// block and matcher-window boundaries. The source used here poisons every view it handed out at
// the next read, so a reader that keeps a view past its lifetime gives wrong answers, not lucky ones.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ByteSource } from "../../src/engines/yara/contracts";
import { createEngine, WHOLE_FILE_MAX, type YaraEngine } from "../../src/engines/yara/engine";
import { math } from "../../src/engines/yara/modules/math";
import type { FileExternals } from "../../src/engines/yara/yarax";
import { bytesSource } from "../../src/util/bytesource";
import { engines, initEngines, signature } from "../support/differential";
import { poisonSource } from "../support/bytesources";
import { oracleCompile } from "../support/yarax-oracle";
import { buildPe } from "./yara-module-pe-fixtures";

const EXT: FileExternals = { filename: "f.bin", filepath: "/f.bin", extension: ".bin", filetype: "", owner: "" };
const MiB = 1 << 20;

/** The file fed in pieces cut at `cuts`, read back through `source`. */
function streamed(e: YaraEngine, data: Uint8Array, cuts: number[], source: ByteSource = poisonSource(data)) {
  const s = e.begin(data.length);
  let from = 0;
  const points = [...new Set(cuts.map((x) => (data.length === 0 ? 0 : x % data.length)))].sort((a, b) => a - b).concat(data.length);
  const chunk = new Uint8Array(Math.max(1, ...points.map((p, i) => p - (i === 0 ? 0 : points[i - 1]))));
  for (const c of points) {
    // One reused buffer, as the caller's read loop has: the engine must copy what it keeps.
    chunk.set(data.subarray(from, c));
    s.feed(chunk.subarray(0, c - from));
    chunk.fill(0xcc);
    from = c;
  }
  const out = s.end(source, EXT);
  return { findings: out.findings.map(signature).sort(), undecided: out.undecided, reason: out.reason };
}

function engine(text: string, mode: "auto" | "yara-x" = "auto"): YaraEngine {
  const { engine, errors } = createEngine({ mode, sources: [{ name: "t.yar", text, namespace: "default" }], defines: {}, perFileExternals: [], timeoutMs: 0 });
  expect(errors).toEqual([]);
  return engine!;
}

const u32 = (d: Uint8Array, o: number) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).readUInt32LE(o);
const digest = (alg: string, d: Uint8Array) => createHash(alg).update(d).digest("hex");
/** A float literal YARA-X parses back to the same double. */
const float = (v: unknown) => {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
};
const mathOf = (d: Uint8Array, fn: string, args: bigint[]) => (math.load(bytesSource(d)).field(fn) as { call(a: bigint[]): unknown }).call(args);

beforeAll(() => initEngines());

describe("begin/feed/end through a ByteSource", () => {
  // A PE whose overlay runs 10 MiB past its headers: more than one matcher window (8 MiB), many
  // 1 MiB read pieces and 64 KiB cache blocks.
  const pe = buildPe({
    imports: [{ dll: "kernel32.dll", functions: ["CreateFileA", "ExitProcess"] }],
    versionInfo: [["CompanyName", "Ring3 Test"]],
    overlay: (() => {
      const o = new Uint8Array(10 * MiB + 12345);
      for (let i = 0; i < o.length; i++) o[i] = (i * 131 + (i >>> 9)) & 0xff;
      return o;
    })(),
  });
  const N = pe.length;
  const needles = [N >> 3, (N >> 1) - 3, 8 * MiB - 2, N - 20];
  for (const at of needles) pe.set(Buffer.from("NEEDLE-R3"), at);
  const mid = (N >> 1) + 65536 - 2; // straddles a cache block boundary
  const range = [1 * MiB - 7, 5 * MiB + 3] as const; // crosses read pieces and chunk cuts
  // pe's rules are a set of their own: its checksum reads the whole file, and the others must be
  // seen reading in pieces and blocks on their own.
  const peRules = `import "pe"
rule pe_overlay { condition: pe.is_pe and pe.number_of_imports == 1 and pe.imports("kernel32.dll", "CreateFileA") and pe.overlay.size > 10000000 and pe.overlay.offset + pe.overlay.size == filesize and pe.version_info["CompanyName"] == "Ring3 Test" }
rule pe_checksum { condition: pe.calculate_checksum() != 0 and pe.imphash() != "" }
`;
  const rules = `import "math"
import "hash"
rule mid_u32 { condition: uint32(${mid}) == ${u32(pe, mid)} and uint16be(${N - 2}) == ${(pe[N - 2] << 8) | pe[N - 1]} }
rule mid_wrong { condition: uint32(${mid}) == ${u32(pe, mid) ^ 1} }
rule at_read { strings: $n = "NEEDLE-R3" condition: #n == 4 and uint32(@n[3] + 9) == ${u32(pe, needles[2] + 9)} and !n[2] == 9 and @n[4] == ${needles[3]} }
rule entropy { condition: math.entropy(0, filesize) == ${float(mathOf(pe, "entropy", [0n, BigInt(N)]))} }
rule stats { condition: math.mean(${range[0]}, ${range[1]}) == ${float(mathOf(pe, "mean", [BigInt(range[0]), BigInt(range[1])]))}
  and math.serial_correlation(${range[0]}, ${range[1]}) == ${float(mathOf(pe, "serial_correlation", [BigInt(range[0]), BigInt(range[1])]))}
  and math.monte_carlo_pi(${range[0] + 1}, ${range[1]}) == ${float(mathOf(pe, "monte_carlo_pi", [BigInt(range[0] + 1), BigInt(range[1])]))}
  and math.count(0x41, ${range[0]}, ${range[1]}) == ${mathOf(pe, "count", [0x41n, BigInt(range[0]), BigInt(range[1])])} }
rule hashes { condition: hash.md5(${range[0]}, ${range[1]}) == "${digest("md5", pe.subarray(range[0], range[0] + range[1]))}"
  and hash.sha256(${N - 70000}, 70000) == "${digest("sha256", pe.subarray(N - 70000))}"
  and hash.crc32(3, ${N - 3}) == 0x${(zlib.crc32(pe.subarray(3)) >>> 0).toString(16)}
  and hash.checksum32(${mid}, 200000) == ${pe.subarray(mid, mid + 200000).reduce((a, b) => a + b, 0)} }
rule hash_past_end { condition: hash.md5(${N - 10}, 11) == "" or not defined hash.md5(${N - 10}, 11) }
`;

  it.each([
    ["reads, math and hash", rules, ["at_read", "entropy", "hash_past_end", "hashes", "mid_u32", "stats"]],
    ["pe", peRules, ["pe_checksum", "pe_overlay"]],
  ])("%s: scan()'s and YARA-X's findings for any cuts, through a source that poisons old views", (_, text, expected) => {
    const { auto, oracle } = engines([{ name: "t.yar", text, namespace: "default" }]);
    const whole = auto.scan(pe, EXT).map(signature).sort();
    expect(oracle.scan(pe, EXT).map(signature).sort()).toEqual(whole);
    // Every rule but the one that must be false is true: the test is not vacuous.
    expect(whole.map((f) => f.replace(/ \[.*/, ""))).toEqual(expected.map((r) => `default:${r}`));
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
        expect(streamed(auto, pe, cuts)).toEqual({ findings: whole, undecided: 0, reason: undefined });
      }),
      { numRuns: 8 },
    );
    // And in --engine yara-x mode (the whole file is under WHOLE_FILE_MAX: buffered from the chunks).
    expect(streamed(oracle, pe, [MiB, 3 * MiB + 1])).toEqual({ findings: whole, undecided: 0, reason: undefined });
  });

  it("elf fields on an ELF file with bytes appended, through the source, as YARA-X gives them", () => {
    const bin = ["/usr/bin/ls", "/usr/bin/true"].find((f) => fs.existsSync(f));
    expect(bin, "an ELF executable to read").toBeDefined();
    const head = new Uint8Array(fs.readFileSync(bin!));
    const data = new Uint8Array(head.length + 9 * MiB);
    data.set(head);
    for (let i = head.length; i < data.length; i++) data[i] = i & 0x7f;
    const text = `import "elf"
rule elf_fields { condition: elf.type == elf.ET_DYN and elf.number_of_sections > 10 and elf.dynsym_entries > 5
  and for any s in elf.sections : (s.name == ".text" and s.offset > 0)
  and for any seg in elf.segments : (seg.type == elf.PT_LOAD) and elf.entry_point > 0 }
rule elf_imports { condition: elf.import_md5() == elf.import_md5() and elf.telfhash() != "" }
`;
    const { auto, oracle } = engines([{ name: "t.yar", text, namespace: "default" }]);
    const whole = auto.scan(data, EXT).map(signature).sort();
    expect(oracle.scan(data, EXT).map(signature).sort()).toEqual(whole);
    expect(whole).toEqual(["default:elf_fields", "default:elf_imports"]);
    for (const cuts of [[], [4096, 5 * MiB + 17], [1, 2, 3, 8 * MiB + 5]]) expect(streamed(auto, data, cuts)).toEqual({ findings: whole, undecided: 0, reason: undefined });
  });

  it("a small file held by the matcher is not read again; a large one is read in pieces, never whole", () => {
    const small = new Uint8Array(5000).fill(7);
    const e = engine('import "math"\nrule r { condition: uint8(4999) == 7 and math.entropy(0, filesize) == 0.0 }');
    const src = poisonSource(small);
    expect(streamed(e, small, [100], src).findings).toEqual(["default:r"]);
    expect(src.reads).toBe(0);

    const big = new Uint8Array(20 * MiB);
    for (let i = 0; i < big.length; i++) big[i] = (i >>> 10) & 0xff;
    const rule = `import "math"\nimport "hash"\nimport "pe"\nrule r { condition: uint8(${15 * MiB}) == ${big[15 * MiB]} and math.mean(0, filesize) > 1.0 and hash.md5(0, filesize) == "${digest("md5", big)}" and not pe.is_pe }`;
    const e2 = engine(rule);
    const src2 = poisonSource(big);
    expect(streamed(e2, big, [3 * MiB], src2)).toEqual({ findings: ["default:r"], undecided: 0, reason: undefined });
    // 1 MiB pieces for the ranges, 64 KiB blocks for the reads: nothing near the file's size.
    expect(src2.largest).toBeLessThanOrEqual(MiB);
  });

  it("over WHOLE_FILE_MAX: reads, math, hash and pe are exact; what YARA-X must decide is undecided, with the reason", () => {
    const size = WHOLE_FILE_MAX + 4096;
    const data = new Uint8Array(size);
    data.set(Buffer.from("plain text, not a PE"), 0);
    data.set(Buffer.from("MIDDLE"), size >> 1);
    const text = `import "pe"\nimport "hash"\nrule plain { strings: $m = "MIDDLE" condition: $m and not pe.is_pe and not defined pe.number_of_sections }
rule tail_hash { condition: hash.md5(filesize - 5000, 5000) == "${digest("md5", data.subarray(size - 5000))}" }`;
    const e = engine(text);
    const whole = e.scan(data, EXT).map(signature).sort();
    expect(oracleCompile(text).scan(data).map((m) => m.rule).sort()).toEqual(["plain", "tail_hash"]);
    expect(whole.map((f) => f.replace(/ \[.*/, ""))).toEqual(["default:plain", "default:tail_hash"]);
    expect(streamed(e, data, [7 * MiB])).toEqual({ findings: whole, undecided: 0, reason: undefined });

    // The same size with a PE at its start (its overlay is the rest): pe reads what it needs.
    const built = buildPe({ imports: [{ dll: "kernel32.dll", functions: ["ExitProcess"] }] });
    data.set(built, 0);
    const peRule = `import "pe"\nimport "dex"\nrule pe_r { condition: pe.number_of_imports == 1 and pe.imports("kernel32.dll", "ExitProcess") and pe.overlay.size == ${size - built.length} }
rule u { condition: uint16(0) == 0x5a4d }
rule net { condition: dex.is_dex }`;
    const pe = engine(peRule);
    expect(oracleCompile(peRule).scan(data).map((m) => m.rule)).toEqual(["pe_r", "u"]);
    expect(pe.scan(data, EXT).map((f) => f.rule)).toEqual(["pe_r", "u"]);
    const src = poisonSource(data);
    const out = streamed(pe, data, [], src);
    expect(src.largest).toBeLessThanOrEqual(MiB);
    // dex is left to YARA-X, which needs the file whole: undecided, and the reason says so.
    expect(out.findings).toEqual(["default:pe_r", "default:u"]);
    expect(out.undecided).toBe(1);
    expect(out.reason).toBe(`1 rule(s) left to YARA-X, which needs the file in one buffer: ${size} bytes is over ${WHOLE_FILE_MAX}`);
    // --engine yara-x: nothing decided above the bound, and it says so.
    const x = streamed(engine(peRule, "yara-x"), data, []);
    expect(x).toMatchObject({ findings: [], undecided: 1 });
    expect(x.reason).toMatch(/YARA-X needs the file in one buffer/);
  });

  it("files fed one after another reuse the matcher's buffer; files fed side by side do not share it", () => {
    const e = engine('rule r { strings: $a = "abc" condition: #a == 2 and uint8(@a[2] + 3) == 0x7a }');
    const mk = (n: number, at: number[]) => {
      const d = new Uint8Array(n).fill(0x20);
      for (const o of at) d.set(Buffer.from("abcz"), o);
      return d;
    };
    const files = [mk(5000, [1, 4000]), mk(300_000, [70_000, 299_000]), mk(100, [0, 50]), mk(2000, [10])];
    const expected = files.map((d) => e.scan(d, EXT).map(signature));
    expect(expected.map((f) => f.length)).toEqual([1, 1, 1, 0]);
    for (let round = 0; round < 2; round++) files.forEach((d, i) => expect(streamed(e, d, [d.length >> 1]).findings).toEqual(expected[i]));
    // Side by side: A begun, B begun and ended, then A fed and ended.
    const [a, b] = [files[1]!, files[0]!];
    const sa = e.begin(a.length);
    sa.feed(a.subarray(0, 1000));
    const sb = e.begin(b.length);
    sb.feed(b);
    expect(sb.end(bytesSource(b), EXT).findings.map((f) => f.rule)).toEqual(["r"]);
    sa.feed(a.subarray(1000));
    expect(sa.end(bytesSource(a), EXT).findings.map((f) => f.rule)).toEqual(["r"]);
  });

  it("a source whose size is not the bytes fed is an error, not an answer", () => {
    const e = engine("rule r { condition: filesize > 0 }");
    const data = new Uint8Array(100_000);
    const s = e.begin(data.length);
    s.feed(data);
    expect(() => s.end(bytesSource(data.subarray(0, 50_000)), EXT)).toThrow(/changed while being scanned/);
  });
});
