// Enumerates candidate files under the scan roots. It never reads content: it yields file paths
// (as bytes, so non-UTF-8 names stay openable) and, for everything it will not hand on, a
// `skipped` result with the reason. Nothing found under a root is dropped silently.
//
// Why not fast-glob: it decodes names lossily (a non-UTF-8 name becomes U+FFFD and the file can
// no longer be opened: ENOENT) and it either aborts on an unreadable folder or, with
// suppressErrors, drops it without a word. The filters use picomatch, fast-glob's own matcher.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Reason, ReasonCode, ScanResult } from "../types";
import { displayPath, joinBytes } from "../util/paths";
import { describeType, reasonForError } from "../util/fs-reasons";
import { type Filters } from "./filters";

export interface WalkOptions {
  filters: Filters;
  followSymlinks: boolean;
  oneFileSystem: boolean;
}

export type WalkItem =
  | { kind: "file"; path: Buffer; root: string; follow: boolean; within?: Buffer }
  | { kind: "result"; result: ScanResult };

/** Reached by descent (never when named as a root): kernel views, not files on disk. */
const VIRTUAL_DIRS = process.platform === "linux" ? new Set(["/proc", "/sys", "/dev"]) : new Set<string>();

export function skipped(p: Buffer | string, root: string, code: ReasonCode, message: string, verdict: "skipped" | "error" = "skipped"): ScanResult {
  const reason: Reason = { code, message };
  return { verdict, ...displayPath(p), root, size: null, hashes: {}, findings: [], reason };
}

function errorResult(p: Buffer | string, root: string, err: unknown): ScanResult {
  const r = reasonForError(err as NodeJS.ErrnoException);
  return skipped(p, root, r.code, r.message, r.verdict);
}

export async function* walk(roots: Iterable<string | Buffer>, opts: WalkOptions): AsyncGenerator<WalkItem> {
  for (const r of roots) yield* walkRoot(typeof r === "string" ? Buffer.from(r) : r, opts);
}

async function* walkRoot(rootBytes: Buffer, opts: WalkOptions): AsyncGenerator<WalkItem> {
  const root = displayPath(rootBytes).path;
  // A root named on the command line is followed even if it is a symlink (as find -H, ripgrep).
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(rootBytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") {
      yield { kind: "result", result: skipped(rootBytes, root, "io-error", "no such file or directory", "error") };
    } else yield { kind: "result", result: errorResult(rootBytes, root, err) };
    return;
  }
  if (!st.isDirectory()) {
    // Filters apply to named files too: a slashless pattern matches the base name.
    if (!opts.filters.file(root)) return;
    if (st.isFile()) yield { kind: "file", path: rootBytes, root, follow: true };
    else yield { kind: "result", result: skipped(rootBytes, root, "not-regular", describeType(st)) };
    return;
  }
  const visited = new Set<string>([`${st.dev}:${st.ino}`]);
  // Where the root really is: a file opened below it must still be there (src/scan/file.ts).
  // (Copied into a buffer of its own: a pooled slice would send its whole pool with every task.)
  const within = await fs.promises.realpath(rootBytes, { encoding: "buffer" }).then((b) => Buffer.from(new Uint8Array(b).buffer), () => undefined);
  const rootDev = st.dev;
  // Depth-first with an explicit stack: deep trees cannot overflow the call stack.
  const stack: { dir: Buffer; rel: string }[] = [{ dir: rootBytes, rel: "" }];
  while (stack.length > 0) {
    const { dir, rel } = stack.pop()!;
    let entries: fs.Dirent<Buffer>[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true, encoding: "buffer" });
    } catch (err) {
      yield { kind: "result", result: errorResult(dir, root, err) };
      continue;
    }
    const subdirs: { dir: Buffer; rel: string }[] = [];
    for (const ent of entries) {
      const full = joinBytes(dir, ent.name);
      const childRel = rel === "" ? ent.name.toString("utf8") : `${rel}/${ent.name.toString("utf8")}`;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      const viaLink = ent.isSymbolicLink();
      if (viaLink) {
        if (!opts.followSymlinks) {
          if (opts.filters.file(childRel)) yield { kind: "result", result: skipped(full, root, "symlink", "symbolic link, not followed (use --follow-symlinks)") };
          continue;
        }
        let target: fs.Stats;
        try {
          target = await fs.promises.stat(full);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const res = e.code === "ENOENT" ? skipped(full, root, "symlink", "broken symbolic link (target does not exist)") : e.code === "ELOOP" ? skipped(full, root, "loop", "symbolic link loop") : errorResult(full, root, err);
          if (opts.filters.file(childRel)) yield { kind: "result", result: res };
          continue;
        }
        isDir = target.isDirectory();
        isFile = target.isFile();
        if (isDir) {
          const key = `${target.dev}:${target.ino}`;
          if (visited.has(key)) {
            if (!opts.filters.dirExcluded(childRel)) yield { kind: "result", result: skipped(full, root, "loop", "folder already scanned (symbolic link loop or repeat)") };
            continue;
          }
        } else if (!isFile) {
          if (opts.filters.file(childRel)) yield { kind: "result", result: skipped(full, root, "not-regular", describeType(target)) };
          continue;
        } else if (VIRTUAL_DIRS.size > 0 && opts.filters.file(childRel)) {
          // A link to a kernel file (/proc/kcore, /sys/...) is not a file on disk either.
          const real = await fs.promises.realpath(full.toString("utf8")).catch(() => "");
          if ([...VIRTUAL_DIRS].some((v) => real.startsWith(`${v}/`))) {
            yield { kind: "result", result: skipped(full, root, "virtual-filesystem", `links to ${real}, a kernel file system, not scanned`) };
            continue;
          }
        }
      }
      if (isDir) {
        if (opts.filters.dirExcluded(childRel)) continue;
        // Through a link, what counts is where it leads (a link to /proc is /proc).
        let abs = path.resolve(full.toString("utf8"));
        if (viaLink) {
          try {
            abs = await fs.promises.realpath(full.toString("utf8"));
          } catch {
            // unresolvable now: the stat below reports it
          }
        }
        if (VIRTUAL_DIRS.has(abs)) {
          yield { kind: "result", result: skipped(full, root, "virtual-filesystem", `${abs} is a kernel file system, not scanned`) };
          continue;
        }
        if (opts.followSymlinks || opts.oneFileSystem) {
          let dst: fs.Stats;
          try {
            dst = await fs.promises.stat(full);
          } catch (err) {
            yield { kind: "result", result: errorResult(full, root, err) };
            continue;
          }
          if (opts.oneFileSystem && dst.dev !== rootDev) {
            yield { kind: "result", result: skipped(full, root, "other-filesystem", "on another file system (--one-file-system)") };
            continue;
          }
          const key = `${dst.dev}:${dst.ino}`;
          if (visited.has(key)) {
            yield { kind: "result", result: skipped(full, root, "loop", "folder already scanned (symbolic link loop or repeat)") };
            continue;
          }
          visited.add(key);
        }
        subdirs.push({ dir: full, rel: childRel });
      } else if (isFile) {
        if (opts.filters.file(childRel)) yield { kind: "file", path: full, root, follow: opts.followSymlinks, ...(within ? { within } : {}) };
      } else if (opts.filters.file(childRel)) {
        yield { kind: "result", result: skipped(full, root, "not-regular", direntType(ent)) };
      }
    }
    // Reverse so that the stack pops them in directory order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}

function direntType(ent: fs.Dirent<Buffer>): string {
  if (ent.isFIFO()) return "a FIFO (named pipe), never opened";
  if (ent.isSocket()) return "a socket, never opened";
  if (ent.isCharacterDevice() || ent.isBlockDevice()) return "a device, never opened";
  return "not a regular file";
}
