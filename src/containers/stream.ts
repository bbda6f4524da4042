// Single-stream compressed files through Node's zlib: gzip (one or many members, RFC 1952) and
// zstd. The whole decompressed stream is one member, named by gzip's FNAME field when present.
import { EMPTY_NAME, capProblem, outputCap, problem } from "./budget";
import { decode, type Codec } from "./inflate";
import type { Budget, Member } from "./types";

/** The FNAME field of the first gzip member (bytes as stored, ISO 8859-1 by the RFC). */
export function gzipName(data: Uint8Array): Uint8Array {
  if (data.length < 10) return EMPTY_NAME;
  const flags = data[3]!;
  let p = 10;
  if (flags & 4) {
    if (p + 2 > data.length) return EMPTY_NAME;
    p += 2 + (data[p]! | (data[p + 1]! << 8)); // FEXTRA
  }
  if (!(flags & 8)) return EMPTY_NAME;
  const end = data.indexOf(0, p);
  return end < 0 ? EMPTY_NAME : data.subarray(p, end);
}

function* readStream(codec: Codec, name: Uint8Array, data: Uint8Array, budget: Budget): Iterable<Member> {
  const cap = outputCap(budget, data.length);
  // gzip's trailer (the last member's size mod 2^32) is not used: in a truncated stream those
  // bytes are compressed data, and a garbage "declared size" made a cut file of zeros look like a
  // bomb (archive-ratio) instead of archive-corrupt. decode() finds the real size within the cap.
  // The trailer's size serves only to size zlib's output buffer (see chunkFor).
  const hint = codec === "gzip" && data.length >= 18 ? new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(data.length - 4, true) : undefined;
  const d = decode(codec, data, cap, budget, codec === "gzip" ? "gzip stream" : "zstd stream", undefined, hint);
  // zlib's output is the member's own buffer, read no more after the yield.
  const owned = d.data !== undefined;
  if (d.data && !budget.charge(d.data.length)) {
    yield { name, data: d.data, owned, problem: capProblem({ limit: 0, code: "archive-total-size" }, budget, codec) };
    return;
  }
  yield d.problem ? { name, data: d.data, owned, problem: d.problem } : { name, data: d.data, owned };
}

export function readGzip(data: Uint8Array, budget: Budget): Iterable<Member> {
  return readStream("gzip", gzipName(data), data, budget);
}

export function* readZstd(data: Uint8Array, budget: Budget): Iterable<Member> {
  // Node's zstd decoder returns what it has when the input ends early: check the frames first.
  const cut = zstdIncomplete(data);
  for (const m of readStream("zstd", EMPTY_NAME, data, budget)) yield cut && !m.problem ? { ...m, problem: problem("archive-corrupt", `zstd stream: ${cut}`) } : m;
}

/**
 * Walks zstd frames (RFC 8878) block by block without decoding: why the stream is incomplete, or
 * undefined when every frame is whole.
 */
export function zstdIncomplete(d: Uint8Array): string | undefined {
  const u32 = (at: number) => (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16)) + d[at + 3]! * 2 ** 24;
  let p = 0;
  while (p < d.length) {
    if (p + 4 > d.length) return "cut inside a frame's magic number";
    const magic = u32(p);
    if (magic >>> 4 === 0x184d2a5) {
      if (p + 8 > d.length) return "cut inside a skippable frame";
      p += 8 + u32(p + 4);
      continue;
    }
    if (magic !== 0xfd2fb528) return p === 0 ? "not a zstd frame" : undefined; // trailing bytes
    const fhd = d[p + 4];
    if (fhd === undefined) return "cut inside a frame header";
    const single = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const dictFlag = fhd & 3;
    const checksum = (fhd >> 2) & 1;
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
    p += 5 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag]! + fcsBytes;
    for (;;) {
      if (p + 3 > d.length) return "cut inside a block header";
      const h = d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16);
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) return "reserved block type";
      p += 3 + (type === 1 ? 1 : size); // an RLE block stores one byte
      if (p > d.length) return "cut inside a block";
      if (last) break;
    }
    p += checksum ? 4 : 0;
    if (p > d.length) return "cut inside the frame checksum";
  }
  return undefined;
}
