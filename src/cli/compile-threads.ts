// The threads that compile --rules sources for a scan (compile-worker.ts, the `compile.js`
// asset): started early, given their part of the sources when those are read, ended when not
// needed. Their memory (parse trees, compiler tables) goes with them when they end.
import { Worker } from "node:worker_threads";
import type { CompileJob } from "../engines/yara/compile-worker";
import { buildImage, PART_MIN_COST, splitSources } from "../engines/yara/image";
import { REGEX_V8_FLAG } from "../engines/yara/regex";
import type { Diagnostic, ExternalValue, RuleSource } from "../engines/yara/yarax";
import { getAsset } from "../util/assets";

/**
 * buildImage in `compile.js` threads (see compile-worker.ts): the sources cut into COMPILE_PARTS
 * parts by file, a thread each, whose images the caller merges (joinParts' checks); the whole set
 * in one thread when a part cannot be compiled alone (image.ts, buildPart), or with `split`
 * false. `ready`: threads started before the sources were read, used first (the others are
 * ended). In this thread without that asset (sources, tests).
 */
export async function buildInThread(
  sources: RuleSource[],
  defines: Record<string, ExternalValue>,
  split = true,
  ready: CompileThread[] = [],
): Promise<{ image?: Uint8Array; parts?: Uint8Array[]; errors: Diagnostic[]; /** Every thread that answered ran compile.js from the code cache. */ codeCache?: boolean }> {
  const spare = [...ready];
  const started: CompileThread[] = [];
  const run = (job: CompileJob): Promise<CompileAnswer> => {
    const t = spare.shift() ?? startCompileThread();
    if (!t) return Promise.resolve(buildImage(job.sources, job.defines));
    started.push(t);
    t.post(job);
    return t.answer;
  };
  const endSpare = () => {
    for (const t of spare.splice(0)) t.end();
  };
  const parts = split ? splitSources(sources, COMPILE_PARTS) : [sources];
  if (parts.length > 1) {
    // A part that must be compiled with the whole set ends the others' work at once.
    const answers = parts.map((p) => run({ sources: p, defines, part: true }));
    endSpare();
    const images = await Promise.all(
      answers.map((a) =>
        a.then((m) => {
          if (!m.image) throw new WholeSet();
          return m.image;
        }),
      ),
    ).catch((err: unknown) => {
      for (const t of started) t.end();
      if (err instanceof WholeSet) return null;
      throw err;
    });
    if (images) return { parts: images, errors: [], codeCache: started.length > 0 && started.every((t) => t.codeCache()) };
  }
  const answer = run({ sources, defines });
  endSpare();
  const m = await answer;
  const last = started[started.length - 1];
  return { image: m.image ?? undefined, errors: m.errors ?? [], codeCache: last?.codeCache() ?? false };
}

type CompileAnswer = { image?: Uint8Array | null; errors?: Diagnostic[] };

/** A compile.js thread waiting for its job (compile-worker.ts). */
export interface CompileThread {
  post(job: CompileJob): void;
  /** Its answer, once posted a job; rejected when the thread fails or ends without one. */
  answer: Promise<CompileAnswer>;
  end(): void;
  /** Whether V8 took the code cache for its compile.js (known once it has answered). */
  codeCache(): boolean;
}

/**
 * The code every compile thread runs: compile.js through a vm.Script with the V8 code cache that
 * the build made for it (`compile.cache`: the bytecode of the functions a compile runs, so that
 * the thread does not compile them again; the main thread has the executable's own cache).
 * V8 takes a cache only under the flags it was made with: regex.ts sets one when compile.js
 * loads, so it is set here first, as the build did. A cache V8 refuses (another platform, say)
 * only costs that compile. null without the asset.
 */
let threadCode: { code: string; cache?: Uint8Array } | null | undefined;
const BOOT = `const { workerData, parentPort } = require("node:worker_threads");
require("node:v8").setFlagsFromString(${JSON.stringify(REGEX_V8_FLAG)});
const script = new (require("node:vm").Script)(workerData.code, { filename: "compile.js", cachedData: workerData.cache });
parentPort.postMessage({ codeCache: workerData.cache !== undefined && !script.cachedDataRejected });
script.runInThisContext();`;

/** Starts a compile thread that waits for its job; null without the `compile.js` asset. */
function startCompileThread(): CompileThread | null {
  if (threadCode === undefined) {
    try {
      const code = getAsset("compile.js").toString("utf8");
      let cache: Uint8Array | undefined;
      try {
        cache = getAsset("compile.cache");
      } catch {
        cache = undefined;
      }
      threadCode = { code, cache };
    } catch {
      threadCode = null;
    }
  }
  if (!threadCode) return null;
  const w = new Worker(BOOT, { eval: true, workerData: threadCode });
  let codeCache = false;
  const answer = new Promise<CompileAnswer>((resolve, reject) => {
    let got: CompileAnswer | undefined;
    w.on("message", (m: CompileAnswer | { codeCache: boolean }) => {
      if ("codeCache" in m) codeCache = m.codeCache;
      else got = m;
    });
    w.once("error", reject);
    w.once("exit", (code) => (got ? resolve(got) : reject(new Error(`the rule compiler's thread ended (exit code ${code}) without an answer`))));
  });
  answer.catch(() => undefined); // a thread ended before its job is not an error
  return { post: (job) => w.postMessage(job), answer, end: () => void w.terminate(), codeCache: () => codeCache };
}

/**
 * Compile threads for `bytes` of --rules sources, started before those are read so that each
 * thread's start (~0.1 s: a Node environment, compile.js) overlaps the reading: as many as the
 * compile will likely be cut into (splitSources, judged by size), none without sources.
 */
export function startCompileThreads(bytes: number): CompileThread[] {
  if (bytes === 0) return [];
  const n = Math.max(1, Math.min(COMPILE_PARTS, Math.floor(bytes / PART_MIN_COST)));
  const out: CompileThread[] = [];
  for (let k = 0; k < n; k++) {
    const t = startCompileThread();
    if (t) out.push(t);
  }
  return out;
}

/**
 * Parts of a large rule set, whatever the machine: the program is then the same bytes on every
 * machine. Two, as a scan has at least two cores to count on; each thread pays its own start, JIT
 * and heap (+15-25 % CPU in all with two parts for signature-base).
 */
const COMPILE_PARTS = 2;

class WholeSet extends Error {}
