// The `hash` module: digests and checksums of a range of the file or of a string, as YARA-X's
// lib/src/modules/hash computes them. A range must lie entirely inside the data (unlike math, it is
// not clipped): `hash.md5(0, filesize + 1)` is undefined. Digests are lowercase hex strings.
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { UNKNOWN, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { bytes, exactRange, func, isInt, isStr, struct } from "./util";

type Digest = (data: Uint8Array) => Value;

const hex = (algorithm: string): Digest => (data) => bytes(createHash(algorithm).update(data).digest("hex"));

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE, as crc32fast): zlib's native one where Node has it (22.2+), else a table. */
function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data);
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The sum of all bytes modulo 2^32 (the plain sum stays exact: under 2^53 below 35 TB). */
function checksum32(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  return sum % 2 ** 32;
}

const DIGESTS: Record<string, Digest> = {
  md5: hex("md5"),
  sha1: hex("sha1"),
  sha256: hex("sha256"),
  crc32: (d) => BigInt(crc32(d)),
  checksum32: (d) => BigInt(checksum32(d)),
};

function load(data: Uint8Array): StructValue {
  // YARA-X caches range digests per file; so does ring3, since rules repeat hash.md5(0, filesize).
  const cache = new Map<string, Value>();
  const fields: Record<string, Value> = {};
  for (const [name, digest] of Object.entries(DIGESTS)) {
    fields[name] = func((args) => {
      if (args.length === 2 && isInt(args[0]) && isInt(args[1])) {
        const key = `${name}:${args[0]},${args[1]}`;
        if (cache.has(key)) return cache.get(key);
        const range = exactRange(data, args[0], args[1]);
        const v = range === undefined ? undefined : digest(range);
        cache.set(key, v);
        return v;
      }
      if (args.length === 1 && isStr(args[0])) return digest(args[0]);
      return UNKNOWN;
    });
  }
  return struct(fields);
}

export const hash: ModuleFactory = { name: "hash", load };
