// Reads files that ship with ring3: inside a single executable they are SEA assets; when running
// from the bundle (dist/ring3.cjs, dev launcher) they sit in dist/assets/ beside it.
import * as fs from "node:fs";
import * as path from "node:path";

let sea: { isSea(): boolean; getAsset(key: string): ArrayBuffer; getRawAsset?(key: string): ArrayBuffer } | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sea = require("node:sea");
} catch {
  sea = undefined; // Node without SEA support: always the file-system layout
}

export function inSea(): boolean {
  return sea !== undefined && sea.isSea();
}

/** The asset's bytes. Names are plain file names such as "worker.js". */
export function getAsset(name: string): Buffer {
  if (inSea()) return Buffer.from(sea!.getAsset(name));
  return fs.readFileSync(path.join(assetDir(), name));
}

/**
 * The asset's bytes to read, not to write: inside a single executable a view of the executable's
 * own (read-only) mapping, without getAsset's copy (5 ms of every start for the signatures).
 */
export function assetView(name: string): Buffer {
  if (inSea() && sea!.getRawAsset) return Buffer.from(sea!.getRawAsset(name));
  return getAsset(name);
}

export function assetDir(): string {
  return process.env.RING3_ASSET_DIR ?? path.join(__dirname, "assets");
}
