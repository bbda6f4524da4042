// The hash module against YARA-X: md5, sha1, sha256, crc32, checksum32 of ranges (inside, empty, at
// and past the end, negative, beyond 32 bits) and of strings.
import * as fs from "node:fs";
import { describe, expect, test } from "vitest";
import type { Value } from "../../src/engines/yara/contracts";
import { hash } from "../../src/engines/yara/modules/hash";
import { call, disagreements, randomBytes, text, type Case } from "./yara-module-oracle";

const FUNCTIONS = ["md5", "sha1", "sha256", "crc32", "checksum32"];
const DATA: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  abc: text("abc"),
  binary: randomBytes(4099, 11),
  true: new Uint8Array(fs.readFileSync("/usr/bin/true")),
};

function ranges(len: number): [bigint, bigint][] {
  const n = BigInt(len);
  return [
    [0n, n],
    [0n, 0n],
    [n, 0n],
    [n, 1n],
    [0n, n + 1n],
    [1n, n - 1n],
    [2n, 7n],
    [n + 1n, 0n],
    [-1n, 2n],
    [2n, -1n],
    [0n, 0x100000000n],
    [0x100000000n, -0x100000000n],
    [(1n << 63n) - 1n, 1n], // offset + size wraps in YARA-X's i64 sum
  ];
}

describe("hash over the file", () => {
  for (const [name, data] of Object.entries(DATA)) {
    test(`${name} (${data.length} bytes)`, () => {
      const cases: Case[] = [];
      for (const fn of FUNCTIONS) for (const [o, s] of ranges(data.length)) cases.push(call(hash, data, fn, [o, s]));
      expect(disagreements(["hash"], cases, data)).toEqual([]);
    });
  }

  test("known digests of 'abc' (the value, not only the agreement)", () => {
    const data = text("abc");
    const v = (fn: string): Value => call(hash, data, fn, [0n, 3n]).value;
    expect(new TextDecoder().decode(v("md5") as Uint8Array)).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(new TextDecoder().decode(v("sha1") as Uint8Array)).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(v("crc32")).toBe(0x352441c2n);
    expect(v("checksum32")).toBe(0x61n + 0x62n + 0x63n);
  });

  test("checksum32 wraps modulo 2^32", () => {
    const data = new Uint8Array(17_000_000).fill(0xff); // 0xff * 17e6 > 2^32
    const c = call(hash, data, "checksum32", [0n, BigInt(data.length)]);
    expect(c.value).toBe(BigInt((0xff * 17_000_000) % 2 ** 32));
    expect(disagreements(["hash"], [c], data)).toEqual([]);
  });
});

test("a view into a larger buffer hashes its own bytes", () => {
  const shared = randomBytes(10_000, 5);
  const view = shared.subarray(17, 9000);
  for (const fn of FUNCTIONS) {
    expect(call(hash, view, fn, [0n, BigInt(view.length)]).value, fn).toEqual(call(hash, view.slice(), fn, [0n, BigInt(view.length)]).value);
    expect(call(hash, view, fn, [5n, 100n]).value, fn).toEqual(call(hash, view.slice(), fn, [5n, 100n]).value);
  }
});

describe("hash over strings", () => {
  test("every string form", () => {
    const cases: Case[] = [];
    for (const s of ["", "a", "abc", "\x00\xff\x80", "The quick brown fox"].map(text)) for (const fn of FUNCTIONS) cases.push(call(hash, new Uint8Array(0), fn, [s]));
    expect(disagreements(["hash"], cases, new Uint8Array(0))).toEqual([]);
  });
});
