// ByteSources for the engine's conditions and modules: positioned reads over an open file with a
// small block cache (a few 64 KiB blocks: headers, tables and trailers are read many times in
// small pieces), and the same interface over bytes already in memory.
import * as fs from "node:fs";
import type { ByteSource } from "../engines/yara/contracts";

export const BLOCK = 64 << 10;
const BLOCKS = 4;

/** A ByteSource over bytes in memory: views, no copies. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      const start = Math.max(0, Math.min(offset, bytes.length));
      return bytes.subarray(start, Math.max(start, Math.min(bytes.length, start + Math.max(0, length))));
    },
  };
}

/**
 * Positioned reads (pread) on `fd`, `size` bytes long as the caller saw it (fstat, or the bytes the
 * read pass counted). I/O errors are thrown as the errno errors fs.readSync throws. The blocks are
 * allocated once per FileSource and reused with `reset` for the next file (no per-file allocation).
 */
export class FileSource implements ByteSource {
  private fd = -1;
  private _size = 0;
  private readonly blocks: Buffer[] = [];
  /** Block number held by each slot, -1 for none; slot order is use order (most recent last). */
  private readonly held: number[] = [];
  private readonly lengths: number[] = [];
  /** For reads across blocks or larger than a block. */
  private scratch: Buffer = Buffer.alloc(0);
  /** Positioned reads done (tests and --stats). */
  reads = 0;

  constructor(fd?: number, size?: number) {
    for (let i = 0; i < BLOCKS; i++) {
      this.blocks.push(Buffer.allocUnsafe(BLOCK));
      this.held.push(-1);
      this.lengths.push(0);
    }
    if (fd !== undefined) this.reset(fd, size ?? 0);
  }

  get size(): number {
    return this._size;
  }

  /** Points the source at another file; cached blocks are dropped. */
  reset(fd: number, size: number): this {
    this.fd = fd;
    this._size = size;
    this.held.fill(-1);
    // One large read (a module's table, a rule's range) need not be held for the next file.
    if (this.scratch.length > 1 << 20) this.scratch = Buffer.alloc(0);
    return this;
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this._size));
    const end = Math.max(start, Math.min(this._size, start + Math.max(0, length)));
    if (end === start) return new Uint8Array(0);
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    if (first === last) {
      const b = this.block(first);
      const from = start - first * BLOCK;
      // A file shorter now than it was: the view ends where the bytes do.
      return b.buf.subarray(from, Math.min(b.length, end - first * BLOCK));
    }
    const n = end - start;
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    if (last - first + 1 > BLOCKS) {
      // Larger than the cache: one read straight into the scratch buffer.
      const got = this.pread(this.scratch, 0, n, start);
      return this.scratch.subarray(0, got);
    }
    let at = 0;
    for (let k = first; k <= last; k++) {
      const b = this.block(k);
      const from = Math.max(start, k * BLOCK) - k * BLOCK;
      const to = Math.min(end - k * BLOCK, b.length);
      if (to <= from) break;
      b.buf.copy(this.scratch, at, from, to);
      at += to - from;
      if (to < BLOCK) break;
    }
    return this.scratch.subarray(0, at);
  }

  private block(k: number): { buf: Buffer; length: number } {
    let slot = this.held.indexOf(k);
    if (slot < 0) {
      slot = 0; // least recently used
      this.held[slot] = -1;
      this.lengths[slot] = this.pread(this.blocks[slot], 0, BLOCK, k * BLOCK);
      this.held[slot] = k;
    }
    if (slot !== BLOCKS - 1) {
      // Move to most recently used.
      const [buf] = this.blocks.splice(slot, 1);
      const [h] = this.held.splice(slot, 1);
      const [l] = this.lengths.splice(slot, 1);
      this.blocks.push(buf);
      this.held.push(h);
      this.lengths.push(l);
    }
    return { buf: this.blocks[BLOCKS - 1], length: this.lengths[BLOCKS - 1] };
  }

  private pread(buf: Buffer, off: number, len: number, position: number): number {
    let got = 0;
    while (got < len) {
      this.reads++;
      const n = fs.readSync(this.fd, buf, off + got, len - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }
}
