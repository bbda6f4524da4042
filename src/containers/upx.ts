// UPX-packed executables. PE32 and PE32+: the compressed image in section UPX1, described by UPX's
// pack header ("UPX!", format 13: method, sizes, Adler-32 of the unpacked bytes), is unpacked with
// the NRV2B, NRV2D or NRV2E decoder (UCL's public algorithms, LE32 bit order) into the member
// "upx": the sections' bytes as the packer saw them, checked against the header's Adler-32. UPX's
// call/jump filter is not undone (strings, data and most code read as they were), and the PE is not
// rebuilt. Little-endian ELF: after the program headers, l_info ("UPX!") and p_info, then blocks
// (b_info: sizes and method, then the bytes), unpacked and joined into "upx", the original file's
// bytes in order. Method 14 is LZMA (lzma.ts).
import { outputCap, problem } from "./budget";
import { corrupt, memberOf } from "./carrier";
import { upxLzma } from "./lzma";
import { peSections } from "./overlay";
import type { Budget, Member } from "./types";

const u32 = (d: Uint8Array, p: number) => (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0;

interface PackHeader {
  method: number;
  uAdler: number;
  uLen: number;
  cLen: number;
  filter: number;
}

/** The pack header in the bytes before the first section's data (where UPX writes it). */
function packHeader(d: Uint8Array, before: number): PackHeader | null {
  const area = Buffer.from(d.buffer, d.byteOffset, Math.min(d.length, before + 64));
  const at = area.indexOf("UPX!", 0, "latin1");
  if (at < 0 || at + 32 > d.length || d[at + 4]! < 10) return null;
  return { method: d[at + 6]!, uAdler: u32(d, at + 8), uLen: u32(d, at + 16), cLen: u32(d, at + 20), filter: d[at + 28]! };
}

export function isUpx(d: Uint8Array): boolean {
  if (d[0] === 0x7f) return elfInfo(d) >= 0;
  const s = peSections(d);
  return s.length >= 2 && s[0]!.name === "UPX0" && s[1]!.name === "UPX1";
}

/** Where an ELF's l_info starts (its "UPX!" 4 bytes in), or -1: right after the program headers. */
function elfInfo(d: Uint8Array): number {
  if (d.length < 64 || d[1] !== 0x45 || d[2] !== 0x4c || d[3] !== 0x46 || d[5] !== 1) return -1;
  const is64 = d[4] === 2;
  const phoff = is64 ? u32(d, 32) : u32(d, 28);
  const phentsize = d[is64 ? 54 : 42]! | (d[is64 ? 55 : 43]! << 8);
  const phnum = d[is64 ? 56 : 44]! | (d[is64 ? 57 : 45]! << 8);
  const at = phoff + phentsize * phnum;
  if (at + 36 > d.length) return -1;
  return d[at + 4] === 0x55 && d[at + 5] === 0x50 && d[at + 6] === 0x58 && d[at + 7] === 0x21 ? at : -1;
}

export function* readUpx(d: Uint8Array, budget: Budget): Iterable<Member> {
  if (d[0] === 0x7f) return yield* readUpxElf(d, budget);
  const s = peSections(d);
  const upx1 = s[1]!;
  const h = packHeader(d, Math.min(s[0]!.raw || upx1.raw, upx1.raw));
  if (!h) return void (yield corrupt("upx: no pack header (modified or a look-alike packer)"));
  if (!METHODS.has(h.method)) return void (yield { name: new TextEncoder().encode("upx"), problem: problem("archive-unsupported", `upx: compression method ${h.method}`) });
  const src = d.subarray(upx1.raw, Math.min(d.length, upx1.raw + h.cLen));
  const cap = outputCap(budget, Math.max(1, src.length));
  const out = unpack(h.method, src, Math.min(h.uLen, cap.limit), budget);
  let trouble = out.error ? problem("archive-corrupt", `upx: ${out.error}`) : undefined;
  if (!trouble && h.uLen > cap.limit) trouble = problem(cap.code, `upx: unpacks to ${h.uLen} bytes, over the ${cap.code} budget`);
  else if (!trouble && (out.data.length !== h.uLen || adler32(out.data) !== h.uAdler)) trouble = problem("archive-corrupt", "upx: unpacked image does not match the header's size and checksum");
  yield memberOf("upx", out.data, budget, src.length, trouble);
}

function* readUpxElf(d: Uint8Array, budget: Budget): Iterable<Member> {
  const info = elfInfo(d);
  const fileSize = u32(d, info + 16);
  const cap = outputCap(budget, d.length);
  const limit = Math.min(fileSize, cap.limit);
  const parts: Uint8Array[] = [];
  let total = 0;
  let trouble: ReturnType<typeof problem> | undefined;
  let p = info + 24;
  for (;;) {
    if (!budget.inTime()) {
      trouble = problem("archive-time", `upx: unpacking took more than ${budget.limits.maxTimeMs} ms (maxTimeMs)`);
      break;
    }
    if (p + 12 > d.length) {
      trouble = problem("archive-corrupt", "upx: block header cut short");
      break;
    }
    const unc = u32(d, p);
    const cpr = u32(d, p + 4);
    const method = d[p + 8]!;
    if (unc === 0) break; // the end of the blocks
    if (cpr > unc || p + 12 + cpr > d.length) {
      trouble = problem("archive-corrupt", "upx: block sizes do not fit the file");
      break;
    }
    if (total + unc > limit) {
      trouble = fileSize > cap.limit ? problem(cap.code, `upx: unpacks to ${fileSize} bytes, over the ${cap.code} budget`) : problem("archive-corrupt", "upx: blocks larger than the file they restore");
      break;
    }
    const src = d.subarray(p + 12, p + 12 + cpr);
    if (cpr === unc) parts.push(src);
    else {
      if (!METHODS.has(method)) {
        trouble = problem("archive-unsupported", `upx: compression method ${method}`);
        break;
      }
      const out = unpack(method, src, unc, budget);
      parts.push(out.data);
      if (out.error || out.data.length !== unc) {
        trouble = problem("archive-corrupt", `upx: ${out.error ?? "block shorter than its header says"}`);
        break;
      }
    }
    total += unc;
    // Blocks follow each other, padded to 4 bytes by some versions.
    p += 12 + cpr;
    if (p + 12 <= d.length && (u32(d, p + 4) > u32(d, p) || u32(d, p) > fileSize)) p = (p + 3) & ~3;
  }
  const data = Buffer.concat(parts);
  if (!trouble && total !== fileSize) trouble = problem("archive-corrupt", `upx: ${total} bytes restored of ${fileSize}`);
  yield memberOf("upx", data, budget, d.length, trouble);
}

/** The three NRV variants share literals and the end marker; they differ in offsets and lengths. */
type Variant = "2b" | "2d" | "2e";
const NRV: Record<number, Variant> = { 2: "2b", 5: "2d", 8: "2e" };
const LZMA = 14;
const METHODS: ReadonlySet<number> = new Set([...Object.keys(NRV).map(Number), LZMA]);

function unpack(method: number, src: Uint8Array, limit: number, budget: Budget): { data: Uint8Array; error?: string } {
  return method === LZMA ? upxLzma(src, limit, () => budget.inTime()) : nrv(NRV[method]!, src, limit);
}

export function nrv(variant: Variant, src: Uint8Array, limit: number): { data: Uint8Array; error?: string } {
  const dst = new Uint8Array(limit);
  let ip = 0;
  let op = 0;
  let bb = 0;
  let bc = 0;
  let bad: string | undefined;
  const bit = (): number => {
    if (bc === 0) {
      if (ip + 4 > src.length) {
        bad ??= "compressed data cut short";
        return 1; // ends the gamma loops quickly; the error is reported
      }
      bb = u32(src, ip);
      ip += 4;
      bc = 32;
    }
    bc--;
    return (bb >>> bc) & 1;
  };
  const byte = (): number => {
    if (ip >= src.length) {
      bad ??= "compressed data cut short";
      return 0;
    }
    return src[ip++]!;
  };
  let lastOff = 1;
  for (;;) {
    while (bit()) {
      if (bad) return { data: dst.subarray(0, op), error: bad };
      if (op >= limit) return { data: dst.subarray(0, op), error: "output larger than the header says" };
      dst[op++] = byte();
    }
    if (bad) return { data: dst.subarray(0, op), error: bad };
    let off = 1;
    let len = 0;
    if (variant === "2b") {
      do {
        off = off * 2 + bit();
        if (off > 0x1000002) return { data: dst.subarray(0, op), error: "offset code too long" };
      } while (!bit());
    } else {
      for (;;) {
        off = off * 2 + bit();
        if (bit()) break;
        off = (off - 1) * 2 + bit();
        if (off > 0x1000002) return { data: dst.subarray(0, op), error: "offset code too long" };
      }
    }
    if (off === 2) {
      off = lastOff;
      if (variant !== "2b") len = bit();
    } else {
      off = (off - 3) * 256 + byte();
      if (off === 0xffffffff) break; // end of stream
      if (variant !== "2b") {
        len = (off & 1) ^ 1;
        off = Math.floor(off / 2);
      }
      lastOff = ++off;
    }
    if (variant === "2e") {
      if (len) len = 1 + bit();
      else if (bit()) len = 3 + bit();
      else {
        len = 1;
        do len = len * 2 + bit();
        while (!bit() && len < 1 << 24);
        len += 3;
      }
      len += off > 0x500 ? 1 : 0;
    } else {
      len = variant === "2b" ? bit() * 2 + bit() : len * 2 + bit();
      if (len === 0) {
        len = 1;
        do len = len * 2 + bit();
        while (!bit() && len < 1 << 24);
        len += 2;
      }
      len += off > (variant === "2b" ? 0xd00 : 0x500) ? 1 : 0;
    }
    if (bad) return { data: dst.subarray(0, op), error: bad };
    if (off > op) return { data: dst.subarray(0, op), error: "match before the start of the output" };
    len += 1;
    if (op + len > limit) return { data: dst.subarray(0, op), error: "output larger than the header says" };
    for (let k = 0; k < len; k++, op++) dst[op] = dst[op - off]!;
  }
  return { data: dst.subarray(0, op) };
}

export function adler32(d: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < d.length; ) {
    const end = Math.min(d.length, i + 3800);
    for (; i < end; i++) {
      a += d[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
