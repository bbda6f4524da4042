// The PE headers, the section table and address translation, parsed the way YARA-X's
// lib/src/modules/pe/parser.rs does (PE::parse and rva2off.rs), including what it does with broken
// input: a file is a PE when its MZ and PE headers read; a bad optional header leaves every optional
// header field zero; sections are read while whole 40-byte entries remain (at most 96).
import { cstr, u16, u32, u64, u8, validUtf8, type Bytes } from "./bytes";

export const MAX_PE_SECTIONS = 96;
const SIZE_OF_SYMBOL = 18;
export const MAGIC_PE32 = 0x10b;
export const MAGIC_PE64 = 0x20b;

export const DIR_EXPORT = 0;
export const DIR_IMPORT = 1;
export const DIR_RESOURCE = 2;
export const DIR_SECURITY = 4;
export const DIR_DEBUG = 6;
export const DIR_DELAY_IMPORT = 13;

export interface Section {
  /** The 8-byte name with trailing NULs removed. */
  name: Uint8Array;
  /** The name from the COFF string table for "/123" names, else the name. */
  fullName: Uint8Array;
  virtualSize: number;
  virtualAddress: number;
  rawDataSize: number;
  rawDataOffset: number;
  pointerToRelocations: number;
  pointerToLineNumbers: number;
  numberOfRelocations: number;
  numberOfLineNumbers: number;
  characteristics: number;
}

export interface OptionalHeader {
  magic: number;
  majorLinkerVersion: number;
  minorLinkerVersion: number;
  sizeOfCode: number;
  sizeOfInitializedData: number;
  sizeOfUninitializedData: number;
  entryPoint: number;
  baseOfCode: number;
  /** Only in 32-bit optional headers. */
  baseOfData: number | undefined;
  imageBase: bigint;
  sectionAlignment: number;
  fileAlignment: number;
  majorOsVersion: number;
  minorOsVersion: number;
  majorImageVersion: number;
  minorImageVersion: number;
  majorSubsystemVersion: number;
  minorSubsystemVersion: number;
  win32Version: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  checksum: number;
  subsystem: number;
  dllCharacteristics: number;
  sizeOfStackReserve: bigint;
  sizeOfStackCommit: bigint;
  sizeOfHeapReserve: bigint;
  sizeOfHeapCommit: bigint;
  loaderFlags: number;
  numberOfRvaAndSizes: number;
  /** Offset in the file where the checksum field is (for calculate_checksum), -1 when unparsed. */
  checksumOffset: number;
}

export interface Headers {
  eLfanew: number;
  machine: number;
  numberOfSections: number;
  timestamp: number;
  symbolTableOffset: number;
  numberOfSymbols: number;
  sizeOfOptionalHeader: number;
  characteristics: number;
  opt: OptionalHeader;
  /** File offset of the data directory (right after the optional header's fixed part); -1 = none. */
  directoryOffset: number;
  sections: Section[];
}

function zeroOptionalHeader(): OptionalHeader {
  return {
    magic: 0, majorLinkerVersion: 0, minorLinkerVersion: 0, sizeOfCode: 0, sizeOfInitializedData: 0,
    sizeOfUninitializedData: 0, entryPoint: 0, baseOfCode: 0, baseOfData: undefined, imageBase: 0n,
    sectionAlignment: 0, fileAlignment: 0, majorOsVersion: 0, minorOsVersion: 0, majorImageVersion: 0,
    minorImageVersion: 0, majorSubsystemVersion: 0, minorSubsystemVersion: 0, win32Version: 0, sizeOfImage: 0,
    sizeOfHeaders: 0, checksum: 0, subsystem: 0, dllCharacteristics: 0, sizeOfStackReserve: 0n,
    sizeOfStackCommit: 0n, sizeOfHeapReserve: 0n, sizeOfHeapCommit: 0n, loaderFlags: 0, numberOfRvaAndSizes: 0,
    checksumOffset: -1,
  };
}

/** The headers, or undefined when the bytes are not a PE for YARA-X (is_pe false). */
export function parseHeaders(d: Bytes): Headers | undefined {
  if (d.length < 64 || u16(d, 0) !== 0x5a4d) return undefined;
  const eLfanew = u32(d, 60)!;
  if (eLfanew > d.length) return undefined;
  const pe = eLfanew;
  if (u32(d, pe) !== 0x00004550 || pe + 24 > d.length) return undefined;
  const h: Headers = {
    eLfanew,
    machine: u16(d, pe + 4)!,
    numberOfSections: u16(d, pe + 6)!,
    timestamp: u32(d, pe + 8)!,
    symbolTableOffset: u32(d, pe + 12)!,
    numberOfSymbols: u32(d, pe + 16)!,
    sizeOfOptionalHeader: u16(d, pe + 20)!,
    characteristics: u16(d, pe + 22)!,
    opt: zeroOptionalHeader(),
    directoryOffset: -1,
    sections: [],
  };
  const parsed = parseOptionalHeader(d, pe + 24);
  if (parsed) [h.opt, h.directoryOffset] = parsed;

  // Saturating u32 arithmetic, as in parser.rs.
  const stringTableOffset = Math.min(0xffffffff, h.symbolTableOffset + Math.min(0xffffffff, h.numberOfSymbols * SIZE_OF_SYMBOL));
  const stringTable = stringTableOffset <= d.length ? stringTableOffset : -1;
  const tableStart = pe + 24 + h.sizeOfOptionalHeader;
  const max = Math.min(h.numberOfSections, MAX_PE_SECTIONS);
  for (let i = 0; i < max; i++) {
    const s = parseSection(d, tableStart + i * 40, stringTable);
    if (!s) break;
    h.sections.push(s);
  }
  return h;
}

function parseOptionalHeader(d: Bytes, at: number): [OptionalHeader, number] | undefined {
  // YARA-X 1.20 accepts any magic; all but PE32+'s get the 32-bit layout (as YARA does).
  const magic = u16(d, at);
  if (magic === undefined) return undefined;
  const is32 = magic !== MAGIC_PE64;
  // 32-bit: 96 bytes of fixed fields; 64-bit: 112.
  const size = is32 ? 96 : 112;
  if (at + size > d.length) return undefined;
  const o = zeroOptionalHeader();
  o.magic = magic;
  o.majorLinkerVersion = u8(d, at + 2)!;
  o.minorLinkerVersion = u8(d, at + 3)!;
  o.sizeOfCode = u32(d, at + 4)!;
  o.sizeOfInitializedData = u32(d, at + 8)!;
  o.sizeOfUninitializedData = u32(d, at + 12)!;
  o.entryPoint = u32(d, at + 16)!;
  o.baseOfCode = u32(d, at + 20)!;
  let p = at + 24;
  if (is32) {
    o.baseOfData = u32(d, p)!;
    o.imageBase = BigInt(u32(d, p + 4)!);
    p += 8;
  } else {
    o.imageBase = u64(d, p)!;
    p += 8;
  }
  o.sectionAlignment = u32(d, p)!;
  o.fileAlignment = u32(d, p + 4)!;
  o.majorOsVersion = u16(d, p + 8)!;
  o.minorOsVersion = u16(d, p + 10)!;
  o.majorImageVersion = u16(d, p + 12)!;
  o.minorImageVersion = u16(d, p + 14)!;
  o.majorSubsystemVersion = u16(d, p + 16)!;
  o.minorSubsystemVersion = u16(d, p + 18)!;
  o.win32Version = u32(d, p + 20)!;
  o.sizeOfImage = u32(d, p + 24)!;
  o.sizeOfHeaders = u32(d, p + 28)!;
  o.checksumOffset = p + 32;
  o.checksum = u32(d, p + 32)!;
  o.subsystem = u16(d, p + 36)!;
  o.dllCharacteristics = u16(d, p + 38)!;
  p += 40;
  const word = (q: number): bigint => (is32 ? BigInt(u32(d, q)!) : u64(d, q)!);
  const w = is32 ? 4 : 8;
  o.sizeOfStackReserve = word(p);
  o.sizeOfStackCommit = word(p + w);
  o.sizeOfHeapReserve = word(p + 2 * w);
  o.sizeOfHeapCommit = word(p + 3 * w);
  p += 4 * w;
  o.loaderFlags = u32(d, p)!;
  o.numberOfRvaAndSizes = u32(d, p + 4)!;
  return [o, p + 8];
}

function parseSection(d: Bytes, at: number, stringTable: number): Section | undefined {
  if (at + 40 > d.length) return undefined;
  const raw = d.subarray(at, at + 8).bytes();
  let end = 8;
  while (end > 0 && raw[end - 1] === 0) end--;
  const name = raw.slice(0, end);
  let fullName: Uint8Array = name;
  // GNU long names: "/<decimal offset into the COFF string table>" (Rust's u32::from_str accepts a "+").
  if (stringTable >= 0 && name[0] === 0x2f) {
    const text = validUtf8(name);
    const m = text === undefined ? null : /^\/(\+?[0-9]+)$/.exec(text);
    if (m) {
      const off = Number(m[1]);
      if (off <= 0xffffffff) {
        const s = cstr(d, stringTable + off);
        if (s) fullName = s;
      }
    }
  }
  return {
    name,
    fullName,
    virtualSize: u32(d, at + 8)!,
    virtualAddress: u32(d, at + 12)!,
    rawDataSize: u32(d, at + 16)!,
    rawDataOffset: u32(d, at + 20)!,
    pointerToRelocations: u32(d, at + 24)!,
    pointerToLineNumbers: u32(d, at + 28)!,
    numberOfRelocations: u16(d, at + 32)!,
    numberOfLineNumbers: u16(d, at + 34)!,
    characteristics: u32(d, at + 36)!,
  };
}

function alignSectionOffset(offset: number, fileAlignment: number, sectionAlignment: number): number {
  const fa = Math.min(fileAlignment, 0x200);
  if (fa !== 0) offset -= offset % fa;
  if (sectionAlignment >= 0x1000) offset -= offset % 0x200;
  return offset;
}

/** rva2off::rva_to_offset: the last section (by table order, non-decreasing VA) that holds the RVA. */
export function rvaToOffset(rva: number, sections: Section[], fileAlignment: number, sectionAlignment: number): number | undefined {
  let lowest = Infinity;
  for (const s of sections) lowest = Math.min(lowest, s.virtualAddress);
  if (sections.length > 0 && rva < lowest) return rva;
  let sectionRva = 0;
  let sectionOffset = 0;
  let sectionRawSize = 0;
  for (const s of sections) {
    const size = Math.max(s.virtualSize, s.rawDataSize);
    const start = s.virtualAddress;
    const end = Math.min(0xffffffff, start + size);
    if (sectionRva <= start && rva >= start && rva < end) {
      sectionRva = start;
      sectionOffset = alignSectionOffset(s.rawDataOffset, fileAlignment, sectionAlignment);
      sectionRawSize = s.rawDataSize;
    }
  }
  if (Math.max(0, rva - sectionRva) >= sectionRawSize) return undefined;
  return Math.min(0xffffffff, sectionOffset + (rva - sectionRva));
}

/** rva2off::offset_to_rva. */
export function offsetToRva(offset: number, sections: Section[], fileAlignment: number, sectionAlignment: number): number | undefined {
  let lowest = Infinity;
  for (const s of sections) if (s.rawDataOffset > 0) lowest = Math.min(lowest, alignSectionOffset(s.rawDataOffset, fileAlignment, sectionAlignment));
  if (lowest !== Infinity && offset < lowest) return offset;
  let sectionRva = 0;
  let sectionOffset = 0;
  let sectionRawSize = 0;
  for (const s of sections) {
    if (s.rawDataOffset === 0) continue;
    const start = alignSectionOffset(s.rawDataOffset, fileAlignment, sectionAlignment);
    const end = Math.min(0xffffffff, start + s.rawDataSize);
    if (sectionOffset <= start && offset >= start && offset < end) {
      sectionRva = s.virtualAddress;
      sectionOffset = start;
      sectionRawSize = s.rawDataSize;
    }
  }
  if (Math.max(0, offset - sectionOffset) >= sectionRawSize) return undefined;
  return Math.min(0xffffffff, sectionRva + (offset - sectionOffset));
}
