// The measuring scripts' corpus: every regular file under a folder, sorted (symlinks, FIFOs and
// other special files are left out, as a scan leaves them out of its work).
import * as fs from "node:fs";
import * as path from "node:path";

/** Regular files under `dir`, every depth, as sorted paths. */
export function corpusFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
