// Computes the digests a hash lookup needs, fed in chunks of any size so that a worker hashes a
// file of any length in bounded memory. node:crypto is several times faster here than hash-wasm.
import { createHash, type Hash } from "node:crypto";
import type { FileHashes } from "../../types";
import type { HashAlgorithm } from "./lists";

export interface Digester {
  update(chunk: Uint8Array): void;
  /** Lowercase hex for each algorithm asked for; the digester is spent afterwards. */
  digest(): FileHashes;
}

export function createDigester(algorithms: Partial<Record<HashAlgorithm, boolean>>): Digester {
  const hashes: [HashAlgorithm, Hash][] = [];
  for (const a of ["md5", "sha1", "sha256"] as const) if (algorithms[a]) hashes.push([a, createHash(a)]);
  let done = false;
  return {
    update(chunk) {
      if (done) throw new Error("digester: update after digest");
      for (const [, h] of hashes) h.update(chunk);
    },
    digest() {
      if (done) throw new Error("digester: digest called twice");
      done = true;
      const out: FileHashes = {};
      for (const [a, h] of hashes) out[a] = h.digest("hex");
      return out;
    },
  };
}

/** Digests of bytes already in memory (a container member, a test fixture). */
export function digestBytes(bytes: Uint8Array, algorithms: Partial<Record<HashAlgorithm, boolean>>): FileHashes {
  const d = createDigester(algorithms);
  d.update(bytes);
  return d.digest();
}
