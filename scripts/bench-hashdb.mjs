// Measures the hash database at scale: parse+build time, memory after build and lookup rate for
// 1,000,000 SHA-256 .hsb signatures and a 1,000,000-line LOKI-style list, generated in memory.
// Run: node --expose-gc scripts/bench-hashdb.mjs [count] [builds]
// The first build of each list is the one a scan pays (cold JIT); later builds show the spread.
import { buildSync } from "esbuild";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.argv[2] ?? 1_000_000);
const BUILDS = Number(process.argv[3] ?? 3);

// The TypeScript sources, bundled as the product ships them.
const dir = mkdtempSync(join(tmpdir(), "ring3-bench-"));
const bundle = join(dir, "hash.cjs");
writeFileSync(
  bundle,
  buildSync({
    entryPoints: [join(root, "src/engines/hash/index.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
  }).outputFiles[0].text,
);
const { HashDb } = createRequire(import.meta.url)(bundle);
rmSync(dir, { recursive: true });

const gc = globalThis.gc ?? (() => console.warn("run with --expose-gc for meaningful memory numbers"));
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
function memory() {
  gc();
  gc();
  return process.memoryUsage();
}
function memoryLine(m, base) {
  const d = (k) => (base ? ` (+${mb(m[k] - base[k])})` : "");
  return `rss ${mb(m.rss)}${d("rss")}, heapUsed ${mb(m.heapUsed)}${d("heapUsed")}, arrayBuffers ${mb(m.arrayBuffers)}${d("arrayBuffers")}`;
}
function hexes(bytes, count) {
  const buf = randomBytes(bytes * count);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.toString("hex", i * bytes, (i + 1) * bytes);
  return out;
}
/** Joins lines the way a file read gives them: one flat string (a joined string would be a rope). */
function flat(lines) {
  return Buffer.from(lines.join("\n") + "\n").toString("utf8");
}

/** makeList() returns { name, text, hits: [{ size, hashes }] }; the text is dropped after the builds. */
function bench(label, makeList) {
  const base = memory();
  let { name, text, hits } = makeList();
  console.log(`\n${label}: ${mb(text.length)} of list text; load average ${loadavg()[0].toFixed(1)} on this machine`);
  let db;
  for (let b = 0; b < BUILDS; b++) {
    db = undefined;
    gc();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    db = HashDb.build([{ name, text }]);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${label}: build ${b + 1}: parse+build ${wall.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (${(cpu.system / 1000).toFixed(0)} system)`);
  }
  text = undefined;
  const after = memory();
  console.log(`${label}: ${db.count.toLocaleString()} signatures (md5 ${db.counts.md5}, sha1 ${db.counts.sha1}, sha256 ${db.counts.sha256}), ${mb(db.byteLength)} of shared memory in use`);
  console.log(`${label}: after build, text released: ${memoryLine(after, base)}`);

  // A million lookups, one in ten a hit.
  const miss = { md5: hexes(16, 300_000), sha1: hexes(20, 300_000), sha256: hexes(32, 300_000) };
  const probes = new Array(1_000_000);
  for (let i = 0; i < probes.length; i++) {
    if (i % 10 === 0) probes[i] = hits[(i / 10) % hits.length];
    else {
      const a = i % 3 === 0 ? "md5" : i % 3 === 1 ? "sha1" : "sha256";
      probes[i] = { size: 1 + (i % 9_999_999), hashes: { [a]: miss[a][i % 300_000] } };
    }
  }
  let found = 0;
  const t1 = performance.now();
  for (let i = 0; i < probes.length; i++) found += db.lookup(probes[i].size, probes[i].hashes).length;
  const ms = performance.now() - t1;
  console.log(`${label}: ${probes.length.toLocaleString()} lookups in ${ms.toFixed(0)} ms (${Math.round((probes.length / ms) * 1000).toLocaleString()}/s), ${found.toLocaleString()} findings`);
  let wanted = 0;
  const t2 = performance.now();
  for (let i = 0; i < probes.length; i++) if (db.algorithmsFor(probes[i].size).sha256) wanted++;
  const ms2 = performance.now() - t2;
  console.log(`${label}: algorithmsFor ${Math.round((probes.length / ms2) * 1000).toLocaleString()}/s (${wanted.toLocaleString()} of ${probes.length.toLocaleString()} sizes want SHA-256)`);
  const t3 = performance.now();
  HashDb.fromShared(db.toShared());
  console.log(`${label}: fromShared ${(performance.now() - t3).toFixed(2)} ms`);
}

console.log(`node ${process.version}, ${N.toLocaleString()} signatures per list, ${BUILDS} builds each`);

bench("hsb", () => {
  const hex = hexes(32, N);
  const lines = new Array(N);
  const hits = [];
  for (let i = 0; i < N; i++) {
    const size = 1 + Math.floor(Math.random() * 10_000_000);
    lines[i] = `${hex[i]}:${size}:Win.Trojan.Gen-${i}-0:73`;
    if (i % 10 === 0 && hits.length < 100_000) hits.push({ size, hashes: { sha256: hex[i] } });
  }
  return { name: "bench.hsb", text: flat(lines), hits };
});

bench("loki", () => {
  const widths = { md5: 16, sha1: 20, sha256: 32 };
  const lines = new Array(N);
  const hits = [];
  for (let i = 0; i < N; i++) {
    const a = i % 3 === 0 ? "md5" : i % 3 === 1 ? "sha1" : "sha256";
    const h = randomBytes(widths[a]).toString("hex");
    // Names repeat per campaign, as in signature-base's hash-iocs.txt.
    lines[i] = `${h};Operation ${Math.floor(i / 20)} - https://example.com/report/${Math.floor(i / 20)}`;
    if (i % 10 === 0 && hits.length < 100_000) hits.push({ size: i, hashes: { [a]: h } });
  }
  return { name: "hash-iocs.txt", text: "# LOKI-style\n" + flat(lines), hits };
});
