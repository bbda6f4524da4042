// Zip and its family (jar, apk, whl, docx, crx, ...): the central directory is the index, each
// entry's local header is cross-checked before its data is read, stored and deflate members are
// unpacked through bounded zlib calls, and entries whose bytes overlap another's (Fifield's
// "better zip bomb") are recognised and not unpacked at all.
import * as zlib from "node:zlib";
import { EMPTY_NAME, capProblem, membersProblem, outputCap, problem, remainingOf, timeProblem } from "./budget";
import { crc32, decode, noteZlibFailure } from "./inflate";
import { readWith7z, sevenZipAvailable } from "./sevenzip";
import type { Budget, ContainerProblem, Member } from "./types";

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

interface Entry {
  name: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  packed: number;
  size: number;
  local: number;
  madeBy: number;
  external: number;
  extra: Uint8Array;
}

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  has(at: number, n: number): boolean {
    return at >= 0 && n >= 0 && at + n <= this.bytes.length;
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  /** 64-bit sizes as numbers: anything past 2^53 is nonsense for a file in memory anyway. */
  u64(at: number): number {
    return this.u32(at) + this.u32(at + 4) * 2 ** 32;
  }
  sig(at: number, sig: number): boolean {
    return this.has(at, 4) && this.u32(at) === sig;
  }
}

/** Where the zip starts: after a Chrome extension (crx2/crx3) header, else at 0. */
function zipStart(r: Reader): number {
  const b = r.bytes;
  if (!(r.has(0, 12) && b[0] === 0x43 && b[1] === 0x72 && b[2] === 0x32 && b[3] === 0x34)) return 0; // "Cr24"
  const version = r.u32(4);
  if (version === 2 && r.has(0, 16)) return 16 + r.u32(8) + r.u32(12);
  if (version === 3) return 12 + r.u32(8);
  return 0;
}

interface Directory {
  offset: number;
  size: number;
  entries: number;
  /** Bytes before the zip that its offsets do not count (self-extractors, prepended data). */
  base: number;
}

function findDirectory(r: Reader): Directory | ContainerProblem {
  const b = r.bytes;
  // The end record sits in the last 22 + 65,535 bytes (its comment is at most 65,535 bytes).
  let eocd = -1;
  for (let i = b.length - 22; i >= 0 && i >= b.length - 22 - 0xffff; i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 5 && b[i + 3] === 6 && i + 22 + r.u16(i + 20) <= b.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return problem("archive-corrupt", "zip: no end of central directory record (truncated?)");
  let entries = r.u16(eocd + 10);
  let size = r.u32(eocd + 12);
  let offset = r.u32(eocd + 16);
  let end = eocd; // where the directory should end
  const loc = eocd - 20;
  if (r.sig(loc, SIG_LOCATOR64)) {
    let at = r.u64(loc + 8);
    // The zip64 end record sits just before its locator; trust that over a shifted offset.
    if (!r.sig(at, SIG_EOCD64) && r.sig(loc - 56, SIG_EOCD64)) at = loc - 56;
    if (r.sig(at, SIG_EOCD64) && r.has(at, 56)) {
      entries = r.u64(at + 32);
      size = r.u64(at + 40);
      offset = r.u64(at + 48);
      end = at;
    }
  }
  let base = 0;
  if (!r.sig(offset, SIG_CENTRAL) && entries > 0) {
    base = end - size - offset;
    if (!r.sig(offset + base, SIG_CENTRAL)) return problem("archive-corrupt", "zip: central directory not found where the end record says");
  }
  return { offset: offset + base, size, entries, base };
}

/**
 * Reads central directory entries until one file past maxFiles (so that the caller can report
 * the excess), or until entries of any kind reach a multiple of it (a directory of a million
 * folder entries costs memory too); `more` says the directory went on.
 */
function readEntries(r: Reader, dir: Directory, maxFiles: number): { entries: Entry[]; more: boolean; problem?: ContainerProblem } {
  const entries: Entry[] = [];
  let files = 0;
  let p = dir.offset;
  while (r.sig(p, SIG_CENTRAL) && r.has(p, 46)) {
    if (files > maxFiles || entries.length >= 8 * maxFiles + 1024) return { entries, more: true };
    const nameLen = r.u16(p + 28);
    const extraLen = r.u16(p + 30);
    const commentLen = r.u16(p + 32);
    if (!r.has(p + 46, nameLen + extraLen + commentLen)) break;
    const e: Entry = {
      madeBy: r.u16(p + 4),
      flags: r.u16(p + 8),
      method: r.u16(p + 10),
      crc: r.u32(p + 16),
      packed: r.u32(p + 20),
      size: r.u32(p + 24),
      external: r.u32(p + 38),
      local: r.u32(p + 42),
      name: r.bytes.subarray(p + 46, p + 46 + nameLen),
      extra: r.bytes.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen),
    };
    applyZip64(e);
    e.local += dir.base;
    entries.push(e);
    if (isFile(e)) files++;
    p += 46 + nameLen + extraLen + commentLen;
  }
  // The end record's count is 16 bits without zip64, and wraps in zips of 65,536 entries or more.
  if (entries.length < dir.entries) {
    return { entries, more: false, problem: problem("archive-corrupt", `zip: central directory holds ${entries.length} of ${dir.entries} entries`) };
  }
  return { entries, more: false };
}

/** The zip64 extra field (0x0001) carries the 64-bit values of the fields that read 0xffffffff. */
function applyZip64(e: Entry): void {
  const x = new Reader(e.extra);
  for (let p = 0; x.has(p, 4); ) {
    const id = x.u16(p);
    const len = x.u16(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const end = q + len;
      if (e.size === 0xffffffff && q + 8 <= end && x.has(q, 8)) (e.size = x.u64(q)), (q += 8);
      if (e.packed === 0xffffffff && q + 8 <= end && x.has(q, 8)) (e.packed = x.u64(q)), (q += 8);
      if (e.local === 0xffffffff && q + 8 <= end && x.has(q, 8)) e.local = x.u64(q);
      return;
    }
    p += 4 + len;
  }
}

function hasExtra(extra: Uint8Array, id: number): boolean {
  const x = new Reader(extra);
  for (let p = 0; x.has(p, 4); p += 4 + x.u16(p + 2)) if (x.u16(p) === id) return true;
  return false;
}

/** Where an entry's data starts according to its local header, or a problem. */
function dataStart(r: Reader, e: Entry): number | ContainerProblem {
  if (!r.sig(e.local, SIG_LOCAL) || !r.has(e.local, 30)) return problem("archive-corrupt", "zip: no local header where the central directory points");
  const nameLen = r.u16(e.local + 26);
  const start = e.local + 30 + nameLen + r.u16(e.local + 28);
  if (!r.has(e.local + 30, nameLen)) return problem("archive-corrupt", "zip: local header truncated");
  return start;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

function isFile(e: Entry): boolean {
  if (e.name.length > 0 && (e.name[e.name.length - 1] === 0x2f || e.name[e.name.length - 1] === 0x5c)) return false; // "dir/"
  const host = e.madeBy >> 8;
  const mode = e.external >>> 16;
  if (host === 3 && mode !== 0 && (mode & S_IFMT) !== S_IFREG) return false; // unix link, fifo, ...
  if ((e.external & 0x10) !== 0 && e.packed === 0 && e.size === 0) return false; // MS-DOS directory bit
  return true;
}

/**
 * Marks entries whose bytes (local header to end of data) overlap another entry's. No real zip
 * does this; Fifield's bomb does it to unpack one kernel thousands of times.
 */
function overlapping(spans: { from: number; to: number; i: number }[]): Set<number> {
  const out = new Set<number>();
  const sorted = spans.filter((s) => s.to > s.from).sort((a, b) => a.from - b.from);
  let reach = -1;
  let reacher = -1;
  for (const s of sorted) {
    if (s.from < reach) {
      out.add(s.i);
      out.add(reacher);
    }
    if (s.to > reach) (reach = s.to), (reacher = s.i);
  }
  return out;
}

/** Methods 7-Zip unpacks that zlib does not: shrink, implode, deflate64, bzip2, lzma, xz, ppmd. */
const VIA_7Z: ReadonlySet<number> = new Set([1, 6, 9, 12, 14, 95, 98]);

/** A zip holding only `e` (named "m", sizes from the central directory, no data descriptor). */
function oneMemberZip(e: Entry, packed: Uint8Array): Uint8Array {
  const out = new Uint8Array(30 + 1 + packed.length + 46 + 1 + 22);
  const v = new DataView(out.buffer);
  const flags = e.flags & ~8 & 0xffff;
  v.setUint32(0, SIG_LOCAL, true);
  v.setUint16(4, 20, true);
  v.setUint16(6, flags, true);
  v.setUint16(8, e.method, true);
  v.setUint32(14, e.crc, true);
  v.setUint32(18, packed.length, true);
  v.setUint32(22, Math.min(e.size, 0xfffffffe), true);
  v.setUint16(26, 1, true);
  out[30] = 0x6d; // "m"
  out.set(packed, 31);
  const c = 31 + packed.length;
  v.setUint32(c, SIG_CENTRAL, true);
  v.setUint16(c + 4, 20, true);
  v.setUint16(c + 6, 20, true);
  v.setUint16(c + 8, flags, true);
  v.setUint16(c + 10, e.method, true);
  v.setUint32(c + 16, e.crc, true);
  v.setUint32(c + 20, packed.length, true);
  v.setUint32(c + 24, Math.min(e.size, 0xfffffffe), true);
  v.setUint16(c + 28, 1, true);
  out[c + 46] = 0x6d;
  const end = c + 47;
  v.setUint32(end, SIG_EOCD, true);
  v.setUint16(end + 8, 1, true);
  v.setUint16(end + 10, 1, true);
  v.setUint32(end + 12, 47, true);
  v.setUint32(end + 16, c, true);
  return out;
}

const METHOD_NAMES: Record<number, string> = { 1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 95: "xz", 96: "jpeg", 98: "ppmd" };

export function* readZip(data: Uint8Array, budget: Budget): Iterable<Member> {
  const r = new Reader(data.subarray(zipStart(new Reader(data))));
  const dir = findDirectory(r);
  if ("code" in dir) {
    yield* readLocalHeaders(r, budget, dir);
    return;
  }
  const { maxMembers } = budget.limits;
  const { entries, more, problem: dirProblem } = readEntries(r, dir, maxMembers);
  if (dirProblem) yield { name: EMPTY_NAME, problem: dirProblem };

  const starts = entries.map((e) => dataStart(r, e));
  const spans = entries.map((e, i) => {
    const s = starts[i]!;
    return typeof s === "number" ? { from: e.local, to: s + e.packed, i } : { from: 0, to: 0, i };
  });
  const overlaps = overlapping(spans);
  // Data that runs into the central directory: the archive would contain (part of) itself.
  const dirEnd = dir.offset + dir.size;
  const intoDirectory = (i: number) => spans[i]!.to > dir.offset && spans[i]!.from < dirEnd;

  let yielded = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!isFile(e)) continue;
    if (yielded === maxMembers) {
      yield { name: EMPTY_NAME, problem: membersProblem(budget) };
      return;
    }
    if (!budget.inTime()) {
      yield { name: EMPTY_NAME, problem: timeProblem(budget) };
      return;
    }
    yielded++;
    const member = intoDirectory(i)
      ? { name: e.name, problem: problem("archive-corrupt", "zip: member's data overlaps the central directory (a zip that contains itself)") }
      : unpack(r, e, starts[i]!, overlaps.has(i), budget);
    yield member;
    if (member.problem?.code === "archive-total-size") return;
  }
  if (more) yield { name: EMPTY_NAME, problem: membersProblem(budget) };
}

function unpack(r: Reader, e: Entry, start: number | ContainerProblem, overlaps: boolean, budget: Budget): Member {
  const name = e.name;
  if (typeof start !== "number") return { name, problem: start };
  if (e.flags & 1 || e.method === 99 || hasExtra(e.extra, 0x9901)) {
    return { name, problem: problem("archive-encrypted", "zip: member is encrypted") };
  }
  if (overlaps) {
    return { name, problem: problem("archive-ratio", "zip: member's bytes overlap another member's (overlapping-entries zip bomb)") };
  }
  const mismatch = !sameBytes(r.bytes.subarray(e.local + 30, e.local + 30 + r.u16(e.local + 26)), e.name);
  if (!r.has(start, e.packed)) {
    // Truncated archive: scan what is there, as for a stored member below.
    const avail = r.bytes.subarray(Math.min(start, r.bytes.length));
    const part = e.method === 0 ? avail.subarray(0, Math.min(budget.limits.maxMemberSize, remainingOf(budget))) : e.method === 8 ? partialInflate(avail, budget) : undefined;
    const data = part && budget.charge(part.length) ? part : undefined;
    return { name, data, problem: problem("archive-corrupt", "zip: member data runs past the end of the file") };
  }
  const packed = r.bytes.subarray(start, start + e.packed);
  let data: Uint8Array | undefined;
  let trouble: ContainerProblem | undefined;
  /** Deflate and zstd unpack into a buffer of the member's own (Member.owned); stored data is a view. */
  let owned = false;
  const cap = outputCap(budget, e.packed);
  if (e.method === 0) {
    // Stored: a view, no copy; only the size budgets apply (the ratio is 1).
    const limit = Math.min(budget.limits.maxMemberSize, remainingOf(budget));
    data = packed.length > limit ? packed.subarray(0, limit) : packed;
    if (packed.length > limit) {
      trouble = capProblem({ limit, code: limit === budget.limits.maxMemberSize ? "archive-member-size" : "archive-total-size" }, budget, "zip member");
    }
  } else if (e.method === 8 || e.method === 93) {
    const d = decode(e.method === 8 ? "deflate-raw" : "zstd", packed, cap, budget, "zip member", e.size);
    data = d.data;
    trouble = d.problem;
    owned = data !== undefined;
  } else if (VIA_7Z.has(e.method) && sevenZipAvailable()) {
    if (e.size > cap.limit) return { name, problem: capProblem(cap, budget, "zip member") };
    // 7-Zip reads these methods; it is handed a one-member zip so that the archive's names, and
    // the rest of its members, never reach it. It charges the budget itself.
    const out = [...readWith7z("zip", oneMemberZip(e, packed), budget)];
    const got = out.find((m) => m.data !== undefined);
    const trouble = got?.problem ?? out.find((m) => m.problem)?.problem;
    if (!got) return { name, problem: trouble ?? problem("archive-corrupt", "zip: 7-Zip unpacked nothing") };
    if (trouble) return { name, data: got.data, problem: trouble };
    if (crc32(got.data!) !== e.crc || got.data!.length !== e.size) return { name, data: got.data, problem: problem("archive-corrupt", "zip: member's CRC-32 does not match") };
    return mismatch ? { name, data: got.data, problem: problem("archive-corrupt", "zip: local header names the member differently from the central directory") } : { name, data: got.data };
  } else {
    const method = METHOD_NAMES[e.method] ?? `method ${e.method}`;
    return { name, problem: problem("archive-unsupported", `zip: compression ${method} is not supported`) };
  }
  if (data && !budget.charge(data.length)) {
    return { name, data, owned, problem: capProblem({ limit: 0, code: "archive-total-size" }, budget, "zip") };
  }
  if (!trouble && data) {
    if (data.length !== e.size) trouble = problem("archive-corrupt", `zip: member unpacks to ${data.length} bytes, ${e.size} declared`);
    else if (crc32(data) !== e.crc) trouble = problem("archive-corrupt", "zip: member's CRC-32 does not match");
  }
  if (!trouble && mismatch) trouble = problem("archive-corrupt", "zip: local header names the member differently from the central directory");
  return trouble ? { name, data, owned, problem: trouble } : { name, data, owned };
}

/** Deflate data cut short: whatever decodes before the cut, within the member's cap. */
function partialInflate(avail: Uint8Array, budget: Budget): Uint8Array | undefined {
  const cap = outputCap(budget, avail.length);
  try {
    const out = zlib.inflateRawSync(avail, { maxOutputLength: Math.max(1, cap.limit), finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return out.length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * No central directory (a truncated download, say): walk the local headers from the start, as
 * streaming unzippers do, and report the archive as corrupt. A member whose size is only in a
 * trailing data descriptor ends the walk unless it is deflate (whose stream ends by itself).
 */
function* readLocalHeaders(r: Reader, budget: Budget, why: ContainerProblem): Iterable<Member> {
  yield { name: EMPTY_NAME, problem: why };
  let p = 0;
  let count = 0;
  while (r.sig(p, SIG_LOCAL) && r.has(p, 30)) {
    if (count === budget.limits.maxMembers) {
      yield { name: EMPTY_NAME, problem: membersProblem(budget) };
      return;
    }
    if (!budget.inTime()) {
      yield { name: EMPTY_NAME, problem: timeProblem(budget) };
      return;
    }
    const nameLen = r.u16(p + 26);
    const extraLen = r.u16(p + 28);
    const start = p + 30 + nameLen + extraLen;
    const e: Entry = {
      madeBy: 0,
      external: 0,
      flags: r.u16(p + 6),
      method: r.u16(p + 8),
      crc: r.u32(p + 14),
      packed: r.u32(p + 18),
      size: r.u32(p + 22),
      local: p,
      name: r.bytes.subarray(Math.min(p + 30, r.bytes.length), Math.min(p + 30 + nameLen, r.bytes.length)),
      extra: r.bytes.subarray(Math.min(p + 30 + nameLen, r.bytes.length), Math.min(start, r.bytes.length)),
    };
    applyZip64(e);
    count++;
    const described = (e.flags & 8) !== 0 && e.packed === 0;
    if (described) {
      if (e.method !== 8 || e.flags & 1) return; // the end of the data cannot be found
      const cap = outputCap(budget, r.bytes.length - start);
      let consumed = 0;
      let data: Uint8Array | undefined;
      try {
        const out = zlib.inflateRawSync(r.bytes.subarray(start), { maxOutputLength: Math.max(1, cap.limit), info: true }) as unknown as {
          buffer: Buffer;
          engine: { bytesWritten: number };
        };
        data = out.buffer;
        consumed = out.engine.bytesWritten;
      } catch (err) {
        noteZlibFailure();
        const tooLarge = (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
        const part = tooLarge ? undefined : partialInflate(r.bytes.subarray(start), budget);
        const trouble = tooLarge ? capProblem(cap, budget, "zip member") : problem("archive-corrupt", "zip: member data damaged or cut short");
        if (isFile(e)) yield { name: e.name, data: part && budget.charge(part.length) ? part : undefined, problem: trouble };
        return;
      }
      if (isFile(e)) {
        const within = budget.charge(data.length);
        // The descriptor may be cut off after the data (issue 13's fuzzer: a read past the end threw).
        const crcAt = start + consumed + (r.sig(start + consumed, 0x08074b50) ? 4 : 0);
        const crcOk = r.has(crcAt, 4) && crc32(data) === r.u32(crcAt);
        if (!within) yield { name: e.name, data, owned: true, problem: capProblem({ limit: 0, code: "archive-total-size" }, budget, "zip") };
        else yield crcOk ? { name: e.name, data, owned: true } : { name: e.name, data, owned: true, problem: problem("archive-corrupt", "zip: member's CRC-32 does not match") };
        if (!within) return;
      }
      p = start + consumed;
      // The data descriptor: optional signature, CRC-32, then 4- or 8-byte sizes (zip64).
      if (r.sig(p, 0x08074b50)) p += 4;
      p += hasExtra(e.extra, 0x0001) ? 20 : 12;
      continue;
    }
    if (isFile(e)) {
      const m = unpack(r, e, start, false, budget);
      yield m;
      if (m.problem?.code === "archive-total-size") return;
    }
    p = start + e.packed;
  }
}
