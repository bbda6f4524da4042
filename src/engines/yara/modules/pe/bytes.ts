// Bounds-checked little-endian reads over the scanned bytes. Every read returns undefined past the
// end instead of throwing, so that a truncated or hostile PE fails one parse step, the way YARA-X's
// nom parsers fail, and never the scan.

export function u8(d: Uint8Array, off: number): number | undefined {
  return off >= 0 && off < d.length ? d[off] : undefined;
}

export function u16(d: Uint8Array, off: number): number | undefined {
  return off >= 0 && off + 2 <= d.length ? d[off]! | (d[off + 1]! << 8) : undefined;
}

export function u32(d: Uint8Array, off: number): number | undefined {
  return off >= 0 && off + 4 <= d.length ? (d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16) | (d[off + 3]! << 24)) >>> 0 : undefined;
}

export function u64(d: Uint8Array, off: number): bigint | undefined {
  const lo = u32(d, off);
  const hi = u32(d, off + 4);
  return lo === undefined || hi === undefined ? undefined : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Bytes from `off` up to (not including) the first NUL, or to the end: nom's take_till(|c| c == 0). */
export function cstr(d: Uint8Array, off: number): Uint8Array | undefined {
  if (off < 0 || off > d.length) return undefined;
  let end = d.indexOf(0, off);
  if (end < 0) end = d.length;
  return d.subarray(off, end);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as a string when they are valid UTF-8 (Rust's str::from_utf8), else undefined. */
export function validUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

const enc = new TextEncoder();
export function toBytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rust's eq_ignore_ascii_case over bytes. */
export function equalsIgnoreAsciiCase(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]!;
    let y = b[i]!;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** Last occurrence of `needle` in `hay[0, end)`, as memchr's memmem::rfind; -1 when absent. */
export function rfind(hay: Uint8Array, needle: Uint8Array, end = hay.length): number {
  outer: for (let i = end - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
