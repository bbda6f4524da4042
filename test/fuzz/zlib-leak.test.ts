// The fuzzer's heap findings on gzip and zstd were not ring3's heap: Node 22's sync zlib keeps
// native memory for every call that fails on damaged data (measured: 30,000 failures left 470 MB
// after GC). ring3 counts those failures and a worker retires itself past ZLIB_RETIRE
// (src/pool/worker.ts); this checks the count moves on exactly the failing calls.
import { describe, expect, it } from "vitest";
import { createBudget, DEFAULT_LIMITS } from "../../src/containers";
import { readGzip } from "../../src/containers/stream";
import { zlibFailures } from "../../src/containers/inflate";
import * as A from "../support/archives";
import { readCorpus } from "./corpus";

const drain = (data: Uint8Array): void => {
  for (const m of readGzip(data, createBudget(DEFAULT_LIMITS))) void m;
};

describe("zlib failures are counted for worker retirement", () => {
  it("a damaged gzip stream counts; a whole one does not", () => {
    const before = zlibFailures();
    drain(A.gzip(new TextEncoder().encode("hello, world\n".repeat(50))));
    expect(zlibFailures()).toBe(before);
    const damaged = readCorpus("gzip").find((f) => f.name.startsWith("heap-"))!;
    drain(damaged.data);
    expect(zlibFailures()).toBeGreaterThan(before);
  });
});
