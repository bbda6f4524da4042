// Messages between the main thread and scan workers. Everything is structured-cloneable; the
// hash database, the compiled rule program and YARA-X's WASM bytes travel as SharedArrayBuffers.
// Files travel in batches (one message for several small files) and results come back in
// batches; a small shared control block says which file a worker is on, so that a crash or a
// hang is pinned on exactly that file.
import type { Limits } from "../containers/types";
import type { SharedHashDb } from "../engines/hash/db";
import type { EngineMode, EngineStats } from "../engines/yara/stats";
import type { Diagnostic, ExternalValue, FileExternals, RuleSource } from "../engines/yara/yarax";
import type { FileInput } from "../scan";
import type { ScanResult } from "../types";

export interface WorkerInit {
  /**
   * YARA-X's WASM bytes (shared): compiled in the worker only when it first needs YARA-X. Null in
   * the single executable: a worker that needs them reads its own asset (most scans never do).
   */
  wasm: Uint8Array | null;
  /** The scan's compiled rule program (shared; engine.ts attaches to it), or null. */
  program: Uint8Array | null;
  /** --engine yara-x: the rules as sources (YARA-X compiles text); else empty. */
  yara: RuleSource[];
  /** --engine: auto (fast path, YARA-X for what it cannot decide) or yara-x (every rule in YARA-X). */
  engine: EngineMode;
  /** --stats: each result carries the engine counters accumulated since the previous one. */
  stats: boolean;
  defines: Record<string, ExternalValue>;
  perFileExternals: (keyof FileExternals)[];
  hashDb: SharedHashDb | null;
  maxFilesize: number;
  /** Per-file YARA timeout in ms (0: none). */
  timeoutMs: number;
  /** Compute SHA-256 of clean files too, and answer clean members (the report shows them with --all). */
  hashClean: boolean;
  /** Container budgets; null: --no-archives (containers are scanned as plain bytes). */
  archives: Limits | null;
  /** 7z-wasm's WASM bytes (the long-tail formats); null when this build does not ship them. */
  sevenZipWasm: Uint8Array | null;
  /** Set by the pool for each worker: see Control. */
  control?: SharedArrayBuffer;
  /**
   * --engine yara-x (issue 12): one Int32 per rule, shared by every worker of the scan, marking
   * the rules of a set that trapped so that the file's retry scans them one by one (engine.ts).
   */
  trapMemo?: SharedArrayBuffer;
}

export type ScanTask = FileInput;

/**
 * The worker's control block, shared with the pool: the id of the file it is scanning (0: none)
 * and when it started on it (Date.now()). Written by the worker before each file, read by the pool
 * only when the worker dies or a timer fires.
 */
export const CONTROL_BYTES = 16;
export function controlViews(sab: SharedArrayBuffer): { current: Int32Array; since: Float64Array } {
  return { current: new Int32Array(sab, 0, 1), since: new Float64Array(sab, 8, 1) };
}

export interface TaskMessage {
  id: number;
  task: ScanTask;
}

export interface Answer {
  id: number;
  result: ScanResult;
  /** Results of members inside the file when it is a container (see src/scan/inspect.ts). */
  members: ScanResult[];
}

export type ToWorker = { type: "scan"; batch: TaskMessage[] };

export type FromWorker =
  | { type: "ready" }
  | { type: "fatal"; errors: Diagnostic[] }
  | { type: "crash"; message: string }
  /**
   * Answers for files in the order they were scanned. `worn`: the worker's YARA-X instance is near
   * its call limit; it stopped after these and the pool replaces it (its other files go elsewhere).
   * `stats`: the engine counters accumulated since the previous message (--stats).
   */
  | { type: "results"; answers: Answer[]; worn: boolean; stats?: EngineStats }
  /**
   * The worker is starting a large file: these files, received and not started, go back to the
   * pool for other workers, and it sends this worker no more until its next answers.
   */
  | { type: "release"; ids: number[] }
  /** YARA-X trapped on this file; the worker stops, the pool replaces it and retries the file once. */
  | { type: "trap"; id: number; message: string };
