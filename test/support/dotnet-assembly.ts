// .NET assemblies written byte by byte for the tests: a PE32 DLL with one section holding the CLI
// header, managed resources and the metadata (ECMA-335 II.24-25), from tables given row by row;
// `sample()` is one with a bit of everything the dotnet module reads, and variants of it that
// YARA-X reads in part.

const u16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const pad4 = (b: number[]) => {
  while (b.length % 4) b.push(0);
  return b;
};

/** A heap of NUL-terminated strings (#Strings) with index 0 the empty string. */
class Strings {
  bytes = [0];
  private at = new Map<string, number>();
  add(s: string): number {
    if (s === "") return 0;
    const known = this.at.get(s);
    if (known !== undefined) return known;
    const i = this.bytes.length;
    this.bytes.push(...Buffer.from(s, "utf8"), 0);
    this.at.set(s, i);
    return i;
  }
}

/** #Blob: a compressed length before each blob; index 0 is the empty blob. */
class Blobs {
  bytes = [0];
  add(b: number[]): number {
    const i = this.bytes.length;
    const n = b.length;
    if (n < 0x80) this.bytes.push(n);
    else this.bytes.push(0x80 | (n >> 8), n & 0xff);
    this.bytes.push(...b);
    return i;
  }
}

/** Column widths (bytes) of the tables used here; every heap and table is small (2-byte indexes). */
const WIDTHS: Record<number, number[]> = {
  0x00: [2, 2, 2, 2, 2], // Module
  0x01: [2, 2, 2], // TypeRef
  0x02: [4, 2, 2, 2, 2, 2], // TypeDef
  0x06: [4, 2, 2, 2, 2, 2], // MethodDef
  0x08: [2, 2, 2], // Param
  0x09: [2, 2], // InterfaceImpl
  0x0a: [2, 2, 2], // MemberRef
  0x0b: [1, 1, 2, 2], // Constant
  0x0c: [2, 2, 2], // CustomAttribute
  0x1a: [2], // ModuleRef
  0x1b: [2], // TypeSpec
  0x1d: [4, 2], // FieldRVA
  0x20: [4, 2, 2, 2, 2, 4, 2, 2, 2], // Assembly
  0x23: [2, 2, 2, 2, 4, 2, 2, 2, 2], // AssemblyRef
  0x28: [4, 4, 2, 2], // ManifestResource
  0x29: [2, 2], // NestedClass
  0x2a: [2, 2, 2, 2], // GenericParam
};

interface Spec {
  tables: Record<number, number[][]>;
  strings: Strings;
  blobs: Blobs;
  us: number[];
  guids: number[];
  resources: number[];
  /** Row counts to declare instead of the real ones. */
  counts?: Record<number, number>;
}

function tildeStream(spec: Spec): number[] {
  const present = Object.keys(spec.tables).map(Number).sort((a, b) => a - b);
  let valid = 0n;
  for (const t of present) valid |= 1n << BigInt(t);
  const out = [...u32(0), 2, 0, 0, 1, ...u32(Number(valid & 0xffffffffn)), ...u32(Number(valid >> 32n)), ...u32(0), ...u32(0)];
  for (const t of present) out.push(...u32(spec.counts?.[t] ?? spec.tables[t]!.length));
  for (const t of present)
    for (const row of spec.tables[t]!) row.forEach((v, i) => out.push(...(WIDTHS[t]![i] === 1 ? [v & 0xff] : WIDTHS[t]![i] === 2 ? u16(v) : u32(v))));
  return pad4(out);
}

const SECTION_RVA = 0x2000;
const SECTION_RAW = 0x200;

/** A PE32 DLL whose one section holds the CLI header, the resources and the metadata. */
export function assembly(spec: Spec, edit: { cliSize?: number; magic?: number; streams?: number } = {}): Uint8Array {
  const res = pad4([...spec.resources]);
  const resRva = SECTION_RVA + 72;
  const mdRva = resRva + res.length;
  const streams: [string, number[]][] = [
    ["#~", tildeStream(spec)],
    ["#Strings", pad4([...spec.strings.bytes])],
    ["#US", pad4([...spec.us])],
    ["#GUID", spec.guids],
    ["#Blob", pad4([...spec.blobs.bytes])],
  ];
  const version = pad4([...Buffer.from("v4.0.30319"), 0]);
  const headerLen = 16 + version.length + 4 + streams.reduce((n, [name]) => n + 8 + Math.ceil((name.length + 1) / 4) * 4, 0);
  const md = [...u32(edit.magic ?? 0x424a5342), ...u16(1), ...u16(1), ...u32(0), ...u32(version.length), ...version, ...u16(0), ...u16(edit.streams ?? streams.length)];
  let at = headerLen;
  for (const [name, data] of streams) {
    md.push(...u32(at), ...u32(data.length), ...pad4([...Buffer.from(name), 0]));
    at += data.length;
  }
  for (const [, data] of streams) md.push(...data);
  const cli = [...u32(edit.cliSize ?? 72), ...u16(2), ...u16(5), ...u32(mdRva), ...u32(md.length), ...u32(1), ...u32(0), ...u32(resRva), ...u32(res.length), ...u32(0), ...u32(0)];
  while (cli.length < 72) cli.push(0);
  const body = [...cli, ...res, ...md];
  const rawSize = Math.ceil(body.length / 0x200) * 0x200;
  const file = new Uint8Array(SECTION_RAW + rawSize);
  file.set([0x4d, 0x5a]);
  file.set(u32(0x80), 0x3c);
  const pe = [...Buffer.from("PE\0\0"), ...u16(0x14c), ...u16(1), ...u32(0x5f000000), ...u32(0), ...u32(0), ...u16(0xe0), ...u16(0x2102)];
  const opt = new Array(0xe0).fill(0);
  opt.splice(0, 2, ...u16(0x10b));
  opt.splice(16, 4, ...u32(0)); // entry point
  opt.splice(28, 4, ...u32(0x10000000)); // image base
  opt.splice(32, 4, ...u32(0x2000)); // section alignment
  opt.splice(36, 4, ...u32(0x200)); // file alignment
  opt.splice(56, 4, ...u32(SECTION_RVA + Math.ceil(rawSize / 0x2000) * 0x2000)); // size of image
  opt.splice(60, 4, ...u32(0x200)); // size of headers
  opt.splice(92, 4, ...u32(16)); // number of RVA and sizes
  opt.splice(96 + 14 * 8, 8, ...u32(SECTION_RVA), ...u32(72)); // COM descriptor
  const section = [...Buffer.from(".text\0\0\0"), ...u32(body.length), ...u32(SECTION_RVA), ...u32(rawSize), ...u32(SECTION_RAW), ...u32(0), ...u32(0), ...u16(0), ...u16(0), ...u32(0x60000020)];
  file.set([...pe, ...opt, ...section], 0x80);
  file.set(body, SECTION_RAW);
  return file;
}

/** Compressed unsigned and signed integers (II.23.2). */
export const cu = (n: number) => (n < 0x80 ? [n] : n < 0x4000 ? [0x80 | (n >> 8), n & 0xff] : [0xc0 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const cs1 = (n: number) => [((n < 0 ? n + 0x40 : n) << 1) | (n < 0 ? 1 : 0)];

// Coded indexes (row numbers are 1-based).
export const typeDefOrRef = (table: "def" | "ref" | "spec", row: number) => (row << 2) | { def: 0, ref: 1, spec: 2 }[table];

export function sample(variant: "ok" | "bad-typelib-first" | "bad-coded-index" | "bad-constant-type"): Spec {
  const s = new Strings();
  const b = new Blobs();
  const t: Record<number, number[][]> = {};
  t[0x00] = [[0, s.add("synth.dll"), 1, 0, 0]];
  t[0x01] = [
    [0, s.add("Object"), s.add("System")],
    [0, s.add("GuidAttribute"), s.add("System.Runtime.InteropServices")],
    [0, s.add("Outer`1"), 0],
    [0, s.add("List`1"), s.add("System.Collections.Generic")],
    [0, s.add("IDisposable"), s.add("System")],
  ];
  const object = typeDefOrRef("ref", 1);
  t[0x02] = [
    [0, s.add("<Module>"), 0, 0, 1, 1],
    [0x00100101, s.add("Gen`2"), s.add("Ns"), object, 1, 1],
    [0x83, s.add("Inner"), 0, object, 1, 8],
    [0xa1, s.add("IFoo"), s.add("Ns"), 0, 1, 9],
    [0x1, 0, s.add("Ns"), object, 1, 9],
    [0x1, s.add("Derived"), s.add("Ns.Sub"), typeDefOrRef("spec", 1), 1, 9],
    [0x2, s.add("Self"), 0, object, 1, 9],
  ];
  const sig = (bytes: number[]) => b.add(bytes);
  const methods: [number, string, number[], number][] = [
    [0x1886, ".ctor", [0x20, 0, 0x01], 1],
    // static int[] M1(ref string s, byte* p, int[3,-2...1,5...] arr)
    [0x0096, "M1", [0x00, 3, 0x1d, 0x08, 0x10, 0x0e, 0x0f, 0x05, 0x14, 0x08, 3, 2, 3, 4, 3, 0, ...cs1(-2), ...cs1(5)], 1],
    // X M2<X>(U u)
    [0x01c6, "M2", [0x10, 1, 1, 0x1e, 0, 0x13, 1], 4],
    // void M3(FnPtr<void(int)> fn, modopt(IDisposable) object o)
    [0x0466, "M3", [0x00, 2, 0x01, 0x1b, 0x00, 1, 0x01, 0x08, 0x20, ...cu(typeDefOrRef("ref", 5)), 0x1c], 5],
    // A sentinel where a parameter type should be: not written, the method is left out.
    [0x0006, "M4", [0x00, 1, 0x01, 0x41], 7],
    // List<string,T> M5(Gen g)  (a TypeDef value type), with a generic parameter index past the list below
    [0x00e6, "M5", [0x00, 2, 0x15, 0x12, ...cu(typeDefOrRef("ref", 4)), 2, 0x0e, 0x13, 0, 0x11, ...cu(typeDefOrRef("def", 2)), 0x13, 5], 7],
    // Twenty nested arrays: deeper than YARA-X goes.
    [0x0006, "M6", [0x00, 0, ...new Array(20).fill(0x1d), 0x08], 7],
    // Three parameters, one Param row: P_1 and P_2.
    [0x0006, "M7", [0x00, 3, 0x0a, 0x0c, 0x0d, 0x18], 8],
    [0x0006, "M8", [0x00, 1, 0x12, ...cu(typeDefOrRef("spec", 1)), 0x16], 8],
  ];
  t[0x06] = methods.map(([flags, name, bytes, params]) => [0, 0, flags, s.add(name), sig(bytes), params]);
  t[0x08] = ["s", "p", "arr", "u", "fn", "o", "x", "first"].map((n, i) => [0, i + 1, s.add(n)]);
  t[0x09] = [
    [2, typeDefOrRef("ref", 5)],
    [6, typeDefOrRef("ref", 3)],
    [6, typeDefOrRef("spec", 1)],
  ];
  const ctorSig = sig([0x20, 1, 0x01, 0x0e]);
  t[0x0a] = [
    [variant === "bad-coded-index" ? 7 : (2 << 3) | 1, s.add(".ctor"), ctorSig],
    [(1 << 3) | 1, s.add(".ctor"), ctorSig],
  ];
  t[0x0b] = [
    [0x0e, 0, (1 << 2) | 1, b.add([0x68, 0, 0x69, 0])],
    [variant === "bad-constant-type" ? 0x17 : 0x08, 0, (2 << 2) | 1, b.add([1, 0, 0, 0])],
    [0x0e, 0, (3 << 2) | 1, 0xfff0],
  ];
  const guidValue = (g: string) => [1, 0, g.length, ...Buffer.from(g), 0, 0];
  const assemblyParent = (1 << 5) | 14;
  const attrs = [
    [assemblyParent, (2 << 3) | 3, b.add([1, 0, 0, 0])],
    [assemblyParent, (1 << 3) | 3, b.add(guidValue("9d9ab6fc-1f1b-4b1e-8a15-7e6e1d7a9e31"))],
    [assemblyParent, (1 << 3) | 3, b.add(guidValue("0bad0bad-0000-4000-8000-000000000000"))],
  ];
  if (variant === "bad-typelib-first") attrs.splice(1, 0, [assemblyParent, (1 << 3) | 3, b.add([1, 0, 40, 0x30])]);
  t[0x0c] = attrs;
  t[0x1a] = [[s.add("kernel32.dll")], [0xfff0]];
  t[0x1b] = [[b.add([0x15, 0x12, ...cu(typeDefOrRef("ref", 4)), 1, 0x08])]];
  t[0x1d] = [
    [SECTION_RVA + 8, 1],
    [0x90000, 2],
  ];
  t[0x20] = [[0x8004, 1, 2, 3, 4, 0, 0, s.add("Synth"), s.add("en-US")]];
  t[0x23] = [
    [4, 0, 0, 0, 0, b.add([0xb7, 0x7a, 0x5c, 0x56, 0x19, 0x34, 0xe0, 0x89]), s.add("mscorlib"), 0, 0],
    [1, 0, 0, 0, 0, 0, s.add("Other"), 0, 0],
  ];
  t[0x28] = [
    [0, 1, s.add("Synth.Payload.resources"), 0],
    [12, 1, s.add("second"), 0],
    [0, 1, s.add("external"), (1 << 2) | 1],
    [0x1000, 1, s.add("past"), 0],
  ];
  t[0x29] = [
    [3, 2],
    [7, 7],
  ];
  t[0x2a] = [
    [0, 0, 2 << 1, s.add("T")],
    [1, 0, 2 << 1, s.add("U")],
    [0, 0, (3 << 1) | 1, s.add("X")],
  ];
  const us = [0, 11, ...Buffer.from("hello", "utf16le"), 0, 1, 0, 5, 0xe9, 0, 0x20, 0x22, 1];
  const guids = [...Buffer.from("00112233445566778899aabbccddeeff", "hex"), ...Buffer.from("f0e1d2c3b4a5968778695a4b3c2d1e0f", "hex")];
  // One blob of 5 bytes, then one whose length runs past the resources.
  const resources = [...u32(5), ...Buffer.from("hello"), 0, 0, 0, ...u32(100), 1, 2, 3];
  return { tables: t, strings: s, blobs: b, us, guids, resources };
}
