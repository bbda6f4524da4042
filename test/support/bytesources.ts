// ByteSources for the tests of reading through a source (yara-source-*.test.ts).
import type { ByteSource } from "../../src/engines/yara/contracts";

/** Reads copied into one scratch buffer that is overwritten with garbage before the next read. */
export function poisonSource(data: Uint8Array): ByteSource & { reads: number; largest: number } {
  let scratch = new Uint8Array(0);
  let last = 0;
  const src = {
    size: data.length,
    reads: 0,
    largest: 0,
    read(offset: number, length: number): Uint8Array {
      scratch.fill(0xee, 0, last);
      const start = Math.min(offset, data.length);
      const end = Math.min(data.length, start + length);
      if (scratch.length < end - start) scratch = new Uint8Array(end - start);
      scratch.set(data.subarray(start, end));
      last = end - start;
      src.reads++;
      src.largest = Math.max(src.largest, last);
      return scratch.subarray(0, last);
    },
  };
  return src;
}
