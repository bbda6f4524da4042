// Bundles the fuzz driver (test/fuzz/fuzz.ts, its targets and seeds) into .cache/fuzz/fuzz.cjs with
// the release build's esbuild options, so it runs on Node 22 like the product. 7z-wasm stays a
// runtime require: it finds its .wasm beside its own module.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { esbuildOptions } from "../../scripts/build.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const esbuild = await import("esbuild");
await esbuild.build({
  ...esbuildOptions(root),
  write: true,
  metafile: false,
  external: ["7z-wasm"],
  entryPoints: [path.join(root, "test/fuzz/fuzz.ts")],
  outfile: path.join(root, ".cache/fuzz/fuzz.cjs"),
});
