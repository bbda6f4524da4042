// Messages between the main thread and scan workers. Everything is structured-cloneable; the
// hash database, the compiled rule program and YARA-X's WASM bytes travel as SharedArrayBuffers.
import type { Limits } from "../containers/types";
import type { SharedHashDb } from "../engines/hash/db";
import type { EngineMode, EngineStats } from "../engines/yara/stats";
import type { Diagnostic, ExternalValue, FileExternals, RuleSource } from "../engines/yara/yarax";
import type { ScanResult } from "../types";

export interface WorkerInit {
  /** YARA-X's WASM bytes (shared): compiled in the worker only when it first needs YARA-X. */
  wasm: Uint8Array;
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
}

export interface ScanTask {
  /** Path bytes; null means standard input. */
  path: Uint8Array | null;
  root: string;
  follow: boolean;
}

export type ToWorker = { type: "scan"; id: number; task: ScanTask };

export type FromWorker =
  | { type: "ready" }
  | { type: "fatal"; errors: Diagnostic[] }
  | { type: "crash"; message: string }
  /** `worn`: the worker's YARA-X instance is near its call limit; the pool replaces the worker. */
  /** `members`: results of members inside the file when it is a container (see inspect.ts). */
  | { type: "result"; id: number; result: ScanResult; members: ScanResult[]; worn: boolean; stats?: EngineStats }
  /** YARA-X trapped on this file; the pool replaces the worker and retries the file once. */
  | { type: "trap"; id: number; message: string };
