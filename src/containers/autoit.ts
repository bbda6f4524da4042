// Compiled AutoIt 3 executables: after the interpreter, an "AU3!EA05" or "AU3!EA06" block holds
// the script and every FileInstall'd file, each an encrypted record (a stream cipher seeded by a
// constant: Mersenne Twister for EA05, a lagged rotate generator for EA06) that may be compressed
// (an LZSS with 15-bit distances). Each record becomes a member named by its stored file name; the
// script of EA06 stays in its tokenised form (strings and names are readable in it).
import { outputCap, problem } from "./budget";
import { Gate, cleanName, corrupt, memberOf } from "./carrier";
import type { Budget, Member } from "./types";

const u32 = (d: Uint8Array, p: number) => (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0;

/** The keystream of EA05: MT19937 from `seed`, each output shifted right by one, low byte. */
function mtXor(buf: Uint8Array, seed: number): Uint8Array {
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) mt[i] = (Math.imul(0x6c078965, mt[i - 1]! ^ (mt[i - 1]! >>> 30)) + i) >>> 0;
  let idx = 624;
  const out = new Uint8Array(buf.length);
  for (let k = 0; k < buf.length; k++) {
    if (idx === 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
        mt[i] = mt[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      idx = 0;
    }
    let r = mt[idx++]!;
    r ^= r >>> 11;
    r ^= (r << 7) & 0x9d2c5680;
    r ^= (r << 15) & 0xefc60000;
    r ^= r >>> 18;
    out[k] = buf[k]! ^ ((r >>> 1) & 0xff);
  }
  return out;
}

/** The keystream of EA06: 17 words, two taps rotated and added; each byte the top of the second of two steps. */
function lameXor(buf: Uint8Array, seed: number): Uint8Array {
  const g = new Uint32Array(17);
  let s = seed >>> 0;
  for (let i = 0; i < 17; i++) {
    s = (1 - Math.imul(s, 0x53a9b4fb)) >>> 0;
    g[i] = s;
  }
  let c0 = 0;
  let c1 = 10;
  const rotl = (a: number, b: number) => ((a << b) | (a >>> (32 - b))) >>> 0;
  const step = (): number => {
    const r = (rotl(g[c0]!, 9) + rotl(g[c1]!, 13)) >>> 0;
    g[c0] = r;
    c0 = c0 === 0 ? 16 : c0 - 1;
    c1 = c1 === 0 ? 16 : c1 - 1;
    return r;
  };
  for (let i = 0; i < 9; i++) step();
  const out = new Uint8Array(buf.length);
  for (let k = 0; k < buf.length; k++) {
    step();
    out[k] = buf[k]! ^ (step() >>> 24); // (r / 2^32) * 256, as the generator's double arithmetic gives
  }
  return out;
}

/** The records' LZSS: 16-bit big-endian bit groups; a flag bit picks a literal or a (distance, length) copy. */
function unpack(d: Uint8Array, size: number, matchBit: 0 | 1): { data: Uint8Array; error?: string } {
  const out = new Uint8Array(size);
  let n = 0;
  let p = 8;
  let bits = 0;
  let avail = 0;
  const get = (count: number): number => {
    let v = 0;
    for (let i = 0; i < count; i++) {
      if (avail === 0) {
        if (p + 2 > d.length) throw new RangeError("compressed data cut short");
        bits = (d[p]! << 8) | d[p + 1]!;
        p += 2;
        avail = 16;
      }
      avail--;
      v = (v << 1) | ((bits >> avail) & 1);
    }
    return v;
  };
  try {
    while (n < size) {
      if (get(1) === matchBit) {
        const dist = get(15);
        let len = get(2);
        let add = 0;
        if (len === 3) {
          add = 3;
          if ((len = get(3)) === 7) {
            add = 10;
            if ((len = get(5)) === 31) {
              add = 41;
              if ((len = get(8)) === 255) {
                add = 296;
                while ((len = get(8)) === 255) add += 255;
              }
            }
          }
        }
        len += 3 + add;
        if (dist > n || dist === 0 || n + len > size) return { data: out.subarray(0, n), error: "copy outside the output" };
        for (let k = 0; k < len; k++, n++) out[n] = out[n - dist]!;
      } else out[n++] = get(8);
    }
  } catch (err) {
    return { data: out.subarray(0, n), error: (err as Error).message };
  }
  return { data: out };
}

/** Where "AU3!EA05" or "AU3!EA06" starts, within the first 64 KiB after `from`; -1 if absent. */
export function autoitAt(d: Uint8Array, from: number): number {
  const window = Buffer.from(d.buffer, d.byteOffset + from, Math.max(0, Math.min(d.length - from, 64 * 1024)));
  const at = window.indexOf("AU3!EA0", 0, "latin1");
  if (at < 0 || (window[at + 7] !== 0x35 && window[at + 7] !== 0x36)) return -1;
  return from + at;
}

export function* readAutoit(d: Uint8Array, at: number, budget: Budget): Iterable<Member> {
  const ea06 = d[at + 7] === 0x36;
  const gate = new Gate(budget);
  let p = at + 8;
  let sum = 0;
  for (let i = 0; i < 16 && p + i < d.length; i++) sum += d[p + i]!;
  p += 16;
  const K = ea06
    ? { magic: 0x52ca436b, tag: 0xadbc, name: 0xf820, nameSeed: 0xf479, size: 0x87bc, seed: 0x2477, unit: 2 }
    : { magic: 0xceb06dff, tag: 0x29bc, name: 0x29ac, nameSeed: 0xf25e, size: 0x45aa, seed: 0x22af + sum, unit: 1 };
  const xor = ea06 ? lameXor : mtXor;
  let n = 0;
  while (p + 8 <= d.length && u32(d, p) === K.magic) {
    const stop = gate.check();
    if (stop) return void (yield stop);
    n++;
    const tagLen = (u32(d, p + 4) ^ K.tag) * K.unit;
    p += 8 + tagLen;
    if (p + 4 > d.length || tagLen > 1 << 16) return void (yield corrupt("autoit: record header cut short"));
    const nameLen = (u32(d, p) ^ K.name) * K.unit;
    p += 4;
    if (nameLen > 1 << 16 || p + nameLen + 29 > d.length) return void (yield corrupt("autoit: record header cut short"));
    const rawName = xor(d.subarray(p, p + nameLen), ea06 ? (nameLen / 2 + K.nameSeed) & 0xffff : nameLen + K.nameSeed);
    const name = cleanName(ea06 ? Buffer.from(rawName).toString("utf16le") : Buffer.from(rawName).toString("latin1")) || `autoit-${n}`;
    p += nameLen;
    const compressed = d[p] === 1;
    const csize = u32(d, p + 1) ^ K.size;
    p += 13 + 16;
    const body = d.subarray(p, Math.min(d.length, p + csize));
    p += csize;
    const plain = xor(body, K.seed);
    const cut = body.length < csize ? problem("archive-corrupt", "autoit: record cut short") : undefined;
    if (!compressed) {
      yield memberOf(name, plain, budget, undefined, cut);
      continue;
    }
    const usize = plain.length >= 8 ? ((plain[4]! << 24) | (plain[5]! << 16) | (plain[6]! << 8) | plain[7]!) >>> 0 : 0;
    const cap = outputCap(budget, Math.max(1, csize));
    if (plain.length < 8 || plain[0] !== 0x45 || plain[1] !== 0x41) {
      yield { name: new TextEncoder().encode(name), problem: problem("archive-corrupt", "autoit: compressed record without its EA05/EA06 header") };
      continue;
    }
    const out = unpack(plain, Math.min(usize, cap.limit), ea06 ? 0 : 1);
    const why = out.error ? problem("archive-corrupt", `autoit: ${out.error}`) : usize > cap.limit ? problem(cap.code, `autoit: record unpacks to ${usize} bytes, over the ${cap.code} budget`) : cut;
    yield memberOf(name, out.data, budget, csize, why);
  }
  if (n === 0) yield corrupt("autoit: no records after the AU3 header");
}
