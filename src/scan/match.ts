// Two decisions made in one place each: what --max-filesize means for a file of a given size
// (sizePlan and the reasons it gives), and how a top-level file meets the YARA engine
// (matchFile: fed chunk by chunk by the read pass, asked for findings at the end).
import type { ByteSource } from "../engines/yara/contracts";
import type { YaraEngine } from "../engines/yara/engine";
import type { FileExternals } from "../engines/yara/yarax";
import type { Finding, Reason } from "../types";

/**
 * - "whole": at most --max-filesize: read into memory, pattern-matched, opened if a container.
 * - "over": larger: streamed once through the digests and the matcher; the conditions and modules
 *   read the file through positioned reads (engine begin/feed/end); never opened as a container.
 * A plain file of STREAM_ABOVE bytes or more is streamed the same way even under the limit (see
 * FileStage): only a container is held whole, since its readers need random access to its bytes.
 */
export type SizePlan = "whole" | "over";

export function sizePlan(size: number, maxFilesize: number): SizePlan {
  return size > maxFilesize ? "over" : "whole";
}

/** Files this large that are not containers are streamed, never held whole in memory. */
export const STREAM_ABOVE = 16 << 20;

/**
 * Why a streamed file is partial (undefined: every rule was decided on it). `over`: it is over
 * --max-filesize; `matched` null: hashed only (no YARA engine could take it).
 */
export function overReason(size: number, maxFilesize: number, matched: { container: string | null; undecided: number; why?: string } | null, over = true): Reason | undefined {
  const head = over ? `${size} bytes is over --max-filesize ${maxFilesize}` : `${size} bytes, streamed`;
  if (matched === null) return { code: "max-filesize", message: `${head}: hashed, not pattern-matched` };
  // A container this large is not opened: its members were not scanned, so never clean.
  if (matched.container !== null) return { code: "max-filesize", message: `${head}: a ${matched.container} container, not opened; pattern-matched as one file` };
  if (matched.undecided > 0) return { code: "max-filesize", message: `${head}: ${matched.why ?? `${matched.undecided} rule(s) undecided`}` };
  return undefined;
}

export interface MatchOutcome {
  findings: Finding[];
  /** Public rules the engine could not decide (0 normally). */
  undecided: number;
  /** Why, when some are undecided. */
  reason?: string;
}

/** One top-level file through the YARA engine, fed in order by the read pass. */
export interface FileMatch {
  /** The next bytes of the file; the caller may reuse the chunk after the call. */
  feed(chunk: Uint8Array): void;
  /** After the last chunk. `source` reads the file at any offset (conditions, modules). */
  end(source: ByteSource, ext: FileExternals): MatchOutcome;
}

/**
 * The one call from the scan stage into the engine for a top-level file. A "whole" file is scanned
 * from memory when it ends (the read pass keeps its bytes: `source` is a bufferSource over them);
 * an "over" (streamed) file goes through the engine's begin/feed/end, whose conditions and modules
 * read it through `source`. `size`: -1 when unknown (standard input).
 */
const WHOLE = new WeakMap<YaraEngine, FileMatch>();

export function matchFile(engine: YaraEngine, size: number, plan: SizePlan): FileMatch {
  switch (plan) {
    case "whole": {
      // Holds no state of its own: one per engine, not one per file.
      let m = WHOLE.get(engine);
      if (!m) {
        m = { feed: () => {}, end: (source, ext) => ({ findings: engine.scan(source.read(0, source.size), ext), undecided: 0 }) };
        WHOLE.set(engine, m);
      }
      return m;
    }
    case "over":
      return engine.begin(Math.max(0, size));
    default: {
      const never: never = plan;
      throw new Error(`unknown plan ${String(never)}`);
    }
  }
}
