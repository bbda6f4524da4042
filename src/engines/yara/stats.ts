// The YARA engines' counters for --stats: kept per worker, sent as differences with results, added
// up by the pool. Plain data, no engine code, so that the main thread can import it cheaply.

export type EngineMode = "auto" | "yara-x";

/** Counters for --stats, per worker; the pool adds them up. */
export interface EngineStats {
  mode: EngineMode;
  rules: number;
  patterns: number;
  atoms: number;
  files: number;
  /** Rule evaluations (rules x files) the fast path decided: true or false. */
  decided: number;
  /** Rule evaluations that went to YARA-X (UNKNOWN after the fast path, public rules only). */
  deferred: number;
  /** Files for which YARA-X was called at all. */
  yaraxFiles: number;
  yaraxCalls: number;
  /** Fallback groups compiled (cache misses). */
  groupsCompiled: number;
  /** Milliseconds: rule loading (parse + compile), matcher passes, evaluations, YARA-X fallback. */
  loadMs: number;
  matchMs: number;
  evalMs: number;
  yaraxMs: number;
}

export function emptyStats(mode: EngineMode): EngineStats {
  return { mode, rules: 0, patterns: 0, atoms: 0, files: 0, decided: 0, deferred: 0, yaraxFiles: 0, yaraxCalls: 0, groupsCompiled: 0, loadMs: 0, matchMs: 0, evalMs: 0, yaraxMs: 0 };
}

/** Figures that describe one worker's rule set and its load, the same in each: never summed. */
const PER_WORKER: ReadonlySet<keyof EngineStats> = new Set(["rules", "patterns", "atoms", "loadMs"]);

export function addStats(a: EngineStats, b: EngineStats): EngineStats {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof EngineStats)[]) {
    if (k === "mode") continue;
    out[k] = PER_WORKER.has(k) ? Math.max(a[k], b[k]) : a[k] + b[k];
  }
  return out;
}

/** Counters accumulated between two snapshots (the per-worker figures are kept as they are). */
export function subtractStats(now: EngineStats, before: EngineStats): EngineStats {
  const out = { ...now };
  for (const k of Object.keys(now) as (keyof EngineStats)[]) {
    if (k === "mode" || PER_WORKER.has(k)) continue;
    out[k] = now[k] - before[k];
  }
  return out;
}
