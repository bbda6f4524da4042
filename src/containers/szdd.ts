// Old Microsoft compression (COMPRESS.EXE / EXPAND.EXE): SZDD and KWAJ files, one compressed
// file each. SZDD is LZSS with a 4 KiB window; KWAJ stores, XORs or uses the same LZSS (its
// Huffman and MSZIP methods are reported unsupported). Output is capped by the budget before it
// is produced: LZSS expands at most 18 bytes per 2 input bytes, but a cap is cheaper than a proof.
import { outputCap, problem } from "./budget";
import { cleanName, corrupt, latin1, memberOf, startsWith } from "./carrier";
import type { Budget, Member } from "./types";

const SZDD = "SZDD\x88\xf0\x27\x33";
const KWAJ = "KWAJ\x88\xf0\x27\xd1";

export function isSzdd(data: Uint8Array): boolean {
  return startsWith(data, 0, SZDD) || startsWith(data, 0, KWAJ);
}

/** LZSS as SZDD uses it; `truncated` when the input ended inside a token or before `want` bytes. */
function lzss(input: Uint8Array, from: number, limit: number, want: number): { data: Uint8Array; truncated: boolean; over: boolean } {
  const window = new Uint8Array(4096).fill(0x20);
  let pos = 4096 - 16;
  const target = Math.min(limit, want >= 0 ? want : limit);
  const out = new Uint8Array(Math.min(target, Math.max(0, (input.length - from) * 9)));
  let n = 0;
  let p = from;
  let truncated = false;
  const room = () => (n < out.length ? true : ((truncated = want >= 0 && n < want && out.length < target), false));
  outer: while (p < input.length && n < target) {
    const control = input[p++]!;
    for (let bit = 0; bit < 8 && n < target; bit++) {
      if (p >= input.length) break outer;
      if (control & (1 << bit)) {
        if (!room()) break outer;
        const b = input[p++]!;
        out[n++] = b;
        window[pos] = b;
        pos = (pos + 1) & 4095;
      } else {
        if (p + 1 >= input.length) {
          truncated = true;
          break outer;
        }
        let match = input[p]! | ((input[p + 1]! & 0xf0) << 4);
        const len = (input[p + 1]! & 0x0f) + 3;
        p += 2;
        for (let k = 0; k < len && n < target; k++) {
          if (!room()) break outer;
          const b = window[match]!;
          match = (match + 1) & 4095;
          out[n++] = b;
          window[pos] = b;
          pos = (pos + 1) & 4095;
        }
      }
    }
  }
  if (want >= 0 && n < want && !(want > limit && n >= limit)) truncated = true;
  return { data: out.subarray(0, n), truncated, over: want > limit || (want < 0 && n >= limit && p < input.length) };
}

export function* readSzdd(data: Uint8Array, budget: Budget): Iterable<Member> {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const cap = outputCap(budget, data.length);
  if (startsWith(data, 0, SZDD)) {
    if (data.length < 14) return void (yield corrupt("szdd: header cut short"));
    if (data[8] !== 0x41) return void (yield { name: new Uint8Array(0), problem: problem("archive-unsupported", `szdd: compression mode ${data[8]}`) });
    const size = v.getUint32(10, true);
    yield emit("", lzss(data, 14, cap.limit, size), budget, data.length, "szdd");
    return;
  }
  // KWAJ: method, offset of the data, flags for the optional header fields that follow.
  if (data.length < 14) return void (yield corrupt("kwaj: header cut short"));
  const method = v.getUint16(8, true);
  const dataAt = v.getUint16(10, true);
  const flags = v.getUint16(12, true);
  let p = 14;
  let size = -1;
  let base = "";
  let ext = "";
  if (flags & 1) (size = p + 4 <= data.length ? v.getUint32(p, true) : -1), (p += 4);
  if (flags & 2) p += 2;
  if (flags & 4) p += 2 + (p + 2 <= data.length ? v.getUint16(p, true) : 0);
  const z = (max: number): string => {
    const end = data.indexOf(0, p);
    const stop = end < 0 || end - p > max ? Math.min(data.length, p + max) : end;
    const s = latin1(data.subarray(p, stop));
    p = end < 0 || end - p > max ? stop : end + 1;
    return s;
  };
  if (flags & 8) base = z(8);
  if (flags & 16) ext = z(3);
  const name = cleanName(base + (ext ? `.${ext}` : ""));
  if (dataAt > data.length) return void (yield corrupt("kwaj: data offset past the end"));
  const body = data.subarray(dataAt);
  switch (method) {
    case 0:
    case 1: {
      const n = Math.min(body.length, size >= 0 ? size : body.length);
      const out = method === 0 ? body.subarray(0, n) : body.subarray(0, n).map((b) => b ^ 0xff);
      yield memberOf(name, out, budget, undefined, size >= 0 && body.length < size ? problem("archive-corrupt", "kwaj: data cut short") : undefined);
      return;
    }
    case 2:
      yield emit(name, lzss(data, dataAt, cap.limit, size), budget, data.length, "kwaj");
      return;
    default:
      yield { name: new TextEncoder().encode(name), problem: problem("archive-unsupported", `kwaj: compression method ${method}`) };
  }
}

function emit(name: string, r: { data: Uint8Array; truncated: boolean; over: boolean }, budget: Budget, packed: number, what: string): Member {
  if (r.over) {
    const m = memberOf(name, r.data, budget, packed);
    const cap = outputCap(budget, packed);
    return { ...m, problem: m.problem ?? problem(cap.code, `${what}: expands past the ${cap.code} budget`) };
  }
  return memberOf(name, r.data, budget, packed, r.truncated ? problem("archive-corrupt", `${what}: data cut short (truncated?)`) : undefined);
}
