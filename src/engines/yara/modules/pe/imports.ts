// Imports and delayed imports as YARA-X reads them (parser.rs parse_import_impl): descriptors
// until one without a name or tables (at most 16384), the DLL name as valid UTF-8 without
// controls or ' "*<>?|', at most 16384 thunks from the INT (or the IAT when the INT is 0) until a null thunk, by
// ordinal (named through ordinals.ts) or by name (hint, then a non-empty NUL-terminated UTF-8 name).
// Also imphash: md5 of "dll.func" pairs, lowercased, DLL extension .dll/.sys/.ocx dropped.
import { createHash } from "node:crypto";
import { cstr, u16, u32, u64, validUtf8 } from "./bytes";
import { DIR_DELAY_IMPORT, DIR_IMPORT, MAGIC_PE64 } from "./headers";
import { ordinalName } from "./ordinals";
import { UNKNOWN, type Unknown } from "../../contracts";
import type { PeFile } from "./file";

const MAX_PE_IMPORTS = 16384;
/**
 * Thunks read per file before giving up. Each descriptor's thunks run to a null thunk or the end of
 * the file, so 16384 descriptors over one large non-zero region would cost YARA-X (and us) time
 * quadratic in the file size; past this budget the imports are UNKNOWN.
 */
const THUNK_BUDGET = 2_000_000;

export interface ImportedFunc {
  name: string | undefined;
  ordinal: number | undefined;
  rva: number;
}

export interface ImportedDll {
  name: string;
  functions: ImportedFunc[];
}

interface Descriptor {
  vaValues: boolean;
  name: number;
  int: number;
  iat: number;
}

export function parseImports(pe: PeFile, delayed: boolean): ImportedDll[] | undefined | Unknown {
  // Standard descriptors are read to the end of the file, delay-load ones within the entry's size.
  const dir = pe.dirEntryData(delayed ? DIR_DELAY_IMPORT : DIR_IMPORT, delayed);
  if (!dir || dir.rva === 0) return undefined;
  const b = dir.bytes;
  const descriptors: Descriptor[] = [];
  const size = delayed ? 32 : 20;
  for (let at = 0; descriptors.length < MAX_PE_IMPORTS && at + size <= b.length; at += size) {
    const d: Descriptor = delayed
      ? { vaValues: (u32(b, at)! & 1) === 0, name: u32(b, at + 4)!, iat: u32(b, at + 12)!, int: u32(b, at + 16)! }
      : { vaValues: false, int: u32(b, at)!, name: u32(b, at + 12)!, iat: u32(b, at + 16)! };
    if (d.name === 0 || (d.iat === 0 && d.int === 0)) break;
    descriptors.push(d);
  }

  // A magic that is neither PE32 nor PE32+ (a broken optional header) reads 32-bit thunks, as YARA.
  const is32 = pe.h.opt.magic !== MAGIC_PE64;
  const data = pe.data;
  const imageBase = pe.h.opt.imageBase;
  const out: ImportedDll[] = [];
  let budget = THUNK_BUDGET;
  for (const d of descriptors) {
    if (d.vaValues) {
      // Delay-load descriptors of old linkers hold VAs: make them RVAs (saturating), when the
      // image base fits in 32 bits.
      if (imageBase > 0xffffffffn) continue;
      const base = Number(imageBase);
      d.name = Math.max(0, d.name - base);
      d.int = Math.max(0, d.int - base);
      d.iat = Math.max(0, d.iat - base);
    }
    const dll = dllNameAtRva(pe, d.name);
    if (dll === undefined) continue;
    const thunksAt = (d.int > 0 ? pe.offsetInFile(d.int) : undefined) ?? pe.offsetInFile(d.iat);
    if (thunksAt === undefined) continue;
    const functions: ImportedFunc[] = [];
    const step = is32 ? 4 : 8;
    const maxThunk = is32 ? 0x8000ffffn : 0x800000000000ffffn;
    for (let i = 0, at = thunksAt; i < MAX_PE_IMPORTS && at + step <= data.length; i++, at += step) {
      if (--budget < 0) return UNKNOWN;
      let thunk = is32 ? BigInt(u32(data, at)!) : u64(data, at)!;
      if (thunk === 0n) break;
      // Above the largest ordinal import: not a thunk YARA-X believes (skipped, index still counts).
      if (thunk > maxThunk) continue;
      const byOrdinal = is32 ? (thunk & 0x80000000n) !== 0n : (thunk & 0x8000000000000000n) !== 0n;
      const f: ImportedFunc = { name: undefined, ordinal: undefined, rva: Math.min(0xffffffff, d.iat + ((i * step) >>> 0)) };
      if (byOrdinal) {
        f.ordinal = Number(thunk & 0xffffn);
        f.name = ordinalName(dll, f.ordinal);
      } else {
        if (d.vaValues) thunk = thunk > imageBase ? thunk - imageBase : 0n;
        if (thunk <= 0xffffffffn) f.name = importByName(pe, Number(thunk));
      }
      if (f.ordinal !== undefined || f.name !== undefined) functions.push(f);
    }
    if (functions.length > 0) out.push({ name: dll, functions });
    if (out.length >= MAX_PE_IMPORTS) break;
  }
  return out;
}

function importByName(pe: PeFile, rva: number): string | undefined {
  const at = pe.offsetInFile(rva);
  if (at === undefined || u16(pe.data, at) === undefined) return undefined;
  const name = cstr(pe.data, at + 2);
  if (!name || name.length === 0) return undefined;
  return validUtf8(name);
}

/** str_at_rva: NUL-terminated (or to the end of the file), valid UTF-8. */
export function strAtRva(pe: PeFile, rva: number): string | undefined {
  const at = pe.offsetInFile(rva);
  if (at === undefined) return undefined;
  const s = cstr(pe.data, at);
  return s ? validUtf8(s) : undefined;
}

export function dllNameAtRva(pe: PeFile, rva: number): string | undefined {
  const s = strAtRva(pe, rva);
  return s === undefined || /[\x00-\x1f\x7f "*<>?|]/.test(s) ? undefined : s;
}

function trimLibraryExtension(name: string): string {
  for (const ext of [".dll", ".sys", ".ocx"]) {
    if (name.length >= ext.length && name.slice(-ext.length).toLowerCase() === ext && /^[\x00-\x7f]*$/.test(name.slice(-ext.length))) {
      return name.slice(0, -ext.length);
    }
  }
  return name;
}

/** ASCII-only lowercasing for ASCII text, Unicode lowercasing otherwise (Rust's update_lowercase). */
function lower(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.replace(/[A-Z]/g, (c) => c.toLowerCase()) : s.toLowerCase();
}

export function imphash(imports: ImportedDll[] | undefined): string {
  const md5 = createHash("md5");
  let first = true;
  for (const dll of imports ?? []) {
    const name = lower(trimLibraryExtension(dll.name));
    for (const f of dll.functions) {
      md5.update(`${first ? "" : ","}${name}.${lower(f.name!)}`, "utf8");
      first = false;
    }
  }
  return md5.digest("hex");
}
