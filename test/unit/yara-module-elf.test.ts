// The elf module against YARA-X: every field of real binaries (the bench corpus and /usr/bin), of
// ELFs built here in all four class/byte-order combinations, and of hostile variants (truncated,
// corrupted, offsets past 32 bits, counts past SHN_LORESERVE, values past 2^63), compared field by
// field: ring3's value becomes a condition that YARA-X must find true on the same bytes.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { UNKNOWN, type ArrayValue, type FuncValue, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { ELF_CONSTANTS, elf } from "../../src/engines/yara/modules/elf";
import { disagreements, randomBytes, show, type Case } from "./yara-module-oracle";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";

// ---------------------------------------------------------------------------------------------
// A small ELF writer: header, program headers, sections with names, symbols and dynamic entries.

interface Sym {
  name: string;
  value: bigint;
  size: bigint;
  info: number;
  other: number;
  shndx: number;
}

interface BuildOptions {
  is64: boolean;
  le: boolean;
  type?: number;
  machine?: number;
  osabi?: number;
  entry?: bigint;
  /** Overrides applied to header fields after layout (hostile variants). */
  phoff?: bigint;
  shoff?: bigint;
  shnum?: number;
  shstrndx?: number;
  /** Symbols of .dynsym and .symtab (SYMS by default). */
  syms?: Sym[];
}

class Writer {
  bytes = new Uint8Array(0);
  private view = new DataView(this.bytes.buffer);
  constructor(
    private readonly le: boolean,
    private readonly is64: boolean,
  ) {}
  grow(n: number): void {
    if (n <= this.bytes.length) return;
    const b = new Uint8Array(n);
    b.set(this.bytes);
    this.bytes = b;
    this.view = new DataView(b.buffer);
  }
  u8(at: number, v: number): void {
    this.grow(at + 1);
    this.bytes[at] = v;
  }
  u16(at: number, v: number): void {
    this.grow(at + 2);
    this.view.setUint16(at, v, this.le);
  }
  u32(at: number, v: number): void {
    this.grow(at + 4);
    this.view.setUint32(at, v >>> 0, this.le);
  }
  u64(at: number, v: bigint): void {
    this.grow(at + 8);
    this.view.setBigUint64(at, BigInt.asUintN(64, v), this.le);
  }
  word(at: number, v: bigint): void {
    if (this.is64) this.u64(at, v);
    else this.u32(at, Number(BigInt.asUintN(32, v)));
  }
  raw(at: number, b: Uint8Array): void {
    this.grow(at + b.length);
    this.bytes.set(b, at);
  }
}

function strtab(names: string[]): { bytes: Uint8Array; index: Map<string, number> } {
  const index = new Map<string, number>();
  const parts: number[] = [0];
  for (const n of names) {
    if (index.has(n)) continue;
    index.set(n, parts.length);
    parts.push(...Buffer.from(n, "latin1"), 0);
  }
  return { bytes: Uint8Array.from(parts), index };
}

const DEFAULT_SYMS: Sym[] = [
  { name: "", value: 0n, size: 0n, info: 0, other: 0, shndx: 0 },
  { name: "printf", value: 0n, size: 0n, info: 0x12, other: 0, shndx: 0 },
  { name: "Malloc", value: 0n, size: 0n, info: 0x12, other: 0, shndx: 0 },
  { name: "exit", value: 0n, size: 0n, info: 0x22, other: 0, shndx: 0 },
  { name: "main", value: 0x401000n, size: 42n, info: 0x12, other: 0, shndx: 1 },
  { name: "helper", value: 0x401100n, size: 7n, info: 0x02, other: 2, shndx: 1 },
  { name: "data_obj", value: 0x402000n, size: 8n, info: 0x11, other: 3, shndx: 2 },
  // Not UTF-8, and a byte-order mark: names are decoded lossily (U+FFFD), the mark kept.
  { name: "\xef\xbb\xbfbom\xe9x\xc3", value: 0x402100n, size: 1n, info: 0x11, other: 0, shndx: 2 },
];

/** A plausible executable: PT_PHDR, PT_LOAD, PT_DYNAMIC, PT_GNU_STACK; 10 sections. */
function buildElf(o: BuildOptions): Uint8Array {
  const SYMS = o.syms ?? DEFAULT_SYMS;
  const w = new Writer(o.le, o.is64);
  const ws = o.is64 ? 8 : 4;
  const ehsize = o.is64 ? 64 : 52;
  const phsize = o.is64 ? 56 : 32;
  const shsize = o.is64 ? 64 : 40;
  const symsize = o.is64 ? 24 : 16;
  const base = 0x400000n;

  const phnum = 4;
  const phoff = ehsize;
  let at = phoff + phnum * phsize;
  const text = { off: at, size: 64 };
  at += 64;
  const dynstr = strtab(["libc.so.6", ...SYMS.map((s) => s.name)]);
  const dynstrOff = at;
  at += dynstr.bytes.length;
  at = (at + 7) & ~7;
  const dynsymOff = at;
  at += SYMS.length * symsize;
  const strtabS = strtab(SYMS.map((s) => s.name));
  const strtabOff = at;
  at += strtabS.bytes.length;
  at = (at + 7) & ~7;
  const symtabOff = at;
  at += SYMS.length * symsize;
  const dynOff = at;
  const dyn: [bigint, bigint][] = [
    [1n, BigInt(dynstr.index.get("libc.so.6")!)],
    [5n, base + BigInt(dynstrOff)],
    [6n, base + BigInt(dynsymOff)],
    [0x6ffffef5n, 0x1234n],
    [0n, 0n],
  ];
  at += dyn.length * 2 * ws;
  const names = [".text", ".dynstr", ".dynsym", ".strtab", ".symtab", ".dynamic", ".bss", ".shstrtab", ".data"];
  const shstr = strtab(names);
  const shstrOff = at;
  at += shstr.bytes.length;
  at = (at + 7) & ~7;
  const shoff = at;

  // name, type, flags, addr, offset, size, link, info, align, entsize
  const sections: [string, number, bigint, bigint, number, number, number][] = [
    ["", 0, 0n, 0n, 0, 0, 0],
    [".text", 1, 6n, base + BigInt(text.off), text.off, text.size, 0],
    [".dynstr", 3, 2n, base + BigInt(dynstrOff), dynstrOff, dynstr.bytes.length, 0],
    [".dynsym", 11, 2n, base + BigInt(dynsymOff), dynsymOff, SYMS.length * symsize, 2],
    [".strtab", 3, 0n, 0n, strtabOff, strtabS.bytes.length, 0],
    [".symtab", 2, 0n, 0n, symtabOff, SYMS.length * symsize, 4],
    [".dynamic", 6, 3n, base + BigInt(dynOff), dynOff, dyn.length * 2 * ws, 2],
    [".bss", 8, 3n, base + 0x10000n, 0, 0x100, 0],
    [".shstrtab", 3, 0n, 0n, shstrOff, shstr.bytes.length, 0],
    [".data", 0x6ffffff6, 3n, base + BigInt(text.off), text.off, 8, 0],
  ];
  const shnum = sections.length;

  // e_ident and header
  w.raw(0, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, o.is64 ? 2 : 1, o.le ? 1 : 2, 1, o.osabi ?? 3]));
  w.u16(16, o.type ?? 2);
  w.u16(18, o.machine ?? (o.is64 ? 62 : 3));
  w.u32(20, 1);
  w.word(24, o.entry ?? base + BigInt(text.off) + 4n);
  w.word(24 + ws, o.phoff ?? BigInt(phoff));
  w.word(24 + 2 * ws, o.shoff ?? BigInt(shoff));
  const h = 24 + 3 * ws;
  w.u32(h, 0);
  w.u16(h + 4, ehsize);
  w.u16(h + 6, phsize);
  w.u16(h + 8, phnum);
  w.u16(h + 10, shsize);
  w.u16(h + 12, o.shnum ?? shnum);
  w.u16(h + 14, o.shstrndx ?? 8);

  // program headers: type, flags, offset, vaddr, paddr, filesz, memsz, align
  const phdrs: [number, number, bigint, bigint, bigint, bigint, bigint][] = [
    [6, 4, BigInt(phoff), base + BigInt(phoff), BigInt(phnum * phsize), BigInt(phnum * phsize), 8n],
    [1, 5, 0n, base, BigInt(shoff), BigInt(shoff) + 0x200n, 0x1000n],
    [2, 6, BigInt(dynOff), base + BigInt(dynOff), BigInt(dyn.length * 2 * ws), BigInt(dyn.length * 2 * ws), 8n],
    [0x6474e551, 6, 0n, 0n, 0n, 0n, 16n],
  ];
  phdrs.forEach(([type, flags, offset, vaddr, filesz, memsz, align], i) => {
    const p = phoff + i * phsize;
    w.u32(p, type);
    if (o.is64) {
      w.u32(p + 4, flags);
      w.u64(p + 8, offset);
      w.u64(p + 16, vaddr);
      w.u64(p + 24, vaddr);
      w.u64(p + 32, filesz);
      w.u64(p + 40, memsz);
      w.u64(p + 48, align);
    } else {
      w.u32(p + 4, Number(offset));
      w.u32(p + 8, Number(vaddr));
      w.u32(p + 12, Number(vaddr));
      w.u32(p + 16, Number(filesz));
      w.u32(p + 20, Number(memsz));
      w.u32(p + 24, flags);
      w.u32(p + 28, Number(align));
    }
  });

  w.raw(text.off, randomBytes(text.size, 5));
  w.raw(dynstrOff, dynstr.bytes);
  w.raw(strtabOff, strtabS.bytes);
  w.raw(shstrOff, shstr.bytes);
  const writeSyms = (off: number, tab: { index: Map<string, number> }): void =>
    SYMS.forEach((s, i) => {
      const p = off + i * symsize;
      const name = s.name === "" ? 0 : tab.index.get(s.name)!;
      w.u32(p, name);
      if (o.is64) {
        w.u8(p + 4, s.info);
        w.u8(p + 5, s.other);
        w.u16(p + 6, s.shndx);
        w.u64(p + 8, s.value);
        w.u64(p + 16, s.size);
      } else {
        w.u32(p + 4, Number(s.value));
        w.u32(p + 8, Number(s.size));
        w.u8(p + 12, s.info);
        w.u8(p + 13, s.other);
        w.u16(p + 14, s.shndx);
      }
    });
  writeSyms(dynsymOff, dynstr);
  writeSyms(symtabOff, strtabS);
  dyn.forEach(([tag, val], i) => {
    w.word(dynOff + i * 2 * ws, tag);
    w.word(dynOff + i * 2 * ws + ws, val);
  });
  sections.forEach(([name, type, flags, addr, offset, size, link], i) => {
    const p = shoff + i * shsize;
    w.u32(p, name === "" ? 0 : shstr.index.get(name)!);
    w.u32(p + 4, type);
    w.word(p + 8, flags);
    w.word(p + 8 + ws, addr);
    w.word(p + 8 + 2 * ws, BigInt(offset));
    w.word(p + 8 + 3 * ws, BigInt(size));
    w.u32(p + 8 + 4 * ws, link);
    w.u32(p + 12 + 4 * ws, 0);
    w.word(p + 16 + 4 * ws, 8n);
    w.word(p + 16 + 5 * ws, type === 2 || type === 11 ? BigInt(symsize) : 0n);
  });
  return w.bytes;
}

// ---------------------------------------------------------------------------------------------
// Every field of the module as a case.

const SCALARS = ["type", "machine", "osabi", "entry_point", "sh_offset", "sh_entry_size", "ph_offset", "ph_entry_size", "number_of_sections",
  "number_of_segments", "symtab_entries", "dynsym_entries", "dynamic_section_entries"];
const ARRAYS: Record<string, string[]> = {
  sections: ["type", "flags", "address", "size", "offset", "name"],
  segments: ["type", "flags", "offset", "virtual_address", "physical_address", "file_size", "memory_size", "alignment"],
  dynamic: ["type", "val"],
  symtab: ["name", "value", "size", "type", "bind", "shndx", "visibility"],
  dynsym: ["name", "value", "size", "type", "bind", "shndx", "visibility"],
};

/** Indices to check: all of a short array, else a spread; and the first index past the end. */
function sample(n: number, max: number): number[] {
  if (n <= max) return [...Array(n + 1).keys()];
  const picks = new Set<number>([0, 1, n - 1, n]);
  for (let i = 0; picks.size < max; i++) picks.add(Math.floor((i * 7919) % n));
  return [...picks].sort((a, b) => a - b);
}

function elfCases(data: Uint8Array, maxPerArray = 40): Case[] {
  // Through positioned reads (block cache; views poisoned at each read); the engine tests read
  // bytes in memory.
  const root = elf.load(poisonSource(data));
  const cases: Case[] = SCALARS.map((f) => ({ expr: `elf.${f}`, value: root.field(f) }));
  for (const [name, fields] of Object.entries(ARRAYS)) {
    const arr = root.field(name) as ArrayValue;
    const n = arr.length() as number;
    for (const i of sample(n, maxPerArray)) {
      const el = arr.at(i) as StructValue | undefined;
      for (const f of fields) cases.push({ expr: `elf.${name}[${i}].${f}`, value: el === undefined ? undefined : el.field(f) });
    }
  }
  for (const fn of ["import_md5", "telfhash"]) {
    const v = (root.field(fn) as FuncValue).call([]);
    if (v !== UNKNOWN) cases.push({ expr: `elf.${fn}()`, value: v });
  }
  return cases;
}

const agree = (data: Uint8Array, max?: number): string[] => disagreements(["elf"], elfCases(data, max), data);

// ---------------------------------------------------------------------------------------------

describe("elf: built files", () => {
  for (const is64 of [false, true]) {
    for (const le of [true, false]) {
      test(`${is64 ? "ELF64" : "ELF32"} ${le ? "little" : "big"}-endian: every field`, () => {
        const data = buildElf({ is64, le });
        const root = elf.load(bytesSource(data));
        expect(root.field("number_of_sections")).toBe(10n);
        expect((root.field("sections") as ArrayValue).length()).toBe(10);
        expect((root.field("dynsym") as ArrayValue).length()).toBe(DEFAULT_SYMS.length);
        expect(agree(data)).toEqual([]);
      });
    }
  }

  test("entry point: ET_EXEC and ET_DYN map through segments, other types through sections", () => {
    const failures: string[] = [];
    for (const type of [1, 2, 3, 4, 0x1234])
      for (const entry of [0n, 0x400000n, 0x400100n, 0x401000n, 0x410010n, 0x500000n, 0xffffffffn, (1n << 64n) - 1n])
        failures.push(...agree(buildElf({ is64: true, le: true, type, entry })).map((f) => `type ${type} entry ${entry}: ${f}`));
    expect(failures).toEqual([]);
  });

  test("entry point: the first segment holding the address wins, whatever its type; no fallback; overflow ends the search", () => {
    const failures: string[] = [];
    const patched = (type: number, entry: bigint, patch: (dv: DataView, shoff: number) => void): Uint8Array => {
      const d = buildElf({ is64: true, le: true, type, entry });
      const dv = new DataView(d.buffer);
      patch(dv, Number(dv.getBigUint64(40, true)));
      return d;
    };
    for (const type of [1, 2, 3, 4]) {
      // .data moved to an address no segment holds.
      failures.push(...agree(patched(type, 0x900004n, (dv, sh) => (dv.setBigUint64(sh + 64 * 9 + 16, 0x900000n, true), dv.setBigUint64(sh + 64 * 9 + 24, 0x777n, true)))));
      // PT_PHDR (listed first) maps the address differently from PT_LOAD, then also as PT_NOTE.
      failures.push(...agree(patched(type, 0x400050n, (dv) => dv.setBigUint64(64 + 8, 0x500n, true))));
      failures.push(...agree(patched(type, 0x400050n, (dv) => (dv.setBigUint64(64 + 8, 0x500n, true), dv.setUint32(64, 4, true)))));
      // The first segment's address range overflows.
      failures.push(...agree(patched(type, 0x400050n, (dv) => (dv.setBigUint64(64 + 16, 0xffff_ffff_ffff_ff00n, true), dv.setBigUint64(64 + 40, 0x1000n, true)))));
    }
    const exec = elf.load(bytesSource(patched(2, 0x400050n, (dv) => dv.setBigUint64(64 + 8, 0x500n, true))));
    expect(exec.field("entry_point")).toBe(0x510n);
    expect(failures).toEqual([]);
  });

  test("types of 2^31 and more read as signed 32-bit values (YARA-X stores them `as i32`)", () => {
    const d = buildElf({ is64: true, le: true });
    const dv = new DataView(d.buffer);
    dv.setUint32(64 + 56, 0x80000005, true); // segment 1
    const dynOff = Number(dv.getBigUint64(64 + 2 * 56 + 8, true));
    dv.setBigUint64(dynOff + 16 * 3, 0x1_0000_0005n, true); // a 64-bit dynamic tag
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setUint32(shoff + 64 * 9 + 4, 0xfffffff0, true); // section 9
    const root = elf.load(bytesSource(d));
    expect(((root.field("segments") as ArrayValue).at(1) as StructValue).field("type")).toBe(-2147483643n);
    expect(((root.field("dynamic") as ArrayValue).at(3) as StructValue).field("type")).toBe(5n);
    expect(((root.field("sections") as ArrayValue).at(9) as StructValue).field("type")).toBe(-16n);
    expect(agree(d)).toEqual([]);
  });

  test("names that are not UTF-8 read as Rust's from_utf8_lossy; an imported one leaves import_md5 to YARA-X", () => {
    const d = buildElf({ is64: true, le: true });
    const sym = ((elf.load(bytesSource(d)).field("dynsym") as ArrayValue).at(DEFAULT_SYMS.length - 1) as StructValue).field("name") as Uint8Array;
    expect(Buffer.from(sym).toString("hex")).toBe("efbbbf626f6defbfbd78efbfbd");
    // The same bytes on an undefined (imported) symbol: lowercasing non-ASCII is not decided here.
    const i = Buffer.from(d).indexOf(Buffer.from("printf\0", "latin1"));
    d[i] = 0xc4;
    expect((elf.load(bytesSource(d)).field("import_md5") as FuncValue).call([])).toBe(UNKNOWN);
  });

  test("telfhash over many symbol sets (TLSH of the exported function names)", () => {
    const failures: string[] = [];
    let defined = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const noise = randomBytes(400, seed * 131);
      const syms: Sym[] = [DEFAULT_SYMS[0]];
      const count = 2 + (noise[0] % 60);
      for (let i = 0; i < count; i++) {
        const len = 2 + (noise[i + 1] % 12);
        let name = "";
        for (let k = 0; k < len; k++) name += String.fromCharCode(0x61 + (noise[(i * 7 + k) % 400] % 26));
        const prefix = ["", "", "", "_", "mem", "str", "."][noise[i + 100] % 7];
        const suffix = noise[i + 200] % 9 === 0 ? "64" : "";
        syms.push({ name: prefix + name + suffix, value: 0n, size: 0n, info: noise[i + 300] % 5 === 0 ? 0x22 : 0x12, other: noise[i] % 7 === 0 ? 2 : 0, shndx: 0 });
      }
      const data = buildElf({ is64: seed % 2 === 0, le: seed % 3 !== 0, syms });
      const v = (elf.load(bytesSource(data)).field("telfhash") as FuncValue).call([]);
      if (v !== undefined) defined++;
      failures.push(...disagreements(["elf"], [{ expr: "elf.telfhash()", value: v }, { expr: "elf.import_md5()", value: (elf.load(bytesSource(data)).field("import_md5") as FuncValue).call([]) }], data));
    }
    expect(defined).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  test("666,666 symbols named inside two long runs without a NUL stay fast (one scan per block, a decoding budget)", () => {
    // .dynstr is 16 MB without a NUL: 8 MB of "A", then 8 MB of 0xc3 (not UTF-8). Symbols alternate
    // between names in the two halves, so each name runs megabytes: read naively, 10^13 bytes.
    const d = buildElf({ is64: true, le: true });
    const run = 16_000_000;
    const half = run / 2;
    const big = new Uint8Array(d.length + run + run);
    big.set(d);
    big.fill(0x41, d.length, d.length + half);
    big.fill(0xc3, d.length + half, d.length + run);
    const dv = new DataView(big.buffer);
    const symOff = d.length + run;
    for (let i = 0; i < run / 24; i++) {
      dv.setUint32(symOff + i * 24, (i % 2) * half + i * 3, true);
      big[symOff + i * 24 + 4] = 0x11; // a global object: neither import nor function
      dv.setUint16(symOff + i * 24 + 6, 1, true);
    }
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setBigUint64(shoff + 64 * 3 + 24, BigInt(symOff), true); // .dynsym offset
    dv.setBigUint64(shoff + 64 * 3 + 32, BigInt(run), true); // .dynsym size
    dv.setBigUint64(shoff + 64 * 2 + 24, BigInt(d.length), true); // .dynstr offset
    const t = performance.now();
    const root = elf.load(bytesSource(big));
    expect(root.field("dynsym_entries")).toBe(666_666n);
    // Both walk every symbol and find its name.
    expect((root.field("telfhash") as FuncValue).call([])).toBeUndefined();
    expect(Buffer.from((root.field("import_md5") as FuncValue).call([]) as Uint8Array).toString()).toBe("d41d8cd98f00b204e9800998ecf8427e");
    const dynsym = root.field("dynsym") as ArrayValue;
    const name = (i: number): Value => (dynsym.at(i) as StructValue).field("name");
    // An "A" name runs across the 0xc3 half (each byte becoming U+FFFD, 3 bytes) to the first
    // NUL (the first record's name field).
    expect((name(1000) as Uint8Array).length).toBe(half - 3000 + 3 * half);
    expect(Buffer.from(name(1001) as Uint8Array).subarray(0, 6).toString("hex")).toBe("efbfbdefbfbd");
    let unknown = 0;
    for (let i = 1; i < 400; i += 2) if (name(i) === UNKNOWN) unknown++;
    expect(unknown).toBeGreaterThan(150); // past 64 MB of decoding, names are left to YARA-X
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  test("65535 PT_DYNAMIC segments over one 2 MB range: fields stay cheap, the dynamic table is left to YARA-X", () => {
    const phnum = 65535;
    const region = 56 * phnum + 64;
    const big = new Uint8Array(region + (2 << 20)).fill(0xff, region);
    big.set(buildElf({ is64: true, le: true }).subarray(0, 64));
    const dv = new DataView(big.buffer);
    dv.setBigUint64(32, 64n, true); // phoff
    dv.setBigUint64(40, 0n, true); // shoff
    dv.setUint16(56, phnum, true);
    dv.setUint16(60, 0, true); // no sections
    for (let i = 0; i < phnum; i++) {
      dv.setUint32(64 + i * 56, 2, true); // PT_DYNAMIC
      dv.setBigUint64(64 + i * 56 + 8, BigInt(region), true);
      dv.setBigUint64(64 + i * 56 + 32, 2n << 20n, true);
    }
    const t = performance.now();
    const root = elf.load(bytesSource(big));
    expect(root.field("number_of_segments")).toBe(65535n);
    expect(root.field("type")).toBe(2n);
    expect(root.field("dynamic_section_entries")).toBe(UNKNOWN);
    expect(root.field("dynamic")).toBe(UNKNOWN);
    expect(performance.now() - t).toBeLessThan(3_000);
  });

  test("a file that is a view into a larger buffer (a worker's reused read buffer) reads the same", () => {
    const file = new Uint8Array(fs.readFileSync("/usr/bin/ls"));
    const shared = new Uint8Array(file.length + 4096).fill(0xee);
    shared.set(file, 13);
    const view = shared.subarray(13, 13 + file.length);
    const a = elfCases(file, 30);
    const b = elfCases(view, 30);
    expect(b.map((c) => [c.expr, show(c.value)])).toEqual(a.map((c) => [c.expr, show(c.value)]));
    expect(a.filter((c) => c.value !== undefined).length).toBeGreaterThan(500);
  });

  test("the OS ABI byte and unknown machine and type values read as numbers", () => {
    const data = buildElf({ is64: false, le: false, osabi: 97, machine: 0xbeef, type: 0xfe01 });
    expect(elf.load(bytesSource(data)).field("osabi")).toBe(97n);
    expect(agree(data)).toEqual([]);
  });

  test("constants", () => {
    const root = elf.load(bytesSource(new Uint8Array(0)));
    const cases: Case[] = Object.keys(ELF_CONSTANTS).map((k) => ({ expr: `elf.${k}`, value: root.field(k) }));
    expect(cases.length).toBe(135);
    expect(disagreements(["elf"], cases, new Uint8Array(0))).toEqual([]);
  });
});

describe("elf: hostile input", () => {
  const base64 = buildElf({ is64: true, le: true });
  const base32be = buildElf({ is64: false, le: false });

  test("not an ELF, and every truncation of one", () => {
    const failures: string[] = [];
    for (const data of [new Uint8Array(0), new TextEncoder().encode("\x7fELF"), randomBytes(100, 9)]) failures.push(...agree(data));
    for (const base of [base64, base32be]) {
      for (let len = 0; len <= base.length; len += len < 80 ? 1 : 23) failures.push(...agree(base.subarray(0, len), 12));
    }
    expect(failures).toEqual([]);
  });

  test("header offsets past 32 bits wrap as in YARA-X's WASM build, huge counts and the SHN_LORESERVE cut-off", () => {
    const failures: string[] = [];
    const variants: BuildOptions[] = [
      { is64: true, le: true, phoff: 0x1_0000_0040n },
      { is64: true, le: true, shoff: (1n << 64n) - 1n },
      { is64: true, le: true, shoff: 0x1_0000_0000n + 2048n },
      { is64: true, le: true, shnum: 0xff00 },
      { is64: true, le: true, shnum: 0xfeff },
      { is64: true, le: true, shnum: 11 },
      { is64: false, le: true, shstrndx: 200 },
      { is64: false, le: true, shstrndx: 0 },
      { is64: true, le: false, shstrndx: 3 },
    ];
    for (const v of variants) failures.push(...agree(buildElf(v), 15));
    expect(failures).toEqual([]);
  });

  test("random corruption of header and tables (200 mutants) never throws and agrees", () => {
    const failures: string[] = [];
    const bases = [base64, base32be, buildElf({ is64: false, le: true }), buildElf({ is64: true, le: false })];
    for (let seed = 1; seed <= 200; seed++) {
      const base = bases[seed % bases.length];
      const data = base.slice();
      const noise = randomBytes(8, seed * 977);
      const flips = 1 + (noise[0] % 6);
      for (let k = 0; k < flips; k++) {
        // Mostly inside the headers and tables, where a change moves things around.
        const pos = (noise[k + 1] * 131 + seed * 17) % (k % 2 ? 64 : data.length);
        data[pos] = noise[(k + 2) % 8] ^ (k % 3 === 0 ? 0xff : 0x80);
      }
      const f = agree(data, 10);
      if (f.length > 0) failures.push(`seed ${seed}: ${f.slice(0, 3).join("; ")}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe("elf: real binaries", () => {
  const corpus = path.resolve(__dirname, "../../.bench/corpus/elf");
  const files = [
    // PIE executables, ET_EXEC executables, a static PIE, relocatable objects (ET_REL, symtab only).
    ...[
      "/usr/bin/true",
      "/usr/bin/ls",
      "/usr/bin/yara",
      "/usr/bin/x86_64-linux-gnu-gcc-12",
      "/sbin/ldconfig",
      "/usr/lib/x86_64-linux-gnu/crt1.o",
      "/usr/lib/x86_64-linux-gnu/crti.o",
      "/usr/lib/gcc/x86_64-linux-gnu/12/crtbegin.o",
    ].filter((f) => fs.existsSync(f)),
    ...(fs.existsSync(corpus) ? fs.readdirSync(corpus).sort().map((f) => path.join(corpus, f)) : []),
  ].filter((f) => fs.statSync(f).isFile());

  test("there are real ELF files to compare, with imports and exported functions", () => {
    const roots = files.map((f) => elf.load(bytesSource(new Uint8Array(fs.readFileSync(f)))));
    expect(roots.filter((r) => r.field("type") !== undefined).length).toBeGreaterThanOrEqual(3);
    const telf = roots.map((r) => (r.field("telfhash") as FuncValue).call([])).filter((v) => v instanceof Uint8Array);
    expect(telf.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.from(telf[0] as Uint8Array).toString()).toMatch(/^T1[0-9A-F]{70}$/);
  });

  // Every 6th file of the corpus keeps the run short on two shared cores; the system ones always.
  const picked = files.filter((f, i) => !f.startsWith(corpus) || i % 6 === 0).slice(0, 36);
  for (const file of picked) {
    test(path.basename(file), () => {
      const data = new Uint8Array(fs.readFileSync(file));
      expect(agree(data, 25)).toEqual([]);
    });
  }
});
