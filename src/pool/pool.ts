// The worker pool: starts N scan workers from bundled source (`new Worker(src, { eval: true })`,
// since `new Worker(__filename)` fails inside a single executable), feeds them files in batches,
// and turns a crash or a hung file into an `error` result for exactly that file (the worker's
// control block names it) while a fresh worker takes over and the rest of its batch goes on.
import { addStats, type EngineStats } from "../engines/yara/stats";
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../engines/yara/yarax";
import { verdictOf } from "../scan";
import type { Reason, ScanResult } from "../types";
import { displayPath } from "../util/paths";
import { CONTROL_BYTES, controlViews, type FromWorker, type ScanTask, type TaskMessage, type WorkerInit } from "./protocol";

export class RuleCompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`${diagnostics.length} error(s) compiling rules`);
  }
}

/** No worker could load the rules (a damaged compiled rule file, found by make fuzz): one line, exit 2. */
export class WorkerStartError extends Error {}

/** A top-level file's result and the results of members inside it (archives), in that order. */
export interface FileOutcome {
  result: ScanResult;
  members: ScanResult[];
}

interface Job {
  id: number;
  task: ScanTask;
  resolve(r: FileOutcome): void;
  /** Engine traps seen on this file so far; the second one is the file's result. */
  traps: number;
  /** Times a worker died with this file in its batch but not on it (a guard against endless retries). */
  requeues: number;
}

interface Slot {
  worker: Worker;
  /** Files sent and not yet answered, in the order the worker scans them. */
  jobs: Job[];
  control: ReturnType<typeof controlViews>;
  timer?: NodeJS.Timeout;
  ready: boolean;
  /** On a large file (it released the files behind it): sent nothing more until it answers. */
  large?: boolean;
}

export interface PoolOptions {
  size: number;
  /**
   * The worker's code and its start data, made when the first worker starts: a scan that finds no
   * file (an empty folder, a rescan answered from the cache) never copies the program into shared
   * memory nor decodes the worker's source.
   */
  start: () => { source: string; init: WorkerInit };
  /** A file that takes longer than this (ms) is abandoned: its worker is killed and replaced. 0: never. */
  hardTimeoutMs: number;
  /** Files per message (default BATCH). */
  batch?: number;
}

/**
 * Files per message to a worker. A worker holds at most two batches, so it never waits for the
 * main thread between files; small enough that the last files still spread over every worker.
 */
export const BATCH = 16;
/**
 * About this much work (ms, by the files answered so far) per batch: with a heavy rule set fewer
 * files travel together, so that at the end no worker sits on a queue while another idles.
 */
const BATCH_MS = 25;
/**
 * Each worker's V8 heap limit (MB). Files live in Buffers and WASM memory outside it, so a worker
 * near it is a runaway (members, matches); it dies alone. RING3_WORKER_HEAP_MB lowers it (tests,
 * small machines).
 */
export const WORKER_HEAP_MB = heapLimit(process.env.RING3_WORKER_HEAP_MB);
export function heapLimit(env: string | undefined): number {
  const n = Number(env);
  return Number.isInteger(n) && n >= 16 && n <= 1024 ? n : 1024;
}
/**
 * Each worker's young generation (MB). V8's default (up to 3 x 16 MB semi-spaces) is resident in
 * every worker, and the scan loop allocates little per file. Measured on the bench corpus with
 * signature-base, 2 workers: peak RSS 500-528 MB with 4 MB against 598-615 MB with the default, at
 * the same CPU time. (A large-file run once taken for a slowdown of this cap, 15 against 48 s, was
 * the bench's freshly made 3 GB sparse file being read for the first time: about 27 s of it.)
 */
const WORKER_YOUNG_MB = youngLimit(process.env.RING3_WORKER_YOUNG_MB);
/** RING3_WORKER_YOUNG_MB: 1-64 MB, or 0 for V8's default. */
export function youngLimit(env: string | undefined): number | undefined {
  if (env === undefined || env === "") return 4;
  const n = Number(env);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : n === 0 ? undefined : 4;
}
/** A file in the batch of a worker that died on another file is retried at most this often. */
const MAX_REQUEUES = 3;

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly batch: number;
  private nextId = 1;
  private dispatchSoon = false;
  /** Moving average of a file's scan time (ms), from the answers. */
  private fileMs = 0;
  private closing = false;
  private startError?: Error;
  private readyWaiters: (() => void)[] = [];
  private started?: { source: string; init: WorkerInit };
  /** Workers replaced: after a crash or timeout, or retired before YARA-X's leak traps. */
  respawns = 0;
  /** --stats: the engines' counters over every file answered (workers replaced included). */
  stats?: EngineStats;

  constructor(private readonly opts: PoolOptions) {
    this.batch = Math.max(1, opts.batch ?? BATCH);
  }

  /** Starts the workers and waits until every one has compiled the rules. */
  async start(): Promise<void> {
    for (let i = 0; i < this.opts.size; i++) this.slots.push(this.spawn());
    await new Promise<void>((resolve) => {
      const check = () => {
        // Closed while starting (a stop signal): nothing to wait for.
        if (this.startError || this.closing || this.slots.every((s) => s.ready)) resolve();
        else this.readyWaiters.push(check);
      };
      check();
    });
    if (this.startError) {
      await this.close();
      throw this.startError;
    }
  }

  /** Number of files queued or in a worker. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.jobs.length, 0);
  }

  scan(task: ScanTask): Promise<FileOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, task, resolve, traps: 0, requeues: 0 });
      // The walk hands over a folder's files in one go: dispatch after it, so they travel together.
      if (!this.dispatchSoon) {
        this.dispatchSoon = true;
        setImmediate(() => {
          this.dispatchSoon = false;
          this.dispatch();
        });
      }
    });
  }

  /** Terminates the workers at once; files not answered by then are never answered. */
  async close(): Promise<void> {
    this.closing = true;
    this.notifyReady();
    for (const s of this.slots) clearTimeout(s.timer);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.started ??= this.opts.start();
    const worker = new Worker(this.started.source, {
      eval: true,
      workerData: { ...this.started.init, control },
      // The JS heap of a worker stays small (bytes live in Buffers and WASM memory); a runaway
      // heap ends that worker, not the scan.
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, ...(WORKER_YOUNG_MB !== undefined ? { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } : {}) },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, jobs: [], control: controlViews(control), ready: false };
    worker.on("message", (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on("error", (err: NodeJS.ErrnoException) =>
      this.onDeath(slot, err.code === "ERR_WORKER_OUT_OF_MEMORY" ? `worker ran out of memory (JS heap limit ${WORKER_HEAP_MB} MB); worker replaced` : `worker crashed: ${err.message}`),
    );
    worker.on("exit", (code) => this.onDeath(slot, `worker exited with code ${code}`));
    return slot;
  }

  private notifyReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case "ready":
        slot.ready = true;
        this.notifyReady();
        this.dispatch();
        break;
      case "fatal":
        this.startError ??= new RuleCompileError(msg.errors);
        this.notifyReady();
        break;
      case "crash":
        // The first line: the stack of a worker's load says nothing to a user.
        this.startError ??= new WorkerStartError(`a worker could not load the rules (a damaged compiled rule file?): ${msg.message.split("\n")[0]}`);
        this.notifyReady();
        break;
      case "trap": {
        // The file is tried once more on a fresh worker, since a trap can come from an instance
        // worn by earlier files; this worker is replaced, never trusted with another file.
        const job = this.take(slot, msg.id);
        if (!job) return;
        this.replace(slot);
        job.traps++;
        // Standard input cannot be read twice.
        if (job.traps < 2 && job.task.path !== null) this.queue.unshift(job);
        else job.resolve(errorOutcome(job.task, { code: "engine-error", message: job.traps < 2 ? msg.message : `${msg.message} (twice, on fresh workers)` }));
        this.dispatch();
        break;
      }
      case "release": {
        const back: Job[] = [];
        for (const id of msg.ids) {
          const job = this.take(slot, id);
          if (job) back.push(job);
        }
        slot.large = true;
        this.requeue(back);
        this.dispatch();
        break;
      }
      case "results": {
        slot.large = false;
        if (msg.stats) this.stats = this.stats ? addStats(this.stats, msg.stats) : msg.stats;
        for (const a of msg.answers) {
          this.fileMs += ((a.result.ms ?? 0) - this.fileMs) * 0.05;
          this.take(slot, a.id)?.resolve({ result: a.result, members: a.members });
        }
        if (msg.worn) this.replace(slot);
        this.dispatch();
        break;
      }
      default: {
        const never: never = msg;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** The slot's job with this id, now no longer in flight (undefined: not this slot's any more). */
  private take(slot: Slot, id: number): Job | undefined {
    const i = slot.jobs.findIndex((j) => j.id === id);
    if (i < 0) return undefined;
    const job = slot.jobs[i]!;
    slot.jobs.splice(i, 1);
    if (slot.jobs.length === 0) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    return job;
  }

  /** The files a worker was given and did not answer go back to the front of the queue, in order. */
  private requeue(jobs: Job[]): void {
    this.queue.unshift(...jobs);
  }

  /** Ends a worker that can do no more good work and starts a fresh one in its place. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closing) return;
    clearTimeout(slot.timer);
    const rest = slot.jobs;
    slot.jobs = [];
    this.slots[i] = this.spawn(); // first, so that the old worker's exit is not taken for a crash
    this.respawns++;
    this.requeue(rest);
    void slot.worker.terminate();
  }

  /**
   * A worker died (crash, out of memory, killed after a timeout): the file it was on becomes an
   * error; the other files of its batches are scanned elsewhere.
   */
  private onDeath(slot: Slot, why: string, code: "worker-crash" | "timeout" = "worker-crash"): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already replaced
    clearTimeout(slot.timer);
    const jobs = slot.jobs;
    slot.jobs = [];
    if (this.closing) return;
    if (!slot.ready && jobs.length === 0) {
      // Died while starting: nothing will start better next time.
      this.startError ??= new Error(`worker failed to start: ${why}`);
      this.notifyReady();
      return;
    }
    this.slots[i] = this.spawn();
    this.respawns++;
    if (code === "timeout") void slot.worker.terminate();
    const current = Atomics.load(slot.control.current, 0);
    const rest: Job[] = [];
    for (const job of jobs) {
      if (job.id === current) job.resolve(errorOutcome(job.task, { code, message: why }));
      // Standard input cannot be read twice; a file in a batch of a worker that keeps dying is an error too.
      else if (job.task.path === null || ++job.requeues > MAX_REQUEUES) job.resolve(errorOutcome(job.task, { code, message: `${why} (while on another file)` }));
      else rest.push(job);
    }
    this.requeue(rest);
    this.dispatch();
  }

  private dispatch(): void {
    if (this.closing) return;
    const size = Math.max(1, Math.min(this.batch, Math.floor(BATCH_MS / Math.max(this.fileMs, 0.01))));
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      // A worker holds at most two batches: one it scans, one waiting.
      if (!slot.ready || slot.large || slot.jobs.length >= size) continue;
      // Fewer per batch when the queue is short, so the last files spread over the workers.
      const n = Math.min(size, Math.max(1, Math.ceil(this.queue.length / this.slots.length)));
      const batch = this.queue.splice(0, n);
      slot.jobs.push(...batch);
      if (this.opts.hardTimeoutMs > 0 && slot.timer === undefined) this.watch(slot, this.opts.hardTimeoutMs);
      const msg: TaskMessage[] = batch.map((j) => ({ id: j.id, task: j.task }));
      slot.worker.postMessage({ type: "scan", batch: msg });
    }
  }

  /** Checks, after `ms`, whether the file the worker is on has run past the per-file timeout. */
  private watch(slot: Slot, ms: number): void {
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (slot.jobs.length === 0 || this.slots.indexOf(slot) < 0) return;
      const limit = this.opts.hardTimeoutMs;
      const current = Atomics.load(slot.control.current, 0);
      const elapsed = Date.now() - slot.control.since[0]!;
      if (current !== 0 && slot.jobs.some((j) => j.id === current) && elapsed >= limit) {
        this.onDeath(slot, `no answer within ${Math.round(limit / 1000)}s (--timeout-per-file); worker replaced`, "timeout");
        return;
      }
      // Another file since: its own time left (between files: a full period).
      this.watch(slot, current !== 0 ? Math.max(10, limit - elapsed) : limit);
    }, ms);
  }
}

/** A file whose worker died or hung: one error result; its members are not known. */
function errorOutcome(task: ScanTask, reason: Reason): FileOutcome {
  const p = task.path === null ? "<stdin>" : Buffer.from(task.path);
  return { result: { verdict: verdictOf(0, reason, false), ...displayPath(p), root: task.root, size: null, hashes: {}, findings: [], reason }, members: [] };
}
