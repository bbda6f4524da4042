// Bounded decompression through Node's zlib: every call gets the output cap that the budget still
// allows (maxOutputLength), so a bomb ends with an error instead of an allocation. zlib is measured
// faster here than any JavaScript inflater (ARCHITECTURE.md, "Archives").
import * as zlib from "node:zlib";
import { RATIO_FLOOR, capProblem, type OutputCap } from "./budget";
import type { Budget, ContainerProblem } from "./types";

export type Codec = "deflate-raw" | "gzip" | "zstd";

export interface Decoded {
  data?: Uint8Array;
  problem?: ContainerProblem;
}

type SyncCodec = (buf: Uint8Array, opts: zlib.ZlibOptions & { maxOutputLength?: number }) => Buffer;

// zstdDecompressSync arrived in Node 22.15 (the product runtime); on older Node zstd is unsupported.
const zstdSync = (zlib as unknown as { zstdDecompressSync?: SyncCodec }).zstdDecompressSync;

function codecOf(codec: Codec): SyncCodec | undefined {
  switch (codec) {
    case "deflate-raw":
      return zlib.inflateRawSync;
    case "gzip":
      return zlib.gunzipSync; // handles concatenated members (RFC 1952 multi-member files)
    case "zstd":
      return zstdSync;
  }
}

/**
 * zlib calls that threw in this thread. Node 22's sync zlib keeps about 16 KB of native memory per
 * call that fails on damaged data, even after close() and GC (issue 13's fuzzer: 30,000 damaged
 * gzip streams left 470 MB), so the worker retires itself past a bound (src/pool/worker.ts).
 */
let failures = 0;
export function zlibFailures(): number {
  return failures;
}
/** For readers that call zlib themselves. */
export function noteZlibFailure(): void {
  failures++;
}

/** zlib's maxOutputLength must be a positive safe length below the Buffer limit. */
const MAX_BUFFER = Math.min(2 ** 31 - 1, (zlib.constants as unknown as { kMaxLength?: number }).kMaxLength ?? 2 ** 31 - 1);

/**
 * Decompresses `input` into at most cap.limit bytes. Over the cap: the first part that fits (see
 * firstPart), with the cap's problem. Truncated input: what was decoded before the end, with
 * archive-corrupt. Damaged input: corrupt. `declared` is the size the container claims, if any.
 */
export function decode(codec: Codec, input: Uint8Array, cap: OutputCap, budget: Budget, what: string, declared?: number, hint?: number): Decoded {
  const fn = codecOf(codec);
  if (!fn) return { problem: { code: "archive-unsupported", message: `${codec} needs Node 22.15 or later` } };
  const maxOutputLength = Math.max(1, Math.min(cap.limit, MAX_BUFFER));
  // A declared size over the cap: no need to spend a full cap of output proving it.
  if (declared !== undefined && declared > cap.limit) return firstPart(fn, input, cap, budget, what, declared);
  try {
    const out = fn(input, { maxOutputLength, chunkSize: chunkFor(declared ?? hint, input.length, maxOutputLength) });
    if (out.length > cap.limit) return { problem: capProblem(cap, budget, what) }; // cap.limit 0
    return { data: out };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    failures++;
    if (e.code === "ERR_BUFFER_TOO_LARGE") return firstPart(fn, input, cap, budget, what, declared);
    const corrupt: ContainerProblem = { code: "archive-corrupt", message: `${what}: ${e.message}` };
    if (!/unexpected end/i.test(e.message) || codec === "zstd") return { problem: corrupt };
    // Truncated stream: decode what is there, because a detection in the part still counts.
    try {
      const part = fn(input, { maxOutputLength, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      return part.length > 0 && part.length <= cap.limit ? { data: part, problem: corrupt } : { problem: corrupt };
    } catch {
      failures++;
      return { problem: corrupt };
    }
  }
}

/** zlib's own output chunk (Node's default). */
const DEFAULT_CHUNK = 16 << 10;
/** Deflate's largest expansion (about 1032:1): a size claimed beyond it is a lie, not a hint. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * zlib's output chunk for one call: the size the container states, plus one byte, so that the
 * output lands in one buffer of its own, with no list of 16 KiB chunks to join into a second copy
 * (issue 9: half the transient memory of a member, and one allocation instead of hundreds). The
 * size is only a hint: a wrong one costs more chunks (never smaller than Node's default) or
 * untouched capacity (never past the cap nor deflate's largest ratio); the output is the same.
 */
function chunkFor(size: number | undefined, inputLength: number, maxOutputLength: number): number {
  if (size === undefined || !(size >= DEFAULT_CHUNK)) return DEFAULT_CHUNK;
  return Math.max(DEFAULT_CHUNK, Math.min(size + 1, maxOutputLength + 1, DEFLATE_MAX_RATIO * inputLength + DEFAULT_CHUNK, MAX_BUFFER));
}

const PART_TRIES = 4;

/**
 * The member is larger than its cap. zlib's one-shot calls keep nothing when they hit the cap, so
 * decode a prefix of the input instead (with a sync flush, which ends cleanly mid-stream), sized
 * so that its output should just fit: a detection in the first part still counts. Each try costs
 * at most cap.limit bytes of output; after a try overflows, the input is halved. Output that far
 * beyond maxRatio of the input that made it is a bomb: reported as such, with nothing to scan.
 */
function firstPart(fn: SyncCodec, input: Uint8Array, cap: OutputCap, budget: Budget, what: string, declared?: number): Decoded {
  const over = capProblem(cap, budget, what);
  // Only a member too big by itself gets a first part: past the total budget the scan is over.
  if (cap.code !== "archive-member-size" || cap.limit < 1) return { problem: over };
  const { maxRatio } = budget.limits;
  const bomb = (out: number, from: number) => out > RATIO_FLOOR && out > maxRatio * from;
  const ratioProblem = capProblem({ limit: 0, code: "archive-ratio" }, budget, what);
  if (bomb(cap.limit, input.length) || (declared !== undefined && bomb(declared, input.length))) return { problem: ratioProblem };
  let k = declared !== undefined && declared > cap.limit ? Math.floor((input.length * cap.limit * 0.9) / declared) : Math.floor(input.length / 2);
  for (let i = 0; i < PART_TRIES && k > 0; i++, k = Math.floor(k / 2)) {
    try {
      const out = fn(input.subarray(0, k), { maxOutputLength: Math.min(cap.limit, MAX_BUFFER), finishFlush: zlib.constants.Z_SYNC_FLUSH });
      if (bomb(out.length, k)) return { problem: ratioProblem };
      return out.length > 0 ? { data: out, problem: over } : { problem: over };
    } catch (err) {
      failures++;
      if ((err as NodeJS.ErrnoException).code !== "ERR_BUFFER_TOO_LARGE") return { problem: over };
      if (bomb(cap.limit, k)) return { problem: ratioProblem };
    }
  }
  return { problem: over };
}

/** CRC-32 (zip, gzip): zlib.crc32 where Node has it (20.15, 22.2), else a table. */
const nativeCrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
let table: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (nativeCrc) return nativeCrc(data) >>> 0;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
