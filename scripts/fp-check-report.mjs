#!/usr/bin/env node
// For `make fp-check`: reads the clean-corpus scans (ndjson) and records each pack rule that hit
// a clean file in fp-excluded.tsv (kept sorted; earlier entries stay), so that the build leaves
// it out of the set. A hit of a core (ring3) rule or of a hash is not excluded but fails the check:
// the core set is fixed by hand.
//   node scripts/fp-check-report.mjs TSV RUN.ndjson...
import * as fs from "node:fs";

const [tsv, ...runs] = process.argv.slice(2);
const today = new Date().toISOString().slice(0, 10);
const HEADER = "namespace\trule\tfile hit on clean data\tdate";
const rows = new Map();
if (fs.existsSync(tsv)) {
  for (const line of fs.readFileSync(tsv, "utf8").split("\n").slice(1)) {
    const [ns, rule] = line.split("\t");
    if (ns && rule) rows.set(`${ns}\t${rule}`, line);
  }
}
const before = rows.size;
const fatal = [];
let files = 0;
for (const run of runs) {
  const label = run.replace(/^.*\//, "").replace(/-_.*$/, "");
  for (const line of fs.readFileSync(run, "utf8").split("\n")) {
    if (!line.startsWith('{"type":"result"')) continue;
    const r = JSON.parse(line);
    if (!r.findings || r.findings.length === 0) continue;
    files++;
    const where = [r.path, ...(r.members ?? [])].join("!").replace(/[\t\n]/g, " ");
    for (const f of r.findings) {
      if (f.engine === "yara" && f.namespace !== "ring3") {
        const key = `${f.namespace}\t${f.rule}`;
        if (!rows.has(key)) rows.set(key, `${key}\t${label}: ${where}\t${today}`);
      } else fatal.push(`${f.engine} ${f.namespace} ${f.rule}: ${where}`);
    }
  }
}
const body = [...rows.values()].sort();
fs.writeFileSync(tsv, [HEADER, ...body].join("\n") + "\n");
console.log(`fp-check: ${files} clean file(s) with findings; ${rows.size - before} rule(s) added to ${tsv} (${rows.size} in all)`);
for (const f of fatal) console.error(`fp-check: core rule or hash on clean data: ${f}`);
process.exit(fatal.length > 0 ? 1 : 0);
