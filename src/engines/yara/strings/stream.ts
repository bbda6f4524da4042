// The matcher over a file that does not fit in memory: the bytes arrive in chunks, and each window
// (a step of new bytes plus an overlap on either side) is scanned with the same one-pass matcher as
// a whole file. A match belongs to the window whose step holds its start offset; the overlap before
// the step gives the verifiers their neighbour bytes (fullword, \b, base64's decode window) and the
// overlap after it holds every byte a match starting in the step can reach (the longest literal, or
// the atom distance plus the match length YARA-X's 4 KB limits allow). So each match is reported
// once, by a window that sees everything its verifier reads, and the result equals one scan of the
// whole bytes. Memory: the window plus the matches, whatever the file's size.
import { MAX_MATCHES_PER_PATTERN, type MatchTable, type PatternMatches } from "../contracts";

export interface MatchStream {
  /** The next bytes of the file, in order. The chunk is copied; the caller may reuse it. */
  feed(chunk: Uint8Array): void;
  /** Bytes fed so far. */
  readonly position: number;
  /** The MatchTable a scan of all the fed bytes gives. The stream is done after this. */
  end(): MatchTable;
  /**
   * After end(): all the fed bytes when they fit in one window (the stream held them whole anyway;
   * the caller may keep them), else undefined.
   */
  whole(): Uint8Array | undefined;
}

export interface StreamGeometry {
  /** Bytes before a step that a verifier may read (neighbour bytes of a match). */
  before: number;
  /** Bytes after a step's last start offset that a match starting there may need. */
  after: number;
  /**
   * Patterns whose matches a window cannot bound (a regex without atoms and without a maximum
   * length): incomplete whenever the data spans more than one window.
   */
  unbounded: number[];
}

/** Default step: 8 MiB of new bytes per window. */
export const DEFAULT_STEP = 8 << 20;

/**
 * A window buffer handed from one stream to the next (one file after another): no allocation per
 * file once it has grown to the files' size. What a stream's whole() returned is valid until the
 * next stream on the same pool starts.
 */
export interface StreamPool {
  buf: Uint8Array;
}

export function matchStream(scan: (data: Uint8Array) => MatchTable, geo: StreamGeometry, step = DEFAULT_STEP, pool?: StreamPool): MatchStream {
  if (!(step >= 1)) throw new Error(`stream step must be positive: ${step}`);
  const { before, after } = geo;
  const cap = before + step + after;
  let buf = pool && pool.buf.length > 0 && pool.buf.length <= cap ? pool.buf : new Uint8Array(Math.min(cap, 1 << 16));
  if (pool) pool.buf = buf;
  let len = 0;
  /** File offset of buf[0]. */
  let bufStart = 0;
  /** File offset of the first start not yet owned by a scanned window. */
  let ownedFrom = 0;
  let windows = 0;
  let ended = false;
  let held: Uint8Array | undefined;
  const merged = new Map<number, PatternMatches>();

  /** Scan buf[0..len) and keep the matches starting in [ownedFrom, ownedTo). */
  const window = (ownedTo: number): void => {
    windows++;
    const t = scan(buf.subarray(0, len));
    for (const p of t.hits()) {
      const m = t.get(p)!;
      let acc = merged.get(p);
      if (!acc) merged.set(p, (acc = { offsets: [], lengths: [], complete: true }));
      // Incompleteness has no offset: keep it even when it came from an overlap (sound, rare).
      if (!m.complete) acc.complete = false;
      for (let i = 0; i < m.offsets.length; i++) {
        const at = m.offsets[i]! + bufStart;
        if (at < ownedFrom || at >= ownedTo) continue;
        if (acc.offsets.length >= MAX_MATCHES_PER_PATTERN) break;
        acc.offsets.push(at);
        acc.lengths.push(m.lengths[i]!);
      }
    }
  };

  const flush = (): void => {
    const ownedTo = bufStart + len - after;
    window(ownedTo);
    // Keep the overlap: `before` bytes ahead of the next step and the `after` bytes not yet owned.
    const keep = ownedTo - before - bufStart;
    buf.copyWithin(0, keep, len);
    len -= keep;
    bufStart += keep;
    ownedFrom = ownedTo;
  };

  return {
    get position() {
      return bufStart + len;
    },
    feed(chunk) {
      if (ended) throw new Error("stream already ended");
      let at = 0;
      while (at < chunk.length) {
        if (len === cap) flush();
        if (len === buf.length) {
          // Grow up to the window size only as the data needs it: small files stay small.
          const bigger = new Uint8Array(Math.min(cap, buf.length * 2));
          bigger.set(buf.subarray(0, len));
          buf = bigger;
          if (pool) pool.buf = buf;
        }
        const n = Math.min(chunk.length - at, buf.length - len);
        buf.set(chunk.subarray(at, at + n), len);
        len += n;
        at += n;
      }
    },
    end() {
      if (ended) throw new Error("stream already ended");
      ended = true;
      // One window only: exactly the whole-bytes scan.
      if (windows === 0) {
        held = buf.subarray(0, len);
        buf = new Uint8Array(0);
        return scan(held);
      }
      window(bufStart + len);
      buf = new Uint8Array(0); // the pool keeps it for the next stream
      for (const p of geo.unbounded) {
        const acc = merged.get(p);
        if (acc) acc.complete = false;
        else merged.set(p, { offsets: [], lengths: [], complete: false });
      }
      const hits: number[] = [];
      for (const [p, m] of merged) {
        if (m.offsets.length === 0 && m.complete) merged.delete(p);
        else hits.push(p);
      }
      hits.sort((a, b) => a - b);
      return { get: (p) => merged.get(p), hits: () => hits };
    },
    whole: () => held,
  };
}
