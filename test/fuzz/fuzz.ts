// `make fuzz`: runs each target (targets.ts) for FUZZ_SECONDS on inputs mutated from its seed
// corpus (test/fuzz/corpus/<target>/), in a worker thread of its own with a heap limit. The main
// thread is the watchdog: the worker writes each input into shared memory before running it, so an
// input that runs past the per-input budget (a hang) or a worker that dies of its heap limit (a
// blow-up) is saved as well as a thrown crash (shrunk by fast-check). Findings go to
// .cache/fuzz/findings/<target>/; once fixed, an input moves to the corpus, which replay.test.ts
// runs in every `make test`.
//
//   fuzz.cjs [TARGET...]      fuzz (default: every target)
//   fuzz.cjs seeds            write the generated seeds into the corpus (seeds.ts)
//   fuzz.cjs one TARGET FILE  run one input in this thread: time, heap, what it threw
//   fuzz.cjs bench TARGET [N] CPU time per input over N (300) fixed mutated inputs: a target's
//                             cost without the load of the machine it shares (wall time is not)
//
// FUZZ_SECONDS (10) per target, FUZZ_INPUT_MS (2000) per input, FUZZ_HEAP_MB (512), FUZZ_SEED;
// FUZZ_EXECS: a target ends once it ran that many inputs (FUZZ_SECONDS still bounds it).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import fc from "fast-check";
import { zlibFailures } from "../../src/containers/inflate";
import { CORPUS, readCorpus, ROOT } from "./corpus";
import { apply, caseArb, MAX_INPUT, type Case } from "./mutate";
import { TARGETS } from "./targets";

const FINDINGS = path.join(ROOT, ".cache/fuzz/findings");
const ZLIB_RETIRE = 20_000;

/** Shared with the watchdog: [0] running (1) or not, [1] input length, [2] executions, [3] stop (1); then the start time; the worker's thread id; then the input. */
const CONTROL = 16;
function views(sab: SharedArrayBuffer) {
  return { i32: new Int32Array(sab, 0, 4), since: new Float64Array(sab, 16, 1), tid: new Int32Array(sab, 24, 1), input: new Uint8Array(sab, 24 + CONTROL, MAX_INPUT) };
}

/**
 * A hang is an input that used more than its budget of the worker thread's CPU time (Linux:
 * /proc/<pid>/task/<tid>/stat), not of wall time: with `nice -n 19` on a machine shared by other
 * jobs (load 15 on 2 cores), inputs of 3 to 18 ms took over 2 s of wall time and were reported as
 * hangs. An input that blocks without using CPU is still a hang after WALL_FACTOR budgets.
 */
const WALL_FACTOR = 20;
const CLK_TCK = 100; // USER_HZ: the unit of /proc's utime and stime on Linux

function threadCpuMs(tid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** This thread's id, where /proc/thread-self names it (0: unknown, and hangs are wall time). */
function threadId(): number {
  try {
    return Number(path.basename(fs.readlinkSync("/proc/thread-self"))) || 0;
  } catch {
    return 0;
  }
}

interface WorkerInput {
  target: string;
  ms: number;
  seed: number;
  control: SharedArrayBuffer;
}

type FromWorker = { type: "crash"; input: Uint8Array; error: string } | { type: "done" };

async function workerMain(): Promise<void> {
  const { target: name, ms, seed, control } = workerData as WorkerInput;
  const target = TARGETS[name]!;
  const v = views(control);
  v.tid[0] = threadId();
  const corpus = readCorpus(name).map((s) => s.data);
  const small = corpus.filter((s) => s.length <= (target.maxSeedBytes ?? Infinity));
  const seeds = small.length > 0 ? small : corpus;
  await target.setup?.();
  const end = Date.now() + ms;
  const once = (data: Uint8Array): void => {
    if (Atomics.load(v.i32, 3) === 1) process.exit(0); // enough executions (FUZZ_EXECS)
    v.input.set(data.subarray(0, MAX_INPUT));
    v.i32[1] = data.length;
    v.since[0] = Date.now();
    Atomics.store(v.i32, 0, 1);
    try {
      target.run(data);
    } catch (err) {
      if (!target.expected?.(err)) throw err;
    } finally {
      Atomics.store(v.i32, 0, 0);
      Atomics.add(v.i32, 2, 1);
    }
    // As a scan worker retires (src/pool/worker.ts): Node's zlib keeps memory per failed call, which
    // is not the parser's heap. The watchdog starts a fresh worker for the time left.
    if (zlibFailures() >= ZLIB_RETIRE) process.exit(0);
  };
  const report = (input: Uint8Array, err: unknown): void =>
    parentPort!.postMessage({ type: "crash", input, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
  // The seeds as they are first: each must pass.
  for (const s of corpus) {
    await target.before?.();
    try {
      once(s);
    } catch (err) {
      report(s, err);
    }
  }
  let round = 0;
  while (Date.now() < end) {
    const params = { seed: seed + round++, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: Math.max(1, end - Date.now()), markInterruptAsFailure: false, endOnFailure: false };
    const out = target.before
      ? await fc.check(fc.asyncProperty(caseArb, async (c: Case) => (await target.before!(), once(apply(seeds, c)))), params)
      : fc.check(fc.property(caseArb, (c: Case) => once(apply(seeds, c))), params);
    if (out.failed && out.counterexample) report(apply(seeds, out.counterexample[0]), out.errorInstance);
    else if (out.failed) break;
  }
  parentPort!.postMessage({ type: "done" } satisfies FromWorker);
}

interface Tally {
  execs: number;
  crashes: Map<string, string>;
  hangs: number;
  blowups: number;
}

function save(target: string, kind: string, input: Uint8Array, note: string): string {
  const dir = path.join(FINDINGS, target);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${createHash("sha256").update(input).digest("hex").slice(0, 12)}.bin`);
  fs.writeFileSync(file, input);
  fs.writeFileSync(`${file}.txt`, note + "\n");
  return path.relative(ROOT, file);
}

/** One worker's run: resolves when it is done, or was ended for a hang or died of its heap. */
function runWorker(name: string, ms: number, seed: number, budgetMs: number, heapMb: number, tally: Tally, execs: number): Promise<void> {
  const control = new SharedArrayBuffer(24 + CONTROL + MAX_INPUT);
  const v = views(control);
  const worker = new Worker(__filename, { workerData: { target: name, ms, seed, control } satisfies WorkerInput, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  const current = () => v.input.slice(0, Math.min(v.i32[1]!, MAX_INPUT));
  return new Promise((resolve) => {
    let hung = false;
    // The input running when last looked at (its execution count) and the thread's CPU time then.
    let seen = -1;
    let cpuAtSeen = 0;
    const timer = setInterval(() => {
      const n = Atomics.load(v.i32, 2);
      if (execs > 0 && n >= execs) Atomics.store(v.i32, 3, 1);
      if (Atomics.load(v.i32, 0) !== 1) return;
      const wall = Date.now() - v.since[0]!;
      const cpu = v.tid[0]! > 0 ? threadCpuMs(v.tid[0]!) : undefined;
      if (cpu !== undefined && n !== seen) (seen = n), (cpuAtSeen = cpu);
      const why = cpu === undefined ? (wall > budgetMs ? `over ${budgetMs} ms per input` : "") : cpu - cpuAtSeen > budgetMs ? `over ${budgetMs} ms of CPU per input` : wall > WALL_FACTOR * budgetMs ? `over ${WALL_FACTOR * budgetMs} ms per input, CPU or not` : "";
      if (why === "") return;
      hung = true;
      tally.hangs++;
      const f = save(name, "hang", current(), why);
      process.stdout.write(`fuzz: ${name}: HANG (${why}): ${f}\n`);
      void worker.terminate();
    }, 100);
    worker.on("message", (m: FromWorker) => {
      if (m.type !== "crash") return;
      const firstFrame = m.error.split("\n").find((l) => l.trim().startsWith("at ")) ?? "";
      const key = `${m.error.split("\n")[0]} ${firstFrame.trim()}`;
      if (tally.crashes.has(key)) return;
      const f = save(name, "crash", m.input, m.error);
      tally.crashes.set(key, f);
      process.stdout.write(`fuzz: ${name}: CRASH ${m.error.split("\n")[0]} ${firstFrame.trim()}: ${f}\n`);
    });
    worker.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") {
        tally.blowups++;
        const f = save(name, "heap", current(), `over the ${heapMb} MB heap limit`);
        process.stdout.write(`fuzz: ${name}: HEAP (over ${heapMb} MB): ${f}\n`);
      } else {
        const f = save(name, "crash", current(), err.stack ?? err.message);
        tally.crashes.set(`worker ${err.message}`, f);
        process.stdout.write(`fuzz: ${name}: WORKER ERROR ${err.message}: ${f}\n`);
      }
    });
    worker.on("exit", () => {
      clearInterval(timer);
      tally.execs += Atomics.load(v.i32, 2);
      void hung;
      resolve();
    });
  });
}

async function fuzz(names: string[]): Promise<number> {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 10);
  const inputMs = Number(process.env.FUZZ_INPUT_MS ?? 2000);
  const heapMb = Number(process.env.FUZZ_HEAP_MB ?? 512);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const execs = Number(process.env.FUZZ_EXECS ?? 0);
  process.stdout.write(`fuzz: ${names.length} target(s), ${seconds} s each${execs > 0 ? ` or ${execs} executions` : ""}, ${inputMs} ms per input, ${heapMb} MB heap, seed ${seed}\n`);
  let findings = 0;
  for (const name of names) {
    const t = TARGETS[name]!;
    const tally: Tally = { execs: 0, crashes: new Map(), hangs: 0, blowups: 0 };
    const t0 = Date.now();
    let round = 0;
    // After a hang or a blow-up, a fresh worker goes on for the time left.
    while (Date.now() - t0 < seconds * 1000 - 200 && !(execs > 0 && tally.execs >= execs)) {
      await runWorker(name, seconds * 1000 - (Date.now() - t0), seed + 1000 * round++, t.budgetMs ?? inputMs, heapMb, tally, execs > 0 ? execs - tally.execs : 0);
      if (tally.hangs + tally.blowups > 20) break;
    }
    const s = (Date.now() - t0) / 1000;
    const seeds = readCorpus(name).length;
    process.stdout.write(
      `fuzz: ${name}: ${tally.execs} executions in ${s.toFixed(1)} s (${Math.round(tally.execs / s)}/s) from ${seeds} corpus file(s): ` +
        `${tally.crashes.size} crash(es), ${tally.hangs} hang(s), ${tally.blowups} heap blow-up(s)\n`,
    );
    findings += tally.crashes.size + tally.hangs + tally.blowups;
  }
  return findings;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "seeds") {
    const { writeSeeds } = await import("./seeds");
    await writeSeeds(CORPUS);
    return;
  }
  if (args[0] === "one") {
    const t = TARGETS[args[1]!]!;
    await t.setup?.();
    await t.before?.();
    const t0 = performance.now();
    let thrown = "";
    try {
      const data = new Uint8Array(fs.readFileSync(args[2]!));
      // FUZZ_REPEAT=N: the same input N times, to see memory that a single run leaves behind.
      for (let i = Number(process.env.FUZZ_REPEAT ?? 1); i > 0; i--) t.run(data);
    } catch (err) {
      thrown = `${t.expected?.(err) ? "expected" : "CRASH"}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    }
    const m = process.memoryUsage();
    process.stdout.write(`${args[2]}: ${(performance.now() - t0).toFixed(0)} ms, heap ${m.heapUsed >> 20} MB, external ${m.external >> 20} MB, rss ${m.rss >> 20} MB ${thrown}\n`);
    return;
  }
  if (args[0] === "bench") {
    const name = args[1]!;
    const t = TARGETS[name]!;
    const n = Number(args[2] ?? 300);
    const corpus = readCorpus(name).map((s) => s.data);
    const seeds = corpus.filter((s) => s.length <= (t.maxSeedBytes ?? Infinity));
    const cases = fc.sample(caseArb, { seed: 42, numRuns: n });
    await t.setup?.();
    const c0 = process.cpuUsage();
    for (const c of cases) {
      await t.before?.();
      try {
        t.run(apply(seeds, c));
      } catch (err) {
        if (!t.expected?.(err)) process.stdout.write(`CRASH: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    process.stdout.write(`fuzz bench: ${name}: ${n} inputs, ${(ms / n).toFixed(3)} ms of CPU per input (${Math.round((1000 * n) / ms)}/s of one core)\n`);
    return;
  }
  const unknown = args.filter((a) => !(a in TARGETS));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(", ")}; targets: ${Object.keys(TARGETS).join(" ")}`);
  const findings = await fuzz(args.length > 0 ? args : Object.keys(TARGETS));
  if (findings > 0) {
    process.stdout.write(`fuzz: ${findings} finding(s) in ${path.relative(ROOT, FINDINGS)}/ (fix, then move each input into test/fuzz/corpus/<target>/)\n`);
    process.exitCode = 1;
  }
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  });
} else void workerMain();
