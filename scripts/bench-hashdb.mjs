// Measures the hash database at scale: parse+build time, memory after build and lookup rate for
// 1,000,000 SHA-256 .hsb signatures and a 1,000,000-line LOKI-style list. The lists are generated,
// written to a temporary directory, and each build runs in a fresh process (as a scan pays it: a
// cold JIT, a list read from disk), several times, because this machine is shared and noisy.
//
//   node scripts/bench-hashdb.mjs [signatures=1000000] [runs=3]
import { buildSync } from "esbuild";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const self = fileURLToPath(import.meta.url);
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;

if (process.argv[2] === "--child") child(process.argv[3], process.argv[4], process.argv[5], process.argv[6]);
else parent(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 3));

function parent(n, runs) {
  const dir = fs.mkdtempSync(join(tmpdir(), "ring3-bench-hashdb-"));
  try {
    // The TypeScript sources, bundled as the product ships them.
    const bundle = join(dir, "hash.cjs");
    fs.writeFileSync(
      bundle,
      buildSync({
        entryPoints: [join(dirname(self), "../src/engines/hash/index.ts")],
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        write: false,
      }).outputFiles[0].text,
    );
    console.log(`node ${process.version}; ${n.toLocaleString()} signatures per list; ${runs} cold runs each`);
    for (const [label, make] of [
      ["hsb (SHA-256, ClamAV)", makeHsb],
      ["LOKI-style (md5/sha1/sha256;comment)", makeLoki],
    ]) {
      const { name, text, hits } = make(n);
      const file = join(dir, name);
      fs.writeFileSync(file, text);
      fs.writeFileSync(`${file}.hits.json`, JSON.stringify(hits));
      console.log(`\n${label}: ${name}, ${mb(text.length)}`);
      const results = [];
      for (let r = 0; r < runs; r++) {
        const load = loadavg()[0];
        const p = spawnSync(process.execPath, ["--expose-gc", self, "--child", bundle, file, `${file}.hits.json`, name], {
          encoding: "utf8",
        });
        if (p.status !== 0) throw new Error(`child failed:\n${p.stderr}`);
        const m = JSON.parse(p.stdout);
        results.push(m);
        console.log(
          `  run ${r + 1}: parse+build ${m.wall.toFixed(0)} ms wall, ${m.cpu.toFixed(0)} ms CPU (${m.sys.toFixed(0)} system); ` +
            `db ${mb(m.dbBytes)}; RSS ${mb(m.rssBefore)} -> ${mb(m.rssAfter)} (+${mb(m.rssAfter - m.rssBefore)}), ` +
            `peak ${mb(m.peakRss)}; heapUsed +${mb(m.heapAfter - m.heapBefore)}; ` +
            `${Math.round(m.lookupsPerSecond).toLocaleString()} lookups/s; load average ${load.toFixed(1)}`,
        );
      }
      const first = results[0];
      const wall = results.map((m) => m.wall).sort((a, b) => a - b);
      const cpu = results.map((m) => m.cpu).sort((a, b) => a - b);
      console.log(
        `  ${first.count.toLocaleString()} signatures (md5 ${first.counts.md5}, sha1 ${first.counts.sha1}, sha256 ${first.counts.sha256}); ` +
          `parse+build min ${wall[0].toFixed(0)} / median ${wall[wall.length >> 1].toFixed(0)} ms wall, ` +
          `min ${cpu[0].toFixed(0)} ms CPU; ${first.hits.toLocaleString()} of ${first.lookups.toLocaleString()} lookups hit ` +
          `(${first.findings.toLocaleString()} findings); algorithmsFor ${Math.round(first.algorithmsForPerSecond).toLocaleString()}/s`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function hexes(bytes, count) {
  const buf = randomBytes(bytes * count);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.toString("hex", i * bytes, (i + 1) * bytes);
  return out;
}

function makeHsb(n) {
  const hex = hexes(32, n);
  const lines = new Array(n);
  const hits = [];
  for (let i = 0; i < n; i++) {
    const size = 1 + Math.floor(Math.random() * 10_000_000);
    lines[i] = `${hex[i]}:${size}:Win.Trojan.Gen-${i}-0:73`;
    if (i % 10 === 0 && hits.length < 100_000) hits.push({ size, hashes: { sha256: hex[i] } });
  }
  return { name: "bench.hsb", text: lines.join("\n") + "\n", hits };
}

function makeLoki(n) {
  const widths = { md5: 16, sha1: 20, sha256: 32 };
  const lines = ["# LOKI-style hash IOCs"];
  const hits = [];
  for (let i = 0; i < n; i++) {
    const a = i % 3 === 0 ? "md5" : i % 3 === 1 ? "sha1" : "sha256";
    const h = randomBytes(widths[a]).toString("hex");
    // Comments repeat per campaign, as in signature-base's hash-iocs.txt.
    lines.push(`${h};Operation ${Math.floor(i / 20)} - https://example.com/report/${Math.floor(i / 20)}`);
    if (i % 10 === 0 && hits.length < 100_000) hits.push({ size: i, hashes: { [a]: h } });
  }
  return { name: "hash-iocs.txt", text: lines.join("\n") + "\n", hits };
}

// In a function of its own so that no register of the caller's frame keeps the list text alive.
function readAndBuild(HashDb, file, name) {
  const text = fs.readFileSync(file, "utf8");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const db = HashDb.build([{ name, text }]);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { db, wall, cpu };
}

function child(bundle, file, hitsFile, name) {
  const { HashDb } = createRequire(import.meta.url)(bundle);
  const gc = globalThis.gc;
  gc();
  const before = process.memoryUsage();
  const { db, wall, cpu } = readAndBuild(HashDb, file, name);
  gc();
  gc();
  const after = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;

  // A million lookups, one in ten a hit; the misses spread over the three algorithms.
  const hits = JSON.parse(fs.readFileSync(hitsFile, "utf8"));
  const miss = { md5: hexes(16, 300_000), sha1: hexes(20, 300_000), sha256: hexes(32, 300_000) };
  const probes = new Array(1_000_000);
  for (let i = 0; i < probes.length; i++) {
    if (i % 10 === 0) probes[i] = hits[(i / 10) % hits.length];
    else {
      const a = i % 3 === 0 ? "md5" : i % 3 === 1 ? "sha1" : "sha256";
      probes[i] = { size: 1 + (i % 9_999_999), hashes: { [a]: miss[a][i % 300_000] } };
    }
  }
  let findings = 0;
  let hit = 0;
  const t1 = performance.now();
  for (let i = 0; i < probes.length; i++) {
    const f = db.lookup(probes[i].size, probes[i].hashes).length;
    findings += f;
    if (f > 0) hit++;
  }
  const lookupMs = performance.now() - t1;
  const t2 = performance.now();
  let wanted = 0;
  for (let i = 0; i < probes.length; i++) if (db.algorithmsFor(probes[i].size).sha256) wanted++;
  const forMs = performance.now() - t2;

  process.stdout.write(
    JSON.stringify({
      wall,
      cpu: (cpu.user + cpu.system) / 1000,
      sys: cpu.system / 1000,
      count: db.count,
      counts: db.counts,
      dbBytes: db.byteLength,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      peakRss,
      lookups: probes.length,
      hits: hit,
      findings,
      lookupsPerSecond: (probes.length / lookupMs) * 1000,
      algorithmsForPerSecond: (probes.length / forMs) * 1000,
      wantedSha256: wanted,
    }),
  );
}
