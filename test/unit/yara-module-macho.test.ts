// The macho module against YARA-X, field by field: every field (arrays by length and by element) and
// every function of ring3's value is written as a condition that YARA-X must match on the same
// bytes. Real Mach-O files come from npm packages (`make macho-fixtures`); the rest are written
// here byte by byte (thin 32/64-bit in both byte orders, fat, every load command the module reads),
// then truncated and mutated: ring3 never throws, and agrees with YARA-X or says UNKNOWN.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNKNOWN, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { macho } from "../../src/engines/yara/modules/macho";
import { MACHO_CONSTANTS } from "../../src/engines/yara/modules/macho/constants";
import { bytesSource } from "../../src/util/bytesource";
import { build, CPUS, ENTITLEMENTS, fat } from "./yara-module-macho-fixtures";
import { disagreements, literal, randomBytes, type Case } from "./yara-module-oracle";

// ---------------------------------------------------------------------------------------------
// The fields, as macho.proto declares them.

type Schema = { [field: string]: "int" | "str" | "bool" | ["int" | "str"] | Schema | [Schema] };

const SECTION: Schema = {
  segname: "str", sectname: "str", addr: "int", size: "int", offset: "int", align: "int", reloff: "int", nreloc: "int",
  flags: "int", reserved1: "int", reserved2: "int", reserved3: "int",
};
// `filesize` is a keyword: YARA-X (like YARA) cannot name the segment field of that name.
const SEGMENT: Schema = {
  segname: "str", vmaddr: "int", vmsize: "int", fileoff: "int", maxprot: "int", initprot: "int",
  nsects: "int", flags: "int", sections: [SECTION],
};
const ints = (...names: string[]): Schema => Object.fromEntries(names.map((n) => [n, "int"]));
const FILE: Schema = {
  ...ints("magic", "cputype", "cpusubtype", "filetype", "ncmds", "sizeofcmds", "flags", "reserved", "number_of_segments"),
  dynamic_linker: "str", entry_point: "int", stack_size: "int", source_version: "str",
  symtab: { ...ints("symoff", "nsyms", "stroff", "strsize"), entries: ["str"], nlists: [ints("n_strx", "n_type", "n_sect", "n_desc", "n_value")] },
  dysymtab: ints("ilocalsym", "nlocalsym", "iextdefsym", "nextdefsym", "iundefsym", "nundefsym", "tocoff", "ntoc", "modtaboff", "nmodtab",
    "extrefsymoff", "nextrefsyms", "indirectsymoff", "nindirectsyms", "extreloff", "nextrel", "locreloff", "nlocrel"),
  code_signature_data: ints("dataoff", "datasize"),
  segments: [SEGMENT],
  dylibs: [{ name: "str", timestamp: "int", compatibility_version: "str", current_version: "str" }],
  dyld_info: ints("rebase_off", "rebase_size", "bind_off", "bind_size", "weak_bind_off", "weak_bind_size", "lazy_bind_off",
    "lazy_bind_size", "export_off", "export_size"),
  rpaths: ["str"],
  entitlements: ["str"],
  certificates: [{ issuer: "str", subject: "str", is_self_signed: "bool" }],
  uuid: "str",
  build_version: { platform: "int", minos: "str", sdk: "str", ntools: "int", tools: [{ tool: "int", version: "str" }] },
  min_version: { device: "int", version: "str", sdk: "str" },
  exports: ["str"], imports: ["str"], linker_options: ["str"],
};
const ROOT: Schema = {
  ...FILE, fat_magic: "int", nfat_arch: "int",
  fat_arch: [ints("cputype", "cpusubtype", "offset", "size", "align", "reserved")],
  file: [FILE],
};

/** Elements checked per array: the first ones and the last ones (real symbol tables are long). */
let HEAD = 24;
let TAIL = 4;

interface Walk {
  cases: Case[];
  unknown: string[];
}

function walk(s: StructValue, schema: Schema, prefix: string, out: Walk): void {
  for (const [name, kind] of Object.entries(schema)) {
    const expr = `${prefix}.${name}`;
    const v = s.field(name);
    if (v === UNKNOWN) {
      out.unknown.push(expr);
      continue;
    }
    if (typeof kind === "string") {
      out.cases.push({ expr, value: v });
    } else if (Array.isArray(kind)) {
      if (typeof v !== "object" || v === null || !("kind" in v) || v.kind !== "array") throw new Error(`${expr} is not an array`);
      const n = v.length();
      if (n === UNKNOWN) {
        out.unknown.push(expr);
        continue;
      }
      if (n === undefined) {
        out.cases.push({ expr: `${expr}.len()`, value: undefined });
        continue;
      }
      out.cases.push({ expr: `${expr}.len()`, value: BigInt(n) });
      for (let i = 0; i < n; i++) {
        if (i >= HEAD && i < n - TAIL) continue;
        const item = v.at(i);
        const el = kind[0];
        if (typeof el === "string") out.cases.push({ expr: `${expr}[${i}]`, value: item });
        else walk(item as StructValue, el, `${expr}[${i}]`, out);
      }
    } else {
      walk(v as StructValue, kind, expr, out);
    }
  }
}

function fields(data: Uint8Array): Walk {
  const out: Walk = { cases: [], unknown: [] };
  walk(macho.load(bytesSource(data)), ROOT, "macho", out);
  return out;
}

function fn(data: Uint8Array, name: string, args: Value[]): Case {
  const f = macho.load(bytesSource(data)).field(name);
  if (typeof f !== "object" || f === null || !("kind" in f) || f.kind !== "func") throw new Error(`macho.${name} is not a function`);
  return { expr: `macho.${name}(${args.map(literal).join(", ")})`, value: f.call(args) };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Function calls worth checking on `data`: names it has (first ones) and names it does not. */
function functionCases(data: Uint8Array): Case[] {
  const root = macho.load(bytesSource(data));
  const names = (field: string): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const top = root.field(field);
    const files = root.field("file");
    const lists = [top];
    if (typeof files === "object" && files !== null && "kind" in files && files.kind === "array") {
      const n = files.length();
      for (let i = 0; typeof n === "number" && i < n; i++) lists.push((files.at(i) as StructValue).field(field));
    }
    for (const l of lists) {
      if (typeof l !== "object" || l === null || !("kind" in l) || l.kind !== "array") continue;
      const n = l.length();
      for (let i = 0; typeof n === "number" && i < Math.min(n, 3); i++) {
        const x = l.at(i);
        if (x instanceof Uint8Array) out.push(x);
        else if (typeof x === "object" && x !== null && "kind" in x && x.kind === "struct") {
          const name = x.field("name");
          if (name instanceof Uint8Array) out.push(name);
        }
      }
    }
    return out;
  };
  const upper = (b: Uint8Array): Uint8Array => b.map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c));
  const cases: Case[] = [];
  for (const [f, field] of [
    ["has_dylib", "dylibs"], ["has_rpath", "rpaths"], ["has_entitlement", "entitlements"], ["has_import", "imports"], ["has_export", "exports"],
  ] as const) {
    for (const n of names(field)) cases.push(fn(data, f, [n]), fn(data, f, [upper(n)]));
    cases.push(fn(data, f, [enc("no-such-name")]));
  }
  for (const f of ["dylib_hash", "entitlement_hash", "export_hash", "import_hash", "symhash"]) cases.push(fn(data, f, []));
  for (const t of [7n, 0x01000007n, 12n, 0x0100000cn, 18n, 99n]) {
    cases.push(fn(data, "file_index_for_arch", [t]), fn(data, "entry_point_for_arch", [t]));
    for (const st of [0n, 3n, 0x80000003n]) cases.push(fn(data, "file_index_for_arch", [t, st]), fn(data, "entry_point_for_arch", [t, st]));
  }
  return cases.filter((c) => c.value !== UNKNOWN);
}

/** Every field and function ring3 decides on `data`, checked by YARA-X; returns what it leaves UNKNOWN. */
function expectAgrees(data: Uint8Array, label: string): string[] {
  let w: Walk;
  let calls: Case[];
  try {
    w = fields(data);
    calls = functionCases(data);
  } catch (err) {
    throw new Error(`${label}: ${String(err)}`);
  }
  const bad = disagreements(["macho"], [...w.cases, ...calls], data);
  expect(bad, label).toEqual([]);
  return w.unknown;
}

// ---------------------------------------------------------------------------------------------
// Real files.

const FIXTURES = path.resolve(__dirname, "../../.cache/macho");
const REAL = [
  "fsevents-2.3.3/package/fsevents.node",
  "esbuild-darwin-arm64-0.28.2/package/bin/esbuild",
  "esbuild-darwin-x64-0.28.2/package/bin/esbuild",
];

function real(name: string): Uint8Array {
  const p = path.join(FIXTURES, name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`make macho-fixtures\``);
  return new Uint8Array(fs.readFileSync(p));
}

/** The members of a fat file, as thin files of their own. */
function members(fat: Uint8Array): Uint8Array[] {
  const d = new DataView(fat.buffer, fat.byteOffset, fat.length);
  const n = d.getUint32(4);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(fat.subarray(d.getUint32(8 + i * 20 + 8), d.getUint32(8 + i * 20 + 8) + d.getUint32(8 + i * 20 + 12)));
  return out;
}

describe("macho module on real files", () => {
  it("fsevents.node (universal: x86_64 + arm64): every field and function, the fat file and each member", () => {
    const fat = real(REAL[0]);
    expect(fields(fat).cases.find((c) => c.expr === "macho.nfat_arch")?.value).toBe(2n);
    expect(expectAgrees(fat, "fat")).toEqual([]);
    for (const [i, m] of members(fat).entries()) {
      const w = fields(m);
      expect(w.cases.find((c) => c.expr === "macho.segments.len()")?.value, `member ${i}`).not.toBe(0n);
      expect(expectAgrees(m, `member ${i}`)).toEqual([]);
    }
  });

  for (const name of REAL.slice(1)) {
    it(`${name}: every field and function`, () => {
      const data = real(name);
      const w = fields(data);
      expect(w.cases.find((c) => c.expr === "macho.magic")?.value).toBe(0xcffaedfen);
      expect(expectAgrees(data, name)).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Files written here.

describe("macho module on files written here", () => {
  for (const le of [true, false]) {
    for (const [cpu, cputype, is64] of CPUS) {
      it(`${le ? "little" : "big"}-endian ${is64 ? 64 : 32}-bit ${cpu}, LC_UNIXTHREAD, dyld info`, () => {
        const data = build({ is64, le, cputype, thread: true });
        const w = fields(data);
        expect(w.unknown).toEqual([]);
        expectAgrees(data, cpu);
      });
    }
  }

  for (const is64 of [false, true]) {
    it(`${is64 ? 64 : 32}-bit with LC_MAIN, chained fixups and an exports trie`, () => {
      const data = build({ is64, le: true, cputype: is64 ? 0x0100000c : 12, chained: true });
      const w = fields(data);
      expect(w.unknown).toEqual([]);
      const imports = w.cases.filter((c) => c.expr.startsWith("macho.imports[")).map((c) => new TextDecoder().decode(c.value as Uint8Array));
      expect(imports).toEqual(["_abort", "_exit", "_strlen"]);
      expectAgrees(data, "chained");
    });
  }

  it("fat files: 32/64-bit headers, both byte orders, one member that parses, none", () => {
    const a = build({ is64: true, le: true, cputype: 0x01000007, thread: true });
    const b = build({ is64: true, le: true, cputype: 0x0100000c, chained: true });
    const c = build({ is64: false, le: false, cputype: 18, thread: true });
    for (const fat64 of [false, true]) {
      for (const le of [false, true]) {
        const f = fat([{ data: a, cputype: 0x01000007, cpusubtype: 3 }, { data: b, cputype: 0x0100000c, cpusubtype: 0 }, { data: c, cputype: 18, cpusubtype: 0 }], fat64, le);
        expectAgrees(f, `fat64=${fat64} le=${le}`);
      }
    }
    // One member past the end of the file: the other is shown at the top level.
    const one = fat([{ data: a, cputype: 0x01000007, cpusubtype: 3 }, { data: b, cputype: 0x0100000c, cpusubtype: 0 }]);
    const cut = one.subarray(0, one.length - 0x100);
    expect(fields(cut).cases.find((x) => x.expr === "macho.nfat_arch")?.value).toBeUndefined();
    expectAgrees(cut, "fat with one member");
    expectAgrees(one.subarray(0, 0x1000), "fat with no member");
    expectAgrees(fat([]), "fat with no arch");
  });

  it("entitlements: plist forms that YARA-X reads, and XML it does not", () => {
    const base = { is64: true, le: true, cputype: 0x0100000c };
    const forms: [string, "known" | "unknown"][] = [
      [ENTITLEMENTS, "known"],
      ["<plist><dict><key>k1</key><array>\n<string>v</string><array> <string>w</string></array></array></dict></plist>", "known"],
      ["<plist><dict><key></key><key/><array/></dict></plist>", "known"],
      ["<?xml version='1.0'?><plist><dict><key attr=\"x\">q&lt;&gt;&quot;&apos;</key></dict></plist>", "known"],
      ["not xml at all", "known"],
      ["", "known"],
      ["<plist><dict><key>unclosed</dict></plist>", "unknown"],
      ["<plist><dict><key>a</key></dict></plist>trailing", "unknown"],
      ["<plist><!-- comment --><dict><key>a</key></dict></plist>", "unknown"],
      ["<plist><dict><key><![CDATA[x]]></key></dict></plist>", "unknown"],
    ];
    for (const [ent, expected] of forms) {
      const data = build({ ...base, entitlements: ent });
      const w = fields(data);
      expect(w.unknown.includes("macho.entitlements") ? "unknown" : "known", ent).toBe(expected);
      expectAgrees(data, JSON.stringify(ent.slice(0, 40)));
    }
    const known = fields(build({ ...base })).cases.filter((c) => c.expr.startsWith("macho.entitlements[")).map((c) => new TextDecoder().decode(c.value as Uint8Array));
    expect(known).toEqual([
      "com.apple.security.app-sandbox",
      "com.apple.security.application-groups",
      "group.example.one",
      "group.example.two",
      "keychain-access-groups",
      "a & b A",
    ]);
  });

  it("a code signature with a CMS blob: certificates are left to YARA-X, the rest agrees", () => {
    const data = build({ is64: true, le: true, cputype: 0x0100000c, cms: true });
    expect(fields(data).unknown).toEqual(["macho.certificates"]);
    expectAgrees(data, "cms");
  });

  it("not Mach-O: no fields, functions false or undefined", () => {
    for (const data of [new Uint8Array(0), enc("MZ"), enc("\xfe\xed\xfa"), randomBytes(300, 7), enc("\x7fELF" + "\0".repeat(100))]) {
      const w = fields(data);
      expect(w.unknown).toEqual([]);
      expectAgrees(data, "not macho");
    }
  });

  it("constants", () => {
    const root = macho.load(bytesSource(new Uint8Array(0)));
    const cases: Case[] = Object.keys(MACHO_CONSTANTS).map((k): Case => ({ expr: `macho.${k}`, value: root.field(k) }));
    expect(disagreements(["macho"], cases, new Uint8Array(0))).toEqual([]);
  });
});

describe("macho module on damaged files", () => {
  // Fewer elements per array: the damage is in the headers and commands, and YARA-X compiles one
  // rule per case for each of these files.
  beforeAll(() => {
    [HEAD, TAIL] = [3, 1];
  });
  afterAll(() => {
    [HEAD, TAIL] = [24, 4];
  });
  const seeds = () => [
    build({ is64: true, le: true, cputype: 0x0100000c, chained: true }),
    build({ is64: false, le: false, cputype: 7, thread: true }),
    fat([
      { data: build({ is64: true, le: true, cputype: 0x01000007, thread: true }), cputype: 0x01000007, cpusubtype: 3 },
      { data: build({ is64: false, le: true, cputype: 12 }), cputype: 12, cpusubtype: 9 },
    ]),
  ];

  it("truncated at every command boundary and more: never throws, agrees or is UNKNOWN", () => {
    for (const [k, s] of seeds().entries()) {
      const cuts = new Set<number>([0, 3, 4, 8, 28, 32, 100, 300, 700, 0x1000, 0x1100, 0x1400, s.length - 1]);
      for (let i = 0; i < 6; i++) cuts.add(Math.floor((s.length * i) / 6));
      for (const cut of cuts) expectAgrees(s.subarray(0, Math.min(cut, s.length)), `seed ${k} cut at ${cut}`);
    }
  });

  it("mutated (random bytes and words in the headers, commands and tables): never throws, agrees or is UNKNOWN", () => {
    let seed = 1;
    for (const [k, s] of seeds().entries()) {
      for (let round = 0; round < 10; round++) {
        const m = s.slice();
        const r = randomBytes(16, seed++);
        const n = 1 + (r[0] % 6);
        for (let j = 0; j < n; j++) {
          // Mostly the header and the commands, sometimes the tables.
          const region = r[1 + j] % 4 === 0 ? m.length : Math.min(m.length, 0x1400);
          const at = ((r[2 + j] << 8) | r[3 + j]) % region;
          m[at] = r[4 + j];
        }
        expectAgrees(m, `seed ${k} mutation ${round}`);
      }
    }
  });
});
