// Mach-O parsing as YARA-X 1.20's lib/src/modules/macho/parser.rs does it, quirks included: load
// commands run past sizeofcmds to the end of the file, LC_SEGMENT and LC_SEGMENT_64 are both read
// with the header's word size, a LC_UNIXTHREAD entry point replaces LC_MAIN's (even by nothing),
// a failed table keeps what was read before the failure,
// and offsets are cut to 32 bits (`as usize` in the WASM build ring3 falls back to).
// Where YARA-X's answer hangs on code not reproduced here (the X.509 certificates of a signature,
// an entitlements plist outside the plain XML read by plist.ts), that one field is UNKNOWN.
import { UNKNOWN, type Unknown } from "../../contracts";
import { parseEntitlements } from "./plist";

const MH_MAGIC = 0xfeedface;
const MH_CIGAM = 0xcefaedfe;
const MH_MAGIC_64 = 0xfeedfacf;
const MH_CIGAM_64 = 0xcffaedfe;
const FAT_MAGIC = 0xcafebabe;
const FAT_CIGAM = 0xbebafeca;
const FAT_MAGIC_64 = 0xcafebabf;
const FAT_CIGAM_64 = 0xbfbafeca;

const CS_MAGIC_BLOBWRAPPER = 0xfade0b01;
const CS_MAGIC_EMBEDDED_ENTITLEMENTS = 0xfade7171;

export const N_STAB = 0xe0;
export const N_TYPE = 0x0e;
export const N_EXT = 0x01;
const N_UNDF = 0x0;
const N_ABS = 0x2;
const N_SECT = 0xe;
const N_INDR = 0xa;

const EXPORT_SYMBOL_FLAGS_REEXPORT = 0x08n;
const EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER = 0x10n;

const LC_REQ_DYLD = 0x80000000;
const LC_SEGMENT = 0x1;
const LC_SYMTAB = 0x2;
const LC_UNIXTHREAD = 0x5;
const LC_DYSYMTAB = 0xb;
const LC_LOAD_DYLIB = 0xc;
const LC_ID_DYLIB = 0xd;
const LC_LOAD_DYLINKER = 0xe;
const LC_ID_DYLINKER = 0xf;
const LC_LOAD_WEAK_DYLIB = (0x18 | LC_REQ_DYLD) >>> 0;
const LC_SEGMENT_64 = 0x19;
const LC_UUID = 0x1b;
const LC_RPATH = (0x1c | LC_REQ_DYLD) >>> 0;
const LC_CODE_SIGNATURE = 0x1d;
const LC_REEXPORT_DYLIB = (0x1f | LC_REQ_DYLD) >>> 0;
const LC_LAZY_LOAD_DYLIB = 0x20;
const LC_DYLD_INFO = 0x22;
const LC_DYLD_INFO_ONLY = (0x22 | LC_REQ_DYLD) >>> 0;
const LC_LOAD_UPWARD_DYLIB = (0x23 | LC_REQ_DYLD) >>> 0;
const LC_VERSION_MIN_MACOSX = 0x24;
const LC_VERSION_MIN_IPHONEOS = 0x25;
const LC_DYLD_ENVIRONMENT = 0x27;
const LC_MAIN = (0x28 | LC_REQ_DYLD) >>> 0;
const LC_SOURCE_VERSION = 0x2a;
const LC_LINKER_OPTION = 0x2d;
const LC_VERSION_MIN_TVOS = 0x2f;
const LC_VERSION_MIN_WATCHOS = 0x30;
const LC_BUILD_VERSION = 0x32;
const LC_DYLD_EXPORTS_TRIE = (0x33 | LC_REQ_DYLD) >>> 0;
const LC_DYLD_CHAINED_FIXUPS = (0x34 | LC_REQ_DYLD) >>> 0;

const CPU_TYPE_MC680X0 = 0x6;
const CPU_TYPE_X86 = 0x7;
const CPU_TYPE_X86_64 = 0x01000007;
const CPU_TYPE_ARM = 0xc;
const CPU_TYPE_ARM64 = 0x0100000c;
const CPU_TYPE_MC88000 = 0xd;
const CPU_TYPE_SPARC = 0xe;
const CPU_TYPE_POWERPC = 0x12;
const CPU_TYPE_POWERPC64 = 0x01000012;

const DYLD_CHAINED_IMPORT_ADDEND = 2;
const DYLD_CHAINED_IMPORT_ADDEND64 = 3;

const U64_MAX = (1n << 64n) - 1n;
/** Bytes of export names built from a trie; past it (a crafted trie of long chains) exports are UNKNOWN. */
const EXPORT_NAME_BUDGET = 64 << 20;

/** A parse step that fails (nom's Err): at the end of the data, or on a value it refuses. */
class Fail extends Error {
  constructor(readonly eof: boolean) {
    super(eof ? "eof" : "invalid");
  }
}
const EOF = new Fail(true);
const INVALID = new Fail(false);

/** A cursor over [pos, end) of the file: nom's input slice. */
class Cur {
  constructor(
    readonly d: DataView,
    public pos: number,
    readonly end: number,
    readonly le: boolean,
  ) {}
  get left(): number {
    return this.end - this.pos;
  }
  need(n: number): number {
    if (this.end - this.pos < n) throw EOF;
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    return this.d.getUint8(this.need(1));
  }
  u16(): number {
    return this.d.getUint16(this.need(2), this.le);
  }
  u32(): number {
    return this.d.getUint32(this.need(4), this.le);
  }
  be32(): number {
    return this.d.getUint32(this.need(4), false);
  }
  u64(): bigint {
    return this.d.getBigUint64(this.need(8), this.le);
  }
  /** 4 bytes in 32-bit files, 8 in 64-bit ones. */
  uint(is32: boolean): bigint {
    return is32 ? BigInt(this.u32()) : this.u64();
  }
  take(n: number): Cur {
    const at = this.need(n);
    return new Cur(this.d, at, at + n, this.le);
  }
  /** nom's take_till(b == stop): never fails; the span up to `stop` or the end. */
  till(stop: number, bytes: Uint8Array): [number, number] {
    const i = bytes.subarray(this.pos, this.end).indexOf(stop);
    const start = this.pos;
    this.pos = i < 0 ? this.end : this.pos + i;
    return [start, this.pos];
  }
  /** take_till(stop) then tag(stop): fails when `stop` is not there. */
  terminated(stop: number, bytes: Uint8Array): [number, number] {
    const s = this.till(stop, bytes);
    this.need(1);
    return s;
  }
  uleb(): bigint {
    let val = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.u8();
      if (shift >= 64n) throw INVALID;
      val = (val | (BigInt(byte & 0x7f) << shift)) & U64_MAX;
      if ((byte & 0x80) === 0) return val;
      shift += 7n;
    }
  }
  sleb(): void {
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      if (shift >= 64) throw INVALID;
      shift += 7;
      if ((byte & 0x80) === 0) return;
    }
  }
}

export interface Header {
  magic: number;
  cputype: number;
  cpusubtype: number;
  filetype: number;
  ncmds: number;
  sizeofcmds: number;
  flags: number;
  reserved: number | undefined;
}

export interface Section {
  sectname: Uint8Array;
  segname: Uint8Array;
  addr: bigint;
  size: bigint;
  offset: number;
  align: number;
  reloff: number;
  nreloc: number;
  flags: number;
  reserved1: number;
  reserved2: number;
  reserved3: number | undefined;
}

export interface Segment {
  segname: Uint8Array;
  vmaddr: bigint;
  vmsize: bigint;
  fileoff: bigint;
  filesize: bigint;
  maxprot: number;
  initprot: number;
  nsects: number;
  flags: number;
  sections: Section[];
}

export interface Dylib {
  name: Uint8Array;
  timestamp: number;
  currentVersion: number;
  compatibilityVersion: number;
}

export interface Nlist {
  strx: number;
  type: number;
  sect: number;
  desc: number;
  value: bigint;
}

export interface Symtab {
  symoff: number;
  nsyms: number;
  stroff: number;
  strsize: number;
  entries: Uint8Array[];
  nlists: Nlist[];
}

export type Dysymtab = number[]; // the 16 fields in command order
export type DyldInfo = number[]; // the 10 fields in command order

export interface LinkEdit {
  dataoff: number;
  datasize: number;
}

export interface BuildVersion {
  platform: number;
  minos: number;
  sdk: number;
  tools: { tool: number; version: number }[];
}

export interface MinVersion {
  device: number;
  version: number;
  sdk: number;
}

export interface MachOFile {
  header: Header;
  segments: Segment[];
  dylibs: Dylib[];
  rpaths: Uint8Array[];
  symtab: Symtab | undefined;
  dysymtab: Dysymtab | undefined;
  dyldInfo: DyldInfo | undefined;
  exportTrie: LinkEdit | undefined;
  chainedFixups: LinkEdit | undefined;
  dynamicLinker: Uint8Array | undefined;
  linkerOptions: Uint8Array[];
  sourceVersion: bigint | undefined;
  entryPoint: bigint | undefined;
  entryRva: bigint | undefined;
  stackSize: bigint | undefined;
  codeSignature: LinkEdit | undefined;
  entitlements: string[] | Unknown;
  /** Certificates are not parsed here: UNKNOWN when the signature has a CMS blob, else none. */
  certificates: [] | Unknown;
  uuid: Uint8Array | undefined;
  buildVersion: BuildVersion | undefined;
  minVersion: MinVersion | undefined;
  /** Trie exports then symbol-table ones, as the module output lists them. */
  exports: string[] | Unknown;
  imports: string[];
  /** A chained-fixups table whose size wraps 32 bits (a crafted file): imports are UNKNOWN. */
  importsUnknown: boolean;
}

export interface FatArch {
  cputype: number;
  cpusubtype: number;
  offset: bigint;
  size: bigint;
  align: number;
  reserved: number;
}

export interface MachO {
  fatMagic: number | undefined;
  archs: FatArch[];
  files: MachOFile[];
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder("utf-8", { ignoreBOM: true });

/** Rust's `str::from_utf8`: undefined for invalid UTF-8. */
function strictText(b: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(b);
  } catch {
    return undefined;
  }
}

/** BStr's trim_end_with(c == '\0'): trailing NUL bytes dropped. */
function trimNul(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return b.subarray(0, n);
}

/** `data.get(off as usize .. off.saturating_add(size) as usize)` with u32 offsets (wasm32). */
function range(len: number, off: number, size: number): [number, number] | undefined {
  const end = Math.min(off + size, 0xffffffff);
  return off <= end && end <= len ? [off, end] : undefined;
}

/** Sorted positions of NUL bytes in [start, end), to find where names end without rescanning. */
class NulIndex {
  private readonly at: number[] = [];
  constructor(bytes: Uint8Array, start: number, end: number) {
    for (let i = bytes.indexOf(0, start); i >= 0 && i < end; i = bytes.indexOf(0, i + 1)) this.at.push(i);
  }
  /** The first NUL at or after `from`, or -1. */
  next(from: number): number {
    let lo = 0;
    let hi = this.at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.at.length ? this.at[lo] : -1;
  }
}

export function parseMachO(bytes: Uint8Array): MachO | undefined {
  if (bytes.length < 4) return undefined;
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const le = d.getUint32(0, true);
  try {
    if (le === FAT_MAGIC || le === FAT_CIGAM || le === FAT_MAGIC_64 || le === FAT_CIGAM_64) return parseFat(bytes, d);
    return { fatMagic: undefined, archs: [], files: [parseFile(bytes, d, 0, bytes.length)] };
  } catch (err) {
    if (err instanceof Fail) return undefined;
    throw err;
  }
}

function parseFat(bytes: Uint8Array, d: DataView): MachO {
  const magic = d.getUint32(0, false);
  const le = magic === FAT_CIGAM || magic === FAT_CIGAM_64;
  const is32 = magic === FAT_MAGIC || magic === FAT_CIGAM;
  const c = new Cur(d, 4, bytes.length, le);
  const n = c.u32();
  if (n * (is32 ? 20 : 32) > c.left) throw EOF;
  const archs: FatArch[] = [];
  for (let i = 0; i < n; i++) {
    archs.push({
      cputype: c.u32(),
      cpusubtype: c.u32(),
      offset: c.uint(is32),
      size: c.uint(is32),
      align: c.u32(),
      reserved: is32 ? 0 : c.u32(),
    });
  }
  const files: MachOFile[] = [];
  for (const a of archs) {
    const start = Number(a.offset & 0xffffffffn);
    const end = Math.min(start + Number(a.size & 0xffffffffn), 0xffffffff);
    if (end > bytes.length) continue;
    try {
      files.push(parseFile(bytes, d, start, end));
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
    }
  }
  return { fatMagic: magic, archs, files };
}

/** One single-architecture file in [base, end) of `bytes`; offsets inside it are from `base`. */
function parseFile(all: Uint8Array, d: DataView, base: number, end: number): MachOFile {
  const bytes = all.subarray(base, end);
  const len = bytes.length;
  const fd = new DataView(d.buffer, d.byteOffset + base, len);
  if (len < 4) throw EOF;
  const magic = fd.getUint32(0, false);
  if (magic !== MH_MAGIC && magic !== MH_CIGAM && magic !== MH_MAGIC_64 && magic !== MH_CIGAM_64) throw INVALID;
  const le = magic === MH_CIGAM || magic === MH_CIGAM_64;
  const is32 = magic === MH_MAGIC || magic === MH_CIGAM;
  const c = new Cur(fd, 4, len, le);
  const header: Header = {
    magic,
    cputype: c.u32(),
    cpusubtype: c.u32(),
    filetype: c.u32(),
    ncmds: c.u32(),
    sizeofcmds: c.u32(),
    flags: c.u32(),
    reserved: is32 ? undefined : c.u32(),
  };
  const m: MachOFile = {
    header,
    segments: [],
    dylibs: [],
    rpaths: [],
    symtab: undefined,
    dysymtab: undefined,
    dyldInfo: undefined,
    exportTrie: undefined,
    chainedFixups: undefined,
    dynamicLinker: undefined,
    linkerOptions: [],
    sourceVersion: undefined,
    entryPoint: undefined,
    entryRva: undefined,
    stackSize: undefined,
    codeSignature: undefined,
    entitlements: [],
    certificates: [],
    uuid: undefined,
    buildVersion: undefined,
    minVersion: undefined,
    exports: [],
    imports: [],
    importsUnknown: false,
  };

  // Every failure in the loop is the end of the data (a command's type and size, or its body).
  for (let i = 0; i < header.ncmds; i++) {
    if (c.left < 8) break;
    const cmd = c.u32();
    const size = c.u32();
    const body = Math.max(size - 8, 0);
    if (c.left < body) break;
    const data = c.take(body);
    try {
      command(m, bytes, data, cmd, is32);
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
    }
  }

  if (m.symtab) parseSymtab(m, bytes, fd, le, is32);
  if (m.entryRva !== undefined) m.entryPoint = rvaToOffset(m.segments, m.entryRva);
  if (m.codeSignature) {
    const r = range(len, m.codeSignature.dataoff, m.codeSignature.datasize);
    if (r) superBlob(m, bytes, fd, r[0], r[1]);
  }
  const exports: string[] = [];
  let exportsKnown = true;
  for (const le2 of [m.exportTrie, m.dyldInfo && { dataoff: m.dyldInfo[8], datasize: m.dyldInfo[9] }]) {
    if (!le2) continue;
    const r = range(len, le2.dataoff, le2.datasize);
    if (r && !parseExports(bytes, fd, r[0], r[1], exports)) exportsKnown = false;
  }
  if (m.dyldInfo) {
    const seen = new Set<string>();
    for (const k of [2, 6, 4]) {
      const r = range(len, m.dyldInfo[k], m.dyldInfo[k + 1]);
      if (r) parseImports(m.imports, bytes, fd, r[0], r[1], seen);
    }
  }
  if (m.chainedFixups) {
    const r = range(len, m.chainedFixups.dataoff, m.chainedFixups.datasize);
    if (r && !parseChainedFixups(m.imports, bytes, fd, le, r[0], r[1])) m.importsUnknown = true;
  }
  // With neither an export trie nor dyld info, exports (and, without chained fixups, imports) come
  // from the symbol table, as Apple's dyld_info does.
  if (!m.exportTrie && !m.dyldInfo && m.symtab) {
    const s = m.symtab;
    s.nlists.forEach((n, i) => {
      const t = n.type & N_TYPE;
      if (n.type & N_EXT && (t === N_SECT || t === N_ABS || t === N_INDR) && (n.type & N_STAB) === 0) exports.push(utf8Lossy.decode(s.entries[i]));
    });
  }
  if (!m.chainedFixups && !m.dyldInfo && m.symtab) {
    const s = m.symtab;
    s.nlists.forEach((n, i) => {
      if ((n.type & N_TYPE) === N_UNDF && (n.type & N_STAB) === 0) m.imports.push(utf8Lossy.decode(s.entries[i]));
    });
  }
  m.exports = exportsKnown ? exports : UNKNOWN;
  return m;
}

function rvaToOffset(segments: Segment[], rva: bigint): bigint | undefined {
  for (const s of segments) {
    const end = s.vmaddr + s.vmsize;
    if (end > U64_MAX) return undefined;
    if (rva >= s.vmaddr && rva < end) {
      const off = s.fileoff + (rva - s.vmaddr);
      return off > U64_MAX ? undefined : off;
    }
  }
  return undefined;
}

function command(m: MachOFile, bytes: Uint8Array, c: Cur, cmd: number, is32: boolean): void {
  switch (cmd) {
    case LC_MAIN: {
      const entry = c.u64();
      const stack = c.u64();
      m.entryPoint = entry;
      m.stackSize = stack;
      return;
    }
    case LC_UNIXTHREAD:
      c.u32();
      c.u32();
      m.entryRva = threadPc(c, m.header.cputype);
      return;
    case LC_SEGMENT:
    case LC_SEGMENT_64:
      m.segments.push(segment(bytes, c, is32));
      return;
    case LC_RPATH:
      c.u32();
      m.rpaths.push(span(bytes, c.till(0, bytes)));
      return;
    case LC_LOAD_DYLIB:
    case LC_ID_DYLIB:
    case LC_LOAD_WEAK_DYLIB:
    case LC_REEXPORT_DYLIB:
    case LC_LAZY_LOAD_DYLIB:
    case LC_LOAD_UPWARD_DYLIB: {
      c.u32();
      const timestamp = c.u32();
      const currentVersion = c.u32();
      const compatibilityVersion = c.u32();
      m.dylibs.push({ name: span(bytes, c.till(0, bytes)), timestamp, currentVersion, compatibilityVersion });
      return;
    }
    case LC_SOURCE_VERSION:
      m.sourceVersion = c.u64();
      return;
    case LC_ID_DYLINKER:
    case LC_LOAD_DYLINKER:
    case LC_DYLD_ENVIRONMENT:
      c.u32();
      m.dynamicLinker = span(bytes, c.till(0, bytes));
      return;
    case LC_SYMTAB:
      m.symtab = { symoff: c.u32(), nsyms: c.u32(), stroff: c.u32(), strsize: c.u32(), entries: [], nlists: [] };
      return;
    case LC_DYSYMTAB: {
      const f: number[] = [];
      for (let i = 0; i < 16; i++) f.push(c.u32());
      m.dysymtab = f;
      return;
    }
    case LC_CODE_SIGNATURE:
      m.codeSignature = { dataoff: c.u32(), datasize: c.u32() };
      return;
    case LC_DYLD_EXPORTS_TRIE:
      m.exportTrie = { dataoff: c.u32(), datasize: c.u32() };
      return;
    case LC_DYLD_CHAINED_FIXUPS:
      m.chainedFixups = { dataoff: c.u32(), datasize: c.u32() };
      return;
    case LC_DYLD_INFO:
    case LC_DYLD_INFO_ONLY: {
      const f: number[] = [];
      for (let i = 0; i < 10; i++) f.push(c.u32());
      m.dyldInfo = f;
      return;
    }
    case LC_UUID:
      m.uuid = trimNul(bytes.subarray(c.need(16), c.pos));
      return;
    case LC_BUILD_VERSION: {
      const platform = c.u32();
      const minos = c.u32();
      const sdk = c.u32();
      const n = c.u32();
      if (n * 8 > c.left) throw EOF;
      const tools: BuildVersion["tools"] = [];
      for (let i = 0; i < n; i++) tools.push({ tool: c.u32(), version: c.u32() });
      m.buildVersion = { platform, minos, sdk, tools };
      return;
    }
    case LC_VERSION_MIN_MACOSX:
    case LC_VERSION_MIN_IPHONEOS:
    case LC_VERSION_MIN_TVOS:
    case LC_VERSION_MIN_WATCHOS:
      m.minVersion = { version: c.u32(), sdk: c.u32(), device: cmd };
      return;
    case LC_LINKER_OPTION: {
      const n = c.u32();
      if (n > c.left) throw INVALID;
      const options: Uint8Array[] = [];
      for (let i = 0; i < n; i++) options.push(span(bytes, c.terminated(0, bytes)));
      m.linkerOptions.push(...options);
      return;
    }
    default:
      return;
  }
}

function span(bytes: Uint8Array, [a, b]: [number, number]): Uint8Array {
  return bytes.subarray(a, b);
}

function threadPc(c: Cur, cputype: number): bigint {
  const skip32 = (n: number) => c.need(4 * n);
  const skip64 = (n: number) => c.need(8 * n);
  switch (cputype) {
    case CPU_TYPE_X86: {
      skip32(10);
      const eip = c.u32();
      skip32(5);
      return BigInt(eip);
    }
    case CPU_TYPE_X86_64: {
      skip64(16);
      const rip = c.u64();
      skip64(4);
      return rip;
    }
    case CPU_TYPE_ARM: {
      skip32(15);
      const pc = c.u32();
      skip32(1);
      return BigInt(pc);
    }
    case CPU_TYPE_ARM64: {
      skip64(32);
      const pc = c.u64();
      skip32(1);
      return pc;
    }
    case CPU_TYPE_POWERPC: {
      const srr0 = c.u32();
      skip32(39);
      return BigInt(srr0);
    }
    case CPU_TYPE_POWERPC64: {
      const srr0 = c.u64();
      skip64(33);
      skip32(1);
      skip64(4);
      return srr0;
    }
    case CPU_TYPE_MC680X0: {
      skip32(16);
      c.u16();
      c.u16();
      return BigInt(c.u32());
    }
    case CPU_TYPE_MC88000: {
      skip32(31);
      const xip = c.u32();
      skip32(2);
      return BigInt(xip);
    }
    case CPU_TYPE_SPARC: {
      c.u32();
      const pc = c.u32();
      skip32(16);
      return BigInt(pc);
    }
    default:
      return 0n;
  }
}

function segment(bytes: Uint8Array, c: Cur, is32: boolean): Segment {
  const segname = trimNul(bytes.subarray(c.need(16), c.pos));
  const seg = {
    segname,
    vmaddr: c.uint(is32),
    vmsize: c.uint(is32),
    fileoff: c.uint(is32),
    filesize: c.uint(is32),
    maxprot: c.u32(),
    initprot: c.u32(),
    nsects: c.u32(),
    flags: c.u32(),
  };
  const size = is32 ? 68 : 80;
  if (seg.nsects * size > c.left) throw EOF;
  const sections: Section[] = [];
  for (let i = 0; i < seg.nsects; i++) {
    sections.push({
      sectname: trimNul(bytes.subarray(c.need(16), c.pos)),
      segname: trimNul(bytes.subarray(c.need(16), c.pos)),
      addr: c.uint(is32),
      size: c.uint(is32),
      offset: c.u32(),
      align: c.u32(),
      reloff: c.u32(),
      nreloc: c.u32(),
      flags: c.u32(),
      reserved1: c.u32(),
      reserved2: c.u32(),
      reserved3: is32 ? undefined : c.u32(),
    });
  }
  return { ...seg, sections };
}

/** Symbols with a non-empty name, up to the first record or name that cannot be read. */
function parseSymtab(m: MachOFile, bytes: Uint8Array, d: DataView, le: boolean, is32: boolean): void {
  const s = m.symtab!;
  const strings = range(bytes.length, s.stroff, s.strsize);
  if (!strings || s.symoff > bytes.length) return;
  const [strStart, strEnd] = strings;
  const c = new Cur(d, s.symoff, bytes.length, le);
  const nuls = new NulIndex(bytes, strStart, strEnd);
  try {
    for (let i = 0; i < s.nsyms; i++) {
      const n: Nlist = { strx: c.u32(), type: c.u8(), sect: c.u8(), desc: c.u16(), value: c.uint(is32) };
      if (n.strx > strEnd - strStart) continue;
      const from = strStart + n.strx;
      const nul = nuls.next(from);
      if (nul < 0) return;
      if (nul > from) {
        s.entries.push(bytes.subarray(from, nul));
        s.nlists.push(n);
      }
    }
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
  }
}

/** The code signature's entitlements and certificates (cs_superblob). */
function superBlob(m: MachOFile, bytes: Uint8Array, d: DataView, start: number, end: number): void {
  const c = new Cur(d, start, end, false);
  const blobs: { offset: number; magic: number; length: number }[] = [];
  try {
    c.be32();
    c.be32();
    const count = c.be32();
    for (let i = 0; i < count; i++) {
      c.be32();
      const offset = c.be32();
      if (offset + 8 <= end - start) blobs.push({ offset, magic: d.getUint32(start + offset), length: d.getUint32(start + offset + 4) });
    }
  } catch (err) {
    if (err instanceof Fail) return;
    throw err;
  }
  const entitlements: string[] = [];
  let known = true;
  for (const b of blobs) {
    const from = Math.min(b.offset + 8, 0xffffffff);
    const to = Math.min(b.offset + b.length, 0xffffffff);
    if (from > to || to > end - start) continue;
    if (b.magic === CS_MAGIC_EMBEDDED_ENTITLEMENTS) {
      const xml = strictText(bytes.subarray(start + from, start + to)) ?? "";
      const got = parseEntitlements(xml);
      if (got === UNKNOWN) known = false;
      else entitlements.push(...got);
    } else if (b.magic === CS_MAGIC_BLOBWRAPPER) {
      m.certificates = UNKNOWN;
    }
  }
  m.entitlements = known ? entitlements : UNKNOWN;
}

/** The export trie at [start, end): depth first, children in reverse order. False: over budget. */
function parseExports(bytes: Uint8Array, d: DataView, start: number, end: number, out: string[]): boolean {
  const len = end - start;
  if (len === 0) return true;
  const stack: { offset: number; prefix: string }[] = [{ offset: 0, prefix: "" }];
  const visited = new Set<number>();
  let budget = EXPORT_NAME_BUDGET;
  try {
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (visited.has(node.offset)) continue;
      visited.add(node.offset);
      if (node.offset > len) continue;
      const c = new Cur(d, start + node.offset, end, false);
      const length = c.uleb();
      if (length !== 0n) {
        const flags = c.uleb();
        if (flags === EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER) {
          c.uleb();
          c.uleb();
        } else if (flags === EXPORT_SYMBOL_FLAGS_REEXPORT) {
          c.uleb();
          c.terminated(0, bytes);
        } else {
          c.uleb();
        }
      }
      const edges = c.u8();
      for (let i = 0; i < edges; i++) {
        const label = strictText(span(bytes, c.terminated(0, bytes)));
        const offset = c.uleb();
        if (label !== undefined) {
          if ((budget -= node.prefix.length + label.length) < 0) return false;
          stack.push({ offset: Number(offset & 0xffffffffn), prefix: node.prefix + label });
        }
      }
      if (length !== 0n) out.push(node.prefix);
    }
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
  }
  return true;
}

/** Symbol names of bind opcodes, each once across the three tables (`seen`). */
function parseImports(out: string[], bytes: Uint8Array, d: DataView, start: number, end: number, seen: Set<string>): void {
  const c = new Cur(d, start, end, false);
  try {
    while (c.left > 0) {
      const op = c.u8() & 0xf0;
      switch (op) {
        case 0x20:
        case 0x70:
        case 0x80:
        case 0xa0:
          c.uleb();
          break;
        case 0xc0:
          c.uleb();
          c.uleb();
          break;
        case 0x60:
          c.sleb();
          break;
        case 0x40: {
          const name = strictText(span(bytes, c.terminated(0, bytes)));
          if (name !== undefined && !seen.has(name)) {
            out.push(name);
            seen.add(name);
          }
          break;
        }
        default:
          break;
      }
    }
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
  }
}

/** Imported names of a chained-fixups table; false when its size wraps usize (YARA-X's answer unknown). */
function parseChainedFixups(out: string[], bytes: Uint8Array, d: DataView, le: boolean, start: number, end: number): boolean {
  const c = new Cur(d, start, end, le);
  try {
    c.u32();
    c.u32();
    const importsOffset = c.u32();
    const symbolsOffset = c.u32();
    const count = c.u32();
    const format = c.u32();
    c.u32();
    const len = end - start;
    if (importsOffset > len) return true;
    const addend64 = format === DYLD_CHAINED_IMPORT_ADDEND64;
    const entry = addend64 ? 16 : format === DYLD_CHAINED_IMPORT_ADDEND ? 8 : 4;
    const size = count * entry;
    if (size > 0xffffffff) return false;
    if (size > len - importsOffset) return true;
    const nuls = new NulIndex(bytes, start, end);
    for (let i = 0; i < count; i++) {
      const at = start + importsOffset + i * entry;
      const v = addend64 ? d.getBigUint64(at, le) : BigInt(d.getUint32(at, le));
      const nameOffset = addend64 ? Number((v >> 32n) & 0xffffffffn) : Number((v >> 9n) & 0x7fffffn);
      const from = Math.min(symbolsOffset + nameOffset, 0xffffffff);
      if (from > len) continue;
      const nul = nuls.next(start + from);
      if (nul < 0) return true;
      const name = strictText(bytes.subarray(start + from, nul));
      if (name !== undefined) out.push(name);
    }
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
  }
  return true;
}

/** `convert_to_version_string`: xxxx.yy.zz nibbles of a packed version. */
export function versionString(v: number): string {
  return `${v >>> 16}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function toolVersionString(v: number): string {
  return `${v >>> 16}.${(v >>> 8) & 0xff}`;
}

export function sourceVersionString(v: bigint): string {
  const m = 0x3fn;
  return `${v >> 40n}.${(v >> 30n) & m}.${(v >> 20n) & m}.${(v >> 10n) & m}.${v & m}`;
}

export function uuidString(u: Uint8Array): string {
  let s = "";
  u.forEach((b, i) => {
    s += b.toString(16).toUpperCase().padStart(2, "0");
    if (i === 3 || i === 5 || i === 7 || i === 9) s += "-";
  });
  return s;
}
