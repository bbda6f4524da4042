// The `elf` module: header, segments, sections, dynamic entries and symbol tables of 32/64-bit,
// little/big-endian ELF files, read the way YARA-X's lib/src/modules/elf/parser.rs reads them, quirks
// included: entry sizes in the header are ignored (records have their fixed sizes), a string table
// runs to the end of the file, offsets are cut to 32 bits (`u64 as usize` in the WASM build that
// ring3 falls back to), and a header with 0xff00 or more sections drops sections and symbols.
// Nothing is parsed until a field is read; symbols are decoded one at a time, when indexed.
import { createHash } from "node:crypto";
import { UNKNOWN, type ArrayValue, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { func, struct, truncUsize } from "./util";

const SHN_LORESERVE = 0xff00;
const PT_DYNAMIC = 2;
const SHT_NULL = 0;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const ET_EXEC = 2;
const ET_DYN = 3;
const U64_MAX = (1n << 64n) - 1n;

interface Ehdr {
  type: number;
  machine: number;
  osabi: number;
  entry: bigint;
  phoff: bigint;
  shoff: bigint;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

interface Shdr {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
}

/** Bounded reads in the file's byte order; every read is checked by the caller's length test. */
class Reader {
  private readonly view: DataView;
  constructor(
    readonly data: Uint8Array,
    readonly le: boolean,
    readonly is64: boolean,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  u8(at: number): number {
    return this.data[at];
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.le);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.le);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, this.le);
  }
  /** An offset or address: 4 bytes in ELF32, 8 in ELF64. */
  word(at: number): bigint {
    return this.is64 ? this.u64(at) : BigInt(this.u32(at));
  }
  get wordSize(): number {
    return this.is64 ? 8 : 4;
  }
}

/** `start..end` as Rust's `slice.get(range)`: undefined unless start <= end <= length. */
function slice(data: Uint8Array, start: number, end: number): Uint8Array | undefined {
  return start <= end && end <= data.length ? data.subarray(start, end) : undefined;
}

/** `offset as usize .. offset.checked_add(size)? as usize` of YARA-X's Shdr/Phdr::offset_range. */
function offsetRange(data: Uint8Array, offset: bigint, size: bigint): Uint8Array | undefined {
  const end = offset + size;
  if (end > U64_MAX) return undefined;
  return slice(data, truncUsize(offset), truncUsize(end));
}

function parseEhdr(r: Reader): Ehdr | undefined {
  const need = r.is64 ? 64 : 52;
  if (r.data.length < need) return undefined;
  const w = r.wordSize;
  let at = 16;
  const type = r.u16(at);
  const machine = r.u16(at + 2);
  at += 8; // type, machine, version
  const entry = r.word(at);
  const phoff = r.word(at + w);
  const shoff = r.word(at + 2 * w);
  at += 3 * w + 4 + 2; // entry, phoff, shoff, flags, ehsize
  return {
    type,
    machine,
    osabi: r.u8(7),
    entry,
    phoff,
    shoff,
    phentsize: r.u16(at),
    phnum: r.u16(at + 2),
    shentsize: r.u16(at + 4),
    shnum: r.u16(at + 6),
    shstrndx: r.u16(at + 8),
  };
}

/** All `count` headers from `offset`, or undefined if any is cut short (nom's `count`). */
function parseTable<T>(r: Reader, offset: bigint, count: number, size: number, parse: (at: number) => T): T[] | undefined {
  const start = truncUsize(offset);
  if (start > r.data.length || start + count * size > r.data.length) return undefined;
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(parse(start + i * size));
  return out;
}

function parsePhdr(r: Reader, at: number): Phdr {
  if (r.is64) {
    return {
      type: r.u32(at),
      flags: r.u32(at + 4),
      offset: r.u64(at + 8),
      vaddr: r.u64(at + 16),
      paddr: r.u64(at + 24),
      filesz: r.u64(at + 32),
      memsz: r.u64(at + 40),
      align: r.u64(at + 48),
    };
  }
  return {
    type: r.u32(at),
    offset: BigInt(r.u32(at + 4)),
    vaddr: BigInt(r.u32(at + 8)),
    paddr: BigInt(r.u32(at + 12)),
    filesz: BigInt(r.u32(at + 16)),
    memsz: BigInt(r.u32(at + 20)),
    flags: r.u32(at + 24),
    align: BigInt(r.u32(at + 28)),
  };
}

function parseShdr(r: Reader, at: number): Shdr {
  const w = r.wordSize;
  return {
    name: r.u32(at),
    type: r.u32(at + 4),
    flags: r.word(at + 8),
    addr: r.word(at + 8 + w),
    offset: r.word(at + 8 + 2 * w),
    size: r.word(at + 8 + 3 * w),
    link: r.u32(at + 8 + 4 * w),
  };
}

/** Dynamic entries of one PT_DYNAMIC segment: (tag, value) words up to DT_NULL or the segment's end. */
function parseDynamic(r: Reader, p: Phdr): [bigint, bigint][] {
  const bytes = offsetRange(r.data, p.offset, p.filesz);
  if (!bytes) return [];
  const seg = new Reader(bytes, r.le, r.is64);
  const w = r.wordSize;
  const out: [bigint, bigint][] = [];
  for (let at = 0; at + 2 * w <= bytes.length; at += 2 * w) {
    const tag = seg.word(at);
    if (tag === 0n) break;
    out.push([tag, seg.word(at + w)]);
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * A name from a string table: from the table's offset to the end of the file (not the table's
 * size, as in YARA-X), `index` bytes in, up to a NUL or the end; invalid UTF-8 becomes U+FFFD as
 * in Rust's from_utf8_lossy.
 */
function parseName(data: Uint8Array, table: Shdr | undefined, index: number): Uint8Array | undefined {
  if (!table) return undefined;
  const start = truncUsize(table.offset);
  if (start > data.length || index > data.length - start) return undefined;
  let end = start + index;
  while (end < data.length && data[end] !== 0) end++;
  const raw = data.subarray(start + index, end);
  for (let i = 0; i < raw.length; i++) if (raw[i] >= 0x80) return utf8Encoder.encode(utf8.decode(raw));
  return raw;
}

/** Enum-typed fields (segment, section and dynamic types) are stored `as i32`: the low 32 bits, signed. */
const enumField = (v: bigint | number): bigint => BigInt.asIntN(32, BigInt(v));

/** YARA integers are i64: a u64 field above 2^63 reads as negative, as in YARA-X. */
const int = (v: bigint | number): bigint => BigInt.asIntN(64, BigInt(v));

function array(length: number, at: (i: number) => Value): ArrayValue {
  return { kind: "array", length: () => length, at: (i) => (Number.isInteger(i) && i >= 0 && i < length ? at(i) : undefined) };
}

interface SymbolTable {
  count: number;
  sym(i: number): { name: Uint8Array | undefined; value: bigint; size: bigint; info: number; other: number; shndx: number };
}

const NO_SYMBOLS: SymbolTable = { count: 0, sym: () => { throw new RangeError("no symbols"); } };

/** The first section of `type`, its records decoded on demand (nom's many0: whole records only). */
function symbolTable(r: Reader, sections: Shdr[], type: number): SymbolTable {
  const table = sections.find((s) => s.type === type);
  if (!table) return NO_SYMBOLS;
  const bytes = offsetRange(r.data, table.offset, table.size);
  if (!bytes) return NO_SYMBOLS;
  const strtab = sections[table.link];
  const t = new Reader(bytes, r.le, r.is64);
  const size = r.is64 ? 24 : 16;
  return {
    count: Math.floor(bytes.length / size),
    sym(i) {
      const at = i * size;
      const name = t.u32(at);
      const s = r.is64
        ? { info: t.u8(at + 4), other: t.u8(at + 5), shndx: t.u16(at + 6), value: t.u64(at + 8), size: t.u64(at + 16) }
        : { value: BigInt(t.u32(at + 4)), size: BigInt(t.u32(at + 8)), info: t.u8(at + 12), other: t.u8(at + 13), shndx: t.u16(at + 14) };
      return { ...s, name: parseName(r.data, strtab, name) };
    },
  };
}

function symbolArray(table: SymbolTable): ArrayValue {
  return array(table.count, (i) => {
    const s = table.sym(i);
    return struct({
      name: s.name,
      value: int(s.value),
      size: int(s.size),
      type: BigInt(s.info & 0x0f),
      bind: BigInt(s.info >> 4),
      visibility: BigInt(s.other & 0x03),
      shndx: BigInt(s.shndx),
    });
  });
}

/**
 * YARA-X's rva_to_offset: through the segments (any type, the first that holds the address) for
 * ET_EXEC and ET_DYN, through the sections (not NULL, not NOBITS) otherwise; no fallback between
 * the two, and an address range that overflows ends the search. (ET_DYN going through segments is
 * what YARA-X 1.20 does, measured; older sources sent it through the sections.)
 */
function entryOffset(type: number, segments: Phdr[], sections: Shdr[], rva: bigint): bigint | undefined {
  if (type === ET_EXEC || type === ET_DYN) {
    for (const s of segments) {
      if (s.vaddr + s.memsz > U64_MAX) return undefined;
      if (s.vaddr <= rva && rva < s.vaddr + s.memsz) {
        const off = s.offset + (rva - s.vaddr);
        return off > U64_MAX ? undefined : off;
      }
    }
    return undefined;
  }
  for (const s of sections) {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) continue;
    if (s.addr + s.size > U64_MAX) return undefined;
    if (s.addr <= rva && rva < s.addr + s.size) {
      const off = s.offset + (rva - s.addr);
      return off > U64_MAX ? undefined : off;
    }
  }
  return undefined;
}

interface Parsed {
  r: Reader;
  ehdr: Ehdr;
  segments: Phdr[];
  dynamic: [bigint, bigint][];
  /** Undefined when the header claims SHN_LORESERVE sections or more, or the table is cut short. */
  sections: Shdr[] | undefined;
  entry: bigint | undefined;
}

function parse(data: Uint8Array): Parsed | undefined {
  if (data.length < 16 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) return undefined;
  const cls = data[4];
  const enc = data[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) return undefined;
  const r = new Reader(data, enc === 1, cls === 2);
  const ehdr = parseEhdr(r);
  if (!ehdr) return undefined;
  const segments = parseTable(r, ehdr.phoff, ehdr.phnum, r.is64 ? 56 : 32, (at) => parsePhdr(r, at));
  const allSections = parseTable(r, ehdr.shoff, ehdr.shnum, r.is64 ? 64 : 40, (at) => parseShdr(r, at));
  const dynamic = (segments ?? []).filter((p) => p.type === PT_DYNAMIC).flatMap((p) => parseDynamic(r, p));
  if (ehdr.shnum >= SHN_LORESERVE) return { r, ehdr, segments: segments ?? [], dynamic, sections: undefined, entry: undefined };
  const entry = ehdr.entry === 0n ? undefined : entryOffset(ehdr.type, segments ?? [], allSections ?? [], ehdr.entry);
  return { r, ehdr, segments: segments ?? [], dynamic, sections: allSections, entry };
}

/** MD5 of the imported (undefined, named) symbols' names, lowercased, sorted, comma-separated. */
function importMd5(dynsym: SymbolTable, symtab: SymbolTable): Value {
  const table = dynsym.count > 0 ? dynsym : symtab;
  const names: string[] = [];
  for (let i = 0; i < table.count; i++) {
    const s = table.sym(i);
    if (s.shndx !== 0 || !s.name || s.name.length === 0) continue;
    // Rust lowercases and sorts by Unicode rules and bytes; JS agrees on ASCII only.
    if (s.name.some((b) => b >= 0x80)) return UNKNOWN;
    names.push(String.fromCharCode(...s.name).toLowerCase());
  }
  names.sort();
  return utf8Encoder.encode(createHash("md5").update(names.join(",")).digest("hex"));
}

// The module's constants (enum values declared inline in YARA-X's elf.proto).
const CONSTANTS: Record<string, number> = {
  ET_NONE: 0, ET_REL: 1, ET_EXEC: 2, ET_DYN: 3, ET_CORE: 4, ET_LOPROC: 0xff00, ET_HIPROC: 0x00ff,
  EM_NONE: 0, EM_M32: 1, EM_SPARC: 2, EM_386: 3, EM_68K: 4, EM_88K: 5, EM_IAMCU: 6, EM_860: 7, EM_MIPS: 8, EM_S370: 9,
  EM_MIPS_RS3_LE: 10, EM_PPC: 20, EM_PPC64: 21, EM_ARM: 40, EM_X86_64: 62, EM_AARCH64: 183,
  OSABI_NONE: 0, OSABI_HPUX: 1, OSABI_NETBSD: 2, OSABI_LINUX: 3, OSABI_GNU_HURD: 4, OSABI_SOLARIS: 6, OSABI_AIX: 7,
  OSABI_IRIX: 8, OSABI_FREE_BSD: 9, OSABI_TRU64: 10, OSABI_MODESTO: 11, OSABI_OPENBSD: 12, OSABI_OPENVMS: 13, OSABI_NSK: 14,
  OSABI_AROS: 15, OSABI_FENIXOS: 16, OSABI_CLOUDABI: 17, OSABI_OPENVOS: 18, OSABI_ARM_AEABI: 64, OSABI_ARM: 97,
  OSABI_STANDALONE: 255,
  SHT_NULL: 0, SHT_PROGBITS: 1, SHT_SYMTAB: 2, SHT_STRTAB: 3, SHT_RELA: 4, SHT_HASH: 5, SHT_DYNAMIC: 6, SHT_NOTE: 7,
  SHT_NOBITS: 8, SHT_REL: 9, SHT_SHLIB: 10, SHT_DYNSYM: 11, SHT_INIT_ARRAY: 14, SHT_FINI_ARRAY: 15,
  PT_NULL: 0, PT_LOAD: 1, PT_DYNAMIC: 2, PT_INTERP: 3, PT_NOTE: 4, PT_SHLIB: 5, PT_PHDR: 6, PT_TLS: 7,
  PT_GNU_EH_FRAME: 0x6474e550, PT_GNU_STACK: 0x6474e551, PT_GNU_RELRO: 0x6474e552, PT_GNU_PROPERTY: 0x6474e553,
  PF_X: 1, PF_W: 2, PF_R: 4,
  STT_NOTYPE: 0, STT_OBJECT: 1, STT_FUNC: 2, STT_SECTION: 3, STT_FILE: 4, STT_COMMON: 5, STT_TLS: 6,
  STB_LOCAL: 0, STB_GLOBAL: 1, STB_WEAK: 2,
  STV_DEFAULT: 0, STV_INTERNAL: 1, STV_HIDDEN: 2, STV_PROTECTED: 3,
  DT_NULL: 0, DT_NEEDED: 1, DT_PLTRELSZ: 2, DT_PLTGOT: 3, DT_HASH: 4, DT_STRTAB: 5, DT_SYMTAB: 6, DT_RELA: 7, DT_RELASZ: 8,
  DT_RELAENT: 9, DT_STRSZ: 10, DT_SYMENT: 11, DT_INIT: 12, DT_FINI: 13, DT_SONAME: 14, DT_RPATH: 15, DT_SYMBOLIC: 16,
  DT_REL: 17, DT_RELSZ: 18, DT_RELENT: 19, DT_PLTREL: 20, DT_DEBUG: 21, DT_TEXTREL: 22, DT_JMPREL: 23, DT_BIND_NOW: 24,
  DT_INIT_ARRAY: 25, DT_FINI_ARRAY: 26, DT_INIT_ARRAYSZ: 27, DT_FINI_ARRAYSZ: 28, DT_RUNPATH: 29, DT_FLAGS: 30,
  DT_ENCODING: 32, DT_LOOS: 0x6000000d, DT_HIOS: 0x6ffff000, DT_VALRNGLO: 0x6ffffd00, DT_VALRNGHI: 0x6ffffdff,
  DT_ADDRRNGLO: 0x6ffffe00, DT_ADDRRNGHI: 0x6ffffeff, DT_VERSYM: 0x6ffffff0, DT_RELACOUNT: 0x6ffffff9,
  DT_RELCOUNT: 0x6ffffffa, DT_FLAGS_1: 0x6ffffffb, DT_VERDEF: 0x6ffffffc, DT_VERDEFNUM: 0x6ffffffd,
  DT_VERNEED: 0x6ffffffe, DT_VERNEEDNUM: 0x6fffffff, DT_LOPROC: 0x70000000, DT_HIPROC: 0x7fffffff,
};

export const ELF_CONSTANTS: Readonly<Record<string, number>> = CONSTANTS;

function load(data: Uint8Array): StructValue {
  let parsed: Parsed | undefined | null = null; // null: not parsed yet
  const elf = (): Parsed | undefined => (parsed === null ? (parsed = parse(data)) : parsed);
  const header = <T>(f: (e: Parsed) => T): (() => T | undefined) => () => {
    const e = elf();
    return e ? f(e) : undefined;
  };
  // Symbol tables exist only when the section table was read.
  let tables: { symtab: SymbolTable; dynsym: SymbolTable } | undefined;
  const symbols = () => {
    if (!tables) {
      const e = elf();
      tables = e?.sections
        ? { symtab: symbolTable(e.r, e.sections, SHT_SYMTAB), dynsym: symbolTable(e.r, e.sections, SHT_DYNSYM) }
        : { symtab: NO_SYMBOLS, dynsym: NO_SYMBOLS };
    }
    return tables;
  };

  const fields: Record<string, Value | (() => Value)> = {
    type: header((e) => BigInt(e.ehdr.type)),
    machine: header((e) => BigInt(e.ehdr.machine)),
    osabi: header((e) => BigInt(e.ehdr.osabi)),
    entry_point: header((e) => (e.entry === undefined ? undefined : int(e.entry))),
    sh_offset: header((e) => int(e.ehdr.shoff)),
    sh_entry_size: header((e) => BigInt(e.ehdr.shentsize)),
    ph_offset: header((e) => int(e.ehdr.phoff)),
    ph_entry_size: header((e) => BigInt(e.ehdr.phentsize)),
    number_of_sections: header((e) => BigInt(e.ehdr.shnum)),
    number_of_segments: header((e) => BigInt(e.ehdr.phnum)),
    dynamic_section_entries: header((e) => BigInt(e.dynamic.length)),
    symtab_entries: header((e) => (e.sections ? BigInt(symbols().symtab.count) : undefined)),
    dynsym_entries: header((e) => (e.sections ? BigInt(symbols().dynsym.count) : undefined)),
    sections: () => {
      const e = elf();
      const sections = e?.sections ?? [];
      const shstrtab = sections[e?.ehdr.shstrndx ?? 0];
      return array(sections.length, (i) => {
        const s = sections[i];
        return struct({
          type: enumField(s.type),
          flags: int(s.flags),
          address: int(s.addr),
          size: int(s.size),
          offset: int(s.offset),
          name: () => parseName(data, shstrtab, s.name),
        });
      });
    },
    segments: () => {
      const segments = elf()?.segments ?? [];
      return array(segments.length, (i) => {
        const s = segments[i];
        return struct({
          type: enumField(s.type),
          flags: BigInt(s.flags),
          offset: int(s.offset),
          virtual_address: int(s.vaddr),
          physical_address: int(s.paddr),
          file_size: int(s.filesz),
          memory_size: int(s.memsz),
          alignment: int(s.align),
        });
      });
    },
    dynamic: () => {
      const dynamic = elf()?.dynamic ?? [];
      return array(dynamic.length, (i) => struct({ type: enumField(dynamic[i][0]), val: int(dynamic[i][1]) }));
    },
    symtab: () => symbolArray(symbols().symtab),
    dynsym: () => symbolArray(symbols().dynsym),
    import_md5: func((a) => (a.length === 0 ? importMd5(symbols().dynsym, symbols().symtab) : UNKNOWN)),
    // TLSH over the exported function names: not implemented in ring3, so YARA-X decides.
    telfhash: func(() => UNKNOWN),
  };
  for (const [k, v] of Object.entries(CONSTANTS)) fields[k] = BigInt(v);
  return struct(fields);
}

export const elf: ModuleFactory = { name: "elf", load };
