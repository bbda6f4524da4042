// `make conformance`: all of signature-base, loaded as `ring3 --rules DIR` loads it (one
// namespace), through `--engine auto` and `--engine yara-x` over files made from the rules' own
// strings and a sample of the benchmark corpus. Every file must get the same rules and string
// offsets from both. Slow (the oracle costs ~150 ms per file with signature-base), so it is not
// part of `make test`, which runs a fixed subset (test/unit/yara-differential.test.ts).
// A disagreement passes only when `explain` attributes it to a documented YARA-X divergence
// (docs/yara-x-differences.md) with evidence from that file, native YARA 4 included.
//   RING3_CONF_RULE_STRIDE=N   files made from every Nth rule (default 3)
//   RING3_CONF_CORPUS_STRIDE=N every Nth corpus file (default 40; the corpus must exist)
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test } from "vitest";
import { compare, divergenceContext, engines, explain, filesFromRules, initEngines, ROOT, sigbaseFiles, sources, type Disagreement, type Explained } from "../support/differential";

const RULE_STRIDE = Number(process.env.RING3_CONF_RULE_STRIDE ?? 3);
const CORPUS_STRIDE = Number(process.env.RING3_CONF_CORPUS_STRIDE ?? 40);
const CORPUS = path.join(ROOT, ".bench/corpus");

function corpusSample(): { name: string; data: Uint8Array }[] {
  if (!fs.existsSync(CORPUS)) throw new Error(`no corpus at ${CORPUS}: run \`make .bench/corpus.stamp\` first`);
  const all: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) all.push(p);
    }
  };
  visit(CORPUS);
  return all.filter((_, i) => i % CORPUS_STRIDE === 0).map((f) => ({ name: f, data: fs.readFileSync(f) }));
}

test("signature-base: --engine auto equals --engine yara-x", async () => {
  initEngines();
  const srcs = sources(sigbaseFiles());
  const e = engines(srcs);
  const made = filesFromRules(srcs, 1).filter((_, i) => i % RULE_STRIDE === 0);
  const files = [...made, ...corpusSample()];
  const ctx = divergenceContext(srcs);
  const bad: Disagreement[] = [];
  const known: { file: string; explained: Explained[] }[] = [];
  const t0 = performance.now();
  for (const [i, f] of files.entries()) {
    // Let the worker answer vitest's RPC now and then: a scan of minutes without a turn of the
    // event loop ends in "Timeout calling onTaskUpdate", an error that fails the run.
    if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    const d = compare(e, f.name, f.data);
    if (!d) continue;
    const explained = explain(ctx, d, f.data);
    if (explained) known.push({ file: f.name, explained });
    else bad.push(d);
  }
  const s = e.auto.stats();
  console.log(
    `signature-base conformance: ${files.length} files (${made.length} made from rules), ${s.rules} rules, ${s.patterns} patterns, ${s.atoms} atoms; ` +
      `${bad.length} disagreements, ${known.length} more explained by documented YARA-X divergences; fast path alone decided ${(100 * (1 - s.yaraxFiles / s.files)).toFixed(1)}% of files, ` +
      `${((100 * s.decided) / (s.decided + s.deferred)).toFixed(3)}% of rule evaluations; load ${s.loadMs.toFixed(0)} ms; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  for (const k of known) for (const x of k.explained) console.log(`known divergence ${x.divergence}: ${k.file}: ${x.rule} (${x.evidence})`);
  for (const d of bad.slice(0, 30)) console.log(JSON.stringify(d));
  expect(bad).toEqual([]);
});
