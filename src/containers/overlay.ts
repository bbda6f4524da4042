// Executables that carry archives: self-extractors and installers. A PE's or ELF's overlay (the
// bytes after the last section the headers describe) is searched for an archive: a zip found by
// its end record, 7z/cab/rar/xz/gzip by their signatures, NSIS (read by 7z-wasm from the whole
// file), InstallShield's two packagings (plain "name, path, version, size" entries, and the
// obfuscated "InstallShield" stream of MSI-based setups). Shell scripts with an appended archive
// (makeself) are searched after their last text line. Identification reads headers only; the
// search happens when the file is opened.
import { inflateRawSync } from "node:zlib";
import { autoitAt, readAutoit } from "./autoit";
import { outputCap, problem } from "./budget";
import { Gate, cleanName, corrupt, latin1, memberOf, startsWith } from "./carrier";
import { decode } from "./inflate";
import type { Budget, ContainerFormat, Member } from "./types";

export type Opener = (format: ContainerFormat, data: Uint8Array, budget: Budget) => Iterable<Member>;
export type Identify = (data: Uint8Array) => ContainerFormat | null;

const u16 = (d: Uint8Array, p: number) => d[p]! | (d[p + 1]! << 8);
const u32 = (d: Uint8Array, p: number) => (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0;

/** Where a PE's section data ends (the overlay starts), or -1 when this is no PE. */
export function peEnd(d: Uint8Array): number {
  if (d.length < 0x40 || d[0] !== 0x4d || d[1] !== 0x5a) return -1;
  const pe = u32(d, 0x3c);
  if (pe + 24 > d.length || !startsWith(d, pe, "PE\0\0")) return -1;
  const sections = u16(d, pe + 6);
  const optSize = u16(d, pe + 20);
  const table = pe + 24 + optSize;
  if (table + sections * 40 > d.length) return -1;
  let end = table + sections * 40;
  for (let i = 0; i < sections; i++) {
    const s = table + i * 40;
    const size = u32(d, s + 16);
    const at = u32(d, s + 20);
    if (size > 0) end = Math.max(end, at + size);
  }
  return end;
}

/** Section names of a PE (UPX0/UPX1 ...), empty when this is no PE. */
export function peSections(d: Uint8Array): { name: string; vaddr: number; vsize: number; raw: number; rawSize: number }[] {
  if (peEnd(d) < 0) return [];
  const pe = u32(d, 0x3c);
  const table = pe + 24 + u16(d, pe + 20);
  const out = [];
  for (let i = 0; i < u16(d, pe + 6); i++) {
    const s = table + i * 40;
    out.push({ name: latin1(d.subarray(s, s + 8)).replace(/\0.*$/s, ""), vsize: u32(d, s + 8), vaddr: u32(d, s + 12), rawSize: u32(d, s + 16), raw: u32(d, s + 20) });
  }
  return out;
}

/** Where an ELF's described bytes end: the furthest segment, section or section table. */
function elfEnd(d: Uint8Array): number {
  if (!startsWith(d, 0, "\x7fELF") || d.length < 64 || d[5] !== 1) return -1; // little-endian only
  const is64 = d[4] === 2;
  const num = (p: number) => (is64 ? u32(d, p) + u32(d, p + 4) * 2 ** 32 : u32(d, p));
  const phoff = num(is64 ? 32 : 28);
  const shoff = num(is64 ? 40 : 32);
  const phentsize = u16(d, is64 ? 54 : 42);
  const phnum = u16(d, is64 ? 56 : 44);
  const shentsize = u16(d, is64 ? 58 : 46);
  const shnum = u16(d, is64 ? 60 : 48);
  // At least the file header: an ELF that describes nothing else (phnum = shnum = 0) must not make
  // the whole file its own overlay (opened as itself again, without end).
  let end = Math.max(is64 ? 64 : 52, phoff + phentsize * phnum, shoff + shentsize * shnum);
  for (let i = 0; i < phnum && phoff + (i + 1) * phentsize <= d.length; i++) {
    const p = phoff + i * phentsize;
    end = Math.max(end, is64 ? num(p + 8) + num(p + 32) : u32(d, p + 4) + u32(d, p + 16));
  }
  for (let i = 0; i < shnum && shoff + (i + 1) * shentsize <= d.length; i++) {
    const s = shoff + i * shentsize;
    if (u32(d, s + 4) === 8) continue; // SHT_NOBITS occupies no file bytes
    end = Math.max(end, is64 ? num(s + 24) + num(s + 32) : u32(d, s + 16) + u32(d, s + 20));
  }
  return end;
}

const SIGNATURES = ["7z\xbc\xaf\x27\x1c", "MSCF\0\0\0\0", "Rar!\x1a\x07", "\xfd7zXZ\0", "PK\x03\x04"];
const NSIS = "\xef\xbe\xad\xdeNullsoftInst";
const IS_MSI = "InstallShield\0";

type Found =
  | { kind: "nsis" }
  | { kind: "autoit"; at: number }
  | { kind: "zip" }
  | { kind: "archive"; at: number }
  | { kind: "is-msi"; at: number }
  | { kind: "is-files"; at: number }
  | { kind: "exe"; at: number };

/** What the bytes after `end` hold; null when nothing this module reads. */
function overlayContent(d: Uint8Array, end: number, idf: Identify): Found | null {
  if (end <= 0 || end >= d.length - 4) return null;
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  // NSIS's first header sits at a 512-byte boundary; the stub's sections end at one.
  const au3 = autoitAt(d, end);
  if (au3 >= 0) return { kind: "autoit", at: au3 };
  const near = buf.subarray(end, Math.min(d.length, end + (1 << 20)));
  if (near.indexOf(NSIS, 0, "latin1") >= 0) return { kind: "nsis" };
  const ism = buf.indexOf(IS_MSI, end, "latin1");
  if (ism >= 0 && ism - end < 4096 && ism + 46 < d.length && u32(d, ism + 14) > 0) return { kind: "is-msi", at: ism + 14 };
  if (isFileEntry(d, end)) return { kind: "is-files", at: end };
  if (idf(d.subarray(end)) !== null) return { kind: "archive", at: end };
  // An executable appended to an executable (a dropper's payload): a member of its own.
  if (peEnd(d.subarray(end)) > 0 || elfEnd(d.subarray(end)) > 0) return { kind: "exe", at: end };
  // A zip's end record in the file's last 64 KiB: zip.ts finds the start from it.
  const tail = buf.subarray(Math.max(end, d.length - 22 - 0xffff));
  if (tail.lastIndexOf("PK\x05\x06", undefined, "latin1") >= 0) return { kind: "zip" };
  // An archive a little after the end (alignment, a signature block before it).
  const window = Math.min(d.length, end + 64 * 1024);
  const head = buf.subarray(end, window);
  for (const sig of SIGNATURES) {
    const at = end + head.indexOf(sig, 0, "latin1");
    if (at >= end && idf(d.subarray(at)) !== null) return { kind: "archive", at };
  }
  return null;
}

/** InstallShield's plain packaging: name\0 path\0 version\0 decimal size\0 bytes. */
function isFileEntry(d: Uint8Array, p: number): boolean {
  const e = fileEntry(d, p);
  return e !== null && e.size <= d.length - e.data;
}

function fileEntry(d: Uint8Array, p: number): { name: string; data: number; size: number } | null {
  const parts: string[] = [];
  for (let k = 0; k < 4; k++) {
    const end = d.indexOf(0, p);
    if (end < 0 || end - p > 1024 || end === p) return null;
    const s = latin1(d.subarray(p, end));
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f-\xff]/.test(s)) return null;
    parts.push(s);
    p = end + 1;
  }
  if (!/^\d{1,12}$/.test(parts[3]!) || !/^[\d.]+$/.test(parts[2]!)) return null;
  return { name: cleanName(parts[0]!), data: p, size: Number(parts[3]) };
}

/** Identification: an executable whose overlay holds something to open (headers and tail only). */
export function sfxFormat(d: Uint8Array, idf: Identify): boolean {
  const pe = peEnd(d);
  if (pe >= 0) return overlayContent(d, pe, idf) !== null;
  const elf = elfEnd(d);
  if (elf >= 0) return overlayContent(d, elf, idf) !== null;
  return false;
}

/** A shell script with an archive after it (makeself and the like): its offset, or -1. */
export function scriptPayload(d: Uint8Array, idf: Identify): number {
  if (!startsWith(d, 0, "#!")) return -1;
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  for (const sig of ["\n\x1f\x8b\x08", "\n\xfd7zXZ\0", "\nBZh", "\n\x28\xb5\x2f\xfd", "\n7z\xbc\xaf\x27\x1c"]) {
    const at = buf.indexOf(sig, 0, "latin1");
    if (at >= 0 && idf(d.subarray(at + 1)) !== null) return at + 1;
  }
  return -1;
}

/** `also`: a reader for the executable itself (UPX's unpacked image), after the overlay's members. */
export function makeSfxReader(open: Opener, idf: Identify, also?: (d: Uint8Array, budget: Budget) => Iterable<Member> | null) {
  return function* readSfx(d: Uint8Array, budget: Budget): Iterable<Member> {
    const script = scriptPayload(d, idf);
    if (script >= 0) {
      // The payload as one member, so that "setup.run!payload.tar.gz!..." says where it was.
      const fmt = idf(d.subarray(script))!;
      yield memberOf(`payload.${fmt === "gzip" ? "tar.gz" : fmt}`, d.subarray(script), budget);
      return;
    }
    const end = peEnd(d) >= 0 ? peEnd(d) : elfEnd(d);
    const found = overlayContent(d, end, idf);
    if (!found) return void (yield corrupt("sfx: no archive found after the executable"));
    yield* overlayMembers(found, d, budget, open, idf);
    const own = also?.(d, budget);
    if (own) yield* own;
  };
}

function* overlayMembers(found: Found, d: Uint8Array, budget: Budget, open: Opener, idf: Identify): Iterable<Member> {
  {
    switch (found.kind) {
      case "autoit":
        yield* readAutoit(d, found.at, budget);
        return;
      case "nsis":
        yield* open("other-7z", d, budget);
        return;
      case "zip":
        yield* open("zip", d, budget);
        return;
      case "archive":
        yield* open(idf(d.subarray(found.at))!, d.subarray(found.at), budget);
        return;
      case "is-msi":
        yield* installShieldMsi(d, found.at, budget);
        return;
      case "is-files":
        yield* installShieldFiles(d, found.at, budget);
        return;
      case "exe":
        yield memberOf(d[found.at] === 0x4d ? "overlay.exe" : "overlay.elf", d.subarray(found.at), budget);
        return;
      default: {
        const never: never = found;
        return never;
      }
    }
  }
}

function* installShieldFiles(d: Uint8Array, p: number, budget: Budget): Iterable<Member> {
  const gate = new Gate(budget);
  const cabs = new Map<string, Uint8Array>();
  while (p < d.length) {
    const e = fileEntry(d, p);
    if (!e) return void (yield corrupt(`installshield: bad file entry at offset ${p}`));
    const stop = gate.check();
    if (stop) return void (yield stop);
    const body = d.subarray(e.data, Math.min(d.length, e.data + e.size));
    if (/^data\d+\.(cab|hdr)$/i.test(e.name)) cabs.set(e.name.toLowerCase(), body);
    yield memberOf(e.name || "file", body, budget, undefined, body.length < e.size ? problem("archive-corrupt", "installshield: file cut short") : undefined);
    p = e.data + e.size;
  }
  // InstallShield 5+ cabinets ("ISc("): data1.hdr lists the files that dataN.cab hold.
  const hdr = cabs.get("data1.hdr");
  if (hdr) yield* installShieldCab(hdr, cabs, budget, gate);
}

/** The file table of data1.hdr and the zlib chunks of each file in its dataN.cab. */
function* installShieldCab(hdr: Uint8Array, cabs: Map<string, Uint8Array>, budget: Budget, gate: Gate): Iterable<Member> {
  if (hdr.length < 20 || !startsWith(hdr, 0, "ISc(")) return;
  const base = u32(hdr, 12);
  if (base + 0x30 > hdr.length) return void (yield corrupt("installshield cab: header cut short"));
  const dirs = base + u32(hdr, base + 12);
  const count = u32(hdr, base + 0x28);
  let off = dirs + u32(hdr, base + 0x2c);
  const num64 = (p: number) => u32(hdr, p) + u32(hdr, p + 4) * 2 ** 32;
  for (let i = 0; i < count && off + 87 <= hdr.length; i++, off += 87) {
    if (gate.stop) return;
    const flags = u16(hdr, off);
    const size = num64(off + 2);
    const csize = num64(off + 10);
    const stream = num64(off + 18);
    const nameAt = dirs + u32(hdr, off + 58);
    const dup = hdr[off + 84]! & 1;
    const cab = cabs.get(`data${u16(hdr, off + 85)}.cab`);
    if (flags !== 4 || dup || size === 0 || !cab) continue;
    const nul = hdr.indexOf(0, nameAt);
    const name = cleanName(nameAt < hdr.length ? latin1(hdr.subarray(nameAt, nul < 0 ? hdr.length : nul)) : "") || `file-${i}`;
    const stop = gate.check();
    if (stop) return void (yield stop);
    if (stream + csize > cab.length) {
      yield { name: new TextEncoder().encode(name), problem: problem("archive-corrupt", "installshield cab: file data past the cabinet's end") };
      continue;
    }
    // Chunks: u16 length, raw deflate.
    const cap = outputCap(budget, csize);
    const parts: Uint8Array[] = [];
    let total = 0;
    let bad: string | undefined;
    for (let p = stream; p + 2 <= stream + csize && total < cap.limit; ) {
      const n = u16(cab, p);
      p += 2;
      if (n === 0) continue;
      if (p + n > stream + csize) {
        bad = "chunk runs past the file's data";
        break;
      }
      try {
        const out = inflateRawSync(cab.subarray(p, p + n), { maxOutputLength: Math.max(1, cap.limit - total), finishFlush: 2 });
        parts.push(out);
        total += out.length;
      } catch (err) {
        bad = (err as Error).message;
        break;
      }
      p += n;
    }
    const data = Buffer.concat(parts);
    yield memberOf(name, data, budget, csize, bad ? problem("archive-corrupt", `installshield cab: ${bad}`) : undefined);
  }
}

/**
 * MSI-based InstallShield: a count, then per file a 312-byte block (name, sizes) and its bytes,
 * each nibble-swapped and XORed with the name (itself XORed with a fixed key), then zlib.
 */
function* installShieldMsi(d: Uint8Array, p: number, budget: Budget): Iterable<Member> {
  const gate = new Gate(budget);
  let count = u32(d, p);
  p += 0x20;
  const KEY = [0xec, 0xca, 0x79, 0xf8];
  while (count-- > 0) {
    if (p + 312 > d.length) return void (yield corrupt("installshield: file block cut short"));
    const fnameEnd = d.indexOf(0, p);
    const nameLen = Math.min(fnameEnd < 0 ? 260 : fnameEnd - p, 259);
    if (nameLen === 0) return void (yield corrupt("installshield: file block without a name"));
    const rawName = d.subarray(p, p + nameLen);
    const csize = u32(d, p + 0x104 + 8) + u32(d, p + 0x104 + 12) * 2 ** 32;
    p += 312;
    const stop = gate.check();
    if (stop) return void (yield stop);
    const key = rawName.map((b, i) => b ^ KEY[i & 3]!);
    const packed = d.subarray(p, Math.min(d.length, p + csize));
    const plain = new Uint8Array(packed.length);
    for (let i = 0; i < packed.length; i++) {
      const c = ((packed[i]! >> 4) | (packed[i]! << 4)) & 0xff;
      plain[i] = c ^ key[(i & 0x3ff) % key.length]!;
    }
    const body = (plain[0]! & 0x0f) === 8 ? plain.subarray(2) : plain;
    const out = decode("deflate-raw", body, outputCap(budget, packed.length), budget, "installshield stream");
    const name = cleanName(latin1(rawName)) || "file";
    const cut = packed.length < csize ? problem("archive-corrupt", "installshield: stream cut short") : undefined;
    if (out.data) yield memberOf(name, out.data, budget, packed.length, cut ?? out.problem);
    else yield { name: new TextEncoder().encode(name), problem: out.problem ?? problem("archive-corrupt", "installshield: no data") };
    p += csize;
    if (p > d.length) return;
  }
}
