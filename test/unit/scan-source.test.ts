// The file-backed ByteSource (positioned reads with a small block cache) gives the bytes a buffer
// gives, at any offset and length, across block edges, clipped to the size; I/O errors are thrown
// as errno errors; a reset points it at another file.
import fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK } from "../../src/scan/source";
import { FileSource, bufferSource } from "../../src/scan";

let dir: string;
let bytes: Buffer;
let file: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-source-"));
  bytes = Buffer.alloc(5 * BLOCK + 123);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >>> 9)) & 0xff;
  file = path.join(dir, "f.bin");
  fs.writeFileSync(file, bytes);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What [offset, offset+length) clipped to the size holds. */
const expected = (offset: number, length: number) => {
  const start = Math.max(0, Math.min(offset, bytes.length));
  return bytes.subarray(start, Math.max(start, Math.min(bytes.length, start + Math.max(0, length))));
};

describe("FileSource", () => {
  it("reads what the file holds, at any offset and length, through the cache", () => {
    const fd = fs.openSync(file, "r");
    try {
      const src = new FileSource(fd, bytes.length);
      const mem = bufferSource(bytes);
      const table: [number, number][] = [
        [0, 2],
        [BLOCK - 1, 2], // across a block edge
        [BLOCK - 3, BLOCK + 10], // three blocks
        [0, 5 * BLOCK + 123], // more than the cache holds
        [bytes.length - 4, 4],
        [bytes.length - 2, 10], // clipped at the end
        [bytes.length, 4], // at the end: nothing
        [bytes.length + 100, 4],
        [7, 0],
        [7, -3],
      ];
      for (const [o, n] of table) {
        expect(Buffer.from(src.read(o, n))).toEqual(expected(o, n));
        expect(Buffer.from(mem.read(o, n))).toEqual(expected(o, n));
      }
      fc.assert(
        fc.property(fc.integer({ min: 0, max: bytes.length + 10 }), fc.integer({ min: 0, max: 3 * BLOCK }), (o, n) => {
          expect(Buffer.from(src.read(o, n)).equals(expected(o, n))).toBe(true);
        }),
        { numRuns: 300 },
      );
    } finally {
      fs.closeSync(fd);
    }
  });

  it("reads each block once while it stays cached", () => {
    const fd = fs.openSync(file, "r");
    try {
      const src = new FileSource(fd, bytes.length);
      for (let i = 0; i < 100; i++) src.read(i * 8, 8); // all in block 0
      expect(src.reads).toBe(1);
      src.read(BLOCK * 2, 4);
      src.read(10, 4); // block 0 still cached
      expect(src.reads).toBe(2);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("points at another file after reset, with nothing of the last one cached", () => {
    const other = path.join(dir, "g.bin");
    fs.writeFileSync(other, "hello, world");
    const fd1 = fs.openSync(file, "r");
    const fd2 = fs.openSync(other, "r");
    try {
      const src = new FileSource(fd1, bytes.length);
      expect(Buffer.from(src.read(0, 5))).toEqual(bytes.subarray(0, 5));
      src.reset(fd2, 12);
      expect(src.size).toBe(12);
      expect(Buffer.from(src.read(0, 100)).toString()).toBe("hello, world");
    } finally {
      fs.closeSync(fd1);
      fs.closeSync(fd2);
    }
  });

  it("throws the errno error of a failed read", () => {
    const fd = fs.openSync(dir, "r"); // a directory: read gives EISDIR
    try {
      expect(() => new FileSource(fd, 100).read(0, 10)).toThrow(expect.objectContaining({ code: "EISDIR" }));
    } finally {
      fs.closeSync(fd);
    }
  });
});
