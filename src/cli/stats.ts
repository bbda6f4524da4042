// --stats: what the YARA engine did, on standard error after the report (so that a report on
// standard output stays machine-readable). Figures are summed over the workers; the load line is
// one worker's (each worker loads the rules once, in parallel).
import type { EngineStats } from "../engines/yara/stats";

const n = (x: number) => x.toLocaleString("en-US");
const pct = (part: number, whole: number) => (whole === 0 ? "-" : `${((100 * part) / whole).toFixed(2)}%`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function formatStats(s: EngineStats | undefined, mode: string): string {
  if (!s) return `ring3 stats (--engine ${mode}): no file went through the YARA engine\n`;
  const evaluations = s.decided + s.deferred;
  return [
    `ring3 stats (--engine ${s.mode}):`,
    `  rules ${n(s.rules)}, patterns ${n(s.patterns)}, atoms ${n(s.atoms)}; rules loaded in ${Math.round(s.loadMs)} ms (per worker)`,
    `  files and members through YARA: ${n(s.files)}; YARA-X never called for ${n(s.files - s.yaraxFiles)} (${pct(s.files - s.yaraxFiles, s.files)})`,
    `  rule evaluations: ${n(evaluations)}, decided by the fast path ${pct(s.decided, evaluations)}, deferred to YARA-X ${n(s.deferred)}`,
    `  YARA-X: ${n(s.yaraxCalls)} scan calls, ${n(s.groupsCompiled)} rule groups compiled`,
    `  time in workers (summed): match ${secs(s.matchMs)}, evaluate ${secs(s.evalMs)}, YARA-X ${secs(s.yaraxMs)}`,
    "",
  ].join("\n");
}
