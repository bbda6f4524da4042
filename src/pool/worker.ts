// A scan worker: threads and messages only. It builds the engines once (setup), then takes
// batches of files, scans each with the file stage (src/scan), and answers in batches. Before each
// file it writes the file's id in the control block it shares with the pool, so that a crash or a
// hang is pinned on that file while the rest of the batch goes to another worker.
import { parentPort, workerData } from "node:worker_threads";
import { prepareSevenZip, sevenZipOnDemand, sevenZipReady, SevenZipWanted } from "../containers";
import { zlibFailures } from "../containers/inflate";
import { HashDb } from "../engines/hash/db";
import { createEngine, emptyStats, subtractStats, type EngineStats, type YaraEngine } from "../engines/yara/engine";
import { engineWorn } from "../engines/yara/yarax";
import { EngineTrap, FileStage } from "../scan";
import { displayPath } from "../util/paths";
import { controlViews, type Answer, type FromWorker, type TaskMessage, type ToWorker, type WorkerInit } from "./protocol";

const init = workerData as WorkerInit;
const port = parentPort!;
const control = init.control ? controlViews(init.control) : undefined;

/** Answers leave in groups: at most this many files, or this long, after the last group. */
const FLUSH_COUNT = 8;
const FLUSH_MS = 50;

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

let yara: YaraEngine | undefined;
/** The engine's counters as last sent (--stats sends the difference with each message). */
let sentStats: EngineStats | undefined;
let stage: FileStage;
let sevenZip: Promise<void> = Promise.resolve();

/** Builds the engines; the stage gets them. (The rule program's attach goes here.) */
async function setup(): Promise<void> {
  if (init.program || init.yara.length > 0) {
    const out = createEngine({ mode: init.engine, program: init.program ?? undefined, sources: init.yara, defines: init.defines, perFileExternals: init.perFileExternals, timeoutMs: init.timeoutMs, wasm: init.wasm, ...(init.trapMemo ? { trapMemo: new Int32Array(init.trapMemo) } : {}) });
    if (!out.engine) {
      post({ type: "fatal", errors: out.errors });
      return;
    }
    yara = out.engine;
    sentStats = emptyStats(init.engine);
  }
  const hashDb = init.hashDb ? HashDb.fromShared(init.hashDb) : undefined;
  stage = new FileStage({ hashDb, yara, yaraTimeoutMs: init.timeoutMs, maxFilesize: init.maxFilesize, reportClean: init.hashClean, limits: init.archives });
  // Without its WASM the 7z-wasm formats come back archive-unsupported: partial, never clean.
  // Compiled and instantiated when a file first needs it (see scanTask): two instances hold 34 MB
  // of WASM memory, and most scans never meet a format only 7-Zip reads.
  if (init.archives && init.sevenZipWasm) sevenZipOnDemand(init.sevenZipWasm);
  post({ type: "ready" });
}

/**
 * Test-only failpoints (RING3_FAILPOINT=crash:NAME, hang:NAME, trap:NAME or pause:NAME): make this
 * worker die, spin or act as if YARA-X trapped on a file whose path ends with NAME, so the
 * end-to-end tests can prove that a crashed or hung worker becomes an `error` result and the scan
 * goes on; `pause` says "ring3 failpoint: pause before open: PATH" on standard error and waits 2 s
 * before opening that file, so the race tests can swap it between the walk and the open. Unset,
 * they cost one comparison; set, they only delay or end a scan (no other effect is reachable).
 */
const FAILPOINT = /^(crash|hang|trap|pause):(.+)$/.exec(process.env.RING3_FAILPOINT ?? "");
const PAUSE_MS = 2000;
function failpoint(task: TaskMessage["task"]): void {
  if (!FAILPOINT || task.path === null) return;
  const p = displayPath(Buffer.from(task.path.buffer, task.path.byteOffset, task.path.byteLength)).path;
  if (!p.endsWith(FAILPOINT[2])) return;
  if (FAILPOINT[1] === "crash") process.exit(70);
  if (FAILPOINT[1] === "trap") throw new EngineTrap("unreachable (failpoint)");
  if (FAILPOINT[1] === "pause") {
    process.stderr.write(`ring3 failpoint: pause before open: ${p}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_MS);
    return;
  }
  for (;;); // hang: only the pool's timeout ends this
}

/** Files received and not yet scanned, in order; one file at a time, never two at once. */
const todo: TaskMessage[] = [];
let draining = false;
/** After a trap or when worn: this worker takes no more files (the pool replaces it). */
let stopped = false;

port.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "scan":
      for (const t of msg.batch) todo.push(t);
      if (!draining) void drain();
      break;
    default: {
      const never: never = msg.type;
      throw new Error(`unknown message ${String(never)}`);
    }
  }
});

async function drain(): Promise<void> {
  draining = true;
  let answers: Answer[] = [];
  let flushed = performance.now();
  try {
    while (todo.length > 0 && !stopped) {
      const { id, task } = todo.shift()!;
      // 7z-wasm is prepared after "ready"; after an error retired its instances, wait for a
      // replacement (resolved promises otherwise).
      if (init.archives && init.sevenZipWasm) await sevenZip.then(sevenZipReady);
      if (control) {
        control.since[0] = Date.now();
        Atomics.store(control.current, 0, id);
      }
      let answer: Answer;
      try {
        if (FAILPOINT) failpoint(task);
        const out = await scanTask(task);
        answer = { id, result: out.result, members: out.members };
      } catch (err) {
        if (!(err instanceof EngineTrap)) throw err;
        // This instance is unusable now (see yarax.ts): answer what is done, then the trap.
        flush(answers, false);
        post({ type: "trap", id, message: `YARA-X: ${err.message}` });
        stopped = true;
        return;
      }
      answers.push(answer);
      // Retire before YARA-X's leak makes it trap, or before zlib's leak on damaged streams adds
      // up (ZLIB_RETIRE): the pool replaces a worn worker.
      if (engineWorn() || zlibFailures() >= ZLIB_RETIRE) {
        flush(answers, true);
        stopped = true;
        return;
      }
      if (control) Atomics.store(control.current, 0, 0);
      // Answer when about to run out of work, every FLUSH_COUNT files (the pool sends more as
      // answers come) or FLUSH_MS; standard input cannot be read twice, so its answer leaves at once.
      if (todo.length <= 1 || answers.length >= FLUSH_COUNT || task.path === null || performance.now() - flushed >= FLUSH_MS) {
        flush(answers, false);
        answers = [];
        flushed = performance.now();
        // Back to the event loop with each group: V8's foreground tasks (incremental marking,
        // the memory reducer) run only there; a worker that never returned to it peaked higher
        // (bench corpus, one worker: 390 MB against 343-378 MB, measured on a loaded machine).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    draining = false;
  }
}

/**
 * One file through the stage. The first file that needs 7z-wasm is scanned again once it is ready
 * (its first pass ended at SevenZipWanted, before any result); standard input, which cannot be
 * read twice, gets 7z-wasm before it is read.
 */
async function scanTask(task: TaskMessage["task"]): Promise<ReturnType<FileStage["scan"]>> {
  if (task.path === null && init.archives && init.sevenZipWasm) await prepare7z();
  try {
    return stage.scan(task, release);
  } catch (err) {
    if (!(err instanceof SevenZipWanted)) throw err;
  }
  await prepare7z();
  return stage.scan(task, release);
}

function prepare7z(): Promise<void> {
  sevenZip = prepareSevenZip(init.sevenZipWasm!);
  sevenZip.catch(crash);
  return sevenZip;
}

/** Failed zlib calls after which a worker retires: about 64 MB of native memory left by Node's zlib. */
const ZLIB_RETIRE = 4096;

/** A file this large takes long enough that the files queued behind it are better scanned elsewhere. */
const LARGE = 1 << 20;

function release(size: number): void {
  if (size < LARGE) return;
  const ids = todo.splice(0).map((t) => t.id);
  post({ type: "release", ids });
}

function flush(answers: Answer[], worn: boolean): void {
  if (answers.length === 0 && !worn) return;
  let stats: EngineStats | undefined;
  if (init.stats && yara && sentStats) {
    const now = { ...yara.stats() };
    stats = subtractStats(now, sentStats);
    sentStats = now;
  }
  post({ type: "results", answers, worn, ...(stats ? { stats } : {}) });
}

function crash(err: unknown): void {
  post({ type: "crash", message: err instanceof Error ? err.stack ?? err.message : String(err) });
}

setup().catch(crash);
