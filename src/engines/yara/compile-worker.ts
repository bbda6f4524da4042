// A thread that compiles YARA sources into a program image (image.ts) and ends: the parse trees
// and compiler tables of a large rule set (~250 MB for signature-base) go with the thread's heap
// instead of staying in the main thread's for the whole scan. Started by cli/signatures.ts from
// the `compile.js` asset, for the whole set or for one part of it (buildPart: the parts compile
// side by side and are merged); answers { image } (a view on a SharedArrayBuffer), { errors }, or
// for a part that must be compiled with the whole set, { image: null }. Its work comes as
// workerData, or, for a thread started before the sources were read (its start then overlaps the
// reading), as the first message.
import { parentPort, workerData } from "node:worker_threads";
import { shared } from "../../util/shared";
import { buildImage, buildPart } from "./image";
import type { ExternalValue, RuleSource } from "./yarax";

/** What the thread compiles. */
export interface CompileJob {
  sources: RuleSource[];
  defines: Record<string, ExternalValue>;
  part?: boolean;
}

function run({ sources, defines, part }: CompileJob): void {
  if (part) parentPort!.postMessage({ image: buildPart(sources, defines) });
  else {
    const out = buildImage(sources, defines);
    if (out.image) parentPort!.postMessage({ image: shared(out.image) });
    else parentPort!.postMessage({ errors: out.errors });
  }
}

const job = (workerData as { job?: CompileJob } | null)?.job;
if (job) run(job);
else parentPort!.once("message", (m: CompileJob) => run(m));
