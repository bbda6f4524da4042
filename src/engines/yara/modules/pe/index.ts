// YARA-X's `pe` module for the fast path: the fields and functions of pe.proto / mod.rs with
// YARA-X's exact values, parsed lazily from the scanned bytes only (headers on first read;
// imports, exports, resources, version info, Rich header and PDB path each on first use).
// Authenticode signatures are parsed in authenticode.ts (UNKNOWN where it cannot match YARA-X).
// The parser reads the file through the engine's reader (bytes.ts): headers, tables and names
// where they lie, the checksum and the Authenticode hash in pieces.
import { UNKNOWN, type ByteSource, type ModuleFactory, type StructValue, type Unknown, type Value } from "../../contracts";
import { FileReader } from "../../reader";
import { Authenticode } from "./authenticode";
import { Bytes, bytesEqual, equalsIgnoreAsciiCase, toBytes } from "./bytes";
import { PE_CONSTANTS } from "./constants";
import { parsePdbPath } from "./debug";
import { parseExports, type ExportInfo } from "./exports";
import { PeFile } from "./file";
import { MAGIC_PE32, MAGIC_PE64, type Section } from "./headers";
import { imphash, parseImports, type ImportedDll } from "./imports";
import { parseResources, parseVersionInfo, type Resource, type ResourceId, type Resources } from "./resources";
import { parseRich, type RichHeader } from "./rich";
import { lazyStruct } from "../util";
import { array, dict, func, int, struct, type Fields } from "./values";

/** The lazily parsed parts of one PE file. */
class Parts {
  private cache = new Map<string, unknown>();
  constructor(readonly pe: PeFile) {}

  private once<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  imports = (): ImportedDll[] | Unknown => this.once("imports", () => parseImports(this.pe, false) ?? []);
  delayedImports = (): ImportedDll[] | Unknown => this.once("delayed", () => parseImports(this.pe, true) ?? []);
  exports = (): ExportInfo | undefined => this.once("exports", () => parseExports(this.pe));
  resources = (): Resources | undefined | Unknown => this.once("resources", () => parseResources(this.pe));
  versionInfo = (): [string, string][] | Unknown =>
    this.once("version", () => {
      const r = this.resources();
      return r === UNKNOWN ? UNKNOWN : parseVersionInfo(this.pe, r?.list ?? []);
    });
  rich = (): RichHeader | undefined => this.once("rich", () => parseRich(this.pe.data.subarray(0, this.pe.h.eLfanew).bytes()));
  pdbPath = (): Uint8Array | undefined => this.once("pdb", () => parsePdbPath(this.pe));
  imphash = (): string | Unknown =>
    this.once("imphash", () => {
      const i = this.imports();
      return i === UNKNOWN ? UNKNOWN : imphash(i);
    });
  authenticode = (): Authenticode => this.once("authenticode", () => new Authenticode(this.pe));
}

const text = (s: string | undefined): Uint8Array | undefined => (s === undefined ? undefined : toBytes(s));
const version = (major: number, minor: number): StructValue => struct({ major: () => int(major), minor: () => int(minor) });

function args(a: Value[]): Value[] | undefined | Unknown {
  if (a.some((x) => x === UNKNOWN)) return UNKNOWN;
  if (a.some((x) => x === undefined)) return undefined;
  return a;
}
const isStr = (v: Value): v is Uint8Array => v instanceof Uint8Array;
const isInt = (v: Value): v is bigint => typeof v === "bigint";
const isRegex = (v: Value): v is Extract<Value, { kind: "regex" }> => typeof v === "object" && v !== null && !(v instanceof Uint8Array) && v.kind === "regex";

// ---------------------------------------------------------------------------------------------
// Name matching shared by imports(), exports() and import_rva(): a string (ASCII case-insensitive),
// an ordinal, a regex, or anything. A regex that cannot decide makes the answer UNKNOWN.

type Criteria = { any: true } | { name: Uint8Array } | { ordinal: bigint } | { regex: Extract<Value, { kind: "regex" }> };

function nameMatches(c: Criteria, name: string | undefined, ordinal: number | undefined): boolean | Unknown {
  if ("any" in c) return true;
  if ("ordinal" in c) return ordinal !== undefined && BigInt(ordinal) === c.ordinal;
  if (name === undefined) return false;
  // A name's UTF-8 form is 1 to 3 bytes per UTF-16 unit: most names are ruled out by their
  // length before they are encoded (a rule set calls exports() thousands of times per DLL).
  if ("name" in c && (c.name.length < name.length || c.name.length > 3 * name.length)) return false;
  const bytes = toBytes(name);
  return "name" in c ? equalsIgnoreAsciiCase(c.name, bytes) : c.regex.test(bytes);
}

function criteria(v: Value): Criteria | undefined {
  if (isStr(v)) return { name: v };
  if (isInt(v)) return { ordinal: v };
  if (isRegex(v)) return { regex: v };
  return undefined;
}

function countImports(dlls: ImportedDll[], dll: Criteria, fn: Criteria): number | Unknown {
  let total = 0;
  let unknown = false;
  for (const d of dlls) {
    const m = nameMatches(dll, d.name, undefined);
    if (m === UNKNOWN) unknown = true;
    if (m !== true) continue;
    for (const f of d.functions) {
      const n = nameMatches(fn, f.name, f.ordinal);
      if (n === UNKNOWN) unknown = true;
      else if (n) total++;
    }
  }
  return unknown ? UNKNOWN : total;
}

// ---------------------------------------------------------------------------------------------

function fields(parts: Parts | undefined): Fields {
  const pe = parts?.pe;
  const h = pe?.h;
  const o = h?.opt;
  // A header field: undefined for a non-PE file.
  const hdr = (get: () => number | bigint): (() => Value) => () => (h ? int(get()) : undefined);
  const sections = (): Section[] => h?.sections ?? [];
  const resources = (): Resource[] | Unknown => {
    const r = parts?.resources();
    return r === UNKNOWN ? UNKNOWN : (r?.list ?? []);
  };
  const importsOf = (delayed: boolean): ImportedDll[] | Unknown => (parts ? (delayed ? parts.delayedImports() : parts.imports()) : []);
  /** A value computed from the imports, UNKNOWN when they are; undefined for a non-PE file. */
  const fromImports = (delayed: boolean, get: (l: ImportedDll[]) => number): (() => Value) => () => {
    if (!h) return undefined;
    const l = importsOf(delayed);
    return l === UNKNOWN ? UNKNOWN : int(get(l));
  };
  const exportList = () => parts?.exports()?.functions ?? [];

  const importArray = (delayed: boolean) =>
    array(() => {
      const l = importsOf(delayed);
      return l === UNKNOWN ? UNKNOWN : l.map((d) =>
        struct({
          library_name: () => toBytes(d.name),
          number_of_functions: () => int(d.functions.length),
          functions: () =>
            array(() =>
              d.functions.map((f) =>
                struct({ name: () => text(f.name), ordinal: () => (f.ordinal === undefined ? undefined : int(f.ordinal)), rva: () => int(f.rva) }),
              ),
            ),
        }),
      );
    });

  const importsFn = (flags: bigint, dll: Criteria, fn: Criteria): number | Unknown => {
    let total = 0;
    for (const delayed of [false, true]) {
      if ((flags & (delayed ? 2n : 1n)) === 0n) continue;
      const l = importsOf(delayed);
      if (l === UNKNOWN) return UNKNOWN;
      const n = countImports(l, dll, fn);
      if (n === UNKNOWN) return UNKNOWN;
      total += n;
    }
    return total;
  };

  /** exports_impl: the index of the first matching export, -1 when none, UNKNOWN when undecidable. */
  const findExport = (c: Criteria): number | Unknown => {
    const list = exportList();
    for (let i = 0; i < list.length; i++) {
      const m = nameMatches(c, list[i]!.name, list[i]!.ordinal);
      if (m === UNKNOWN) return UNKNOWN;
      if (m) return i;
    }
    return -1;
  };

  const importRva = (delayed: boolean) =>
    func((a) => {
      const v = args(a);
      if (!Array.isArray(v)) return v;
      if (v.length !== 2 || !isStr(v[0]) || !(isStr(v[1]) || isInt(v[1]))) return UNKNOWN;
      if (!h) return undefined;
      const fn = criteria(v[1])!;
      const l = importsOf(delayed);
      if (l === UNKNOWN) return UNKNOWN;
      for (const d of l) {
        if (!equalsIgnoreAsciiCase(v[0], toBytes(d.name))) continue;
        for (const f of d.functions) if (nameMatches(fn, f.name, f.ordinal) === true) return int(f.rva);
      }
      return undefined;
    });

  const richVersion = (swap: boolean) =>
    func((a) => {
      const v = args(a);
      if (!Array.isArray(v)) return v;
      if (v.length < 1 || v.length > 2 || !v.every(isInt)) return UNKNOWN;
      // version(v[, toolid]) and toolid(t[, version]).
      const [first, second] = v as bigint[];
      const want = swap ? { toolid: first, version: second } : { version: first, toolid: second };
      let n = 0n;
      for (const t of (parts?.rich()?.tools ?? [])) {
        if (want.toolid !== undefined && want.toolid !== BigInt(t.toolid)) continue;
        if (want.version !== undefined && want.version !== BigInt(t.version)) continue;
        n += BigInt(t.times);
      }
      return int(n);
    });

  const rich = (get: (r: RichHeader) => Value): (() => Value) => () => {
    const r = parts?.rich();
    return r ? get(r) : undefined;
  };

  const resourceId = (id: ResourceId, as: "id" | "name"): Value => {
    if (id === undefined) return undefined;
    if (as === "id") return "id" in id ? int(id.id) : undefined;
    return "name" in id ? id.name : undefined;
  };

  const f: Fields = {
    is_pe: () => h !== undefined,
    machine: hdr(() => h!.machine),
    subsystem: hdr(() => o!.subsystem),
    os_version: () => (o ? version(o.majorOsVersion, o.minorOsVersion) : version0()),
    subsystem_version: () => (o ? version(o.majorSubsystemVersion, o.minorSubsystemVersion) : version0()),
    image_version: () => (o ? version(o.majorImageVersion, o.minorImageVersion) : version0()),
    linker_version: () => (o ? version(o.majorLinkerVersion, o.minorLinkerVersion) : version0()),
    opthdr_magic: hdr(() => o!.magic),
    characteristics: hdr(() => h!.characteristics),
    dll_characteristics: hdr(() => o!.dllCharacteristics),
    timestamp: hdr(() => h!.timestamp),
    image_base: hdr(() => o!.imageBase),
    checksum: hdr(() => o!.checksum),
    base_of_code: hdr(() => o!.baseOfCode),
    base_of_data: () => (o?.baseOfData === undefined ? undefined : int(o.baseOfData)),
    entry_point: () => {
      const off = pe && o ? pe.rvaToOffset(o.entryPoint) : undefined;
      return off === undefined ? undefined : int(off);
    },
    entry_point_raw: hdr(() => o!.entryPoint),
    dll_name: () => text(parts?.exports()?.dllName),
    export_timestamp: () => {
      const e = parts?.exports();
      return e ? int(e.timestamp) : undefined;
    },
    section_alignment: hdr(() => o!.sectionAlignment),
    file_alignment: hdr(() => o!.fileAlignment),
    loader_flags: hdr(() => o!.loaderFlags),
    size_of_optional_header: hdr(() => h!.sizeOfOptionalHeader),
    size_of_code: hdr(() => o!.sizeOfCode),
    size_of_initialized_data: hdr(() => o!.sizeOfInitializedData),
    size_of_uninitialized_data: hdr(() => o!.sizeOfUninitializedData),
    size_of_image: hdr(() => o!.sizeOfImage),
    size_of_headers: hdr(() => o!.sizeOfHeaders),
    size_of_stack_reserve: hdr(() => o!.sizeOfStackReserve),
    size_of_stack_commit: hdr(() => o!.sizeOfStackCommit),
    size_of_heap_reserve: hdr(() => o!.sizeOfHeapReserve),
    size_of_heap_commit: hdr(() => o!.sizeOfHeapCommit),
    pointer_to_symbol_table: hdr(() => h!.symbolTableOffset),
    win32_version_value: hdr(() => o!.win32Version),
    number_of_symbols: hdr(() => h!.numberOfSymbols),
    number_of_rva_and_sizes: hdr(() => o!.numberOfRvaAndSizes),
    // The count of sections read, not the header's number (YARA-X overwrites it).
    number_of_sections: hdr(() => h!.sections.length),
    number_of_imported_functions: fromImports(false, (l) => l.reduce((n, d) => n + d.functions.length, 0)),
    number_of_delayed_imported_functions: fromImports(true, (l) => l.reduce((n, d) => n + d.functions.length, 0)),
    number_of_resources: () => {
      const r = resources();
      return r === UNKNOWN ? UNKNOWN : h ? int(r.length) : undefined;
    },
    number_of_version_infos: () => {
      const v = parts?.versionInfo();
      return v === UNKNOWN ? UNKNOWN : h ? int(v!.length) : undefined;
    },
    number_of_imports: fromImports(false, (l) => l.length),
    number_of_delayed_imports: fromImports(true, (l) => l.length),
    number_of_exports: hdr(() => exportList().length),
    number_of_signatures: () => {
      const l = parts?.authenticode().signatures();
      return l === UNKNOWN || l === undefined ? l : int(l.length);
    },
    version_info: () =>
      dict(() => {
        const v = parts?.versionInfo() ?? [];
        return v === UNKNOWN ? UNKNOWN : v.map(([k, x]) => [toBytes(k), toBytes(x)] as [Uint8Array, Uint8Array]);
      }),
    version_info_list: () =>
      array(() => {
        const v = parts?.versionInfo() ?? [];
        return v === UNKNOWN ? UNKNOWN : v.map(([k, x]) => struct({ key: () => toBytes(k), value: () => toBytes(x) }));
      }),
    rich_signature: () =>
      struct({
        offset: rich((r) => int(r.offset)),
        length: rich((r) => int(r.rawData.length)),
        key: rich((r) => int(r.key)),
        raw_data: rich((r) => r.rawData),
        clear_data: rich((r) => r.clearData),
        tools: () => array(() => (parts?.rich()?.tools ?? []).map((t) => struct({ toolid: () => int(t.toolid), version: () => int(t.version), times: () => int(t.times) }))),
        version: () => richVersion(false),
        toolid: () => richVersion(true),
      }),
    pdb_path: () => parts?.pdbPath(),
    sections: () =>
      array(() =>
        sections().map((s) =>
          struct({
            name: () => s.name,
            full_name: () => s.fullName,
            characteristics: () => int(s.characteristics),
            raw_data_size: () => int(s.rawDataSize),
            raw_data_offset: () => int(s.rawDataOffset),
            virtual_address: () => int(s.virtualAddress),
            virtual_size: () => int(s.virtualSize),
            pointer_to_relocations: () => int(s.pointerToRelocations),
            pointer_to_line_numbers: () => int(s.pointerToLineNumbers),
            number_of_relocations: () => int(s.numberOfRelocations),
            number_of_line_numbers: () => int(s.numberOfLineNumbers),
          }),
        ),
      ),
    data_directories: () => array(() => (pe ? dataDirectories(pe) : [])),
    resource_timestamp: () => {
      const r = parts?.resources();
      return r === UNKNOWN ? UNKNOWN : r ? int(r.dir.timestamp) : undefined;
    },
    resource_version: () => {
      const r = parts?.resources();
      if (r === UNKNOWN) return UNKNOWN;
      return r ? version(r.dir.majorVersion, r.dir.minorVersion) : version0();
    },
    resources: () =>
      array(() => {
        const r = resources();
        if (r === UNKNOWN) return UNKNOWN;
        return r.map((x) =>
          struct({
            length: () => int(x.length),
            rva: () => int(x.rva),
            offset: () => (x.offset === undefined ? undefined : int(x.offset)),
            // The type is an i32 in the proto: ids above 0x7fffffff leave it unset.
            type: () => (x.type && "id" in x.type && x.type.id <= 0x7fffffff ? int(x.type.id) : undefined),
            id: () => resourceId(x.id, "id"),
            language: () => resourceId(x.language, "id"),
            type_string: () => resourceId(x.type, "name"),
            name_string: () => resourceId(x.id, "name"),
            language_string: () => resourceId(x.language, "name"),
          }),
        );
      }),
    import_details: () => importArray(false),
    delayed_import_details: () => importArray(true),
    export_details: () =>
      array(() =>
        exportList().map((e) =>
          struct({
            name: () => text(e.name),
            ordinal: () => int(e.ordinal),
            rva: () => int(e.rva),
            offset: () => (e.offset === undefined ? undefined : int(e.offset)),
            forward_name: () => text(e.forwardName),
          }),
        ),
      ),
    is_signed: () => parts?.authenticode().isSigned(),
    signatures: () => array(() => parts?.authenticode().values() ?? []),
    overlay: () => {
      if (!h || !pe) return struct({ offset: () => undefined, size: () => undefined });
      let end = -1;
      for (const s of h.sections) end = Math.max(end, s.rawDataOffset + s.rawDataSize);
      const size = end >= 0 ? pe.data.length - end : 0;
      const [offset, length] = end >= 0 && size > 0 ? [end, size] : [0, 0];
      return struct({ offset: () => int(offset), size: () => int(length) });
    },

    // Functions (mod.rs). Overloads are told apart by the arguments' types.
    is_32bit: () => func(() => (o ? o.magic === MAGIC_PE32 : undefined)),
    is_64bit: () => func(() => (o ? o.magic === MAGIC_PE64 : undefined)),
    is_dll: () => func(() => (h ? (h.characteristics & 0x2000) !== 0 : undefined)),
    imphash: () =>
      func(() => {
        const hash = parts?.imphash();
        return hash === undefined || hash === UNKNOWN ? hash : toBytes(hash);
      }),
    calculate_checksum: () => func(() => (pe ? int(checksum(pe)) : undefined)),
    rva_to_offset: () =>
      func((a) => {
        const v = args(a);
        if (!Array.isArray(v)) return v;
        if (v.length !== 1 || !isInt(v[0])) return UNKNOWN;
        if (!pe || v[0] < 0n || v[0] > 0xffffffffn) return undefined;
        const r = pe.rvaToOffset(Number(v[0]));
        return r === undefined ? undefined : int(r);
      }),
    section_index: () =>
      func((a) => {
        const v = args(a);
        if (!Array.isArray(v)) return v;
        if (v.length !== 1) return UNKNOWN;
        const arg = v[0]!;
        let i = -1;
        if (isStr(arg)) i = sections().findIndex((s) => bytesEqual(s.name, arg));
        else if (isInt(arg)) {
          if (arg < 0n || arg > 0xffffffffn) return undefined;
          const off = Number(arg);
          // raw_data_offset + raw_data_size is a wrapping u32 sum in YARA-X.
          i = sections().findIndex((s) => off >= s.rawDataOffset && off < ((s.rawDataOffset + s.rawDataSize) >>> 0));
        } else return UNKNOWN;
        return i < 0 ? undefined : int(i);
      }),
    imports: () =>
      func((a) => {
        const v = args(a);
        if (!Array.isArray(v)) return v;
        let flags = 1n;
        let rest = v;
        if (v.length >= 2 && isInt(v[0])) {
          flags = v[0];
          rest = v.slice(1);
        }
        const [x, y] = rest;
        if (rest.length === 1 && isStr(x)) {
          const n = importsFn(flags, { name: x }, { any: true });
          return n === UNKNOWN ? n : int(n);
        }
        if (rest.length === 2 && isStr(x) && isStr(y)) {
          const n = importsFn(flags, { name: x }, { name: y });
          return n === UNKNOWN ? n : n > 0;
        }
        if (rest.length === 2 && isStr(x) && isInt(y)) {
          const n = importsFn(flags, { name: x }, { ordinal: y });
          // imports(dll, ordinal) counts; imports(flags, dll, ordinal) is a boolean.
          return n === UNKNOWN ? n : rest === v ? int(n) : n > 0;
        }
        if (rest.length === 2 && isRegex(x) && isRegex(y)) {
          const n = importsFn(flags, { regex: x }, { regex: y });
          return n === UNKNOWN ? n : int(n);
        }
        return UNKNOWN;
      }),
    import_rva: () => importRva(false),
    delayed_import_rva: () => importRva(true),
    exports: () =>
      func((a) => {
        const v = args(a);
        if (!Array.isArray(v)) return v;
        const c = v.length === 1 ? criteria(v[0]) : undefined;
        if (!c) return UNKNOWN;
        const i = findExport(c);
        return i === UNKNOWN ? i : i >= 0;
      }),
    exports_index: () =>
      func((a) => {
        const v = args(a);
        if (!Array.isArray(v)) return v;
        const c = v.length === 1 ? criteria(v[0]) : undefined;
        if (!c) return UNKNOWN;
        if (!h) return undefined;
        const i = findExport(c);
        return i === UNKNOWN ? i : i >= 0 ? int(i) : undefined;
      }),
    locale: () => languageFn(0xffff),
    language: () => languageFn(0xff),
  };

  function languageFn(mask: number) {
    return func((a) => {
      const v = args(a);
      if (!Array.isArray(v)) return v;
      if (v.length !== 1 || !isInt(v[0])) return UNKNOWN;
      const want = v[0];
      if (want < 0n || want > 0xffffffffn) return false;
      const r = resources();
      if (r === UNKNOWN) return UNKNOWN;
      return r.some((x) => x.language !== undefined && "id" in x.language && BigInt(x.language.id & mask) === want);
    });
  }

  for (const [name, value] of Object.entries(PE_CONSTANTS)) f[name] = () => int(value);
  return f;
}

/** An unset Version message: its fields read as undefined. */
function version0(): StructValue {
  return struct({ major: () => undefined, minor: () => undefined });
}

/** min(number_of_rva_and_sizes, 16) entries, all or none (nom's count). */
function dataDirectories(pe: PeFile): StructValue[] {
  const n = Math.min(pe.h.opt.numberOfRvaAndSizes, 16);
  if (pe.h.directoryOffset < 0 || pe.h.directoryOffset + n * 8 > pe.data.length) return [];
  const out: StructValue[] = [];
  for (let i = 0; i < n; i++) {
    const e = pe.dirEntry(i)!;
    out.push(struct({ virtual_address: () => int(e.addr), size: () => int(e.size) }));
  }
  return out;
}

/** mod.rs calculate_checksum: 32-bit carrying sum, header checksum subtracted, folded, plus length. */
function checksum(pe: PeFile): number {
  const d = pe.data;
  let sum = 0;
  let carry = 0;
  const add = (v: number) => {
    const t = sum + v + carry;
    sum = t >>> 0;
    carry = t > 0xffffffff ? 1 : 0;
  };
  // The pieces start at multiples of 4 (of 1 MiB), so words never straddle two of them.
  d.file.each(d.base, d.base + d.length, (piece, at) => {
    let i = 0;
    for (; i + 4 <= piece.length; i += 4) add((piece[i]! | (piece[i + 1]! << 8) | (piece[i + 2]! << 16) | (piece[i + 3]! << 24)) >>> 0);
    if (at + piece.length !== d.base + d.length) {
      if (i !== piece.length) throw new Error("checksum: a piece that is not a multiple of 4 bytes");
      return;
    }
    if (i + 2 <= piece.length) {
      add(piece[i]! | (piece[i + 1]! << 8));
      i += 2;
    }
    // The last odd byte goes through nom::character::complete::u8 in mod.rs, a parser of decimal
    // digits: an ASCII digit adds its value, any other byte adds nothing.
    if (i < piece.length && piece[i]! >= 0x30 && piece[i]! <= 0x39) add(piece[i]! - 0x30);
  });
  const c = pe.h.opt.checksum;
  sum = sum >= c ? sum - c : ((sum - c) >>> 0) - 1;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum += sum >>> 16;
  sum &= 0xffff;
  return (sum + d.length) >>> 0;
}

/**
 * The module of a file that is not a PE: every field undefined or empty whatever the file, so one
 * serves them all (building the fields' closures for each of a tree's text files was 3 % of a
 * worker's time with signature-base).
 */
let notPe: StructValue | undefined;

export const pe: ModuleFactory = {
  name: "pe",
  load(source: ByteSource): StructValue {
    // Nothing is read until the first field access.
    return lazyStruct(() => {
      const file = FileReader.from(source);
      const f = PeFile.parse(new Bytes(file, 0, file.size));
      return f ? struct(fields(new Parts(f))) : (notPe ??= struct(fields(undefined)));
    });
  },
};
