// YARA-X's `macho` module for the fast path: the fields of macho.proto and the functions of
// macho/mod.rs with YARA-X 1.20's values, from parser.ts. A fat binary of which exactly one member
// parses is shown as that member at the top level (fat_* undefined), as YARA-X does.
// The file is parsed on the first field read, in one buffer of at most WHOLE_FILE_MAX bytes (the
// tables it reads lie anywhere in the file); a larger Mach-O file is left to YARA-X (UNKNOWN).
import { createHash } from "node:crypto";
import { UNKNOWN, type ByteSource, type ModuleFactory, type StructValue, type Unknown, type Value } from "../../contracts";
import { FileReader, WHOLE_FILE_MAX } from "../../reader";
import { equalsIgnoreAsciiCase } from "../pe/bytes";
import { array, int, struct, type Fields } from "../pe/values";
import { func, isInt, isStr, lazyStruct } from "../util";
import { MACHO_CONSTANTS } from "./constants";
import {
  parseMachO,
  sourceVersionString,
  toolVersionString,
  uuidString,
  versionString,
  N_EXT,
  N_STAB,
  N_TYPE,
  type MachO,
  type MachOFile,
  type Segment,
  type Symtab,
} from "./parser";

const CONSTANTS = new Map(Object.entries(MACHO_CONSTANTS).map(([k, v]) => [k, BigInt(v)]));
const utf8 = new TextEncoder();
const str = (s: string): Uint8Array => utf8.encode(s);
const num = (v: number | bigint | undefined): bigint | undefined => (v === undefined ? undefined : int(v));
const list = <T>(items: T[] | Unknown, f: (x: T) => Value) => array(() => (items === UNKNOWN ? UNKNOWN : items.map(f)));

/**
 * An optional message that is absent: its scalar fields undefined, its repeated scalar fields
 * empty, and each repeated message field one element whose fields are all undefined (what
 * YARA-X 1.20 shows, measured: `macho.symtab.nlists.len() == 1` on any file without LC_SYMTAB).
 */
function absent(scalarLists: string[], scalars: string[], messageLists: Record<string, string[]> = {}): StructValue {
  const fields: Fields = {};
  for (const n of scalars) fields[n] = () => undefined;
  for (const n of scalarLists) fields[n] = () => array(() => []);
  for (const [n, inner] of Object.entries(messageLists)) fields[n] = () => array(() => [absent([], inner)]);
  return struct(fields);
}

const DYSYMTAB = ["ilocalsym", "nlocalsym", "iextdefsym", "nextdefsym", "iundefsym", "nundefsym", "tocoff", "ntoc", "modtaboff", "nmodtab", "extrefsymoff", "nextrefsyms", "indirectsymoff", "nindirectsyms", "extreloff", "nextrel", "locreloff", "nlocrel"];
/** The 16 words YARA-X reads from LC_DYSYMTAB, by the names it gives them (iundefsym/nundefsym are skipped). */
const DYSYMTAB_READ = DYSYMTAB.filter((n) => n !== "iundefsym" && n !== "nundefsym");
const DYLD_INFO = ["rebase_off", "rebase_size", "bind_off", "bind_size", "weak_bind_off", "weak_bind_size", "lazy_bind_off", "lazy_bind_size", "export_off", "export_size"];
const SYMTAB_SCALARS = ["symoff", "nsyms", "stroff", "strsize"];

function words(names: string[], values: number[] | undefined, all: string[] = names): StructValue {
  if (!values) return absent([], all);
  const fields: Fields = {};
  for (const n of all) fields[n] = () => undefined;
  names.forEach((n, i) => (fields[n] = () => int(values[i])));
  return struct(fields);
}

function symtabValue(s: Symtab | undefined): StructValue {
  if (!s) return absent(["entries"], SYMTAB_SCALARS, { nlists: ["n_strx", "n_type", "n_sect", "n_desc", "n_value"] });
  return struct({
    symoff: () => int(s.symoff),
    nsyms: () => int(s.nsyms),
    stroff: () => int(s.stroff),
    strsize: () => int(s.strsize),
    entries: () => list(s.entries, (e) => e),
    nlists: () =>
      list(s.nlists, (n) =>
        struct({ n_strx: () => int(n.strx), n_type: () => int(n.type), n_sect: () => int(n.sect), n_desc: () => int(n.desc), n_value: () => int(n.value) }),
      ),
  });
}

function segmentValue(s: Segment): StructValue {
  return struct({
    segname: () => s.segname,
    vmaddr: () => int(s.vmaddr),
    vmsize: () => int(s.vmsize),
    fileoff: () => int(s.fileoff),
    filesize: () => int(s.filesize),
    maxprot: () => int(s.maxprot),
    initprot: () => int(s.initprot),
    nsects: () => int(s.nsects),
    flags: () => int(s.flags),
    sections: () =>
      list(s.sections, (c) =>
        struct({
          segname: () => c.segname,
          sectname: () => c.sectname,
          addr: () => int(c.addr),
          size: () => int(c.size),
          offset: () => int(c.offset),
          align: () => int(c.align),
          reloff: () => int(c.reloff),
          nreloc: () => int(c.nreloc),
          flags: () => int(c.flags),
          reserved1: () => int(c.reserved1),
          reserved2: () => int(c.reserved2),
          reserved3: () => num(c.reserved3),
        }),
      ),
  });
}

/** The fields a single-architecture file has, at the top level or in `file[i]`. */
function fileFields(m: MachOFile | undefined): Fields {
  const h = m?.header;
  return {
    magic: () => num(h?.magic),
    cputype: () => num(h?.cputype),
    cpusubtype: () => num(h?.cpusubtype),
    filetype: () => num(h?.filetype),
    ncmds: () => num(h?.ncmds),
    sizeofcmds: () => num(h?.sizeofcmds),
    flags: () => num(h?.flags),
    reserved: () => num(h?.reserved),
    number_of_segments: () => num(m?.segments.length),
    dynamic_linker: () => m?.dynamicLinker,
    entry_point: () => num(m?.entryPoint),
    stack_size: () => num(m?.stackSize),
    source_version: () => (m?.sourceVersion === undefined ? undefined : str(sourceVersionString(m.sourceVersion))),
    symtab: () => symtabValue(m?.symtab),
    dysymtab: () => words(DYSYMTAB_READ, m?.dysymtab, DYSYMTAB),
    code_signature_data: () => words(["dataoff", "datasize"], m?.codeSignature && [m.codeSignature.dataoff, m.codeSignature.datasize]),
    segments: () => list(m?.segments ?? [], segmentValue),
    dylibs: () =>
      list(m?.dylibs ?? [], (d) =>
        struct({
          name: () => d.name,
          timestamp: () => int(d.timestamp),
          compatibility_version: () => str(versionString(d.compatibilityVersion)),
          current_version: () => str(versionString(d.currentVersion)),
        }),
      ),
    dyld_info: () => words(DYLD_INFO, m?.dyldInfo),
    rpaths: () => list(m?.rpaths ?? [], (r) => r),
    entitlements: () => list(m?.entitlements ?? [], str),
    certificates: () => list<never>(m?.certificates ?? [], () => undefined),
    uuid: () => (m?.uuid === undefined ? undefined : str(uuidString(m.uuid))),
    build_version: () => {
      const b = m?.buildVersion;
      if (!b) return absent([], ["platform", "minos", "sdk", "ntools"], { tools: ["tool", "version"] });
      return struct({
        platform: () => int(b.platform),
        minos: () => str(versionString(b.minos)),
        sdk: () => str(versionString(b.sdk)),
        ntools: () => int(b.tools.length),
        tools: () => list(b.tools, (t) => struct({ tool: () => int(t.tool), version: () => str(toolVersionString(t.version)) })),
      });
    },
    min_version: () => {
      const v = m?.minVersion;
      if (!v) return absent([], ["device", "version", "sdk"]);
      return struct({ device: () => int(v.device), version: () => str(versionString(v.version)), sdk: () => str(versionString(v.sdk)) });
    },
    exports: () => list(m?.exports ?? [], str),
    imports: () => (m?.importsUnknown ? array(() => UNKNOWN) : list(m?.imports ?? [], str)),
    linker_options: () => list(m?.linkerOptions ?? [], (o) => o),
  };
}

/** The top-level file (a thin file, or a fat one with exactly one member that parses). */
function single(macho: MachO | undefined): MachOFile | undefined {
  return macho?.files.length === 1 ? macho.files[0] : undefined;
}

/** The files whose lists the has_* functions search: the top level, then every `file[i]`. */
function allFiles(macho: MachO | undefined): MachOFile[] {
  return macho ? macho.files : [];
}

function hasIn(macho: MachO | undefined, pick: (f: MachOFile) => (Uint8Array | string)[] | Unknown, arg: Uint8Array): Value {
  let unknown = false;
  for (const f of allFiles(macho)) {
    const items = pick(f);
    if (items === UNKNOWN) {
      unknown = true;
      continue;
    }
    for (const x of items) if (equalsIgnoreAsciiCase(typeof x === "string" ? str(x) : x, arg)) return true;
  }
  return unknown ? UNKNOWN : false;
}

/** Rust's trim() on ASCII text (its Unicode whitespace beyond ASCII is not met: callers check ASCII). */
const trimAscii = (s: string): string => s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");
const ascii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);
const latin = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");

/**
 * md5 of the distinct, sorted, comma-joined names (trimmed, and lowercased when `lower`), from the
 * top level or else the first `file[i]`; undefined when there are none. Non-ASCII names (Unicode
 * case and lossy joins) are left to YARA-X.
 */
function listHash(macho: MachO | undefined, pick: (f: MachOFile) => (Uint8Array | string)[] | Unknown, lower: boolean): Value {
  if (!macho || macho.files.length === 0) return undefined;
  // With one file it is the top level; with several, the top level is empty and file[0] is used.
  const items = pick(macho.files[0]);
  if (items === UNKNOWN) return UNKNOWN;
  if (items.length === 0) return undefined;
  const names = new Set<string>();
  for (const x of items) {
    const s = typeof x === "string" ? x : latin(x);
    if (!ascii(s)) return UNKNOWN;
    const t = trimAscii(s);
    names.add(lower ? t.toLowerCase() : t);
  }
  const joined = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(",");
  return str(createHash("md5").update(joined, "latin1").digest("hex"));
}

function symhashNames(f: MachOFile): Uint8Array[] {
  const s = f.symtab;
  if (!s) return [];
  return s.entries.filter((_, i) => {
    const t = s.nlists[i].type;
    return (t & N_STAB) === 0 && (t & N_EXT) === N_EXT && (t & N_TYPE) === 0;
  });
}

function fatArchIndex(macho: MachO | undefined, args: Value[]): number | undefined {
  if (!macho || macho.files.length === 1 || macho.fatMagic === undefined) return undefined;
  const [type, subtype] = args as bigint[];
  for (let i = 0; i < macho.archs.length; i++) {
    const a = macho.archs[i];
    if (BigInt(a.cputype) === type && (subtype === undefined || BigInt(a.cpusubtype) === subtype)) return i;
  }
  return undefined;
}

const archArgs = (a: Value[]): boolean => (a.length === 1 || a.length === 2) && a.every(isInt);
const strArg = (a: Value[]): boolean => a.length === 1 && isStr(a[0]);

function rootFields(macho: MachO | undefined): Fields {
  const top = single(macho);
  const fat = macho && !top ? macho : undefined;
  const has = (pick: (f: MachOFile) => (Uint8Array | string)[] | Unknown) =>
    func((a) => (strArg(a) ? hasIn(macho, pick, a[0] as Uint8Array) : UNKNOWN));
  const hash = (pick: (f: MachOFile) => (Uint8Array | string)[] | Unknown, lower = true) =>
    func((a) => (a.length === 0 ? listHash(macho, pick, lower) : UNKNOWN));
  return {
    ...fileFields(top),
    fat_magic: () => num(fat?.fatMagic),
    nfat_arch: () => num(fat && fat.fatMagic !== undefined ? fat.archs.length : undefined),
    fat_arch: () =>
      list(fat?.archs ?? [], (a) =>
        struct({
          cputype: () => int(a.cputype),
          cpusubtype: () => int(a.cpusubtype),
          offset: () => int(a.offset),
          size: () => int(a.size),
          align: () => int(a.align),
          reserved: () => int(a.reserved),
        }),
      ),
    file: () => list(fat?.files ?? [], (f) => struct(fileFields(f))),
    file_index_for_arch: () =>
      func((a) => {
        if (!archArgs(a)) return UNKNOWN;
        return num(fatArchIndex(macho, a));
      }),
    entry_point_for_arch: () =>
      func((a) => {
        if (!archArgs(a)) return UNKNOWN;
        const i = fatArchIndex(macho, a);
        if (i === undefined) return undefined;
        const ep = macho!.files[i]?.entryPoint;
        if (ep === undefined) return undefined;
        const sum = macho!.archs[i].offset + ep;
        return sum > (1n << 64n) - 1n ? undefined : int(sum);
      }),
    has_entitlement: () => has((f) => f.entitlements),
    has_dylib: () => has((f) => f.dylibs.map((d) => d.name)),
    has_rpath: () => has((f) => f.rpaths),
    has_import: () => has((f) => (f.importsUnknown ? UNKNOWN : f.imports)),
    has_export: () => has((f) => f.exports),
    dylib_hash: () => hash((f) => f.dylibs.map((d) => d.name)),
    entitlement_hash: () => hash((f) => f.entitlements),
    export_hash: () => hash((f) => f.exports),
    import_hash: () => hash((f) => (f.importsUnknown ? UNKNOWN : f.imports)),
    symhash: () => hash(symhashNames, false),
  };
}

function load(source: ByteSource): StructValue {
  // Nothing is read until the first field access; constants need no file.
  return lazyStruct(() => parsedRoot(FileReader.from(source)), (name) => CONSTANTS.get(name));
}

const MAGICS = new Set([0xfeedface, 0xcefaedfe, 0xfeedfacf, 0xcffaedfe, 0xcafebabe, 0xbebafeca, 0xcafebabf, 0xbfbafeca]);

function parsedRoot(file: FileReader): StructValue {
  const magic = file.uint(0, 4, true);
  // Not a Mach-O file: YARA-X's output is empty, read without touching the rest of the file.
  if (magic === undefined || !MAGICS.has(magic)) return struct(rootFields(undefined));
  const bytes = file.whole(WHOLE_FILE_MAX);
  if (!bytes) return { kind: "struct", field: () => UNKNOWN };
  return struct(rootFields(parseMachO(bytes)));
}

export const macho: ModuleFactory = { name: "macho", load };
