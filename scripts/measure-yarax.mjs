#!/usr/bin/env node
// Measures the fixed cost of one YARA-X scan() call as ring3's worker makes it (a Scanner reused,
// the five LOKI externals set per file), on small buffers where that cost dominates.
//   node scripts/measure-yarax.mjs [RULES_DIR_OR_FILE ...]   (default: the bundled signatures/yara)
import { initSync, Compiler } from "@virustotal/yara-x";
import * as fs from "node:fs";
import * as path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const targets = process.argv.slice(2);
if (targets.length === 0) targets.push(path.join(here, "../signatures/yara"));
const files = targets.flatMap((t) =>
  fs.statSync(t).isDirectory() ? fs.readdirSync(t).filter((f) => /\.yara?$/.test(f)).sort().map((f) => path.join(t, f)) : [t],
);

initSync({ module: fs.readFileSync(path.join(here, "../node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")) });
const externals = ["filename", "filepath", "extension", "filetype", "owner"];
let t = performance.now();
const c = new Compiler();
for (const k of externals) c.defineGlobal(k, "");
for (const f of files) c.addSource(fs.readFileSync(f, "utf8"));
const warnings = c.warnings.length;
const rules = c.build();
const compileMs = performance.now() - t;
const scanner = rules.scanner();
const sizes = [0, 4096, 1 << 20];
const out = { files: files.length, warnings, compileMs: Math.round(compileMs) };
for (const size of sizes) {
  const buf = new Uint8Array(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24;
  const times = [];
  const n = size > 100000 ? 10 : 30;
  for (let i = 0; i < n + 3; i++) {
    const s = performance.now();
    for (const k of externals) scanner.setGlobal(k, `file${i}`);
    scanner.scan(buf);
    if (i >= 3) times.push(performance.now() - s); // the first calls tier up the WASM code
  }
  times.sort((a, b) => a - b);
  out[`scan_${size}B_median_ms`] = Number(times[times.length >> 1].toFixed(2));
}
console.log(JSON.stringify(out));
