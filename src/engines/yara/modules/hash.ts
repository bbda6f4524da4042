// The `hash` module: digests and checksums of a range of the file or of a string, as YARA-X's
// lib/src/modules/hash computes them. A range must lie entirely inside the data (unlike math, it is
// not clipped): `hash.md5(0, filesize + 1)` is undefined. Digests are lowercase hex strings. A
// range of the file is digested piece by piece as it is read, never held whole.
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { UNKNOWN, type ByteSource, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { FileReader } from "../reader";
import { bytes, exactRange, func, isInt, isStr, struct } from "./util";

/** A digest over bytes that arrive in pieces: `update` each piece in order, then `value`. */
interface Digest {
  update(piece: Uint8Array): void;
  value(): Value;
}

const hex = (algorithm: string) => (): Digest => {
  const h = createHash(algorithm);
  return { update: (p) => void h.update(p), value: () => bytes(h.digest("hex")) };
};

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const nativeCrc32 = (zlib as { crc32?: (d: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (IEEE, as crc32fast): zlib's native one where Node has it (22.2+), else a table. */
function crc32(): Digest {
  let c = 0;
  return {
    update(d) {
      if (nativeCrc32) {
        c = nativeCrc32(d, c);
        return;
      }
      let x = c ^ 0xffffffff;
      for (let i = 0; i < d.length; i++) x = CRC_TABLE[(x ^ d[i]) & 0xff] ^ (x >>> 8);
      c = (x ^ 0xffffffff) >>> 0;
    },
    value: () => BigInt(c >>> 0),
  };
}

/** The sum of all bytes modulo 2^32 (the plain sum stays exact: under 2^53 below 35 TB). */
function checksum32(): Digest {
  let sum = 0;
  return {
    update(d) {
      for (let i = 0; i < d.length; i++) sum += d[i];
    },
    value: () => BigInt(sum % 2 ** 32),
  };
}

const DIGESTS: Record<string, () => Digest> = {
  md5: hex("md5"),
  sha1: hex("sha1"),
  sha256: hex("sha256"),
  crc32,
  checksum32,
};

function load(source: ByteSource): StructValue {
  const file = FileReader.from(source);
  // YARA-X caches range digests per file; so does ring3, since rules repeat hash.md5(0, filesize).
  const cache = new Map<string, Value>();
  const fields: Record<string, Value> = {};
  for (const [name, make] of Object.entries(DIGESTS)) {
    fields[name] = func((args) => {
      if (args.length === 2 && isInt(args[0]) && isInt(args[1])) {
        const key = `${name}:${args[0]},${args[1]}`;
        if (cache.has(key)) return cache.get(key);
        const range = exactRange(file.size, args[0], args[1]);
        let v: Value;
        if (range) {
          const d = make();
          file.each(range.start, range.end, (piece) => d.update(piece));
          v = d.value();
        }
        cache.set(key, v);
        return v;
      }
      if (args.length === 1 && isStr(args[0])) {
        const d = make();
        d.update(args[0]);
        return d.value();
      }
      return UNKNOWN;
    });
  }
  return struct(fields);
}

export const hash: ModuleFactory = { name: "hash", load };
