// The base64 and base64wide modifiers, as YARA-X implements them (lib/src/scanner/context.rs,
// verify_base64_match): the pattern is encoded after 0, 1 and 2 bytes of padding; the characters
// that depend only on the pattern are searched literally; a hit is confirmed by strictly decoding
// a slightly wider window (invalid characters or non-zero trailing bits reject it).

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export interface Base64Variant {
  pattern: Uint8Array;
  padding: number;
  alphabet: string;
  wide: boolean;
  /** The stable characters searched for (widened when `wide`). */
  search: Uint8Array;
  /** Bytes reported per match. */
  matchLen: number;
  decodeDelta: number;
  decodeLen: number;
  decodeTable: Int16Array;
}

function encodedLen(n: number): number {
  return Math.floor(n / 3) * 4 + (n % 3 === 1 ? 2 : n % 3 === 2 ? 3 : 0);
}

function encode(bytes: Uint8Array, alphabet: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += alphabet[(n >>> (18 - 6 * k)) & 63];
  }
  return out;
}

// [decode_start_delta, decode_len - len, match_len - len] by padding and len % 4 (YARA-X's table).
const TABLE: Record<number, Record<number, [number, number, number]>> = {
  0: { 0: [0, 0, 0], 2: [0, 2, -1], 3: [0, 1, -1] },
  1: { 0: [2, 4, -1], 2: [2, 2, -2], 3: [2, 1, -1] },
  2: { 0: [3, 4, -1], 2: [3, 2, -1], 3: [3, 5, -1] },
};

export function base64Variants(pattern: Uint8Array, alphabet: string | undefined, wide: boolean): Base64Variant[] {
  const abc = alphabet ?? STANDARD;
  const decodeTable = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) decodeTable[abc.charCodeAt(i)] = i;
  const len = encodedLen(pattern.length);
  const out: Base64Variant[] = [];
  for (let padding = 0; padding < 3; padding++) {
    const row = TABLE[padding]![len % 4];
    if (!row) continue; // len % 4 === 1 never happens
    const [delta, dl, ml] = row;
    const padded = new Uint8Array(padding + pattern.length);
    padded.set(pattern, padding);
    const enc = encode(padded, abc);
    const matchLen = len + ml;
    const text = Buffer.from(enc.slice(delta, delta + matchLen), "latin1");
    const search = wide ? widenBytes(text) : new Uint8Array(text);
    const k = wide ? 2 : 1;
    out.push({ pattern, padding, alphabet: abc, wide, search, matchLen: matchLen * k, decodeDelta: delta * k, decodeLen: (len + dl) * k, decodeTable });
  }
  return out;
}

export function widenBytes(b: Uint8Array): Uint8Array {
  const w = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) w[2 * i] = b[i]!;
  return w;
}

/** Strict decoding (no padding inside, zero trailing bits); null when not valid base64. */
function decodeStrict(chars: number[], table: Int16Array): Uint8Array | null {
  if (chars.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((chars.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const c of chars) {
    const v = table[c]!;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return null;
  return out.subarray(0, o);
}

/** The match length when the stable characters found at `start` are a real match, else 0. */
export function verifyBase64(v: Base64Variant, data: Uint8Array, start: number): number {
  const from = start - v.decodeDelta;
  if (from < 0) return 0;
  const to = Math.min(data.length, from + v.decodeLen);
  const chars: number[] = [];
  if (v.wide) {
    for (let i = from; i < to; i++) {
      const b = data[i]!;
      if ((i - from) % 2 === 0) {
        if (b !== 0x3d) chars.push(b);
      } else if (b !== 0) return 0;
    }
  } else {
    for (let i = from; i < to; i++) chars.push(data[i]!);
    if (chars.length >= 2 && chars[chars.length - 1] === 0x3d && chars[chars.length - 2] === 0x3d) chars.length -= 2;
    else if (chars.length >= 1 && chars[chars.length - 1] === 0x3d) chars.length -= 1;
  }
  const decoded = decodeStrict(chars, v.decodeTable);
  if (!decoded || decoded.length < v.padding + v.pattern.length) return 0;
  for (let i = 0; i < v.pattern.length; i++) if (decoded[v.padding + i] !== v.pattern[i]) return 0;
  return v.matchLen;
}
