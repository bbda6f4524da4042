// The long tail (7z, cab, cpio, rpm, iso, msi, xz, bzip2, rar, ...) through 7z-wasm: 7-Zip 24.09
// compiled to WebAssembly (LGPL, licenses/7z-wasm.txt). Everything happens in its in-memory file
// system (emscripten MEMFS; nothing is ever mounted, so no member name can reach a real path),
// every write is charged to the budget by a hook that refuses the write once a limit is reached,
// and members are read back by walking the output tree, never by trusting the archive's names.
//
// 7-Zip reports errors by C++ exceptions, which this build cannot catch, or by exit() deep inside:
// either way the call ends with the WASM stack pointer left where it was (an instance broke after
// about a dozen failures), and a damaged archive can leave 7-Zip's heap unusable. So the stack
// pointer is put back after every call, and after a failure the instance's memory is restored to
// its state before the first call and then probed on a known archive (measured: 12,000 damaged
// archives of 8 formats in a row, no instance lost). An instance that fails the probe, or whose
// heap has grown, is retired; a spare takes over while a replacement is instantiated in the
// background. The heap may not grow past HEAP_CAP, so a header that asks for a 1.5 GB dictionary
// fails instead of allocating it. Instantiation is asynchronous (emscripten's factory awaits):
// hence prepareSevenZip(), and sevenZipReady() between files.
import * as fs from "node:fs";
import SevenZip, { type SevenZipModule } from "7z-wasm";
import { EMPTY_NAME, RATIO_FLOOR, membersProblem, problem, remainingOf, timeProblem } from "./budget";
import type { Budget, ContainerFormat, ContainerProblem, Member } from "./types";
import { releaseBuffer } from "../util/release";

interface MemNode {
  contents: Uint8Array | Int8Array | null;
  usedBytes: number;
}
interface FsStream {
  node: MemNode;
  path: string;
  position: number;
}
interface Emfs {
  write(stream: FsStream, buf: ArrayBufferView, off: number, len: number, pos?: number, canOwn?: boolean): number;
  ErrnoError: new (errno: number) => Error;
  mount: (...args: unknown[]) => unknown;
  lookupPath(path: string): { node: { contents: ArrayBufferView | null; usedBytes: number; mount: { type: unknown } } };
  readdir(path: string): string[];
  lstat(path: string): { mode: number };
  isFile(mode: number): boolean;
  isDir(mode: number): boolean;
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  writeFile(path: string, data: Uint8Array, opts?: { canOwn?: boolean }): void;
  streams: ({ fd: number } | null | undefined)[];
  close(stream: object): void;
}

interface Instance {
  module: SevenZipModule;
  fs: Emfs;
  exports: { memory: WebAssembly.Memory; emscripten_stack_get_current(): number; _emscripten_stack_restore(sp: number): void };
  /** Lines 7-Zip printed during the current call. */
  lines: string[];
  /** Calls that ended in an escaped exception (diagnostics: each one is followed by a reset). */
  throws: number;
  /** Set when the heap cap refused a growth during the current call. */
  refused: boolean;
  /** The WASM memory (up to its last non-zero byte; the rest was zero) and stack pointer as they were before the first call (see reset). */
  pristine: Uint8Array;
  pristineSp: number;
}

const ENOSPC = 51; // emscripten's errno numbering
const SPARES = 2;
const MiB = 1024 * 1024;
/** Largest WASM heap an instance may grow to: 7-Zip's biggest default dictionaries are 64 MiB. */
const HEAP_CAP = 384 * MiB;
/** An instance whose heap grew past this is replaced, so that its memory goes back to the system. */
const RETIRE_HEAP = 96 * MiB;

let compiled: WebAssembly.Module | undefined;
const pool: Instance[] = [];
let refilling: Promise<void> | undefined;
let created = 0;
/** The memory of a fresh instance before any call, up to its last non-zero byte (see reset). */
let shared: { bytes: Uint8Array; size: number } | undefined;

/** How many instances are ready, and how many were ever made (for tests and diagnostics). */
export function sevenZipStats(): { ready: number; created: number; heapBytes: number[] } {
  return { ready: pool.length, created, heapBytes: pool.map((i) => i.exports.memory.buffer.byteLength) };
}

/** The WASM file: the caller's bytes (the single executable passes its asset), else the package's. */
function defaultWasm(): Uint8Array {
  return fs.readFileSync(require.resolve("7z-wasm/7zz.wasm"));
}

/**
 * Compiles 7z-wasm once and instantiates the spares. Await it before opening a format read through
 * 7z-wasm; until then those formats come back `archive-unsupported` (or, on demand, SevenZipWanted).
 */
export async function prepareSevenZip(wasm?: Uint8Array): Promise<void> {
  compiled ??= new WebAssembly.Module(wasm ?? onDemand ?? defaultWasm());
  await refill();
}

/**
 * Thrown by a reader that needs 7z-wasm before any instance was made, when instantiation is on
 * demand: the caller (the scan worker) prepares 7z-wasm and scans the file again.
 */
export class SevenZipWanted extends Error {
  constructor() {
    super("7z-wasm wanted: prepare it and scan the file again");
  }
}

/** The WASM bytes to compile when a file first needs 7z-wasm (see sevenZipOnDemand). */
let onDemand: Uint8Array | undefined;

/**
 * Instantiates 7z-wasm only when a file first needs it. Its instances cost 17 MB of WASM memory
 * each (two per worker); most scans never meet a format only 7-Zip reads.
 */
export function sevenZipOnDemand(wasm: Uint8Array): void {
  onDemand = wasm;
}

/**
 * Whether an instance is ready for a reader to use now. Before the first instance, on demand,
 * throws SevenZipWanted (the file is scanned again once 7z-wasm is ready); afterwards, false
 * while the spares are being replaced.
 */
export function sevenZipAvailable(): boolean {
  if (pool.length > 0) return true;
  if (onDemand !== undefined && created === 0) throw new SevenZipWanted();
  return false;
}

/** Resolves once an instance is ready again (after errors retired some). */
export function sevenZipReady(): Promise<void> {
  return refilling ?? Promise.resolve();
}

function refill(): Promise<void> {
  refilling ??= (async () => {
    try {
      while (pool.length < SPARES) pool.push(await instantiate());
    } finally {
      refilling = undefined;
    }
  })();
  return refilling;
}

async function instantiate(): Promise<Instance> {
  const lines: string[] = [];
  const saved = process.exitCode;
  let wasm: WebAssembly.Instance | undefined;
  const state = { refused: false };
  const module = await SevenZip({
    // Instantiate from the module compiled once (no file lookup, no second compile), with the
    // heap's growth capped.
    instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
      const env = { ...(imports.env as Record<string, unknown>) };
      const resize = env.emscripten_resize_heap as (bytes: number) => boolean;
      env.emscripten_resize_heap = (bytes: number) => {
        if (bytes >>> 0 > HEAP_CAP) return (state.refused = true), false;
        return resize(bytes);
      };
      wasm = new WebAssembly.Instance(compiled!, { env, wasi_snapshot_preview1: env } as WebAssembly.Imports);
      done(wasm);
      return {};
    },
    print: (s: string) => void lines.push(s),
    printErr: (s: string) => void lines.push(s),
    stdin: () => null, // a password prompt reads end of input, never the scanner's stdin
  } as never);
  process.exitCode = saved;
  const emfs = module.FS as unknown as Emfs;
  // Defence in depth: the root is MEMFS, and nothing may ever mount the real file system.
  if (emfs.lookupPath("/").node.mount.type === module.NODEFS) throw new Error("7z-wasm: root is not MEMFS");
  emfs.mount = () => {
    throw new Error("ring3: 7z-wasm may not mount file systems");
  };
  emfs.mkdir("/w");
  created++;
  const exports = wasm!.exports as unknown as Instance["exports"];
  // Fresh instances of one module start byte-for-byte alike (measured): one snapshot serves all.
  const size = exports.memory.buffer.byteLength;
  if (!shared || shared.size !== size) shared = { bytes: nonZeroPrefix(new Uint8Array(exports.memory.buffer)), size };
  const pristine = shared.bytes;
  const inst: Instance = { module, fs: emfs, exports, lines, throws: 0, refused: false, pristine, pristineSp: exports.emscripten_stack_get_current() };
  Object.defineProperty(inst, "refused", { get: () => state.refused, set: (v: boolean) => void (state.refused = v) });
  return inst;
}

/**
 * A copy of `mem` up to its last non-zero byte: of a fresh instance's 16 MiB, 240 KB (static data
 * and stack). reset() copies that much and zero-fills the rest, which is twice as fast as copying
 * all 16 MiB (measured 1.3 ms against 2.7 ms; it ran after every damaged archive and was half of
 * the 7z fuzz target's time).
 */
function nonZeroPrefix(mem: Uint8Array): Uint8Array {
  const CHUNK = 1 << 16;
  const zero = new Uint8Array(CHUNK);
  let end = mem.length;
  while (end >= CHUNK && Buffer.compare(mem.subarray(end - CHUNK, end), zero) === 0) end -= CHUNK;
  while (end > 0 && mem[end - 1] === 0) end--;
  return mem.slice(0, end);
}

/**
 * Grows an output file's buffer ahead of MEMFS's write, by doubling, past the first MiB. MEMFS
 * itself grows a file by 1/8 past 1 MiB, a fresh buffer and a copy each time: a 37 MB tar out of
 * a .deb's data.tar.xz left some 30 dead buffers (over 300 MB in all) for the garbage collector,
 * and the worker's RSS jumped by 67 MB on that one file (issue 9). The buffer replaced is the
 * file's own (MEMFS keeps no other view of it), so it goes back to the allocator at once.
 */
function reserve(node: MemNode, need: number, heap: ArrayBuffer): void {
  const cur = node.contents;
  const cap = cur ? cur.length : 0;
  if (cap >= need || need <= MiB) return;
  const next = new Uint8Array(Math.max(need, 2 * cap));
  if (cur) {
    if (node.usedBytes > 0) next.set(new Uint8Array(cur.buffer, cur.byteOffset, Math.min(node.usedBytes, cur.length)));
    // Never 7-Zip's heap (MEMFS copies what 7-Zip writes out of it; checked all the same).
    if (cur.buffer !== heap) releaseBuffer(cur);
  }
  node.contents = next;
}

function take(): Instance | undefined {
  return pool[0];
}

function retire(inst: Instance): void {
  const i = pool.indexOf(inst);
  if (i >= 0) pool.splice(i, 1);
  void refill().catch(() => undefined); // a failed refill leaves the pool short; later calls say so
}

/**
 * Back to the state after instantiation: the WASM memory as it was (heap, 7-Zip's globals), the
 * stack pointer, and no file left open in the JavaScript file system. Memory that grew stays
 * allocated (WASM memory never shrinks) but is zeroed and unused; RETIRE_HEAP deals with size.
 */
function reset(inst: Instance): void {
  for (const s of inst.fs.streams) {
    if (s && s.fd > 2) {
      try {
        inst.fs.close(s);
      } catch {
        // already closed
      }
    }
  }
  const mem = new Uint8Array(inst.exports.memory.buffer);
  mem.set(inst.pristine);
  mem.fill(0, inst.pristine.length);
  inst.exports._emscripten_stack_restore(inst.pristineSp);
}

/** A stored zip holding "h" = "ok": what a healthy instance must extract. */
const PROBE = Uint8Array.from(
  Buffer.from(
    "504b03041400000000000000000047dddc79020000000200000001000000686f6b" +
      "504b010214001400000000000000000047dddc79020000000200000001000000000000000000000000000000000068" +
      "504b050600000000010001002f000000210000000000",
    "hex",
  ),
);

function healthy(inst: Instance): boolean {
  const emfs = inst.fs;
  const saved = process.exitCode;
  const sp = inst.exports.emscripten_stack_get_current();
  try {
    emfs.writeFile("/w/probe.zip", PROBE);
    const code = inst.module.callMain(["x", "-y", "-bd", "-o/probe", "/w/probe.zip"]) as unknown as number;
    const node = emfs.lookupPath("/probe/h").node;
    const ok = code === 0 && node.usedBytes === 2;
    emfs.unlink("/probe/h");
    emfs.rmdir("/probe");
    emfs.unlink("/w/probe.zip");
    return ok;
  } catch {
    return false;
  } finally {
    inst.exports._emscripten_stack_restore(sp);
    process.exitCode = saved;
  }
}

/** What 7-Zip's messages mean for the scan. */
function classify(lines: string[]): ContainerProblem {
  const text = lines.join("\n");
  if (/Wrong password|encrypted archive|Encrypted = \+/i.test(text)) return problem("archive-encrypted", "7z-wasm: encrypted");
  if (/Unsupported Method|Unsupported feature/i.test(text)) return problem("archive-unsupported", "7z-wasm: unsupported method");
  const why = /(Data Error|CRC Failed|Unexpected end of (?:data|archive)|Headers Error|Can ?not open the file as archive|Is not archive|There are data after the end of archive|ERROR:[^\n]*)/i.exec(text);
  return problem("archive-corrupt", `7z-wasm: ${why ? why[1]!.trim() : "extraction failed"}`);
}

/**
 * A 7z whose header itself is encrypted (7z a -mhe) makes 7-Zip throw before it prints a word:
 * recognise it from the start header, whose "next header" is an encoded header (0x17) whose
 * coder is AES-256 (method id 06 F1 07 01).
 */
function headerEncrypted(data: Uint8Array): boolean {
  if (data.length < 32) return false;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const at = 32 + view.getUint32(12, true) + view.getUint32(16, true) * 2 ** 32;
  const size = view.getUint32(20, true);
  if (at >= data.length || data[at] !== 0x17) return false;
  const header = data.subarray(at, Math.min(data.length, at + size));
  for (let i = 0; i + 4 <= header.length; i++) {
    if (header[i] === 0x06 && header[i + 1] === 0xf1 && header[i + 2] === 0x07 && header[i + 3] === 0x01) return true;
  }
  return false;
}

const EXT: Partial<Record<ContainerFormat, string>> = { xz: "xz", bzip2: "bz2", "7z": "7z", cab: "cab", cpio: "cpio", rpm: "rpm", iso: "iso", msi: "msi" };
const SINGLE_STREAM: ReadonlySet<ContainerFormat> = new Set(["xz", "bzip2"]);
const enc = new TextEncoder();

export function* readWith7z(format: ContainerFormat, data: Uint8Array, budget: Budget): Iterable<Member> {
  const inst = sevenZipAvailable() ? take() : undefined;
  if (!inst) {
    yield { name: EMPTY_NAME, problem: problem("archive-unsupported", `${format}: 7z-wasm is not loaded (prepareSevenZip)`) };
    return;
  }
  const { members, trouble } = extract(inst, format, data, budget);
  for (const m of members) yield m;
  if (trouble) yield { name: EMPTY_NAME, problem: trouble };
}

function extract(inst: Instance, format: ContainerFormat, data: Uint8Array, budget: Budget): { members: Member[]; trouble?: ContainerProblem } {
  const emfs = inst.fs;
  const input = `/w/in.${EXT[format] ?? "bin"}`;
  const out = "/o";
  const { maxMemberSize, maxMembers } = budget.limits;
  const totalCap = Math.min(remainingOf(budget), Math.max(RATIO_FLOOR, budget.limits.maxRatio * data.length));
  let written = 0;
  const perNode = new Map<object, number>();
  let stop: ContainerProblem | undefined;

  const write = emfs.write;
  emfs.write = function (stream, buf, off, len, pos, canOwn) {
    if (stream.path.startsWith(out + "/")) {
      const n = (perNode.get(stream.node) ?? 0) + len;
      if (!perNode.has(stream.node) && perNode.size === maxMembers) stop ??= membersProblem(budget);
      else if (n > maxMemberSize) stop ??= problem("archive-member-size", `${format} member unpacks to more than ${maxMemberSize} bytes (maxMemberSize)`);
      else if (written + len > totalCap) {
        stop ??=
          totalCap === remainingOf(budget)
            ? problem("archive-total-size", `more than ${budget.limits.maxTotalBytes} bytes unpacked (maxTotalBytes)`)
            : problem("archive-ratio", `${format} expands more than ${budget.limits.maxRatio} times (maxRatio)`);
      } else if (!budget.inTime()) stop ??= timeProblem(budget);
      if (stop) throw new emfs.ErrnoError(ENOSPC);
      perNode.set(stream.node, n);
      written += len;
      reserve(stream.node, (pos ?? stream.position) + len, inst.exports.memory.buffer);
    }
    return write.call(this, stream, buf, off, len, pos, canOwn);
  };

  inst.lines.length = 0;
  inst.refused = false;
  const saved = process.exitCode;
  const sp = inst.exports.emscripten_stack_get_current();
  let code: number;
  let threw = false;
  try {
    emfs.writeFile(input, data, { canOwn: true });
    emfs.mkdir(out);
    // -p: a wrong password instead of a prompt; -y: overwrite (duplicate names), no questions.
    code = inst.module.callMain(["x", "-y", "-bd", "-sccUTF-8", "-pring3", `-o${out}`, input]) as unknown as number;
  } catch {
    threw = true;
    code = 2;
  } finally {
    // An escaped exception, or exit() called deep inside 7-Zip, leaves the stack pointer where
    // it was: put it back, or every failed call leaks stack until the instance breaks.
    inst.exports._emscripten_stack_restore(sp);
    emfs.write = write;
    process.exitCode = saved;
  }
  if (threw) inst.throws++;
  // 7-Zip's state after an error path is not to be trusted (a damaged 7z can leave its heap
  // unusable): after a failure, put the instance back as it was before its first call, then
  // prove it works on a known archive before it gets another.
  // An instance whose heap grew past RETIRE_HEAP is replaced without a reset: zero-filling the
  // grown heap was 170 of the 200 ms a damaged rpm took whose header asked for 300 MB (issue 13's
  // fuzzer, where a busy machine made it a hang).
  if (inst.exports.memory.buffer.byteLength > RETIRE_HEAP) retire(inst);
  else if (code !== 0) {
    reset(inst);
    if (!healthy(inst)) retire(inst);
  }

  const members: Member[] = [];
  let charged = true;
  const walk = (dir: string, prefix: string): void => {
    for (const entry of emfs.readdir(dir)) {
      if (entry === "." || entry === "..") continue;
      const p = `${dir}/${entry}`;
      const mode = emfs.lstat(p).mode;
      if (emfs.isDir(mode)) {
        walk(p, `${prefix}${entry}/`);
        emfs.rmdir(p);
        continue;
      }
      if (emfs.isFile(mode) && charged) {
        const node = emfs.lookupPath(p).node;
        // MEMFS keeps what 7-Zip wrote as slices of its Int8Array heap: view them as unsigned bytes.
        const c = node.contents;
        const bytes = c ? new Uint8Array(c.buffer, c.byteOffset, node.usedBytes) : new Uint8Array(0);
        const name = SINGLE_STREAM.has(format) ? EMPTY_NAME : enc.encode(prefix + entry);
        charged = budget.charge(bytes.length);
        // The file is unlinked below: its buffer is the member's own unless it lies in the heap.
        const owned = c !== null && c.buffer !== inst.exports.memory.buffer;
        members.push(charged ? { name, data: bytes, owned } : { name, data: bytes, owned, problem: problem("archive-total-size", `more than ${budget.limits.maxTotalBytes} bytes unpacked (maxTotalBytes)`) });
      }
      emfs.unlink(p); // links and devices are neither followed nor yielded
    }
  };
  try {
    walk(out, "");
    emfs.rmdir(out);
    emfs.unlink(input);
  } catch {
    retire(inst); // a tree we cannot clean is a tree we cannot trust for the next file
  }
  if (stop) {
    // The refused write left the member being written incomplete: it is the last one out. Over
    // maxMembers, that member is one too many: drop it and report the container.
    if (stop.code === "archive-members") {
      members.pop();
      return { members, trouble: stop };
    }
    const last = members[members.length - 1];
    if (last && !last.problem) last.problem = stop;
    return { members, trouble: last ? undefined : stop };
  }
  if (code === 0 && !inst.refused) return { members };
  const trouble = inst.refused
    ? problem("archive-unsupported", `${format}: unpacking needs more than ${HEAP_CAP / MiB} MiB of memory (a huge dictionary?)`)
    : format === "7z" && headerEncrypted(data)
      ? problem("archive-encrypted", "7z: names and data are encrypted")
      : classify(inst.lines);
  // 7-Zip creates a member's file before it fails on it: the empty files, and the last one it
  // wrote, are the members the failure concerns. None: the archive as a whole failed.
  let blamed = false;
  members.forEach((m, i) => {
    if (m.problem) return;
    if (m.data!.length === 0) (m.problem = trouble), (m.data = undefined), (blamed = true);
    else if (i === members.length - 1) (m.problem = trouble), (blamed = true);
  });
  return blamed ? { members } : { members, trouble };
}
