// Two decisions made in one place each: what --max-filesize means for a file of a given size
// (sizePlan and the reasons it gives), and how a top-level file meets the YARA engine
// (matchFile: fed chunk by chunk by the read pass, asked for findings at the end).
import type { ByteSource } from "../engines/yara/contracts";
import type { YaraEngine } from "../engines/yara/engine";
import type { FileExternals } from "../engines/yara/yarax";
import type { Finding, Reason } from "../types";

/**
 * - "whole": at most --max-filesize: read into memory, pattern-matched, opened if a container.
 * - "over": larger: streamed once through the digests and (fast path) the matcher, conditions on
 *   head and tail windows (engine.scanLarge); never opened as a container.
 *
 * After the engine's begin/feed/end lands, "over" is to mean "hashed, not pattern-matched"
 * (partial, max-filesize) and every plain file is streamed: change it here and in matchFile.
 */
export type SizePlan = "whole" | "over";

export function sizePlan(size: number, maxFilesize: number): SizePlan {
  return size > maxFilesize ? "over" : "whole";
}

/** Why a file or member over --max-filesize is partial (undefined: every rule was decided on it). */
export function overReason(size: number, maxFilesize: number, matched: { container: string | null; undecided: number } | null): Reason | undefined {
  const over = `${size} bytes is over --max-filesize ${maxFilesize}`;
  if (matched === null) return { code: "max-filesize", message: `${over}: hashed, not pattern-matched` };
  // A container this large is not opened: its members were not scanned, so never clean.
  if (matched.container !== null) return { code: "max-filesize", message: `${over}: a ${matched.container} container, not opened; pattern-matched as one file` };
  if (matched.undecided > 0) return { code: "max-filesize", message: `${over}: ${matched.undecided} rule(s) undecidable without the whole file in memory` };
  return undefined;
}

export interface MatchOutcome {
  findings: Finding[];
  /** Public rules the engine could not decide (0 normally). */
  undecided: number;
}

/** One top-level file through the YARA engine, fed in order by the read pass. */
export interface FileMatch {
  /** The next bytes of the file; the caller may reuse the chunk after the call. */
  feed(chunk: Uint8Array): void;
  /** After the last chunk. `source` reads the file at any offset (conditions, modules). */
  end(source: ByteSource, ext: FileExternals): MatchOutcome;
}

/**
 * The one call from the scan stage into the engine for a top-level file. Undefined when the engine
 * cannot take this file (a file over the limit with --engine yara-x: hashed only).
 *
 * THE SWITCH to the streaming engine (begin/feed/end, see contracts.ts ByteSource) goes here:
 *   const scan = engine.begin(size);
 *   return { feed: (c) => scan.feed(c), end: (source, ext) => scan.end(source, ext) };
 * for every plan that is pattern-matched. Until then a "whole" file is scanned from memory when it
 * ends (the read pass keeps its bytes: `source` is a bufferSource over them) and an "over" file
 * goes through scanLarge.
 */
const WHOLE = new WeakMap<YaraEngine, FileMatch>();

export function matchFile(engine: YaraEngine, size: number, plan: SizePlan, maxFilesize: number): FileMatch | undefined {
  switch (plan) {
    case "whole": {
      // Holds no state of its own today: one per engine, not one per file.
      let m = WHOLE.get(engine);
      if (!m) {
        m = { feed: () => {}, end: (source, ext) => ({ findings: engine.scan(source.read(0, source.size), ext), undecided: 0 }) };
        WHOLE.set(engine, m);
      }
      return m;
    }
    case "over": {
      // The head kept for conditions is at most --max-filesize: the limit bounds memory per file.
      const large = engine.scanLarge?.(maxFilesize);
      if (!large) return undefined;
      return { feed: (c) => large.feed(c), end: (_source, ext) => large.end(ext) };
    }
    default: {
      const never: never = plan;
      throw new Error(`unknown plan ${String(never)}`);
    }
  }
}
