// ../shared beside the checkout (as CI has it): third-party rule sets for compatibility tests,
// read in place, never copied into the project. Missing is a failure, not a skip.
import * as fs from "node:fs";
import * as path from "node:path";

export const SHARED = process.env.RING3_SHARED ?? path.resolve(__dirname, "../../../shared");

export function sharedPath(rel: string): string {
  const p = path.join(SHARED, rel);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: ../shared must sit beside the checkout (or set RING3_SHARED)`);
  return p;
}
