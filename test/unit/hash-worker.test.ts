// The database crosses into a real worker thread as shared memory: built once here, looked up
// there with the same answers, and not copied (a write on one side is seen on the other).
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HashDb, type SharedHashDb } from "../../src/engines/hash/db";
import type { FileHashes } from "../../src/types";

// The hash engine bundled to CommonJS, run by an eval worker: the way a single executable starts
// its workers from a bundled string.
function workerSource(): string {
  const bundle = buildSync({
    entryPoints: [path.join(__dirname, "../../src/engines/hash/db.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
  }).outputFiles[0].text;
  return `
    const module = { exports: {} };
    (function (module, exports) { ${bundle} })(module, module.exports);
    const { HashDb } = module.exports;
    const { parentPort } = require("node:worker_threads");
    let db;
    parentPort.on("message", (m) => {
      try {
        switch (m.op) {
          case "load": {
            const buffers = [m.shared.names, m.shared.nameOffsets, m.shared.labelLists];
            for (const a of ["md5", "sha1", "sha256"]) {
              const t = m.shared[a];
              buffers.push(t.digests, t.sizes, t.labels, t.order, t.sizeSet);
            }
            db = HashDb.fromShared(m.shared);
            parentPort.postMessage({ allShared: buffers.every((b) => b instanceof SharedArrayBuffer), count: db.count, counts: db.counts });
            break;
          }
          case "lookup":
            parentPort.postMessage(m.queries.map((q) => ({ findings: db.lookup(q.size, q.hashes), want: db.algorithmsFor(q.size) })));
            break;
          case "poke": // write into the shared digests so the main thread can see it
            new Uint8Array(m.shared.sha256.digests)[0] ^= 0xff;
            parentPort.postMessage("poked");
            break;
        }
      } catch (e) {
        parentPort.postMessage({ error: String(e && e.stack || e) });
      }
    });`;
}

let worker: Worker;
const ask = <T>(msg: unknown): Promise<T> =>
  new Promise((resolve, reject) => {
    worker.once("message", (m) => (m && m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once("error", reject);
    worker.postMessage(msg);
  });

beforeAll(() => {
  worker = new Worker(workerSource(), { eval: true });
});
afterAll(async () => {
  await worker.terminate();
});

describe("HashDb across worker_threads", () => {
  const sha256 = Array.from({ length: 2000 }, () => randomBytes(32).toString("hex"));
  const md5 = Array.from({ length: 500 }, () => randomBytes(16).toString("hex"));
  const db = HashDb.build([
    { name: "big.hsb", text: sha256.map((h, i) => `${h}:${100 + (i % 17)}:Sig.${i}`).join("\n") },
    { name: "iocs.txt", text: md5.map((h, i) => `${h};Ioc ${i} – ünïcode`).join("\n"), severity: "low" },
  ]);

  test("the worker gets SharedArrayBuffers and the same counts", async () => {
    const r = await ask<{ allShared: boolean; count: number; counts: unknown }>({ op: "load", shared: db.toShared() });
    expect(r.allShared).toBe(true);
    expect(r.count).toBe(2500);
    expect(r.counts).toEqual({ md5: 500, sha1: 0, sha256: 2000 });
  });

  test("lookups and algorithmsFor in the worker equal those in the main thread", async () => {
    const queries: { size: number; hashes: FileHashes }[] = [];
    for (let i = 0; i < 2000; i += 37) queries.push({ size: 100 + (i % 17), hashes: { sha256: sha256[i] } });
    for (let i = 0; i < 500; i += 11) queries.push({ size: i, hashes: { md5: md5[i] } });
    queries.push({ size: 100, hashes: { sha256: sha256[1] } }); // wrong size
    queries.push({ size: 99, hashes: { sha256: randomBytes(32).toString("hex"), md5: randomBytes(16).toString("hex") } });
    const there = await ask<{ findings: unknown[]; want: unknown }[]>({ op: "lookup", queries });
    const here = queries.map((q) => ({ findings: db.lookup(q.size, q.hashes), want: db.algorithmsFor(q.size) }));
    expect(there).toEqual(here);
    expect(here.filter((h) => h.findings.length === 1)).toHaveLength(queries.length - 2);
    expect(here.at(-2)!.findings).toEqual([]); // the wrong size
  });

  test("the memory is shared, not copied", async () => {
    const scratch = HashDb.build([{ name: "s.hsb", text: `${sha256[0]}:1:A` }]);
    const shared: SharedHashDb = scratch.toShared();
    const before = new Uint8Array(shared.sha256.digests)[0];
    expect(await ask({ op: "poke", shared })).toBe("poked");
    expect(new Uint8Array(shared.sha256.digests)[0]).toBe(before ^ 0xff);
  });

  test("fromShared refuses something that is not a database", () => {
    expect(() => HashDb.fromShared({ format: "other" } as unknown as SharedHashDb)).toThrow(/not a ring3 hash database/);
    const broken = { ...db.toShared(), labelCount: 1e9 };
    expect(() => HashDb.fromShared(broken)).toThrow(/shorter than its data/);
  });
});
