// OLE compound files (.doc, .xls, .ppt, .msi, vbaProject.bin): 7z-wasm lists the streams; this
// adds what Office hides inside them. VBA macro source is compressed (MS-OVBA) in each module
// stream after its p-code: decompressed, it becomes a member "<storage>/VBA/<module>.vba" so that
// macro rules read the code. PowerPoint keeps embedded objects in its document stream as
// ExOleObjStg records (zlib-compressed compound files): each becomes a member of its own.
import { outputCap, problem } from "./budget";
import { memberOf } from "./carrier";
import { decode } from "./inflate";
import { readWith7z } from "./sevenzip";
import type { Budget, Member } from "./types";

const dec = new TextDecoder();

export function* readOle(data: Uint8Array, budget: Budget): Iterable<Member> {
  const streams: Member[] = [];
  for (const m of readWith7z("msi", data, budget)) {
    // The streams are read again below (VBA, PowerPoint objects): never the scan's to release.
    yield m.owned ? { ...m, owned: false } : m;
    if (m.data && m.name.length > 0) streams.push(m);
  }
  const byName = new Map(streams.map((m) => [dec.decode(m.name), m.data!]));
  for (const [name, bytes] of byName) {
    if (!budget.inTime()) return;
    if (name === "PowerPoint Document" || name.endsWith("/PowerPoint Document")) yield* pptObjects(name, bytes, budget);
    else if (name === "VBA/dir" || name.endsWith("/VBA/dir")) yield* vbaModules(name.slice(0, -"dir".length), bytes, byName, budget);
  }
}

/** ExOleObjStg (0x1011) records; instance 1 means a u32 size then a zlib stream. */
function* pptObjects(name: string, d: Uint8Array, budget: Budget): Iterable<Member> {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let n = 0;
  for (let p = 0; p + 8 <= d.length; ) {
    const verInst = v.getUint16(p, true);
    const type = v.getUint16(p + 2, true);
    const len = v.getUint32(p + 4, true);
    if ((verInst & 0xf) === 0xf) {
      p += 8; // a container: its records follow
      continue;
    }
    const body = d.subarray(p + 8, Math.min(d.length, p + 8 + len));
    p += 8 + len;
    if (type !== 0x1011) continue;
    n++;
    const label = `${name}.object-${n}`;
    if (verInst >> 4 !== 1) {
      yield memberOf(label, body, budget);
      continue;
    }
    if (body.length < 6) continue;
    const z = body.subarray(4);
    const out = decode("deflate-raw", (z[0]! & 0x0f) === 8 ? z.subarray(2) : z, outputCap(budget, z.length), budget, label);
    if (out.data) yield memberOf(label, out.data, budget, z.length, out.problem);
    else yield { name: new TextEncoder().encode(label), problem: out.problem ?? problem("archive-corrupt", `${label}: no data`) };
  }
}

/** MS-OVBA 2.4.1 decompression: a signature byte, then chunks of at most 4096 bytes each. */
export function ovbaDecompress(d: Uint8Array, from: number, limit: number): Uint8Array | null {
  if (d[from] !== 1) return null;
  const out: number[] = [];
  let p = from + 1;
  while (p + 2 <= d.length && out.length < limit) {
    const header = d[p]! | (d[p + 1]! << 8);
    const size = (header & 0x0fff) + 3;
    const compressed = header >> 15;
    const end = Math.min(d.length, p + size);
    p += 2;
    const start = out.length;
    if (!compressed) {
      for (; p < end; p++) out.push(d[p]!);
      continue;
    }
    while (p < end) {
      const flags = d[p++]!;
      for (let bit = 0; bit < 8 && p < end; bit++) {
        if (!(flags & (1 << bit))) {
          out.push(d[p++]!);
          continue;
        }
        if (p + 1 >= end) return Uint8Array.from(out);
        const token = d[p]! | (d[p + 1]! << 8);
        p += 2;
        const pos = out.length - start;
        let bits = 4;
        while (1 << bits < pos) bits++;
        const lengthMask = 0xffff >> bits;
        const offset = (token >> (16 - bits)) + 1;
        const length = (token & lengthMask) + 3;
        if (offset > pos) return Uint8Array.from(out); // points before the chunk: damaged
        for (let k = 0; k < length; k++) out.push(out[out.length - offset]!);
        if (out.length - start > 4096) return Uint8Array.from(out.slice(0, limit)); // a chunk holds 4096 at most
      }
    }
  }
  return Uint8Array.from(out.slice(0, limit));
}

/** The dir stream's module records: stream name and where its source starts. */
function* vbaModules(prefix: string, dirStream: Uint8Array, streams: Map<string, Uint8Array>, budget: Budget): Iterable<Member> {
  const dir = ovbaDecompress(dirStream, 0, 1 << 20);
  if (!dir) return void (yield { name: new TextEncoder().encode(`${prefix}dir`), problem: problem("archive-corrupt", "vba: dir stream not compressed as MS-OVBA says") });
  const v = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const modules: { name: string; stream: string; offset: number }[] = [];
  let cur: { name: string; stream: string; offset: number } | undefined;
  for (let p = 0; p + 6 <= dir.length; ) {
    const id = v.getUint16(p, true);
    let size = v.getUint32(p + 2, true);
    if (id === 0x0009) size = 6; // PROJECTVERSION: its size field says 4, six bytes follow
    const body = dir.subarray(p + 6, Math.min(dir.length, p + 6 + size));
    p += 6 + size;
    if (id === 0x0019) modules.push((cur = { name: dec.decode(body), stream: dec.decode(body), offset: 0 }));
    else if (id === 0x001a && cur) cur.stream = dec.decode(body);
    else if (id === 0x0031 && cur && body.length >= 4) cur.offset = body[0]! | (body[1]! << 8) | (body[2]! << 16) | (body[3]! << 24);
  }
  for (const m of modules) {
    const stream = streams.get(prefix + m.stream);
    if (!stream) continue;
    const src = ovbaDecompress(stream, m.offset, outputCap(budget, stream.length).limit);
    const label = `${prefix}${m.stream}.vba`;
    if (!src) yield { name: new TextEncoder().encode(label), problem: problem("archive-corrupt", "vba: module source not found at its offset") };
    else yield memberOf(label, src, budget, stream.length);
  }
}
