// Tests: test/unit (the sources, run by vitest as they are) and test/e2e (the built binaries;
// `make test` builds them first). Files under signatures/ load as text, as in the esbuild bundle.
import * as fs from "node:fs";
import * as path from "node:path";
import { defineConfig, type Plugin } from "vitest/config";

const root = __dirname;
const signatures = path.join(root, "signatures") + path.sep;

const signaturesAsText: Plugin = {
  name: "ring3-signatures-as-text",
  enforce: "pre",
  load(id) {
    const file = id.split("?")[0]!;
    if (!file.startsWith(signatures) || file.endsWith(".json")) return null;
    return `export default ${JSON.stringify(fs.readFileSync(file, "utf8"))};`;
  },
};

export default defineConfig({
  plugins: [signaturesAsText],
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    setupFiles: ["test/setup.ts"],
    // e2e tests start the 110 MB executables, several at a time on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Sources under test read their assets (worker.js, the wasm) from the built bundle.
    env: { RING3_ASSET_DIR: path.join(root, "dist", "assets") },
  },
});
