// The way into a .NET assembly, as YARA-X 1.20's dotnet parser reads it: the PE's COM descriptor
// (CLI header), the metadata root with its version string and stream headers, and the streams
// themselves. Anything that does not read here makes the file "not .NET"; what lies past the
// stream headers (the tables, the heaps) is read by tables.ts and never changes that.
import { WHOLE_FILE_MAX } from "../../reader";
import { u16, u32, type Bytes } from "../pe/bytes";
import { PeFile } from "../pe/file";

const DIR_COM_DESCRIPTOR = 14;
const METADATA_MAGIC = 0x424a5342; // "BSJB"
const U32_MAX = 0xffffffff;

export interface StreamHeader {
  /** From the start of the file (the header's offset plus the metadata's, saturating at 2^32-1). */
  offset: number;
  size: number;
  name: Uint8Array;
}

/** A range of the file that was too large to hold: the fields that need it are UNKNOWN. */
export class TooLarge extends Error {}

export interface Metadata {
  pe: PeFile;
  /** The version string (valid UTF-8, up to its first NUL). */
  version: Uint8Array;
  streams: StreamHeader[];
  /** Index in `streams` of each stream YARA-X uses (the last header of that name). */
  tilde: number | undefined;
  strings: number | undefined;
  us: number | undefined;
  blob: number | undefined;
  guid: number | undefined;
  /** The CLI header's resources directory: its file offset and bytes, when the RVA maps. */
  resourcesOffset: number | undefined;
  resources: Bytes | undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

const name = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const TILDE = [name("#~"), name("#-")];
const STRINGS = name("#Strings");
const US = name("#US");
const BLOB = name("#Blob");
const GUID = name("#GUID");
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** data_at_rva_with_size: from the RVA's offset to `size` bytes later or the end of the file. */
function atRva(pe: PeFile, rva: number, size: number): Bytes | undefined {
  const start = pe.rvaToOffset(rva);
  if (start === undefined || start > pe.data.length) return undefined;
  return pe.data.subarray(start, Math.min(start + size, pe.data.length));
}

/** The metadata of a .NET file, or undefined when YARA-X says is_dotnet = false. */
export function parseMetadata(data: Bytes): Metadata | undefined {
  const pe = PeFile.parse(data);
  if (!pe) return undefined;
  const cli = pe.dirEntryData(DIR_COM_DESCRIPTOR, false);
  if (!cli) return undefined;
  const c = cli.bytes;
  // The CLI header is 72 bytes and says so; the parse reads its first 40.
  if (u32(c, 0) !== 72 || u32(c, 36) === undefined) return undefined;
  const mdAddr = u32(c, 8)!;
  const mdSize = u32(c, 12)!;
  const resAddr = u32(c, 24)!;
  const resSize = u32(c, 28)!;
  const mdOffset = pe.rvaToOffset(mdAddr);
  if (mdOffset === undefined) return undefined;
  const md = atRva(pe, mdAddr, mdSize);
  if (!md) return undefined;
  const root = parseRoot(md);
  if (!root) return undefined;
  const m: Metadata = {
    pe,
    version: root.version,
    streams: root.streams,
    tilde: undefined,
    strings: undefined,
    us: undefined,
    blob: undefined,
    guid: undefined,
    resourcesOffset: pe.rvaToOffset(resAddr),
    resources: atRva(pe, resAddr, resSize),
  };
  root.streams.forEach((s, i) => {
    s.offset = Math.min(U32_MAX, s.offset + mdOffset);
    if (TILDE.some((t) => same(t, s.name))) m.tilde = i;
    else if (same(s.name, STRINGS)) m.strings = i;
    else if (same(s.name, US)) m.us = i;
    else if (same(s.name, BLOB)) m.blob = i;
    else if (same(s.name, GUID)) m.guid = i;
  });
  return m;
}

/** The metadata root (ECMA-335 II.24.2.1): magic, version string, stream headers. */
function parseRoot(md: Bytes): { version: Uint8Array; streams: StreamHeader[] } | undefined {
  if (u32(md, 0) !== METADATA_MAGIC || u32(md, 8) === undefined) return undefined;
  const vlen = u32(md, 12);
  if (vlen === undefined || vlen > 255 || 16 + vlen > md.length) return undefined;
  const v = md.subarray(16, 16 + vlen).bytes().slice();
  const z = v.indexOf(0);
  const version = z < 0 ? v : v.subarray(0, z);
  if (!isUtf8(version)) return undefined;
  let p = 16 + vlen;
  if (u16(md, p) === undefined) return undefined;
  const n = u16(md, p + 2);
  if (n === undefined || n > 256) return undefined;
  p += 4;
  const streams: StreamHeader[] = [];
  for (let i = 0; i < n; i++) {
    const offset = u32(md, p);
    const size = u32(md, p + 4);
    if (offset === undefined || size === undefined) return undefined;
    p += 8;
    let end = md.indexOf(0, p);
    if (end < 0) end = md.length;
    const nameLen = end - p;
    // The name's NUL and its padding to 4 bytes must be there.
    const padding = Math.ceil((nameLen + 1) / 4) * 4 - nameLen;
    if (end + padding > md.length) return undefined;
    if (nameLen > WHOLE_FILE_MAX) throw new TooLarge();
    streams.push({ offset, size, name: md.subarray(p, end).bytes().slice() });
    p = end + padding;
  }
  return { version, streams };
}

/**
 * A stream's bytes (get_stream): undefined when its range is not all inside the file. A stream
 * larger than WHOLE_FILE_MAX is not held: TooLarge, and what needs it is UNKNOWN.
 */
export function streamBytes(m: Metadata, index: number | undefined): Uint8Array | undefined {
  if (index === undefined) return undefined;
  const h = m.streams[index];
  if (!h) return undefined;
  const end = Math.min(U32_MAX, h.offset + h.size);
  if (end > m.pe.data.length) return undefined;
  if (h.size > WHOLE_FILE_MAX) throw new TooLarge();
  return m.pe.data.subarray(h.offset, end).bytes();
}

export { isUtf8 };
