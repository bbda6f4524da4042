// A scan worker: owns all reading and scanning of file bytes. It compiles the rules once, then
// for each task opens the file without following links or blocking on FIFOs, reads at most
// --max-filesize bytes into one reused buffer, scans them (inspect.ts: hashes, YARA, and the
// members of containers), and answers the file's result with its members' results.
import * as fs from "node:fs";
import * as path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { HashDb } from "../engines/hash/db";
import { createDigester } from "../engines/hash/digest";
import { createEngine, emptyStats, subtractStats, type EngineStats, type YaraEngine } from "../engines/yara/engine";
import { fileExternals } from "../engines/yara/filetype";
import { engineWorn } from "../engines/yara/yarax";
import type { ByteSource } from "../engines/yara/contracts";
import type { FileHashes, Finding, Reason, ScanResult } from "../types";
import { fileSource } from "../util/bytesource";
import { displayPath } from "../util/paths";
import { identify, prepareSevenZip, sevenZipReady } from "../containers";
import { describeType, reasonForError } from "../walk/walk";
import { EngineTrap, inspectFile, type Engines, type Inspected } from "./inspect";
import type { FromWorker, ScanTask, ToWorker, WorkerInit } from "./protocol";

const init = workerData as WorkerInit;
const port = parentPort!;

const CHUNK = 1 << 20;
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

let yara: YaraEngine | undefined;
/** The engine's counters as last sent (--stats sends the difference with each result). */
let sentStats: EngineStats | undefined;
let hashDb: HashDb | undefined;
let engines: Engines;

async function setup(): Promise<void> {
  if (init.yara.length > 0) {
    const out = createEngine({ mode: init.engine, sources: init.yara, defines: init.defines, perFileExternals: init.perFileExternals, timeoutMs: init.timeoutMs, wasm: init.wasm });
    if (!out.engine) {
      post({ type: "fatal", errors: out.errors });
      return;
    }
    yara = out.engine;
    sentStats = emptyStats(init.engine);
  }
  if (init.hashDb) hashDb = HashDb.fromShared(init.hashDb);
  engines = { hashDb, yara, yaraTimeoutMs: init.timeoutMs, maxFilesize: init.maxFilesize, reportClean: init.hashClean, limits: init.archives };
  // Without its WASM the 7z-wasm formats come back archive-unsupported: partial, never clean.
  if (init.archives && init.sevenZipWasm) await prepareSevenZip(init.sevenZipWasm);
  post({ type: "ready" });
}

/** One buffer per worker, grown to the largest file seen (bounded by --max-filesize + 1). */
let buffer = Buffer.allocUnsafe(CHUNK);

function ensure(capacity: number): void {
  if (buffer.length >= capacity) return;
  const next = Buffer.allocUnsafe(Math.max(capacity, Math.min(buffer.length * 2, init.maxFilesize + 1)));
  buffer.copy(next, 0, 0, buffer.length);
  buffer = next;
}

/** readSync that waits out EAGAIN (stdin may be a non-blocking pipe or a TTY). */
function readSome(fd: number, buf: Buffer, off: number, len: number): number {
  for (;;) {
    try {
      return fs.readSync(fd, buf, off, len, null);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (e.code === "EOF") return 0; // Windows pipes
      throw err;
    }
  }
}

/** The first bytes of a large file kept in memory (stdin: all that the rules can read of a pipe). */
const STDIN_HEAD = 64 << 10;

class NotSeekable extends Error {}

/** Reads within `head` (a pipe's first bytes); anything else throws NotSeekable. */
function headSource(head: Uint8Array, size: number): ByteSource {
  return {
    size,
    read(offset, length) {
      if (offset + length <= head.length || offset >= size) return head.subarray(Math.min(offset, head.length), Math.min(offset + length, head.length));
      throw new NotSeekable("not seekable");
    },
  };
}

/** uid -> user name, from /etc/passwd (read once; "" where unknown or on Windows). */
let owners: Map<number, string> | undefined;
function ownerOf(uid: number): string {
  if (!owners) {
    owners = new Map();
    try {
      for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
        const f = line.split(":");
        if (f.length > 2) owners.set(Number(f[2]), f[0]);
      }
    } catch {
      // no passwd file (Windows, minimal containers): owner stays ""
    }
  }
  return owners.get(uid) ?? "";
}

/**
 * Test-only failpoints (RING3_FAILPOINT=crash:NAME, hang:NAME or trap:NAME): make this worker die, spin or act as if YARA-X trapped on
 * a file whose path ends with NAME, so the end-to-end tests can prove that a crashed or hung
 * worker becomes an `error` result and the scan goes on. Unset, they cost one comparison.
 */
const FAILPOINT = /^(crash|hang|trap):(.+)$/.exec(process.env.RING3_FAILPOINT ?? "");
function failpoint(p: string): void {
  if (!FAILPOINT || !p.endsWith(FAILPOINT[2])) return;
  if (FAILPOINT[1] === "crash") process.exit(70);
  if (FAILPOINT[1] === "trap") throw new EngineTrap("unreachable (failpoint)");
  for (;;); // hang: only the pool's timeout ends this
}

function scan(task: ScanTask): Inspected {
  const t0 = performance.now();
  const p = task.path === null ? "<stdin>" : Buffer.from(task.path.buffer, task.path.byteOffset, task.path.byteLength);
  const base: ScanResult = { verdict: "clean", ...displayPath(p), root: task.root, size: null, hashes: {}, findings: [] };
  const ms = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
  const done = (r: ScanResult, members: ScanResult[] = []): Inspected => ({ result: { ...r, ms: ms() }, members });
  const fail = (verdict: "skipped" | "error", reason: Reason): Inspected => done({ ...base, verdict, reason });
  if (FAILPOINT) failpoint(base.path);

  let fd: number;
  let uid = -1;
  let statSize = -1; // -1: unknown (stdin)
  if (task.path === null) fd = 0;
  else {
    try {
      fd = fs.openSync(p, O_RDONLY | O_NONBLOCK | (task.follow ? 0 : O_NOFOLLOW));
    } catch (err) {
      const r = reasonForError(err as NodeJS.ErrnoException);
      return fail(r.verdict, { code: r.code, message: r.message });
    }
  }
  try {
    if (fd !== 0) {
      const st = fs.fstatSync(fd);
      // The walk saw a regular file; it may have been replaced since. Opening with O_NONBLOCK
      // made that safe, and nothing but a regular file is read.
      if (!st.isFile()) return fail("skipped", { code: "not-regular", message: describeType(st) });
      uid = st.uid;
      statSize = st.size;
    }
    // Read up to the limit; one byte more tells that the file goes on past it.
    const limit = init.maxFilesize;
    let n = 0;
    for (;;) {
      ensure(Math.min(n + CHUNK, limit + 1));
      const want = Math.min(buffer.length, limit + 1) - n;
      if (want <= 0) break;
      const got = readSome(fd, buffer, n, want);
      if (got === 0) break;
      n += got;
    }
    const name = task.path === null ? "" : path.basename(base.path);
    const filepath = task.path === null ? "" : path.resolve(base.path);
    const owner = uid >= 0 ? ownerOf(uid) : "";
    if (n <= limit) {
      const out = inspectFile(buffer.subarray(0, n), { ...displayPath(p), root: task.root, name, filepath, owner }, engines);
      return done(out.result, out.members);
    }

    // Too large for memory: stream the rest once, in chunks, through the digests and the YARA
    // matcher; then the conditions and modules read the file through positioned reads.
    let size = n;
    const need = !hashDb ? { md5: false, sha1: false, sha256: false } : statSize >= 0 ? hashDb.algorithmsFor(statSize) : { md5: true, sha1: true, sha256: true };
    const digester = createDigester({ md5: need.md5, sha1: need.sha1, sha256: true });
    const large = yara?.begin(statSize >= 0 ? statSize : n);
    digester.update(buffer.subarray(0, n));
    large?.feed(buffer.subarray(0, n));
    // The first bytes, for the container check, the filetype external and (stdin) the reads.
    const headBuf = new Uint8Array(STDIN_HEAD);
    let headLen = 0;
    const keepHead = (b: Uint8Array) => {
      const k = Math.min(b.length, STDIN_HEAD - headLen);
      headBuf.set(b.subarray(0, k), headLen);
      headLen += k;
    };
    keepHead(buffer.subarray(0, n));
    const chunk = buffer.subarray(0, CHUNK);
    for (;;) {
      const got = readSome(fd, chunk, 0, chunk.length);
      if (got === 0) break;
      if (headLen < STDIN_HEAD) keepHead(chunk.subarray(0, got));
      digester.update(chunk.subarray(0, got));
      large?.feed(chunk.subarray(0, got));
      size += got;
    }
    const head = headBuf.subarray(0, headLen);
    const hashes: FileHashes = digester.digest();
    const findings = hashDb ? hashDb.lookup(size, hashes) : [];
    const over = `${size} bytes is over --max-filesize ${limit}`;
    let reason: Reason | undefined = { code: "max-filesize", message: `${over}: hashed, not pattern-matched` };
    if (large) {
      // A pipe cannot be read again: its first bytes are all the rules can read.
      const seekable = fd !== 0 || fs.fstatSync(0).isFile();
      let out: { findings: Finding[]; undecided: number; reason?: string };
      try {
        out = large.end(seekable ? fileSource(fd, size) : headSource(head, size), fileExternals(name, filepath, owner, head.subarray(0, 4096)));
      } catch (err) {
        if (!(err instanceof NotSeekable)) throw err;
        out = { findings: [], undecided: 1, reason: `the rules read past the first ${STDIN_HEAD} bytes of a pipe, which cannot be read again` };
      }
      findings.push(...out.findings);
      const format = init.archives ? identify(head) : null;
      // A container this large is not opened: its members were not scanned, so never clean.
      if (format !== null) reason = { code: "max-filesize", message: `${over}: a ${format} container, not opened; pattern-matched as one file` };
      else if (out.undecided > 0) reason = { code: "max-filesize", message: `${over}: ${out.reason ?? `${out.undecided} rule(s) undecided`}` };
      else reason = undefined;
    }
    const verdict = findings.length > 0 ? "detected" : reason ? "partial" : "clean";
    return done({ ...base, verdict, size, hashes, findings, ...(reason ? { reason } : {}) });
  } catch (err) {
    if (err instanceof EngineTrap) throw err;
    const r = reasonForError(err as NodeJS.ErrnoException);
    return fail(r.verdict, { code: r.code, message: r.message });
  } finally {
    if (fd !== 0) fs.closeSync(fd);
  }
}

port.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "scan": {
      // The pool sends one file at a time, so awaiting here never reorders files.
      void (init.archives && init.sevenZipWasm ? sevenZipReady() : Promise.resolve()).then(() => answer(msg.id, msg.task));
      break;
    }
    default: {
      const never: never = msg.type;
      throw new Error(`unknown message ${String(never)}`);
    }
  }
});

/** Scans one file and answers its result (or a trap: the pool retries it on a fresh worker). */
function answer(id: number, task: ScanTask): void {
  let scanned: Inspected;
  try {
    scanned = scan(task);
  } catch (err) {
    if (!(err instanceof EngineTrap)) throw err;
    post({ type: "trap", id, message: `YARA-X: ${err.message}` });
    return;
  }
  let stats: EngineStats | undefined;
  if (init.stats && yara && sentStats) {
    const now = { ...yara.stats() };
    stats = subtractStats(now, sentStats);
    sentStats = now;
  }
  // Retire before YARA-X's leak makes it trap: the pool replaces a worn worker.
  post({ type: "result", id, result: scanned.result, members: scanned.members, worn: engineWorn(), ...(stats ? { stats } : {}) });
}

setup().catch((err: unknown) => {
  post({ type: "crash", message: err instanceof Error ? err.stack ?? err.message : String(err) });
});
