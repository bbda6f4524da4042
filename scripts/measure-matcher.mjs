#!/usr/bin/env node
// Measures the fast path's string matcher (src/engines/yara/strings) on a rule set and a corpus:
// compile time, atoms, table memory, patterns without atoms, and single-thread MB/s.
//   node scripts/measure-matcher.mjs [RULES_DIR] [CORPUS_DIR] [--limit-mb N]
// String declarations are extracted with a rough regex-based reader (strings: ... condition:)
// until the rule parser is available; declarations it cannot read are counted and skipped.
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const args = process.argv.slice(2);
const limitIdx = args.indexOf("--limit-mb");
const limitMb = limitIdx >= 0 ? Number(args.splice(limitIdx, 2)[1]) : Infinity;
const rulesDir = args[0] ?? "/work/shared/rulesets/signature-base/yara";
const corpusDir = args[1] ?? path.join(here, "../.bench/corpus");

const out = path.join(os.tmpdir(), `ring3-measure-matcher-${process.pid}`);
esbuild.buildSync({
  entryPoints: { strings: path.join(here, "../src/engines/yara/strings/index.ts"), declare: path.join(here, "../src/engines/yara/strings/declare.ts") },
  bundle: true,
  platform: "node",
  format: "esm",
  outdir: out,
  logLevel: "error",
});
const { compilePatterns } = await import(path.join(out, "strings.js"));
const { declare } = await import(path.join(out, "declare.js"));
fs.rmSync(out, { recursive: true, force: true });

// --- extract declarations -------------------------------------------------------------------
const decls = [];
let unreadable = 0;
for (const f of fs.readdirSync(rulesDir).filter((f) => /\.yara?$/.test(f)).sort()) {
  const text = fs.readFileSync(path.join(rulesDir, f), "latin1").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const block of text.matchAll(/\bstrings:\s*([\s\S]*?)\bcondition:/g)) {
    for (const chunk of block[1].split(/(?=\$[A-Za-z0-9_]*\s*=)/)) {
      const m = /^\$[A-Za-z0-9_]*\s*=\s*([\s\S]*)$/.exec(chunk.trim());
      if (!m) continue;
      // Drop a trailing // comment that is outside the literal (rough: after the closing quote/brace/slash).
      let src = m[1].trim().replace(/\s+\/\/[^\n"]*$/gm, "").trim();
      src = Buffer.from(src, "latin1").toString("utf8");
      try {
        decls.push(declare(src));
      } catch {
        unreadable++;
      }
    }
  }
}

// --- compile ----------------------------------------------------------------------------------
const heap0 = process.memoryUsage().heapUsed;
let t = performance.now();
const { set, warnings } = compilePatterns(decls);
const compileMs = performance.now() - t;
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;

// --- corpus -----------------------------------------------------------------------------------
function walk(dir, acc) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else if (e.isFile()) acc.push(p);
  }
  return acc;
}
const files = fs.existsSync(corpusDir) ? walk(corpusDir, []).sort() : [];
const bySub = {};
let bytes = 0;
let scanMs = 0;
let incomplete = 0;
let matched = 0;
for (const f of files) {
  if (bytes / 1e6 >= limitMb) break;
  const data = fs.readFileSync(f);
  t = performance.now();
  const table = set.scan(data);
  const ms = performance.now() - t;
  scanMs += ms;
  bytes += data.length;
  const sub = path.relative(corpusDir, f).split(path.sep)[0];
  const s = (bySub[sub] ??= { bytes: 0, ms: 0 });
  s.bytes += data.length;
  s.ms += ms;
  for (const p of table.hits()) {
    if (table.get(p).complete) matched++;
    else incomplete++;
  }
}
const mbps = (b, ms) => Math.round(b / 1e6 / (ms / 1000));
console.log(
  JSON.stringify(
    {
      declarations: decls.length,
      unreadable,
      warnings: warnings.length,
      atoms: set.atoms,
      atomless: set.atomless?.length,
      compileMs: Math.round(compileMs),
      heapMb: Math.round(heapMb),
      corpusMb: Math.round(bytes / 1e6),
      scanMs: Math.round(scanMs),
      mbPerS: mbps(bytes, scanMs),
      bySubdir: Object.fromEntries(Object.entries(bySub).map(([k, v]) => [k, `${Math.round(v.bytes / 1e6)} MB ${mbps(v.bytes, v.ms)} MB/s`])),
      patternHits: matched,
      incompleteHits: incomplete,
    },
    null,
    1,
  ),
);
