// Bounds-checked little-endian reads over the scanned file. Every read returns undefined past the
// end instead of throwing, so that a truncated or hostile PE fails one parse step, the way YARA-X's
// nom parsers fail, and never the scan. The file is a Bytes: a range of it read through the
// engine's reader (positioned reads and a block cache), never the whole file in memory.
import { FileReader, WHOLE_FILE_MAX } from "../../reader";

/** A range [base, base + length) of the file, as the parser sees it (offsets from its start). */
export class Bytes {
  constructor(
    readonly file: FileReader,
    readonly base: number,
    readonly length: number,
  ) {}

  static of(data: Uint8Array): Bytes {
    return new Bytes(FileReader.of(data), 0, data.length);
  }

  /** Like Uint8Array.subarray: [start, end) clamped to the range. */
  subarray(start: number, end = this.length): Bytes {
    const s = Math.max(0, Math.min(start, this.length));
    const e = Math.max(s, Math.min(end, this.length));
    return new Bytes(this.file, this.base + s, e - s);
  }

  /**
   * The bytes themselves, for values (names, the Rich header) and small structures: a view of a
   * file in memory, else a copy; a copy of more than WHOLE_FILE_MAX (a crafted string running to
   * the end of a huge file) is an error of the scan, not a value made up.
   */
  bytes(): Uint8Array {
    const held = this.file.bytes;
    if (held) return held.subarray(this.base, this.base + this.length);
    if (this.length > WHOLE_FILE_MAX) throw new Error(`pe: a ${this.length}-byte field is over ${WHOLE_FILE_MAX} bytes`);
    return this.file.copy(this.base, this.length);
  }

  /** Offset of the first `byte` at or after `from`, or -1. */
  indexOf(byte: number, from: number): number {
    const i = this.file.indexOf(byte, this.base + Math.max(0, from), this.base + this.length);
    return i < 0 ? -1 : i - this.base;
  }
}

type Data = Bytes | Uint8Array;

function uint(d: Data, off: number, size: number): number | undefined {
  if (off < 0 || off + size > d.length) return undefined;
  if (d instanceof Bytes) return d.file.uint(d.base + off, size, false);
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + d[off + i]!;
  return v;
}

export function u8(d: Data, off: number): number | undefined {
  return uint(d, off, 1);
}

export function u16(d: Data, off: number): number | undefined {
  return uint(d, off, 2);
}

export function u32(d: Data, off: number): number | undefined {
  return uint(d, off, 4);
}

export function u64(d: Data, off: number): bigint | undefined {
  const lo = u32(d, off);
  const hi = u32(d, off + 4);
  return lo === undefined || hi === undefined ? undefined : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Bytes from `off` up to (not including) the first NUL, or to the end: nom's take_till(|c| c == 0). */
export function cstr(d: Bytes, off: number): Uint8Array | undefined {
  if (off < 0 || off > d.length) return undefined;
  let end = d.indexOf(0, off);
  if (end < 0) end = d.length;
  return d.subarray(off, end).bytes();
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
