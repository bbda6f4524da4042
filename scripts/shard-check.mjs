#!/usr/bin/env node
// Checks the --shard goal on a folder: for N = 1..4 the union of the N shard reports equals the
// full scan's results (each file once, same verdict and SHA-256), and the summaries add up.
//   node scripts/shard-check.mjs FOLDER [RING3]
import { execFileSync } from "node:child_process";

const [folder, bin = "dist/ring3"] = process.argv.slice(2);
if (!folder) throw new Error("usage: shard-check.mjs FOLDER [RING3]");

function scan(extra) {
  let out;
  try {
    out = execFileSync(bin, ["scan", "--no-progress", "--format", "json", "--all", ...extra, folder], { maxBuffer: 1 << 30, env: { ...process.env, CI: "true" } });
  } catch (err) {
    if (err.status !== 1 && err.status !== 2) throw err;
    out = err.stdout;
  }
  return JSON.parse(out.toString("utf8"));
}

const key = (r) => [r.path, ...(r.members ?? [])].join("!");
const t0 = Date.now();
const full = scan([]);
const want = new Map(full.results.map((r) => [key(r), `${r.verdict} ${r.hashes.sha256 ?? ""}`]));
console.log(`full scan: ${full.results.length} results, ${full.summary.files} files (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
let ok = true;
for (let n = 1; n <= 4; n++) {
  const seen = new Map();
  let files = 0;
  const sizes = [];
  for (let k = 1; k <= n; k++) {
    const doc = scan(["--shard", `${k}/${n}`]);
    files += doc.summary.files;
    sizes.push(doc.summary.files);
    for (const r of doc.results) {
      const id = key(r);
      if (seen.has(id)) {
        ok = false;
        console.log(`N=${n}: ${id} in shard ${seen.get(id)} and ${k}`);
      }
      seen.set(id, k);
      if (want.get(id) !== `${r.verdict} ${r.hashes.sha256 ?? ""}`) {
        ok = false;
        console.log(`N=${n}: ${id} differs from the full scan`);
      }
    }
  }
  const missing = [...want.keys()].filter((id) => !seen.has(id));
  if (missing.length > 0 || files !== full.summary.files) ok = false;
  console.log(`N=${n}: ${seen.size} results, ${missing.length} missing, files ${files} (per shard: ${sizes.join(", ")})`);
}
console.log(ok ? "shard-check: OK" : "shard-check: FAILED");
process.exitCode = ok ? 0 : 1;
