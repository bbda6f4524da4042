// Symbian installation files (EPOC release 3 to 6 .sis): a header of UIDs and counts, then file
// records whose bytes are zlib streams (unless the header says they are stored). Only plain and
// multi-language file records are read; option and condition records end the list, which makes
// the file partial (archive-unsupported) instead of silently clean.
import { outputCap, problem } from "./budget";
import { Gate, cleanName, corrupt, memberOf } from "./carrier";
import { decode } from "./inflate";
import type { Budget, Member } from "./types";

const UID_ER5 = 0x1000006d;
const UID_ER6 = 0x10003a12;
const UID3 = 0x10000419;

const u16 = (d: Uint8Array, p: number) => (p + 2 <= d.length ? d[p]! | (d[p + 1]! << 8) : 0);
const u32 = (d: Uint8Array, p: number) => (p + 4 <= d.length ? (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0 : 0);

export function isSis(d: Uint8Array): boolean {
  return d.length >= 68 && u32(d, 8) === UID3 && (u32(d, 4) === UID_ER5 || u32(d, 4) === UID_ER6);
}

export function* readSis(d: Uint8Array, budget: Budget): Iterable<Member> {
  const er6 = u32(d, 4) === UID_ER6;
  const langs = Math.max(1, u16(d, 18));
  const files = u16(d, 20);
  const options = u16(d, 36);
  const unicode = (options & 1) !== 0;
  const stored = (options & 8) !== 0;
  const gate = new Gate(budget);
  let p = u32(d, 52);
  const name = (len: number, at: number): string => {
    if (at + len > d.length || len > 1024) return "";
    const b = Buffer.from(d.buffer, d.byteOffset + at, len);
    return cleanName(unicode ? b.toString("utf16le") : b.toString("latin1"));
  };
  for (let i = 0; i < files; i++) {
    if (p + 28 > d.length) return void (yield corrupt("sis: file record cut short"));
    const type = u32(d, p);
    if (type !== 0 && type !== 1) {
      yield { name: new Uint8Array(0), problem: problem("archive-unsupported", `sis: record type ${type} (options, conditions) not read`) };
      return;
    }
    const dest = name(u32(d, p + 20), u32(d, p + 24)) || name(u32(d, p + 12), u32(d, p + 16)) || `file-${i + 1}`;
    const n = type === 0 ? 1 : langs;
    const lengths = p + 28;
    const ptrs = lengths + 4 * n;
    const origs = ptrs + 4 * n;
    for (let k = 0; k < n; k++) {
      const stop = gate.check();
      if (stop) return void (yield stop);
      const len = u32(d, lengths + 4 * k);
      const at = u32(d, ptrs + 4 * k);
      const label = n > 1 ? `${dest}.lang${k}` : dest;
      if (len === 0) continue;
      if (at + len > d.length) {
        yield { name: new TextEncoder().encode(label), problem: problem("archive-corrupt", "sis: file data past the end") };
        continue;
      }
      const raw = d.subarray(at, at + len);
      if (stored) {
        yield memberOf(label, raw, budget);
        continue;
      }
      const body = (raw[0]! & 0x0f) === 8 ? raw.subarray(2) : raw;
      const out = decode("deflate-raw", body, outputCap(budget, len), budget, "sis file");
      if (out.data) yield memberOf(label, out.data, budget, len, out.problem);
      else yield { name: new TextEncoder().encode(label), problem: out.problem ?? problem("archive-corrupt", "sis: no data") };
    }
    // ER6 records also give the uncompressed sizes and a MIME type (length, pointer).
    p = origs + (er6 ? 4 * n + 8 : 0);
  }
}
