// A scan worker: owns all reading and scanning of file bytes. It compiles the rules once, then
// for each task opens the file without following links or blocking on FIFOs, reads at most
// --max-filesize bytes into one reused buffer, hashes and matches them, and answers one result.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { HashDb } from "../engines/hash/db";
import { createDigester } from "../engines/hash/digest";
import { fileType } from "../engines/yara/filetype";
import { compile, engineWorn, initYaraX, YaraScanner, type FileExternals } from "../engines/yara/yarax";
import type { FileHashes, Finding, Reason, ScanResult } from "../types";
import { displayPath } from "../util/paths";
import { describeType, reasonForError } from "../walk/walk";
import type { FromWorker, ScanTask, ToWorker, WorkerInit } from "./protocol";

const init = workerData as WorkerInit;
const port = parentPort!;

const CHUNK = 1 << 20;
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

let yara: YaraScanner | undefined;
let hashDb: HashDb | undefined;

function setup(): void {
  initYaraX(init.wasm);
  if (init.yara.length > 0) {
    const out = compile(init.yara, init.defines);
    if (!out.rules) {
      post({ type: "fatal", errors: out.errors });
      return;
    }
    yara = new YaraScanner(out.rules, init.perFileExternals, init.timeoutMs);
  }
  if (init.hashDb) hashDb = HashDb.fromShared(init.hashDb);
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

function allHashes(data: Uint8Array): FileHashes {
  return {
    sha256: createHash("sha256").update(data).digest("hex"),
    sha1: createHash("sha1").update(data).digest("hex"),
    md5: createHash("md5").update(data).digest("hex"),
  };
}

/** YARA-X failed inside its WASM instance; the instance is not to be trusted with another file. */
class EngineTrap extends Error {}

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

function scan(task: ScanTask): ScanResult {
  const t0 = performance.now();
  const p = task.path === null ? "<stdin>" : Buffer.from(task.path.buffer, task.path.byteOffset, task.path.byteLength);
  const base: ScanResult = { verdict: "clean", ...displayPath(p), root: task.root, size: null, hashes: {}, findings: [] };
  const done = (r: ScanResult): ScanResult => ({ ...r, ms: Math.round((performance.now() - t0) * 1000) / 1000 });
  const fail = (verdict: "skipped" | "error", reason: Reason): ScanResult => done({ ...base, verdict, reason });
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
    const data = buffer.subarray(0, Math.min(n, limit));
    const findings: Finding[] = [];
    let hashes: FileHashes = {};
    let reason: Reason | undefined;
    let size = n;

    if (n > limit) {
      // Too large to match patterns in memory: stream the rest through the digests only.
      const need = !hashDb ? { md5: false, sha1: false, sha256: false } : statSize >= 0 ? hashDb.algorithmsFor(statSize) : { md5: true, sha1: true, sha256: true };
      const digester = createDigester({ md5: need.md5, sha1: need.sha1, sha256: true });
      digester.update(buffer.subarray(0, n));
      const chunk = buffer.subarray(0, CHUNK);
      for (;;) {
        const got = readSome(fd, chunk, 0, chunk.length);
        if (got === 0) break;
        digester.update(chunk.subarray(0, got));
        size += got;
      }
      hashes = digester.digest();
      if (hashDb) findings.push(...hashDb.lookup(size, hashes));
      reason = { code: "max-filesize", message: `${size} bytes is over --max-filesize ${limit}: hashed, not pattern-matched` };
    } else {
      if (hashDb) {
        const need = hashDb.algorithmsFor(n);
        if (need.md5 || need.sha1 || need.sha256) {
          const d = createDigester(need);
          d.update(data);
          hashes = d.digest();
          findings.push(...hashDb.lookup(n, hashes));
        }
      }
      if (yara) {
        const name = task.path === null ? "" : path.basename(base.path);
        const extension = path.extname(name).toLowerCase();
        const ext: FileExternals = {
          filename: name,
          filepath: task.path === null ? "" : path.resolve(base.path),
          extension,
          filetype: fileType(data.subarray(0, 8), extension),
          owner: uid >= 0 ? ownerOf(uid) : "",
        };
        const y0 = performance.now();
        try {
          findings.push(...yara.scan(data, ext));
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          const timedOut = /timeout/i.test(msg) || (init.timeoutMs > 0 && performance.now() - y0 >= init.timeoutMs);
          if (!timedOut) throw new EngineTrap(msg); // this instance is unusable now: see yarax.ts
          reason = { code: "timeout", message: `YARA scan stopped after --timeout-per-file ${init.timeoutMs / 1000}s` };
        }
      }
    }

    // Detected files carry all three digests; others SHA-256 when the report shows them.
    if (n <= limit) {
      if (findings.length > 0) hashes = allHashes(data);
      else if ((init.hashClean || reason) && !hashes.sha256) hashes = { ...hashes, sha256: createHash("sha256").update(data).digest("hex") };
    }

    let verdict: ScanResult["verdict"];
    if (findings.length > 0) verdict = "detected";
    else if (reason?.code === "engine-error") verdict = "error";
    else if (reason) verdict = "partial";
    else verdict = "clean";
    const r: ScanResult = { ...base, verdict, size, hashes, findings };
    if (reason) r.reason = reason;
    return done(r);
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
      let result: ScanResult;
      try {
        result = scan(msg.task);
      } catch (err) {
        if (!(err instanceof EngineTrap)) throw err;
        // The pool replaces this worker and tries the file once more on the fresh one.
        post({ type: "trap", id: msg.id, message: `YARA-X: ${err.message}` });
        break;
      }
      // Retire before YARA-X's leak makes it trap: the pool replaces a worn worker.
      post({ type: "result", id: msg.id, result, worn: engineWorn() });
      break;
    }
    default: {
      const never: never = msg.type;
      throw new Error(`unknown message ${String(never)}`);
    }
  }
});

try {
  setup();
} catch (err) {
  post({ type: "crash", message: err instanceof Error ? err.stack ?? err.message : String(err) });
}
