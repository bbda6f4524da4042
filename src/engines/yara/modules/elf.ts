// The `elf` module: header, segments, sections, dynamic entries and symbol tables of 32/64-bit,
// little/big-endian ELF files, read the way YARA-X 1.20's lib/src/modules/elf/parser.rs reads them,
// quirks included: entry sizes in the header are ignored (records have their fixed sizes), a string
// table runs to the end of the file, offsets are cut to 32 bits (`u64 as usize` in the WASM build
// that ring3 falls back to), type fields are stored `as i32`, and a header with 0xff00 or more
// sections drops sections and symbols. Also import_md5() and telfhash().
// Nothing is parsed until a field is read; symbols and dynamic entries are decoded when indexed.
// Hostile files get bounds YARA-X does not have: name scans are remembered per block, and past the
// caps on dynamic entries and on name decoding a field is UNKNOWN, never a guess.
// The file is read through the engine's reader (positioned reads, a block cache): headers, tables
// and names where they lie, never the whole file.
import { createHash } from "node:crypto";
import { UNKNOWN, type ArrayValue, type ByteSource, type ModuleFactory, type StructValue, type Unknown, type Value } from "../contracts";
import { FileReader, WHOLE_FILE_MAX } from "../reader";
import { func, lazyStruct, struct, truncUsize } from "./util";

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

/**
 * Bounded reads in the file's byte order over [base, base + length) of the file (read through the
 * engine's reader); every read is checked by the caller's length test.
 */
class Reader {
  /** Over a file in memory: its bytes, read directly (the common case, and the fastest). */
  private readonly view: DataView | undefined;
  constructor(
    readonly file: FileReader,
    readonly base: number,
    readonly length: number,
    readonly le: boolean,
    readonly is64: boolean,
  ) {
    const held = file.bytes;
    this.view = held && new DataView(held.buffer, held.byteOffset + base, length);
  }
  u8(at: number): number {
    return this.view ? this.view.getUint8(at) : this.file.uint(this.base + at, 1, false)!;
  }
  u16(at: number): number {
    return this.view ? this.view.getUint16(at, this.le) : this.file.uint(this.base + at, 2, !this.le)!;
  }
  u32(at: number): number {
    return this.view ? this.view.getUint32(at, this.le) : this.file.uint(this.base + at, 4, !this.le)!;
  }
  u64(at: number): bigint {
    if (this.view) return this.view.getBigUint64(at, this.le);
    const a = BigInt(this.u32(at));
    const b = BigInt(this.u32(at + 4));
    return this.le ? (b << 32n) | a : (a << 32n) | b;
  }
  /** An offset or address: 4 bytes in ELF32, 8 in ELF64. */
  word(at: number): bigint {
    return this.is64 ? this.u64(at) : BigInt(this.u32(at));
  }
  get wordSize(): number {
    return this.is64 ? 8 : 4;
  }
}

/** A range of the file: [start, end). */
interface Span {
  start: number;
  end: number;
}

/** `start..end` as Rust's `slice.get(range)`: undefined unless start <= end <= length. */
function slice(length: number, start: number, end: number): Span | undefined {
  return start <= end && end <= length ? { start, end } : undefined;
}

/** `offset as usize .. offset.checked_add(size)? as usize` of YARA-X's Shdr/Phdr::offset_range. */
function offsetRange(length: number, offset: bigint, size: bigint): Span | undefined {
  const end = offset + size;
  if (end > U64_MAX) return undefined;
  return slice(length, truncUsize(offset), truncUsize(end));
}

function parseEhdr(r: Reader): Ehdr | undefined {
  const need = r.is64 ? 64 : 52;
  if (r.length < need) return undefined;
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
  if (start > r.length || start + count * size > r.length) return undefined;
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

/**
 * More dynamic entries than any real file has: 65535 PT_DYNAMIC segments over one large range (a
 * hostile file) would otherwise make billions. Past it ring3 leaves the dynamic fields to YARA-X.
 */
const MAX_DYNAMIC_ENTRIES = 1 << 20;

/**
 * Where each dynamic entry is: (tag, value) words of every PT_DYNAMIC segment in turn, each up to
 * DT_NULL or the segment's end. Positions only; entries are decoded when indexed.
 */
function dynamicEntries(r: Reader, segments: Phdr[]): number[] | Unknown {
  const w = r.wordSize;
  const out: number[] = [];
  for (const p of segments) {
    if (p.type !== PT_DYNAMIC) continue;
    const bytes = offsetRange(r.length, p.offset, p.filesz);
    if (!bytes) continue;
    const base = bytes.start;
    for (let at = 0; at + 2 * w <= bytes.end - bytes.start; at += 2 * w) {
      if (r.word(base + at) === 0n) break;
      if (out.length === MAX_DYNAMIC_ENTRIES) return UNKNOWN;
      out.push(base + at);
    }
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** A string table entry: its bytes, and whether they are all ASCII (so need no decoding). */
interface RawName {
  start: number;
  end: number;
  ascii: boolean;
}

/**
 * Names in string tables, bounded against hostile files: a name runs to the next NUL, which may
 * be megabytes away and shared by a million symbols. Each lookup scans at most one block; past
 * it, a memo per block (the first NUL, and the first non-ASCII byte, at or after the block's
 * start) answers, and each block is scanned once for it. Decoding non-ASCII names has a budget.
 */
class Names {
  private static readonly BLOCK = 1024;
  private readonly nulMemo: Float64Array;
  private readonly highMemo: Float64Array;
  /** Bytes of non-ASCII names still to decode; past it names are UNKNOWN (YARA-X decides). */
  private decodeBudget = 64 << 20;

  constructor(private readonly file: FileReader) {
    const blocks = Math.ceil(file.size / Names.BLOCK) + 1;
    this.nulMemo = new Float64Array(blocks).fill(-1);
    this.highMemo = new Float64Array(blocks).fill(-1);
  }

  /** The name at `from`: up to the next NUL or the end of the data. */
  at(from: number): RawName {
    const end = this.next(from, this.nulMemo, (a, b) => {
      const i = this.file.indexOf(0, a, b);
      return i < 0 ? -1 : i - a;
    });
    const high = this.next(from, this.highMemo, (a, b) => firstHigh(this.file.read(a, b - a)), end);
    return { start: from, end, ascii: high >= end };
  }

  /** The name's value: its bytes, invalid UTF-8 replaced by U+FFFD as Rust's from_utf8_lossy does. */
  value(name: RawName | undefined): Uint8Array | undefined | Unknown {
    if (!name) return undefined;
    const raw = nameBytes(this.file, name);
    if (name.ascii) return raw;
    if ((this.decodeBudget -= raw.length) < 0) return UNKNOWN;
    return utf8Encoder.encode(utf8.decode(raw));
  }

  /**
   * The first position >= `from` that `find` reports (`find(a, b)`: an index relative to `a`
   * in [a, b), or -1), or the data's end. `stop`: a position past which the answer is not needed,
   * so the first (unremembered) scan ends there; later blocks are scanned whole, for the memo.
   */
  private next(from: number, memo: Float64Array, find: (a: number, b: number) => number, stop = Infinity): number {
    const B = Names.BLOCK;
    const len = this.file.size;
    const firstEnd = Math.min(len, (Math.floor(from / B) + 1) * B);
    const i = find(from, Math.min(firstEnd, stop));
    if (i >= 0) return from + i;
    if (firstEnd >= stop) return stop;
    const visited: number[] = [];
    let block = firstEnd / B;
    let answer = len;
    for (; block * B < len; block++) {
      if (memo[block] >= 0) {
        answer = memo[block];
        break;
      }
      const a = block * B;
      const j = find(a, Math.min(len, a + B));
      visited.push(block);
      if (j >= 0) {
        answer = a + j;
        break;
      }
    }
    for (const v of visited) memo[v] = answer;
    return answer;
  }
}

function firstHigh(data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) if (data[i] >= 0x80) return i;
  return -1;
}

/**
 * A name's bytes (a view of a file in memory, else a copy). A name runs to the next NUL, however
 * far: a copy longer than WHOLE_FILE_MAX (a crafted file) fails the scan rather than fill memory.
 */
function nameBytes(file: FileReader, name: RawName): Uint8Array {
  if (file.bytes) return file.bytes.subarray(name.start, name.end);
  const n = name.end - name.start;
  if (n > WHOLE_FILE_MAX) throw new Error(`elf: a ${n}-byte name is over ${WHOLE_FILE_MAX} bytes`);
  return file.copy(name.start, n);
}

/**
 * The name at `index` in a string table: from the table's offset to the end of the file (not the
 * table's size, as in YARA-X), `index` bytes in.
 */
function findName(size: number, names: Names, table: Shdr | undefined, index: number): RawName | undefined {
  if (!table) return undefined;
  const start = truncUsize(table.offset);
  if (start > size || index > size - start) return undefined;
  return names.at(start + index);
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
  sym(i: number): { name: RawName | undefined; value: bigint; size: bigint; info: number; other: number; shndx: number };
}

const NO_SYMBOLS: SymbolTable = { count: 0, sym: () => { throw new RangeError("no symbols"); } };

/** The first section of `type`, its records decoded on demand (nom's many0: whole records only). */
function symbolTable(r: Reader, names: Names, sections: Shdr[], type: number): SymbolTable {
  const table = sections.find((s) => s.type === type);
  if (!table) return NO_SYMBOLS;
  const bytes = offsetRange(r.length, table.offset, table.size);
  if (!bytes) return NO_SYMBOLS;
  const strtab = sections[table.link];
  const t = new Reader(r.file, bytes.start, bytes.end - bytes.start, r.le, r.is64);
  const size = r.is64 ? 24 : 16;
  return {
    count: Math.floor((bytes.end - bytes.start) / size),
    sym(i) {
      const at = i * size;
      const name = t.u32(at);
      const s = r.is64
        ? { info: t.u8(at + 4), other: t.u8(at + 5), shndx: t.u16(at + 6), value: t.u64(at + 8), size: t.u64(at + 16) }
        : { value: BigInt(t.u32(at + 4)), size: BigInt(t.u32(at + 8)), info: t.u8(at + 12), other: t.u8(at + 13), shndx: t.u16(at + 14) };
      return { ...s, name: findName(r.length, names, strtab, name) };
    },
  };
}

function symbolArray(names: Names, table: SymbolTable): ArrayValue {
  return array(table.count, (i) => {
    const s = table.sym(i);
    return struct({
      name: () => names.value(s.name),
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
  /** Undefined when the header claims SHN_LORESERVE sections or more, or the table is cut short. */
  sections: Shdr[] | undefined;
  entry: bigint | undefined;
}

function parse(file: FileReader): Parsed | undefined {
  const data = file.read(0, 16);
  if (data.length < 16 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) return undefined;
  const cls = data[4];
  const enc = data[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) return undefined;
  const r = new Reader(file, 0, file.size, enc === 1, cls === 2);
  const ehdr = parseEhdr(r);
  if (!ehdr) return undefined;
  const segments = parseTable(r, ehdr.phoff, ehdr.phnum, r.is64 ? 56 : 32, (at) => parsePhdr(r, at));
  const allSections = parseTable(r, ehdr.shoff, ehdr.shnum, r.is64 ? 64 : 40, (at) => parseShdr(r, at));
  if (ehdr.shnum >= SHN_LORESERVE) return { r, ehdr, segments: segments ?? [], sections: undefined, entry: undefined };
  const entry = ehdr.entry === 0n ? undefined : entryOffset(ehdr.type, segments ?? [], allSections ?? [], ehdr.entry);
  return { r, ehdr, segments: segments ?? [], sections: allSections, entry };
}

/**
 * Total name bytes that import_md5 and telfhash join; past it (a hostile file whose every name is
 * megabytes long) ring3 leaves the answer to YARA-X rather than build a huge string.
 */
const MAX_NAME_BYTES = 64 << 20;

/** MD5 of the imported (undefined, named) symbols' names, lowercased, sorted, comma-separated. */
function importMd5(file: FileReader, dynsym: SymbolTable, symtab: SymbolTable): Value {
  const table = dynsym.count > 0 ? dynsym : symtab;
  const names: string[] = [];
  let budget = MAX_NAME_BYTES;
  for (let i = 0; i < table.count; i++) {
    const s = table.sym(i);
    if (s.shndx !== 0 || !s.name || s.name.end === s.name.start) continue;
    // Rust lowercases and sorts by Unicode rules and bytes; JS agrees on ASCII only.
    if (!s.name.ascii || (budget -= s.name.end - s.name.start) < 0) return UNKNOWN;
    names.push(utf8.decode(nameBytes(file, s.name)).toLowerCase());
  }
  names.sort();
  return utf8Encoder.encode(createHash("md5").update(names.join(",")).digest("hex"));
}

// ---------------------------------------------------------------------------------------------
// telfhash: TLSH (128 buckets, 1-byte checksum, "T1") of the exported function names, ported step
// by step from YARA-X's lib/src/modules/elf/tlsh (itself from tlsh-rs), including its quartile
// search, which differs from a plain sort when the first pivot lands on the median.

// prettier-ignore
const PEARSON = Uint8Array.from([
  1, 87, 49, 12, 176, 178, 102, 166, 121, 193, 6, 84, 249, 230, 44, 163, 14, 197, 213, 181, 161, 85, 218, 80, 64, 239, 24,
  226, 236, 142, 38, 200, 110, 177, 104, 103, 141, 253, 255, 50, 77, 101, 81, 18, 45, 96, 31, 222, 25, 107, 190, 70, 86,
  237, 240, 34, 72, 242, 20, 214, 244, 227, 149, 235, 97, 234, 57, 22, 60, 250, 82, 175, 208, 5, 127, 199, 111, 62, 135,
  248, 174, 169, 211, 58, 66, 154, 106, 195, 245, 171, 17, 187, 182, 179, 0, 243, 132, 56, 148, 75, 128, 133, 158, 100,
  130, 126, 91, 13, 153, 246, 216, 219, 119, 68, 223, 78, 83, 88, 201, 99, 122, 11, 92, 32, 136, 114, 52, 10, 138, 30, 48,
  183, 156, 35, 61, 26, 143, 74, 251, 94, 129, 162, 63, 152, 170, 7, 115, 167, 241, 206, 3, 150, 55, 59, 151, 220, 90, 53,
  23, 131, 125, 173, 15, 238, 79, 95, 89, 16, 105, 137, 225, 224, 217, 160, 37, 123, 118, 73, 2, 157, 46, 116, 9, 145,
  134, 228, 207, 212, 202, 215, 69, 229, 27, 188, 67, 124, 168, 252, 42, 4, 29, 108, 21, 247, 19, 205, 39, 203, 233, 40,
  186, 147, 198, 192, 155, 33, 164, 191, 98, 204, 165, 180, 117, 76, 140, 36, 210, 172, 41, 54, 159, 8, 185, 232, 113, 196,
  231, 47, 146, 120, 51, 65, 28, 144, 254, 221, 93, 189, 194, 139, 112, 43, 71, 109, 184, 209,
]);

// Upper bounds of TLSH's logarithmic length classes.
// prettier-ignore
const TOPVAL = [
  1, 2, 3, 5, 7, 11, 17, 25, 38, 57, 86, 129, 194, 291, 437, 656, 854, 1110, 1443, 1876, 2439, 3171, 3475, 3823, 4205,
  4626, 5088, 5597, 6157, 6772, 7450, 8195, 9014, 9916, 10907, 11998, 13198, 14518, 15970, 17567, 19323, 21256, 23382,
  25720, 28292, 31121, 34233, 37656, 41422, 45564, 50121, 55133, 60646, 66711, 73382, 80721, 88793, 97672, 107439, 118183,
  130002, 143002, 157302, 173032, 190335, 209369, 230306, 253337, 278670, 306538, 337191, 370911, 408002, 448802, 493682,
  543050, 597356, 657091, 722800, 795081, 874589, 962048, 1058252, 1164078, 1280486, 1408534, 1549388, 1704327, 1874759,
  2062236, 2268459, 2495305, 2744836, 3019320, 3321252, 3653374, 4018711, 4420582, 4862641, 5348905, 5883796, 6472176,
  7119394, 7831333, 8614467, 9475909, 10423501, 11465851, 12612437, 13873681, 15261050, 16787154, 18465870, 20312458,
  22343706, 24578077, 27035886, 29739474, 32713425, 35984770, 39583245, 43541573, 47895730, 52685306, 57953837, 63749221,
  70124148, 77136564, 84850228, 93335252, 102668779, 112935659, 124229227, 136652151, 150317384, 165349128, 181884040,
  200072456, 220079703, 242087671, 266296456, 292926096, 322218735, 354440623, 389884688, 428873168, 471760495, 518936559,
  570830240, 627913311, 690704607, 759775136, 835752671, 919327967, 1011260767, 1112386880, 1223623232, 1345985727,
  1480584256, 1628642751, 1791507135, 1970657856, 2167723648, 2384496256, 2622945920, 2885240448, 3173764736, 3491141248,
  3840255616, 4224281216,
];

function pearson(salt: number, a: number, b: number, c: number): number {
  return PEARSON[PEARSON[PEARSON[PEARSON[salt] ^ a] ^ b] ^ c];
}

function partition(v: Uint32Array, low: number, high: number): number {
  if (low === high) return low;
  if (low + 1 === high) {
    if (v[low] > v[high]) [v[low], v[high]] = [v[high], v[low]];
    return low;
  }
  let result = low;
  const pivot = (low + high) >> 1;
  const val = v[pivot];
  [v[pivot], v[high]] = [v[high], v[pivot]];
  for (let i = low; i < high; i++) {
    if (v[i] < val) {
      [v[i], v[result]] = [v[result], v[i]];
      result++;
    }
  }
  v[high] = v[result];
  v[result] = val;
  return result;
}

function quartiles(buckets: Uint32Array, count: number): [number, number, number] {
  const v = buckets.slice(0, count);
  const low1: number[] = [];
  const high1: number[] = [];
  const q = count >> 2;
  const p1 = q - 1;
  const p2 = p1 + q;
  const p3 = p2 + q;
  const end = p3 + q;
  let low = 0;
  let high = end;
  let q2: number;
  for (;;) {
    const pivot = partition(v, low, high);
    if (pivot > p2) {
      high = pivot - 1;
      high1.push(pivot);
    } else if (pivot < p2) {
      low = pivot + 1;
      low1.push(pivot);
    } else {
      q2 = v[p2];
      break;
    }
  }
  // As in YARA-X, only the pivots recorded above are visited (not the p2 - 1 / p2 + 1 sentinels
  // that the original TLSH adds): with none, the quartile stays 0.
  let q1 = 0;
  low = 0;
  for (const h of low1) {
    high = h;
    if (high > p1) {
      for (;;) {
        const pivot = partition(v, low, high);
        if (pivot > p1) high = pivot - 1;
        else if (pivot < p1) low = pivot + 1;
        else {
          q1 = v[p1];
          break;
        }
      }
      break;
    } else if (high < p1) {
      low = high;
    } else {
      q1 = v[p1];
      break;
    }
  }
  let q3 = 0;
  high = end;
  for (const l of high1) {
    low = l;
    if (low < p3) {
      for (;;) {
        const pivot = partition(v, low, high);
        if (pivot < p3) low = pivot + 1;
        else if (pivot > p3) high = pivot - 1;
        else {
          q3 = v[p3];
          break;
        }
      }
      break;
    } else if (low === p3) {
      q3 = v[p3];
      break;
    } else {
      high = low;
    }
  }
  return [q1, q2, q3];
}

function lengthClass(len: number): number | undefined {
  let top = TOPVAL.length;
  let bottom = 0;
  let idx = top >> 1;
  while (idx < TOPVAL.length) {
    if (idx === 0) return 0;
    if (len <= TOPVAL[idx] && len > TOPVAL[idx - 1]) return idx;
    if (len < TOPVAL[idx]) top = idx - 1;
    else bottom = idx + 1;
    idx = (bottom + top) >> 1;
  }
  return undefined;
}

/** TLSH T1 digest (128 buckets, 1-byte checksum); undefined under 50 bytes or without spread. */
export function tlsh(data: Uint8Array): string | undefined {
  if (data.length < 50) return undefined;
  const buckets = new Uint32Array(256);
  const window = new Uint8Array(5);
  let checksum = 0;
  let j0 = 0;
  let j1 = 4;
  let j2 = 3;
  let j3 = 2;
  let j4 = 1;
  for (let i = 0; i < data.length; i++) {
    window[j0] = data[i];
    if (i >= 4) {
      const a = window[j0];
      checksum = pearson(0, a, window[j1], checksum);
      buckets[pearson(2, a, window[j1], window[j2])]++;
      buckets[pearson(3, a, window[j1], window[j3])]++;
      buckets[pearson(5, a, window[j2], window[j3])]++;
      buckets[pearson(7, a, window[j2], window[j4])]++;
      buckets[pearson(11, a, window[j1], window[j4])]++;
      buckets[pearson(13, a, window[j3], window[j4])]++;
    }
    const t = j4;
    j4 = j3;
    j3 = j2;
    j2 = j1;
    j1 = j0;
    j0 = t;
  }
  const [q1, q2, q3] = quartiles(buckets, 128);
  if (q3 === 0) return undefined;
  const codes: number[] = [];
  for (let i = 0; i < 32; i++) {
    let h = 0;
    for (let j = 0; j < 4; j++) {
      const k = buckets[4 * i + j];
      if (q3 < k) h += 3 << (j * 2);
      else if (q2 < k) h += 2 << (j * 2);
      else if (q1 < k) h += 1 << (j * 2);
    }
    codes.push(h);
  }
  const len = lengthClass(data.length);
  if (len === undefined) return undefined;
  const q1ratio = Math.trunc((q1 * 100) / q3) % 16;
  const q2ratio = Math.trunc((q2 * 100) / q3) % 16;
  const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");
  const swapped = (n: number): string => [...hex2(n)].reverse().join("");
  let out = "T1" + swapped(checksum) + swapped(len) + hex2((q1ratio << 4) | q2ratio);
  for (let i = codes.length - 1; i >= 0; i--) out += hex2(codes[i]);
  return out;
}

// Function names telfhash leaves out (from Trend Micro's telfhash.py, as in YARA-X).
const TELFHASH_EXCLUDED = new Set(["__libc_start_main", "main", "abort", "cachectl", "cacheflush", "puts", "atol", "malloc_trim"]);

/** TLSH of the global, default-visibility function names (dynsym, else symtab), filtered as telfhash does. */
function telfhash(file: FileReader, dynsym: SymbolTable, symtab: SymbolTable): Value {
  const table = dynsym.count > 0 ? dynsym : symtab;
  const names: string[] = [];
  let budget = MAX_NAME_BYTES;
  for (let i = 0; i < table.count; i++) {
    const s = table.sym(i);
    if ((s.info & 0x0f) !== 2 || s.info >> 4 !== 1 || (s.other & 0x03) !== 0 || !s.name) continue;
    // Rust's starts_with/to_lowercase/sort work on Unicode; JS agrees on ASCII only.
    if (!s.name.ascii || (budget -= s.name.end - s.name.start) < 0) return UNKNOWN;
    const name = utf8.decode(nameBytes(file, s.name));
    if (TELFHASH_EXCLUDED.has(name) || /^(\.|_|mem|str)/.test(name) || name.endsWith("64")) continue;
    names.push(name.toLowerCase());
  }
  names.sort();
  const digest = tlsh(utf8Encoder.encode(names.join(",")));
  return digest === undefined ? undefined : utf8Encoder.encode(digest);
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
const CONSTANT_VALUES = new Map(Object.entries(CONSTANTS).map(([k, v]) => [k, BigInt(v)]));

function load(source: ByteSource): StructValue {
  // Nothing is read until the first field access; constants need no file.
  return lazyStruct(() => parsedRoot(FileReader.from(source)), (name) => CONSTANT_VALUES.get(name));
}

function parsedRoot(data: FileReader): StructValue {
  let parsed: Parsed | undefined | null = null; // null: not parsed yet
  let nameIndex: Names | undefined;
  const names = (): Names => (nameIndex ??= new Names(data));
  const elf = (): Parsed | undefined => (parsed === null ? (parsed = parse(data)) : parsed);
  const header = <T>(f: (e: Parsed) => T): (() => T | undefined) => () => {
    const e = elf();
    return e ? f(e) : undefined;
  };
  let dynamicCache: number[] | Unknown | undefined;
  const dynamic = (e: Parsed): number[] | Unknown => (dynamicCache ??= dynamicEntries(e.r, e.segments));
  // Symbol tables exist only when the section table was read.
  let tables: { symtab: SymbolTable; dynsym: SymbolTable } | undefined;
  const symbols = () => {
    if (!tables) {
      const e = elf();
      tables = e?.sections
        ? { symtab: symbolTable(e.r, names(), e.sections, SHT_SYMTAB), dynsym: symbolTable(e.r, names(), e.sections, SHT_DYNSYM) }
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
    dynamic_section_entries: header((e) => {
      const d = dynamic(e);
      return d === UNKNOWN ? UNKNOWN : BigInt(d.length);
    }),
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
          name: () => names().value(findName(data.size, names(), shstrtab, s.name)),
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
      const e = elf();
      if (!e) return array(0, () => undefined);
      const positions = dynamic(e);
      if (positions === UNKNOWN) return UNKNOWN;
      const w = e.r.wordSize;
      return array(positions.length, (i) => struct({ type: enumField(e.r.word(positions[i])), val: int(e.r.word(positions[i] + w)) }));
    },
    symtab: () => symbolArray(names(), symbols().symtab),
    dynsym: () => symbolArray(names(), symbols().dynsym),
    import_md5: func((a) => (a.length === 0 ? importMd5(data, symbols().dynsym, symbols().symtab) : UNKNOWN)),
    telfhash: func((a) => (a.length === 0 ? telfhash(data, symbols().dynsym, symbols().symtab) : UNKNOWN)),
  };
  return struct(fields);
}

export const elf: ModuleFactory = { name: "elf", load };
