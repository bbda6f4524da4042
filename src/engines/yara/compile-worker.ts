// A thread that compiles YARA sources into a program image (image.ts) and ends: the parse trees
// and compiler tables of a large rule set (~250 MB for signature-base) go with the thread's heap
// instead of staying in the main thread's for the whole scan. Started by cli/signatures.ts from
// the `compile.js` asset; answers { image } (a view on a SharedArrayBuffer) or { errors }.
import { parentPort, workerData } from "node:worker_threads";
import { buildImage } from "./image";
import type { ExternalValue, RuleSource } from "./yarax";

const { sources, defines } = workerData as { sources: RuleSource[]; defines: Record<string, ExternalValue> };
const out = buildImage(sources, defines);
if (out.image) {
  const image = new Uint8Array(new SharedArrayBuffer(out.image.byteLength));
  image.set(out.image);
  parentPort!.postMessage({ image });
} else parentPort!.postMessage({ errors: out.errors });
