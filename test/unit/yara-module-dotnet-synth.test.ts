// The dotnet module against YARA-X on assemblies written here byte by byte (a PE32 with one section
// holding the CLI header, managed resources and metadata per ECMA-335 II.24-25), for what real
// assemblies rarely hold: generic, nested and self-nested types, interfaces without a base type,
// TypeRefs with an empty namespace, every signature element YARA-X writes (arrays with bounds,
// pointers, function pointers, modifiers, generic instances, method type variables, a nesting
// too deep), parameters without a Param row, GuidAttribute values that do not read, resources in
// another assembly or past the resource blob, and tables cut short by a row that does not read.
// Also files that are not .NET at each step of the way in.
import { describe, expect, it } from "vitest";
import { UNKNOWN, type ArrayValue, type ByteSource, type StructValue } from "../../src/engines/yara/contracts";
import { dotnet } from "../../src/engines/yara/modules/dotnet";
import { WHOLE_FILE_MAX } from "../../src/engines/yara/reader";
import { bytesSource } from "../../src/util/bytesource";
import { assembly, cu, sample, typeDefOrRef } from "../support/dotnet-assembly";
import { checkDotnet, dotnetCases } from "./yara-module-dotnet-fixtures";

function check(data: Uint8Array): string[] {
  const cases = dotnetCases(dotnet.load(bytesSource(data)), { classes: 50, methods: 50, items: 50 });
  return checkDotnet(data, cases);
}

describe("dotnet module on assemblies written byte by byte", () => {
  it("reads every part of a well-formed one as YARA-X does", () => {
    const data = assembly(sample("ok"));
    const r = dotnet.load(bytesSource(data));
    // The sample is what it claims to be (the fields the rest of the test relies on).
    expect(r.field("is_dotnet")).toBe(true);
    expect(r.field("number_of_classes")).toBe(5n);
    expect(new TextDecoder().decode(r.field("typelib") as Uint8Array)).toBe("9d9ab6fc-1f1b-4b1e-8a15-7e6e1d7a9e31");
    expect(check(data)).toEqual([]);
  });

  for (const v of ["bad-typelib-first", "bad-coded-index", "bad-constant-type"] as const) {
    it(`agrees with YARA-X with ${v}`, () => {
      expect(check(assembly(sample(v)))).toEqual([]);
    });
  }

  it("agrees with YARA-X when a table declares more rows than the stream holds, and past 15000 rows", () => {
    const a = sample("ok");
    a.counts = { 0x1a: 400 };
    expect(check(assembly(a))).toEqual([]);
    const b = sample("ok");
    b.counts = { 0x29: 20000 };
    expect(check(assembly(b))).toEqual([]);
  });

  it("says is_dotnet = false, with the other fields as YARA-X leaves them, for files that are not .NET", () => {
    const ok = assembly(sample("ok"));
    const noCom = ok.slice();
    noCom.fill(0, 0x80 + 24 + 96 + 14 * 8, 0x80 + 24 + 96 + 15 * 8);
    const files: Record<string, Uint8Array> = {
      text: new TextEncoder().encode("not a PE at all"),
      "a PE without a COM descriptor": noCom,
      "a CLI header of 71 bytes": assembly(sample("ok"), { cliSize: 71 }),
      "no BSJB": assembly(sample("ok"), { magic: 0x424a5343 }),
      "257 streams": assembly(sample("ok"), { streams: 257 }),
    };
    for (const [name, data] of Object.entries(files)) {
      const r = dotnet.load(bytesSource(data));
      expect(r.field("is_dotnet"), name).toBe(false);
      expect(check(data), name).toEqual([]);
    }
    // 40 stream headers declared, 5 written: the heaps' bytes are read as headers, while they read.
    expect(check(assembly(sample("ok"), { streams: 40 }))).toEqual([]);
  });

  it("leaves to YARA-X (UNKNOWN) what needs a heap larger than WHOLE_FILE_MAX, and still reads the rest", () => {
    const small = assembly(sample("ok"));
    // The #Blob stream declared 4 MiB over the bound, in a file that long (zeros past the assembly).
    const size = WHOLE_FILE_MAX + (8 << 20);
    const name = Buffer.from(small).indexOf("#Blob\0");
    const blobAt = Buffer.from(small).readUInt32LE(name - 8);
    Buffer.from(small.buffer).writeUInt32LE(WHOLE_FILE_MAX + (4 << 20), name - 4);
    const mdStart = Buffer.from(small).indexOf("BSJB");
    expect(mdStart + blobAt + WHOLE_FILE_MAX + (4 << 20)).toBeLessThan(size);
    const source: ByteSource = {
      size,
      read(offset, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        if (offset < small.length) out.set(small.subarray(offset, Math.min(small.length, offset + out.length)));
        return out;
      },
    };
    const r = dotnet.load(source);
    expect(r.field("is_dotnet")).toBe(true);
    expect(r.field("number_of_guids")).toBe(2n);
    expect(r.field("number_of_user_strings")).toBe(2n);
    for (const f of ["typelib", "module_name", "number_of_classes", "number_of_resources"]) expect(r.field(f), f).toBe(UNKNOWN);
    expect((r.field("classes") as ArrayValue).length()).toBe(UNKNOWN);
    expect((r.field("assembly") as StructValue | typeof UNKNOWN)).toBe(UNKNOWN);
  });

  it("writes types that name types that name types as YARA-X does, and leaves to YARA-X a name that would grow past 64 Ki characters", () => {
    // TypeSpec k is List<TypeSpec k+1, `args` times>; the last level's are int. M8 returns the first.
    const bomb = (levels: number, args: number) => {
      const spec = sample("ok");
      const specs = spec.tables[0x1b]!;
      const base = specs.length;
      for (let k = 1; k <= levels; k++) {
        const row = base + k;
        const arg = k === levels ? [0x08] : [0x12, ...cu(typeDefOrRef("spec", row + 1))];
        specs.push([spec.blobs.add([0x15, 0x12, ...cu(typeDefOrRef("ref", 4)), args, ...new Array(args).fill(arg).flat()])]);
      }
      const m8 = spec.tables[0x06]!.find((r) => r[3] === spec.strings.add("M8"))!;
      m8[4] = spec.blobs.add([0x00, 0, 0x12, ...cu(typeDefOrRef("spec", base + 1))]);
      return assembly(spec);
    };
    const small = bomb(4, 4);
    const inner = dotnet.load(bytesSource(small));
    // M8 is the one method of the last class (Self).
    const self = (r: StructValue) => (r.field("classes") as ArrayValue).at(4) as StructValue;
    const m8 = ((self(inner).field("methods") as ArrayValue).at(0) as StructValue).field("return_type") as Uint8Array;
    expect(m8.length).toBeGreaterThan(1000);
    expect(check(small)).toEqual([]);
    // Twelve levels go past YARA-X's depth of 16 at once: the method is left out, as YARA-X does.
    expect(check(bomb(12, 2))).toEqual([]);
    // Six levels of 8 arguments stay within the depth but make a name of 8^6 types: UNKNOWN.
    const huge = dotnet.load(bytesSource(bomb(6, 8)));
    expect(huge.field("number_of_classes")).toBe(5n);
    expect(self(huge).field("number_of_methods")).toBe(UNKNOWN);
    expect((self(huge).field("methods") as ArrayValue).length()).toBe(UNKNOWN);
    expect(((huge.field("classes") as ArrayValue).at(0) as StructValue).field("number_of_methods")).toBe(4n);
  });
});
