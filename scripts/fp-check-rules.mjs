#!/usr/bin/env node
// For `make fp-check`: every bundled rule that compiles (the core set and each pack, without
// fp-excluded.tsv's exclusions) as one compiled rule file, each rule file in its own namespace as
// in the build, and the packs' hash lists as files, for `dist/ring3 scan --no-bundled`.
//
//   node scripts/fp-check-rules.mjs OUTDIR     writes OUTDIR/all.rules and OUTDIR/hashes/*.hsb
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./build.mjs";
import { loadHelpers } from "./import-rulesets.mjs";

const out = path.resolve(process.argv[2] ?? path.join(ROOT, ".cache/fp-check"));
const h = await loadHelpers();
const defines = Object.fromEntries(h.FILE_EXTERNALS.map((k) => [k, ""]));
const packs = h.readPacks(path.join(ROOT, "signatures"), { fpExclusions: false });
const images = [];
const sources = [];
fs.rmSync(path.join(out, "hashes"), { recursive: true, force: true });
fs.mkdirSync(path.join(out, "hashes"), { recursive: true });
for (const p of packs) {
  const built = h.buildImage(p.yara, defines);
  if (!built.image) throw new Error(`pack ${p.source.name} does not compile`);
  images.push(built.image);
  sources.push(...p.yara);
  for (const f of p.hashes) fs.writeFileSync(path.join(out, "hashes", `${p.source.name}--${path.basename(f.name)}`), f.text);
}
const file = h.writeCompiled(h.mergeImages(images), { ring3: h.VERSION, sourcesDigest: h.sourcesDigest(sources) });
fs.writeFileSync(path.join(out, "all.rules"), file);
console.log(`fp-check: ${sources.length} rule files compiled into ${path.join(out, "all.rules")}`);
