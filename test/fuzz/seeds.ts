// The fuzz seeds: small valid inputs of every variant each parser reads, written by the test
// builders (test/support/archives.ts, the pe fixtures), the C compiler (ELF) and ring3's own rule
// compiler, into test/fuzz/corpus/<target>/seed-*. Regenerate with `make fuzz-seeds`; inputs the
// fuzzer found (crash-*, hang-*, heap-*) sit beside them and are kept.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { VERSION } from "../../src/cli/version";
import { readCompiled, sourcesDigest, writeCompiled } from "../../src/engines/yara/compiled";
import { buildImage } from "../../src/engines/yara/image";
import * as A from "../support/archives";
import { buildPe } from "../unit/yara-module-pe-fixtures";

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const text = (i: number) => b(`member ${i}: ${"lorem ipsum ".repeat(i + 1)}\n`);

/** Rules that touch most of the grammar: every string kind and modifier, loops, modules, sets. */
const RULES = [
  `import "pe"
import "math"
rule a : tag1 tag2 { meta: author = "x" n = 3 f = true
  strings: $t = "text" nocase wide ascii fullword private $h = { 4D 5A [2-4] ?? 0? (90 | CC) } $r = /ab+c{1,3}[^x]\\x00/is $x = "xor" xor(1-255) $b = "b64" base64
  condition: ($t or $h) and #r < 10 and @h[1] == 0 and !t[1] > 2 and for any i in (1..#t) : (@t[i] > 0) and pe.number_of_sections > 1 and math.entropy(0, filesize) > 7.0 }`,
  `private global rule g { condition: filesize < 10MB and uint32be(0) != 0x7f454c46 }
rule s { strings: $a = "a" $b = "b" condition: 2 of ($a, $b) and any of them and none of ($a*) and $a in (0..100) and $b at 10 }`,
  `rule ext { condition: filename matches /\\.exe$/i and defined extension and for all k, v in ("a", "b") : (true) }
rule n { condition: (1 + 2 * 3 - 4 \\ 2 % 3) << 1 >> 1 & 0xff | 0o7 ^ ~1 == -1.5 }`,
];

function elfSeeds(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const src = path.join(dir, "t.c");
  fs.writeFileSync(src, "int g = 1; static int s(int x) { return x + g; } int exported(int y) { return s(y) * 2; } void _start(void) { for (;;) exported(3); }\n");
  const variants: [string, string[]][] = [
    ["static", ["-nostdlib", "-static", "-O1"]],
    ["shared", ["-nostdlib", "-shared", "-fPIC", "-O1"]],
    ["stripped", ["-nostdlib", "-static", "-s", "-O1"]],
  ];
  for (const [name, flags] of variants) {
    const exe = path.join(dir, name);
    execFileSync("cc", [...flags, "-o", exe, src]);
    out[name] = new Uint8Array(fs.readFileSync(exe));
  }
  return out;
}

/**
 * The compiled rule file with its fixed-size matcher tables (the 2^16-entry filters and key
 * tables: 800 KB of the 808 KB) emptied and the rest laid out again. The header, the program
 * layout, the rule list and attach read the same fields, so mutations land where they are read and an
 * input costs a hash of 8 KB instead of 808 KB (the fuzz target mutates only this one; see
 * maxSeedBytes in targets.ts).
 */
export function compactCompiled(file: Uint8Array): Buffer {
  const { header, image } = readCompiled(file, "seed", VERSION);
  const len = new DataView(image.buffer, image.byteOffset).getUint32(4, true);
  const meta = JSON.parse(Buffer.from(image.subarray(8, 8 + len)).toString("utf8")) as { arrays: Record<string, ["i32" | "u8", number, number]> };
  const start = (8 + len + 7) & ~7;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, [kind, off, n]] of Object.entries(meta.arrays)) {
    const bytes = kind === "i32" ? 4 * n : n;
    const keep = bytes <= 4096 ? n : 0;
    const kept = kind === "i32" ? 4 * keep : keep;
    meta.arrays[name] = [kind, at, keep];
    const padded = new Uint8Array((kept + 7) & ~7);
    padded.set(image.subarray(start + off, start + off + kept));
    parts.push(padded);
    at += padded.length;
  }
  const json = Buffer.from(JSON.stringify(meta), "utf8");
  const head = Buffer.alloc((8 + json.length + 7) & ~7);
  head.writeUInt32LE(new DataView(image.buffer, image.byteOffset).getUint32(0, true), 0);
  head.writeUInt32LE(json.length, 4);
  json.copy(head, 8);
  const { imageFormat: _, ...rest } = header;
  return writeCompiled(Buffer.concat([head, ...parts]), rest);
}

export async function writeSeeds(corpus: string): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-seeds-"));
  const members = [0, 1, 2].map((i) => ({ name: `dir/file${i}.txt`, data: text(i) }));
  const seeds: Record<string, Record<string, Uint8Array>> = {
    zip: {
      stored: A.zip(members.map((m) => ({ ...m, method: "store" }))),
      deflate: A.zip(members.map((m) => ({ ...m, method: "deflate" }))),
      descriptor: A.zip(members.map((m) => ({ ...m, method: "deflate", descriptor: true }))),
      zip64: A.zip(members.map((m) => ({ ...m, zip64: true })), { zip64: true, comment: "c" }),
      encrypted: A.zip([{ name: "a", data: text(1), encrypted: "zipcrypto" }, { name: "b", data: text(2), encrypted: "aes" }]),
      crx: A.crx(A.zip(members)),
      nested: A.zip([{ name: "in.zip", data: A.zip(members), method: "store" }, { name: "x.gz", data: A.gzip(text(4), "x") }]),
    },
    tar: {
      ustar: A.tar(members, "ustar"),
      pax: A.tar([{ name: `${"long/".repeat(40)}name.txt`, data: text(1) }, ...members], "pax"),
      gnu: A.tar([{ name: `${"g".repeat(150)}.txt`, data: text(2) }, { name: "l", type: "2", linkname: "dir/file0.txt" }], "gnu"),
      v7: A.tar(members, "v7"),
      base256: A.tar([{ name: "big", data: text(3), base256: true }]),
    },
    gzip: { named: A.gzip(text(5), "name.txt"), plain: A.gzip(text(1)), twoMembers: A.concat([A.gzip(text(1)), A.gzip(text(2))]) },
    zstd: { frame: A.zstd(text(5)), twoFrames: A.concat([A.zstd(text(1)), A.zstd(text(2))]), tar: A.zstd(A.tar(members)) },
    ar: { gnu: A.ar(members.map((m) => ({ name: `${m.name.replace("dir/", "")}`, data: m.data })), "gnu"), bsd: A.ar([{ name: "a-rather-long-member-name.o", data: text(2) }], "bsd"), deb: A.deb(members, "none") },
    "7z": {
      "7z": await A.sevenZipCreate("7z", members),
      xz: await A.sevenZipCreate("xz", [members[0]!]),
      bzip2: await A.sevenZipCreate("bzip2", [members[1]!]),
      cab: A.cab(members.map((m) => ({ name: m.name, data: m.data }))),
      cpio: A.cpio(members),
      rpm: A.rpm(members),
    },
    pe: {
      pe32: buildPe({ bits: 32, imports: [{ dll: "KERNEL32.dll", functions: ["ExitProcess", 17] }], resources: [{ type: 16, id: 1, lang: 0x409, data: b("v") }], versionInfo: [["CompanyName", "ACME"]] }),
      pe64: buildPe({
        bits: 64,
        rich: { key: 0x31337, tools: [[30729, 147, 12]] },
        imports: [{ dll: "ws2_32.dll", functions: [3, "connect"] }],
        delayedImports: [{ dll: "shell32.dll", functions: ["ShellExecuteW"] }],
        exports: { dllName: "x.dll", functions: [{ name: "Run" }, {}, { name: "Fwd", forward: "a.b" }] },
        pdb: "x.pdb",
        overlay: b("overlay"),
      }),
    },
    elf: elfSeeds(tmp),
    "hash-list": {
      hdb: b("44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\nd41d8cd98f00b204e9800998ecf8427e:0:Empty\n"),
      hsb: b("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:68:Eicar.SHA256\n3395856ce81f2b7382dee72602f798b642f14140:*:Eicar.SHA1:73\n"),
      plain: b("# comment\r\n275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f;eicar\n\n44D88612FEA8A8F36DE82E1278ABB02F  eicar-md5\n"),
    },
    "path-list": { lines: b("a/b.txt\nc d/e\r\n\n/abs/path\n"), nul: b("a\0b c\0\0d\n"), bom: b("\ufeffx\ny\n") },
    "yara-parser": Object.fromEntries(RULES.map((r, i) => [`rules${i}`, b(r)])),
  };
  const sources = [RULES[1]!, 'rule h { strings: $a = { 41 42 [1-3] 43 } $b = /x[0-9]+y/ condition: $a or #b > 2 }'].map((t, i) => ({ name: `r${i}.yar`, text: t, namespace: "default" }));
  const built = buildImage(sources, {});
  if (!built.image) throw new Error(`seed rules do not compile: ${JSON.stringify(built.errors)}`);
  const file = writeCompiled(built.image, { ring3: VERSION, sourcesDigest: sourcesDigest(sources) });
  seeds["compiled-rules"] = { set: file, compact: compactCompiled(file) };
  fs.rmSync(tmp, { recursive: true, force: true });

  for (const [target, files] of Object.entries(seeds)) {
    const dir = path.join(corpus, target);
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir)) if (f.startsWith("seed-")) fs.rmSync(path.join(dir, f));
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, `seed-${name}`), data);
    process.stdout.write(`fuzz seeds: ${target}: ${Object.keys(files).length} file(s)\n`);
  }
}
