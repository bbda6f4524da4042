// The bundled asset's zstd frames are decompressed into one buffer of the size each declares.
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { zstdContentSize } from "../../src/signatures/bundled";

const frame = (n: number, pledged: boolean) =>
  zlib.zstdCompressSync(Buffer.alloc(n, 0x61), pledged ? ({ pledgedSrcSize: n } as zlib.ZstdOptions) : {});

describe("zstdContentSize", () => {
  it("reads every width of the frame-content-size field", () => {
    // 1-byte (single segment), 2-byte (+256), 4-byte and larger sizes.
    for (const n of [0, 1, 200, 255, 256, 300, 65535 + 256, 70_000, 5_000_000]) {
      expect(zstdContentSize(frame(n, true))).toBe(n);
    }
  });
  it("says 0 when the frame does not declare its size, or is not a zstd frame", () => {
    const streamed = zlib.createZstdCompress();
    const chunks: Buffer[] = [];
    streamed.on("data", (c: Buffer) => chunks.push(c));
    streamed.write(Buffer.alloc(1000, 1));
    streamed.end();
    return new Promise<void>((resolve) =>
      streamed.on("end", () => {
        const z = Buffer.concat(chunks);
        expect(zstdContentSize(z)).toBe(0);
        expect(zstdContentSize(Buffer.from("not zstd at all"))).toBe(0);
        expect(zstdContentSize(frame(1000, true).subarray(0, 5))).toBe(0);
        resolve();
      }),
    );
  });
});
