// The per-file stage: one file (a path, or standard input) in, its result and its members'
// results out. It opens the file without following links or blocking on FIFOs, reads only
// regular files, and reads each one once: every chunk goes to the digests and to the engine in
// the same pass (match.ts), then inspect.ts looks inside containers. One FileStage per worker
// holds the buffers it reuses from file to file.
import * as fs from "node:fs";
import * as path from "node:path";
import { identify, SevenZipWanted } from "../containers";
import type { AlgorithmSet } from "../engines/hash/db";
import { createDigester, digestBytes, type Digester } from "../engines/hash/digest";
import type { ByteSource } from "../engines/yara/contracts";
import { fileExternals } from "../engines/yara/filetype";
import type { FileHashes, Reason, ScanResult } from "../types";
import { describeType, reasonForError } from "../util/fs-reasons";
import { displayPath } from "../util/paths";
import { releaseBuffer } from "../util/release";
import { EngineTrap, inspectFile, runYara, type Engines, type Inspected } from "./inspect";
import { matchFile, overReason, sizePlan, STREAM_ABOVE, type FileMatch, type MatchOutcome } from "./match";
import { FileSource, bufferSource } from "./source";
import { verdictOf } from "./verdict";

/**
 * `next`, after handing `old` (the stage's own buffer, seen by no one after this file) back to the
 * allocator at once: left to the garbage collector, each outgrown buffer stayed resident until a
 * full collection (issue 9, peak RSS).
 */
function replaced<T extends Buffer>(old: Buffer, next: T): T {
  releaseBuffer(old);
  return next;
}

/** What to scan: path bytes (null: standard input), the root it was found under, whether links are followed. */
export interface FileInput {
  path: Uint8Array | null;
  root: string;
  follow: boolean;
  /**
   * The real path of the scan root folder (links not followed). The opened file must resolve below
   * it (outsideOf): a folder on the path swapped for a symbolic link after the walk (O_NOFOLLOW
   * guards only the last name) would otherwise let the scan read a file outside the scan.
   */
  within?: Uint8Array;
}

export const CHUNK = 1 << 20;
/** The first bytes of a file for its container magic and the filetype external. */
const HEAD = 4096;
/**
 * The first bytes kept of a streamed file: a pipe cannot be read again, so these are all that the
 * rules can read of standard input over --max-filesize.
 */
const STDIN_HEAD = 64 << 10;
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;
const NONE: AlgorithmSet = { md5: false, sha1: false, sha256: false };
const ALL: AlgorithmSet = { md5: true, sha1: true, sha256: true };
const napSlot = new Int32Array(new SharedArrayBuffer(4));

/**
 * Why an open file is not to be read when it does not lie below `within` (the scan root's real
 * path), or undefined when it does. Linux: /proc/self/fd names the file the descriptor holds.
 * Elsewhere Node offers no openat, O_PATH or O_BENEATH to walk the path a name at a time without
 * following links, so the check comes after the open: the path's real path now must lie below
 * `within` and still name the opened file (fstat's device and inode). A path swapped back after
 * the open names another file and fails the second test; only a hard link inside the scan can name
 * a file from outside, and a hard link is the file itself (the walk would list it anyway). It
 * costs a realpath and two stats per file. Not on Windows, where a link may be a junction and the
 * root's real path may be spelled otherwise (untested there): only the walk's lstat guards.
 */
export function outsideOf(fd: number, file: Uint8Array, within: Uint8Array, proc = process.platform === "linux"): string | undefined {
  const base = Buffer.from(within.buffer, within.byteOffset, within.byteLength);
  const prefix = base.length > 0 && base[base.length - 1] === 0x2f ? base : Buffer.concat([base, Buffer.from("/")]);
  const below = (real: Buffer) => real.subarray(0, prefix.length).equals(prefix);
  const leads = (real: Buffer) => `replaced after listing: its path now leads out of the scan (to ${displayPath(real).path}); not read`;
  if (proc) {
    try {
      const real = fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: "buffer" });
      return below(real) ? undefined : leads(real);
    } catch {
      // no /proc: the portable check below
    }
  }
  if (process.platform === "win32") return undefined;
  const swapped = "replaced while being opened: its path no longer names the file that was opened; not read";
  let real: Buffer;
  try {
    real = fs.realpathSync.native(Buffer.from(file.buffer, file.byteOffset, file.byteLength), { encoding: "buffer" });
  } catch {
    return swapped; // gone or cut since the open
  }
  if (!below(real)) return leads(real);
  try {
    const a = fs.fstatSync(fd, { bigint: true });
    const b = fs.statSync(real, { bigint: true });
    return a.dev === b.dev && a.ino === b.ino ? undefined : swapped;
  } catch {
    return swapped;
  }
}

export class FileStage {
  /** One buffer, grown to the largest file held whole (up to --max-filesize + 1; kept up to STREAM_ABOVE). */
  private buffer = Buffer.allocUnsafe(CHUNK);
  private readonly head = Buffer.allocUnsafe(STDIN_HEAD);
  private readonly source = new FileSource();
  private owners?: Map<number, string>;

  constructor(readonly engines: Engines) {}

  /**
   * Scans one file; throws only EngineTrap (the engine's instance is not to be trusted again) and
   * SevenZipWanted (7z-wasm is instantiated on demand: prepare it, then scan the file again).
   * `opened` hears the size of a regular file once it is open, before it is read.
   */
  scan(input: FileInput, opened?: (size: number) => void): Inspected {
    const t0 = performance.now();
    const p = input.path === null ? "<stdin>" : Buffer.from(input.path.buffer, input.path.byteOffset, input.path.byteLength);
    const shown = displayPath(p);
    const base: ScanResult = { verdict: "clean", ...shown, root: input.root, size: null, hashes: {}, findings: [] };
    const done = (r: ScanResult, members: ScanResult[] = []): Inspected => ({ result: { ...r, ms: Math.round((performance.now() - t0) * 1000) / 1000 }, members });
    const unread = (reason: Reason): Inspected => done({ ...base, verdict: verdictOf(0, reason, false), reason });

    let fd: number;
    if (input.path === null) fd = 0;
    else {
      try {
        fd = fs.openSync(p, O_RDONLY | O_NONBLOCK | (input.follow ? 0 : O_NOFOLLOW));
      } catch (err) {
        const r = reasonForError(err as NodeJS.ErrnoException);
        return unread({ code: r.code, message: r.message });
      }
    }
    try {
      let uid = -1;
      let statSize = -1; // unknown (standard input)
      if (fd !== 0) {
        const st = fs.fstatSync(fd);
        // The walk saw a regular file; it may have been replaced since. Opening with O_NONBLOCK
        // made that safe, and nothing but a regular file is read.
        if (!st.isFile()) return unread({ code: "not-regular", message: describeType(st) });
        if (input.within !== undefined && !input.follow && input.path !== null) {
          const outside = outsideOf(fd, input.path, input.within);
          if (outside !== undefined) return unread({ code: "vanished", message: outside });
        }
        uid = st.uid;
        statSize = st.size;
        opened?.(statSize);
      }
      const top = {
        ...shown,
        root: input.root,
        name: input.path === null ? "" : path.basename(shown.path),
        filepath: input.path === null ? "" : path.resolve(shown.path),
        owner: uid >= 0 ? this.ownerOf(uid) : "",
      };
      const limit = this.engines.maxFilesize;
      // Over the limit, or large and not a container: streamed, never held whole.
      if (statSize >= 0 && (sizePlan(statSize, limit) === "over" || (statSize >= STREAM_ABOVE && !this.containerAt(fd)))) {
        const out = this.streamed(fd, statSize, 0, top);
        return done({ ...base, ...out });
      }
      const yara = this.engines.yara;
      const fileMatch = yara ? matchFile(yara, statSize, "whole") : undefined;
      const whole = this.readWhole(fd, statSize, fileMatch);
      if (whole === null) {
        // Grew past the limit while being read (or standard input is that long): stream the rest.
        const out = this.streamed(fd, statSize, limit + 1, top);
        return done({ ...base, ...out });
      }
      const { data, hashes } = whole;
      const out = inspectFile(data, top, this.engines, {
        hashes,
        ...(fileMatch ? { yara: (ext) => fileMatch.end(bufferSource(data), ext).findings } : {}),
      });
      return done(out.result, out.members);
    } catch (err) {
      if (err instanceof EngineTrap || err instanceof SevenZipWanted) throw err;
      const r = reasonForError(err as NodeJS.ErrnoException);
      return unread({ code: r.code, message: r.message });
    } finally {
      if (fd !== 0) fs.closeSync(fd);
      // A container held whole may have grown the buffer to --max-filesize: not kept for the next
      // file (plain files this large are streamed, so the next one rarely needs it).
      if (this.buffer.length > STREAM_ABOVE + 1) this.buffer = replaced(this.buffer, Buffer.allocUnsafe(CHUNK));
    }
  }

  /** The digests wanted before the scan tells more: those the hash lists want for this size, SHA-256 with --all. */
  private wanted(size: number): AlgorithmSet {
    const need = this.engines.hashDb ? this.engines.hashDb.algorithmsFor(size) : NONE;
    return this.engines.reportClean && !need.sha256 ? { ...need, sha256: true } : need;
  }

  /**
   * Reads up to --max-filesize bytes into the reused buffer, digests in the same pass; null when
   * the file goes on past the limit (the buffer then holds limit + 1 bytes).
   */
  private readWhole(fd: number, statSize: number, fileMatch: FileMatch | undefined): { data: Buffer; hashes: FileHashes } | null {
    const limit = this.engines.maxFilesize;
    const need = statSize >= 0 ? this.wanted(statSize) : NONE;
    const digester: Digester | undefined = need.md5 || need.sha1 || need.sha256 ? createDigester(need) : undefined;
    // One read for a file of known size: ask for one byte more than fstat said, to see the end.
    this.ensure(Math.min(statSize >= 0 ? statSize + 1 : CHUNK, limit + 1));
    let n = 0;
    for (;;) {
      // At most a chunk per read: the digests see it while it is still in the cache.
      const want = Math.min(CHUNK, Math.min(this.buffer.length, limit + 1) - n);
      if (want <= 0) {
        if (this.buffer.length > limit) break;
        this.ensure(Math.min(n + CHUNK, limit + 1));
        continue;
      }
      const got = readSome(fd, this.buffer, n, want);
      if (got === 0) break;
      const chunk = this.buffer.subarray(n, n + got);
      digester?.update(chunk);
      fileMatch?.feed(chunk);
      n += got;
      // A short read that ends where fstat said the file ends is its end: no extra read call.
      if (got < want && n === statSize) break;
    }
    if (sizePlan(n, limit) === "over") return null;
    const data = this.buffer.subarray(0, n);
    // Standard input, or a file whose size changed since fstat: the digests its real size wants.
    const hashes = n === statSize ? (digester?.digest() ?? {}) : digestBytes(data, this.wanted(n));
    return { data, hashes };
  }

  /** Whether the file's first bytes are a container's (with --no-archives nothing is one). */
  private containerAt(fd: number): boolean {
    if (!this.engines.limits) return false;
    const n = fs.readSync(fd, this.head, 0, HEAD, 0); // positioned: the stream still starts at 0
    return identify(this.head.subarray(0, n)) !== null;
  }

  /**
   * A file streamed (over --max-filesize, or a large plain file), read once in chunks through the
   * digests and the matcher; then the conditions and modules read it through positioned reads.
   * `prefix` bytes at the start of the buffer were read already.
   */
  private streamed(fd: number, statSize: number, prefix: number, top: { name: string; filepath: string; owner: string }): Pick<ScanResult, "verdict" | "size" | "hashes" | "findings" | "reason"> {
    const limit = this.engines.maxFilesize;
    const { hashDb, yara } = this.engines;
    const need = !hashDb ? NONE : statSize >= 0 ? hashDb.algorithmsFor(statSize) : ALL;
    // Partial or not, the report shows its SHA-256.
    const digester = createDigester({ ...need, sha256: true });
    const fileMatch = yara ? matchFile(yara, statSize, "over") : undefined;
    let size = 0;
    let headLen = 0;
    const take = (chunk: Uint8Array): void => {
      if (headLen < STDIN_HEAD) {
        const n = Math.min(STDIN_HEAD - headLen, chunk.length);
        this.head.set(chunk.subarray(0, n), headLen);
        headLen += n;
      }
      digester.update(chunk);
      fileMatch?.feed(chunk);
      size += chunk.length;
    };
    if (prefix > 0) take(this.buffer.subarray(0, prefix));
    const chunk = this.buffer.subarray(0, CHUNK); // the buffer is never smaller than CHUNK
    for (;;) {
      const got = readSome(fd, chunk, 0, chunk.length);
      if (got === 0) break;
      take(chunk.subarray(0, got));
    }
    const hashes = digester.digest();
    const findings = hashDb ? hashDb.lookup(size, hashes) : [];
    const over = size > limit;
    let reason: Reason | undefined = overReason(size, limit, null, over);
    if (fileMatch) {
      const head = this.head.subarray(0, headLen);
      const ext = fileExternals(top.name, top.filepath, top.owner, head.subarray(0, HEAD));
      // A pipe cannot be read again: its first bytes are all the rules can read of it.
      const seekable = fd !== 0 || fs.fstatSync(0).isFile();
      const source: ByteSource = seekable ? this.source.reset(fd, size) : pipeHead(head, size);
      const out = runYara((): MatchOutcome => {
        try {
          return fileMatch.end(source, ext);
        } catch (err) {
          if (!(err instanceof NotSeekable)) throw err;
          return { findings: [], undecided: 1, reason: `the rules read past the first ${STDIN_HEAD} bytes of a pipe, which cannot be read again` };
        }
      }, this.engines.yaraTimeoutMs);
      findings.push(...out.findings);
      const container = over && this.engines.limits ? identify(head) : null;
      reason = out.reason ?? overReason(size, limit, { container, undecided: out.out?.undecided ?? 0, why: out.out?.reason }, over);
    } else if (!over) reason = undefined;
    return { verdict: verdictOf(findings.length, reason, true), size, hashes, findings, ...(reason ? { reason } : {}) };
  }

  private ensure(capacity: number): void {
    if (this.buffer.length >= capacity) return;
    // Past the first chunk, straight to the size of the largest plain file held whole: one
    // allocation per worker instead of a doubling series whose freed steps raised glibc's mmap
    // threshold, so that later buffers of those sizes came from the thread's arena and stayed
    // resident there (issue 9). Pages never written are never resident.
    const grown = this.buffer.length <= STREAM_ABOVE ? STREAM_ABOVE + 1 : this.buffer.length * 2;
    const next = Buffer.allocUnsafe(Math.max(capacity, Math.min(grown, this.engines.maxFilesize + 1)));
    this.buffer.copy(next, 0, 0, this.buffer.length);
    this.buffer = replaced(this.buffer, next);
  }

  /** uid -> user name, from /etc/passwd (read once; "" where unknown or on Windows). */
  private ownerOf(uid: number): string {
    if (!this.owners) {
      this.owners = new Map();
      try {
        for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
          const f = line.split(":");
          if (f.length > 2) this.owners.set(Number(f[2]), f[0]);
        }
      } catch {
        // no passwd file (Windows, minimal containers): owner stays ""
      }
    }
    return this.owners.get(uid) ?? "";
  }
}

class NotSeekable extends Error {}

/** Reads within `head` (a pipe's first bytes); anything past it throws NotSeekable. */
function pipeHead(head: Uint8Array, size: number): ByteSource {
  return {
    size,
    read(offset, length) {
      if (offset + length <= head.length || offset >= size) return head.subarray(Math.min(offset, head.length), Math.min(offset + length, head.length));
      throw new NotSeekable("not seekable");
    },
  };
}

/** readSync that waits out EAGAIN (standard input may be a non-blocking pipe or a TTY). */
function readSome(fd: number, buf: Buffer, off: number, len: number): number {
  for (;;) {
    try {
      return fs.readSync(fd, buf, off, len, null);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EAGAIN") {
        Atomics.wait(napSlot, 0, 0, 5);
        continue;
      }
      if (e.code === "EOF") return 0; // Windows pipes
      throw err;
    }
  }
}
