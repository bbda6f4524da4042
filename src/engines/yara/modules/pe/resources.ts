// The resource tree and VERSIONINFO as YARA-X reads them (parser.rs parse_resources and
// parse_version_info): a breadth-first walk over at most three directory levels (type, name,
// language), a leaf per data entry, at most 65535 resources. The walk follows offsets, so a crafted
// tree can make it revisit the same directories without end (YARA-X would run until its timeout);
// ring3 stops after a fixed amount of work and reports the resources as UNKNOWN instead.
import { UNKNOWN, type Unknown } from "../../contracts";
import { u16, u32 } from "./bytes";
import { DIR_RESOURCE } from "./headers";
import type { PeFile } from "./file";

const MAX_PE_RESOURCES = 65535;
/** Directory entries visited before giving up (a real file has a few thousand at most). */
const WORK_BUDGET = 1_000_000;
/** RT_VERSION resources parsed at most (each may be up to 64 KB of nested nodes); more is UNKNOWN. */
const MAX_VERSION_RESOURCES = 256;
const RESOURCE_TYPE_VERSION = 16;

/** A resource id: a number, a name (raw UTF-16LE bytes), or neither (unreadable name). */
export type ResourceId = { id: number } | { name: Uint8Array } | undefined;

export interface Resource {
  type: ResourceId;
  id: ResourceId;
  language: ResourceId;
  offset: number | undefined;
  rva: number;
  length: number;
}

export interface ResourceDir {
  timestamp: number;
  majorVersion: number;
  minorVersion: number;
}

export interface Resources {
  dir: ResourceDir;
  list: Resource[];
}

/** undefined: no resources (YARA-X: none, and no resource_timestamp/version); UNKNOWN: over budget. */
export function parseResources(pe: PeFile): Resources | undefined | Unknown {
  const sec = pe.dirEntryData(DIR_RESOURCE, false)?.bytes;
  if (!sec) return undefined;
  const list: Resource[] = [];
  let rootDir: ResourceDir = { timestamp: 0, majorVersion: 0, minorVersion: 0 };
  type Item = { level: number; ids: [ResourceId, ResourceId, ResourceId]; at: number };
  const queue: Item[] = [{ level: 0, ids: [undefined, undefined, undefined], at: 0 }];
  let work = 0;
  for (let head = 0; head < queue.length; head++) {
    const { level, ids, at } = queue[head]!;
    // IMAGE_RESOURCE_DIRECTORY: characteristics must be 0, at most 32768 entries of each kind.
    if (at + 16 > sec.length || u32(sec, at) !== 0) continue;
    const named = u16(sec, at + 12)!;
    const byId = u16(sec, at + 14)!;
    if (named > 32768 || byId > 32768) continue;
    if (level === 0) rootDir = { timestamp: u32(sec, at + 4)!, majorVersion: u16(sec, at + 8)!, minorVersion: u16(sec, at + 10)! };
    const n = named + byId;
    for (let e = 0; e < n; e++) {
      // Entries are read while they fit (nom's iterator).
      const p = at + 16 + e * 8;
      if (p + 8 > sec.length) break;
      if (++work > WORK_BUDGET || queue.length > WORK_BUDGET) return UNKNOWN;
      const nameOrId = u32(sec, p)!;
      let offset = u32(sec, p + 4)!;
      let id: ResourceId;
      if (nameOrId & 0x80000000) {
        const s = (nameOrId & 0x7fffffff) >>> 0;
        const len = u16(sec, s);
        // The character count doubles into a u16 byte count that saturates (parser.rs).
        const bytes = len === undefined ? 0 : Math.min(0xffff, len * 2);
        id = len !== undefined && s + 2 + bytes <= sec.length ? { name: sec.subarray(s + 2, s + 2 + bytes).bytes() } : undefined;
      } else {
        id = { id: nameOrId };
      }
      const isSubdir = (offset & 0x80000000) !== 0;
      offset = (offset & 0x7fffffff) >>> 0;
      // Offsets of 0 or past the section are corruption and ignored.
      if (offset === 0 || offset >= sec.length) continue;
      let next: [ResourceId, ResourceId, ResourceId];
      if (level === 0) next = [id, undefined, undefined];
      else if (level === 1) next = [ids[0], id, undefined];
      else if (level === 2) {
        if (id && "id" in id && id.id > 0xfffff) continue;
        next = [ids[0], ids[1], id];
      } else continue;
      if (isSubdir) queue.push({ level: level + 1, ids: next, at: offset });
      // A subdirectory is also tried as a data entry (YARA-X does; a directory header rarely
      // passes the size and offset checks).
      if (offset + 16 <= sec.length) {
        const rva = u32(sec, offset)!;
        const size = u32(sec, offset + 4)!;
        // YARA-X 1.20 wants a non-zero offset and size (no bound on the size, as the corpus of
        // corrupted copies in the tests shows).
        if (size > 0 && rva > 0) {
          list.push({ type: next[0], id: next[1], language: next[2], offset: pe.rvaToOffset(rva), rva, length: size });
          if (list.length === MAX_PE_RESOURCES) return { dir: rootDir, list };
        }
      }
    }
    // Items already processed are not needed again; keep the queue from holding them all.
    if (head > 65536) {
      queue.splice(0, head + 1);
      head = -1;
    }
  }
  return list.length === 0 ? undefined : { dir: rootDir, list };
}

// ---------------------------------------------------------------------------------------------
// VERSIONINFO

type Parsed<T> = { rest: Uint8Array; value: T } | undefined;
type Parser<T> = (b: Uint8Array) => Parsed<T>;

const utf16 = new TextDecoder("utf-16le");

/** A NUL-terminated UTF-16LE string (the terminator required), decoded lossily as Rust's from_utf16_lossy. */
const utf16z: Parser<string> = (b) => {
  let i = 0;
  while (i + 2 <= b.length && (b[i]! | (b[i + 1]! << 8)) !== 0) i += 2;
  if (i + 2 > b.length) return undefined;
  return { rest: b.subarray(i + 2), value: utf16.decode(b.subarray(0, i)) };
};

const roundUp = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * One node of the version tree (parser.rs parse_info): length (rounded up to 4), value length,
 * type, key, padding to 4, value, children. When type is 1 the value length is tried first as
 * bytes, then as UTF-16 characters.
 */
function info<V, C>(value: Parser<V>, children: Parser<C>, expectedKey?: string): Parser<{ key: string; value: V | undefined; children: C }> {
  return (input) => {
    const rawLen = u16(input, 0);
    if (rawLen === undefined) return undefined;
    const length = roundUp(rawLen);
    if (length > input.length) return undefined;
    const structure = input.subarray(0, length);
    if (structure.length < 6) return undefined;
    const valueLen = u16(structure, 2)!;
    const type = u16(structure, 4)!;
    const key = utf16z(structure.subarray(6));
    if (!key) return undefined;
    const consumed = structure.length - key.rest.length;
    const alignment = roundUp(consumed);
    if (alignment > structure.length) return undefined;
    let data = structure.subarray(alignment);
    let v: V | undefined;
    if (valueLen > 0) {
      const attempt = (n: number): Parsed<V> => {
        const r = n <= data.length ? value(data.subarray(0, n)) : undefined;
        return r && { rest: data.subarray(n), value: r.value };
      };
      const r = type === 1 ? (attempt(valueLen) ?? attempt((valueLen * 2) & 0xffff)) : attempt(valueLen);
      if (!r) return undefined;
      data = r.rest;
      v = r.value;
    }
    const c = children(data);
    if (!c) return undefined;
    if (expectedKey !== undefined && key.value !== expectedKey) return undefined;
    return { rest: input.subarray(length), value: { key: key.value, value: v, children: c.value } };
  };
}

const fail: Parser<never> = () => undefined;
const nothing: Parser<null> = (b) => ({ rest: b, value: null });
const fixedFileInfo: Parser<null> = (b) => (b.length >= 52 ? { rest: b.subarray(52), value: null } : undefined);

/** nom's many1 / fold_many1: at least one, stop at the first failure or at no progress. */
function many1<T>(p: Parser<T>): Parser<T[]> {
  return (b) => {
    const out: T[] = [];
    let rest = b;
    for (;;) {
      const r = p(rest);
      if (!r || r.rest.length === rest.length) break;
      out.push(r.value);
      rest = r.rest;
    }
    return out.length === 0 ? undefined : { rest, value: out };
  };
}

const versionString = info(utf16z, nothing);
const stringTable = info(fail, many1(versionString));
const stringFileInfo = info(fail, many1(stringTable), "StringFileInfo");
const varFileInfo = info(fail, nothing, "VarFileInfo");

/** VarFileInfo then StringFileInfo, each optional: what nom's permutation of two opts amounts to. */
const versionChildren: Parser<[string, string][] | undefined> = (b) => {
  const v = varFileInfo(b);
  const rest = v ? v.rest : b;
  const s = stringFileInfo(rest);
  if (!s) return { rest, value: undefined };
  const pairs: [string, string][] = [];
  for (const table of s.value.children) for (const str of table.children) pairs.push([str.key, str.value ?? ""]);
  return { rest: s.rest, value: pairs };
};

const versionInfo = info(fixedFileInfo, versionChildren, "VS_VERSION_INFO");

/** Key/value pairs from every RT_VERSION resource, in order. */
export function parseVersionInfo(pe: PeFile, resources: Resource[]): [string, string][] | Unknown {
  const out: [string, string][] = [];
  let parsed = 0;
  for (const r of resources) {
    if (r.type === undefined || !("id" in r.type) || r.type.id !== RESOURCE_TYPE_VERSION || r.offset === undefined) continue;
    if (++parsed > MAX_VERSION_RESOURCES) return UNKNOWN;
    if (r.offset > pe.data.length) continue;
    // A node's length is a u16: its first 64 KiB (or what the file holds) is all it reads.
    const info = versionInfo(pe.data.subarray(r.offset, r.offset + 0x10000).bytes());
    if (info?.value.children) out.push(...info.value.children);
  }
  return out;
}
