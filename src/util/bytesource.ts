// ByteSources (engines/yara/contracts.ts): positioned reads over bytes in memory or over an open
// file, so that the YARA conditions and modules read a file of any size without holding it whole.
// A file source keeps one scratch buffer, grown to the largest read asked of it.
import * as fs from "node:fs";
import type { ByteSource } from "../engines/yara/contracts";

/** The bytes behind the sources made by bytesSource: readers may keep them instead of copying. */
const held = new WeakMap<ByteSource, Uint8Array>();

/** A source over bytes already in memory: reads are views of them, never copies. */
export function bytesSource(data: Uint8Array): ByteSource {
  const src: ByteSource = {
    size: data.length,
    read(offset, length) {
      const start = Math.max(0, Math.min(offset, data.length));
      return data.subarray(start, Math.max(start, Math.min(data.length, start + Math.max(0, length))));
    },
  };
  held.set(src, data);
  return src;
}

/** The whole content of a source made by bytesSource (kept by the caller), else undefined. */
export function inMemory(src: ByteSource): Uint8Array | undefined {
  return held.get(src);
}

/**
 * A source over an open file of `size` bytes (its size when the read pass ended): positioned
 * reads, so it does not move the descriptor's offset and needs no seek. A file that no longer
 * holds the bytes (it shrank since) is an error, never a short answer read as the file's.
 */
export function fileSource(fd: number, size: number): ByteSource {
  let buf = Buffer.allocUnsafe(0);
  return {
    size,
    read(offset, length) {
      const start = Math.max(0, Math.min(offset, size));
      const want = Math.max(0, Math.min(size - start, length));
      if (buf.length < want) buf = Buffer.allocUnsafe(Math.max(want, Math.min(buf.length * 2, size)));
      let got = 0;
      while (got < want) {
        const n = fs.readSync(fd, buf, got, want - got, start + got);
        if (n === 0) throw Object.assign(new Error(`file shrank below ${start + want} bytes while being scanned`), { code: "ESHRANK" });
        got += n;
      }
      return buf.subarray(0, got);
    },
  };
}
