// How the conditions and modules read the scanned file: through a ByteSource, with a small block
// cache for the scattered small reads they make (uintXX at a few offsets, PE and ELF structures),
// long ranges streamed in pieces past the cache (hashes, statistics), and the whole file kept only
// when it is already in memory or a caller asks for it under a bound it names.
import type { ByteSource } from "./contracts";
import { inMemory } from "../../util/bytesource";

/**
 * The most of a file read into one buffer: for YARA-X (the fallback for rules the fast path leaves
 * UNKNOWN, and the `--engine yara-x` mode: above it those rules are undecided, and the file is
 * partial with a reason), and the largest single field the pe and elf modules materialize (a
 * name that runs to the end of a huge file: above it the scan of that file fails, with a reason).
 */
export const WHOLE_FILE_MAX = 64 << 20;

/** Cache geometry: 8 blocks of 64 KiB (512 KiB) cover headers, tables and trailers of most files. */
const BLOCK = 64 << 10;
const BLOCKS = 8;
/** Long ranges are read in pieces of this size, past the cache. */
const PIECE = 1 << 20;

const FOUND = Symbol("found");

/** Buffer's indexOf (memchr): several times faster than Uint8Array's. */
function find(b: Uint8Array, byte: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.length).indexOf(byte);
}

interface Block {
  /** Block number (file offset / BLOCK); -1 for a free buffer. */
  index: number;
  data: Uint8Array;
  /** Bytes valid (less than BLOCK only for the file's last block). */
  length: number;
}

export class FileReader implements ByteSource {
  /** Most recently used first. */
  private readonly blocks: Block[] = [];
  private scratch = new Uint8Array(0);
  private heldBuf: Buffer | undefined;

  private constructor(
    readonly size: number,
    private readonly source: ByteSource | undefined,
    /** The whole file, when it is in memory. */
    private held: Uint8Array | undefined,
  ) {}

  /** A reader over bytes in memory (a buffer scan, an archive member). */
  static of(data: Uint8Array): FileReader {
    return new FileReader(data.length, undefined, data);
  }

  /** A reader over any source; a FileReader is returned as it is (one cache per file). */
  static from(source: ByteSource): FileReader {
    if (source instanceof FileReader) return source;
    const data = inMemory(source);
    return new FileReader(source.size, data ? undefined : source, data);
  }

  /** The whole file when it is in memory (no read needed), else undefined. */
  get bytes(): Uint8Array | undefined {
    return this.held;
  }

  /**
   * The whole file in one buffer: the bytes in memory, or read once through the source (and kept
   * for the rest of this file's scan) when the file is at most `max` bytes; undefined above it.
   */
  whole(max: number): Uint8Array | undefined {
    if (this.held) return this.held;
    if (this.size > max) return undefined;
    const out = new Uint8Array(this.size);
    this.each(0, this.size, (chunk, at) => out.set(chunk, at));
    this.held = out;
    this.blocks.length = 0;
    return out;
  }

  /**
   * Bytes [offset, offset+length) clipped to the file: a view valid until the next read through
   * this reader (copy() keeps them).
   */
  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.size));
    const end = Math.max(start, Math.min(this.size, start + Math.max(0, length)));
    if (this.held) return this.held.subarray(start, end);
    if (start === end) return new Uint8Array(0);
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    if (first === last) {
      const b = this.block(first);
      return b.data.subarray(start - first * BLOCK, end - first * BLOCK);
    }
    if (last - first < BLOCKS / 2) {
      // A small read across block boundaries: assembled from cached blocks.
      if (this.scratch.length < end - start) this.scratch = new Uint8Array(Math.max(end - start, 2 * BLOCK));
      for (let k = first; k <= last; k++) {
        const b = this.block(k);
        const from = Math.max(start, k * BLOCK);
        const to = Math.min(end, k * BLOCK + b.length);
        this.scratch.set(b.data.subarray(from - k * BLOCK, to - k * BLOCK), from - start);
      }
      return this.scratch.subarray(0, end - start);
    }
    return this.direct(start, end - start);
  }

  /** Bytes [offset, offset+length) clipped to the file, in a buffer of their own. */
  copy(offset: number, length: number): Uint8Array {
    return this.read(offset, length).slice();
  }

  /** The byte at `offset`, undefined outside the file. */
  u8(offset: number): number | undefined {
    if (offset < 0 || offset >= this.size) return undefined;
    if (this.held) return this.held[offset];
    const k = Math.floor(offset / BLOCK);
    return this.block(k).data[offset - k * BLOCK];
  }

  /** An unsigned integer of `size` bytes at `offset`, undefined when it is not all inside the file. */
  uint(offset: number, size: number, bigEndian: boolean): number | undefined {
    if (offset < 0 || offset + size > this.size) return undefined;
    let b: Uint8Array;
    let o: number;
    if (this.held) {
      b = this.held;
      o = offset;
    } else {
      const k = Math.floor(offset / BLOCK);
      if (Math.floor((offset + size - 1) / BLOCK) === k) {
        b = this.block(k).data;
        o = offset - k * BLOCK;
      } else {
        b = this.read(offset, size);
        o = 0;
      }
    }
    let v = 0;
    if (bigEndian) for (let i = 0; i < size; i++) v = v * 256 + b[o + i];
    else for (let i = size - 1; i >= 0; i--) v = v * 256 + b[o + i];
    return v;
  }

  /** The offset of the first `byte` in [from, end) (clipped to the file), or -1. */
  indexOf(byte: number, from: number, end = this.size): number {
    const s = Math.max(0, Math.min(from, this.size));
    const e = Math.max(s, Math.min(end, this.size));
    if (this.held) {
      this.heldBuf ??= Buffer.from(this.held.buffer, this.held.byteOffset, this.held.length);
      const i = this.heldBuf.subarray(s, e).indexOf(byte);
      return i < 0 ? -1 : s + i;
    }
    // Through the cache first (most searches end within a few bytes), then in pieces.
    const near = Math.min(e, (Math.floor(s / BLOCK) + 1) * BLOCK);
    if (near > s) {
      const i = find(this.read(s, near - s), byte);
      if (i >= 0) return s + i;
    }
    let found = -1;
    try {
      this.each(near, e, (piece, at) => {
        const i = find(piece, byte);
        if (i >= 0) {
          found = at + i;
          throw FOUND;
        }
      });
    } catch (err) {
      if (err !== FOUND) throw err;
    }
    return found;
  }

  /**
   * The bytes [start, end) clipped to the file, in order, in pieces (one for bytes in memory);
   * `fn` gets each piece (valid during the call) and its file offset.
   */
  each(start: number, end: number, fn: (chunk: Uint8Array, at: number) => void): void {
    const s = Math.max(0, Math.min(start, this.size));
    const e = Math.max(s, Math.min(end, this.size));
    if (this.held) {
      fn(this.held.subarray(s, e), s);
      return;
    }
    for (let at = s; at < e; ) {
      const n = Math.min(PIECE, e - at);
      fn(this.direct(at, n), at);
      at += n;
    }
  }

  private direct(start: number, length: number): Uint8Array {
    const got = this.source!.read(start, length);
    // The file shrank after its size was taken: the file's reason, not the engine's (scan/inspect.ts).
    if (got.length !== length) throw Object.assign(new Error(`short read: ${got.length} of ${length} bytes at ${start}`), { code: "ESHRANK" });
    return got;
  }

  private block(index: number): Block {
    const blocks = this.blocks;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      if (b.index !== index) continue;
      if (i > 0) {
        blocks.splice(i, 1);
        blocks.unshift(b);
      }
      return b;
    }
    const b: Block = blocks.length < BLOCKS ? { index: -1, data: new Uint8Array(BLOCK), length: 0 } : blocks.pop()!;
    const start = index * BLOCK;
    const length = Math.min(BLOCK, this.size - start);
    b.index = -1; // not valid until the read succeeds
    b.data.set(this.direct(start, length));
    b.index = index;
    b.length = length;
    blocks.unshift(b);
    return b;
  }
}
