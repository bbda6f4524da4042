// --shard K/N: a deterministic share of the files, so that N jobs (a CI matrix, hosts) each scan
// one part and their reports together equal one full scan. The share is decided by a hash of the
// path relative to its scan root, separators made '/', so every host and OS computes the same split.
import { createHash } from "node:crypto";
import type { ScanResult } from "../types";
import { displayPath } from "../util/paths";
import { UsageError } from "./options";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 65_536;

export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new UsageError(`--shard takes K/N with 1 <= K <= N <= ${MAX_SHARDS}, got "${s}"`);
  }
  return { index, count };
}

export function shardText(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/**
 * The key hashed: the path below its root ("sub/a.exe" under root "data"), or for a root that is
 * itself a file, the root as given. Display forms are used (a non-UTF-8 byte is "\xNN" there), a
 * pure function of the bytes, so the key is the same wherever the bytes are.
 */
export function shardKey(displayPath: string, root: string): string {
  let rel = displayPath;
  if (displayPath !== root) {
    const base = root.replace(/[\\/]+$/, "");
    if (displayPath.startsWith(base) && (displayPath[base.length] === "/" || displayPath[base.length] === "\\")) {
      rel = displayPath.slice(base.length + 1);
    }
  }
  return rel.replace(/\\/g, "/").replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/");
}

/** Which shard (1-based) a key falls in: the first 48 bits of its SHA-256, modulo N. */
export function shardOf(key: string, count: number): number {
  const d = createHash("sha256").update(key, "utf8").digest();
  return (d.readUIntBE(0, 6) % count) + 1;
}

export function inShard(shard: Shard | undefined, displayPath: string, root: string): boolean {
  return shard === undefined || shard.count === 1 || shardOf(shardKey(displayPath, root), shard.count) === shard.index;
}

/** A file from the walk (path bytes); nothing is computed without --shard. */
export function fileInShard(shard: Shard | undefined, path: Buffer, root: string): boolean {
  return shard === undefined || inShard(shard, displayPath(path).path, root);
}

/** A result the walk made itself (a skipped link, an unreadable folder): same rule, by its path. */
export function resultInShard(shard: Shard | undefined, r: ScanResult): boolean {
  return inShard(shard, r.path, r.root);
}
