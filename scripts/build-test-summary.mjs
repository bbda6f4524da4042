#!/usr/bin/env node
// Prints vitest's JSON report (--reporter=json) as one closing line, "Tests: N passed, N failed,
// N skipped", the plain form that tools reading only a run's last line understand.
import * as fs from "node:fs";

const file = process.argv[2];
let report;
try {
  report = JSON.parse(fs.readFileSync(file, "utf8"));
} catch {
  process.exit(0); // vitest wrote no report (it failed before running tests): its own output says why
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A test file that fails to load or in a hook has no failed test: count each such file as one.
const brokenFiles = (report.testResults ?? []).filter(
  (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
);
for (const f of brokenFiles) process.stdout.write(`\nfailed to run: ${f.name}: ${(f.message ?? "").split("\n")[0]}\n`);
const failed = (report.numFailedTests ?? 0) + brokenFiles.length;
process.stdout.write(`\nTests: ${report.numPassedTests ?? 0} passed, ${failed} failed, ${skipped} skipped\n`);
