// The digester: known vectors, chunking of any size gives the same digests, only what was asked.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { createDigester, digestBytes } from "../../src/engines/hash/digest";

const ABC = {
  md5: "900150983cd24fb0d6963f7d28e17f72",
  sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
  sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
};
const EMPTY = {
  md5: "d41d8cd98f00b204e9800998ecf8427e",
  sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};

describe("digests", () => {
  test.each([
    ["abc", Buffer.from("abc"), ABC],
    ["empty", Buffer.alloc(0), EMPTY],
  ])("known vectors: %s", (_, bytes, expected) => {
    expect(digestBytes(bytes, { md5: true, sha1: true, sha256: true })).toEqual(expected);
  });

  test.each([
    [{ md5: true }, ["md5"]],
    [{ sha1: true, sha256: false }, ["sha1"]],
    [{ md5: true, sha256: true }, ["md5", "sha256"]],
    [{}, []],
  ])("only the algorithms asked for: %j", (algos, keys) => {
    expect(Object.keys(digestBytes(Buffer.from("abc"), algos)).sort()).toEqual(keys);
  });

  test.each([1, 7, 64, 4096, 65536, 1 << 20])("chunks of %s bytes give the one-shot digests", (chunk) => {
    const data = randomBytes(300_001);
    const d = createDigester({ md5: true, sha1: true, sha256: true });
    for (let i = 0; i < data.length; i += chunk) d.update(data.subarray(i, i + chunk));
    expect(d.digest()).toEqual({
      md5: createHash("md5").update(data).digest("hex"),
      sha1: createHash("sha1").update(data).digest("hex"),
      sha256: createHash("sha256").update(data).digest("hex"),
    });
  });

  test("a Uint8Array view over part of a larger buffer hashes only its bytes", () => {
    const big = new Uint8Array(100).fill(0x61);
    big.set([0x61, 0x62, 0x63], 10);
    expect(digestBytes(big.subarray(10, 13), { sha256: true }).sha256).toBe(ABC.sha256);
  });

  test("a spent digester refuses more work", () => {
    const d = createDigester({ sha256: true });
    d.update(Buffer.from("abc"));
    expect(d.digest().sha256).toBe(ABC.sha256);
    expect(() => d.update(Buffer.from("x"))).toThrow(/after digest/);
    expect(() => d.digest()).toThrow(/twice/);
  });
});
