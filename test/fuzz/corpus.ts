// Where the fuzz corpora live (test/fuzz/corpus/<target>/, committed), shared by the fuzzer and
// the replay test. The same path from the sources (test/fuzz) and from the bundle (.cache/fuzz).
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
export const CORPUS = path.join(ROOT, "test/fuzz/corpus");

export function readCorpus(target: string): { name: string; data: Uint8Array }[] {
  const dir = path.join(CORPUS, target);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((name) => ({ name, data: new Uint8Array(fs.readFileSync(path.join(dir, name))) }));
}
