// The worker pool: starts N scan workers from bundled source (`new Worker(src, { eval: true })`,
// since `new Worker(__filename)` fails inside a single executable), feeds them one file at a
// time, and turns a crash or a hung file into an `error` result while a fresh worker takes over.
import { addStats, type EngineStats } from "../engines/yara/stats";
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../engines/yara/yarax";
import type { ScanResult } from "../types";
import { displayPath } from "../util/paths";
import type { FromWorker, ScanTask, WorkerInit } from "./protocol";

export class RuleCompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`${diagnostics.length} error(s) compiling rules`);
  }
}

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
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
  ready: boolean;
}

export interface PoolOptions {
  size: number;
  source: string;
  init: WorkerInit;
  /** A file that takes longer than this (ms) is abandoned: its worker is killed and replaced. 0: never. */
  hardTimeoutMs: number;
}

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  private startError?: Error;
  private readyWaiters: (() => void)[] = [];
  /** Workers replaced: after a crash or timeout, or retired before YARA-X's leak traps. */
  respawns = 0;
  /** --stats: the engines' counters over every file answered (workers replaced included). */
  stats?: EngineStats;

  constructor(private readonly opts: PoolOptions) {}

  /** Starts the workers and waits until every one has compiled the rules. */
  async start(): Promise<void> {
    for (let i = 0; i < this.opts.size; i++) this.slots.push(this.spawn());
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.startError || this.slots.every((s) => s.ready)) resolve();
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
    return this.queue.length + this.slots.filter((s) => s.job).length;
  }

  scan(task: ScanTask): Promise<FileOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, task, resolve, traps: 0 });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(this.opts.source, {
      eval: true,
      workerData: this.opts.init,
      // The JS heap of a worker stays small (bytes live in Buffers and WASM memory); a runaway
      // heap ends that worker, not the scan.
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false };
    worker.on("message", (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on("error", (err) => this.onDeath(slot, `worker crashed: ${err.message}`));
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
        this.startError ??= new Error(`worker failed to start: ${msg.message}`);
        this.notifyReady();
        break;
      case "trap": {
        // The file is tried once more on a fresh worker, since a trap can come from an instance
        // worn by earlier files; this worker is replaced, never trusted with another file.
        const job = this.takeJob(slot, msg.id);
        if (!job) return;
        this.replace(slot);
        job.traps++;
        // Standard input cannot be read twice.
        if (job.traps < 2 && job.task.path !== null) this.queue.unshift(job);
        else job.resolve(errorResult(job.task, "engine-error", job.traps < 2 ? msg.message : `${msg.message} (twice, on fresh workers)`));
        this.dispatch();
        break;
      }
      case "result": {
        const job = this.takeJob(slot, msg.id);
        if (!job) return;
        if (msg.worn) this.replace(slot);
        if (msg.stats) this.stats = this.stats ? addStats(this.stats, msg.stats) : msg.stats;
        job.resolve({ result: msg.result, members: msg.members });
        this.dispatch();
        break;
      }
      default: {
        const never: never = msg;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** The slot's job if this answer is for it, now no longer in flight. */
  private takeJob(slot: Slot, id: number): Job | undefined {
    const job = slot.job;
    if (!job || job.id !== id) return undefined;
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    return job;
  }

  /** Ends a worker that can do no more good work and starts a fresh one in its place. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closing) return;
    this.slots[i] = this.spawn(); // first, so that the old worker's exit is not taken for a crash
    this.respawns++;
    void slot.worker.terminate();
  }

  /** A worker died (crash, out of memory, killed after a timeout): its file becomes an error. */
  private onDeath(slot: Slot, why: string, code: "worker-crash" | "timeout" = "worker-crash"): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already replaced
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    if (this.closing) return;
    if (!slot.ready && !job) {
      // Died while starting: nothing will start better next time.
      this.startError ??= new Error(`worker failed to start: ${why}`);
      this.notifyReady();
      return;
    }
    this.slots[i] = this.spawn();
    this.respawns++;
    if (code === "timeout") void slot.worker.terminate();
    if (job) job.resolve(errorResult(job.task, code, why));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      if (this.opts.hardTimeoutMs > 0) {
        slot.timer = setTimeout(
          () => this.onDeath(slot, `no answer within ${Math.round(this.opts.hardTimeoutMs / 1000)}s (--timeout-per-file); worker replaced`, "timeout"),
          this.opts.hardTimeoutMs,
        );
      }
      slot.worker.postMessage({ type: "scan", id: job.id, task: job.task });
    }
  }
}

/** A file whose worker died or hung: one error result; its members are not known. */
function errorResult(task: ScanTask, code: "worker-crash" | "timeout" | "engine-error", message: string): FileOutcome {
  const p = task.path === null ? "<stdin>" : Buffer.from(task.path);
  return { result: { verdict: "error", ...displayPath(p), root: task.root, size: null, hashes: {}, findings: [], reason: { code, message } }, members: [] };
}
