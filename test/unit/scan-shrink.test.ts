// A file that shrinks under the engine's reads (after its size was taken) is the file's reason,
// io-error "changed while being scanned", not an engine trap: a trap made the pool retry it on a
// fresh worker, which read the same short file and reported engine-error (races.test.ts).
import { describe, expect, it } from "vitest";
import { FileReader } from "../../src/engines/yara/reader";
import { EngineTrap, runYara } from "../../src/scan/inspect";

/** A source that says it holds `size` bytes but gives only `has` of them. */
const shrunk = (size: number, has: number) => ({ size, read: (offset: number, length: number) => new Uint8Array(Math.max(0, Math.min(length, has - offset))) });

describe("a file that shrank under the engine's reads", () => {
  it("the reader says so with ESHRANK", () => {
    const r = FileReader.from(shrunk(100_000, 1000));
    let thrown: unknown;
    try {
      r.each(0, 100_000, () => undefined);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: "ESHRANK", message: expect.stringMatching(/^short read: 1000 of 100000 bytes at 0$/) });
  });

  it("runYara makes it the file's io-error; any other failure is still an engine trap", () => {
    const r = FileReader.from(shrunk(100_000, 1000));
    const out = runYara(() => {
      r.each(0, 100_000, () => undefined);
      return [];
    }, 0);
    expect(out).toEqual({ findings: [], reason: { code: "io-error", message: "the file changed while being scanned (short read: 1000 of 100000 bytes at 0)" } });
    const changed = runYara(() => {
      throw Object.assign(new Error("the file changed while being scanned: 10 bytes read, 20 now"), { code: "ECHANGED" });
    }, 0);
    expect(changed).toEqual({ findings: [], reason: { code: "io-error", message: "the file changed while being scanned: 10 bytes read, 20 now" } });
    expect(() =>
      runYara(() => {
        throw new Error("unreachable");
      }, 0),
    ).toThrow(EngineTrap);
  });
});
