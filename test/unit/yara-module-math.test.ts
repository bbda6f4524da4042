// The math module against YARA-X: every function, both forms (range of the file, string), ranges
// inside, across and beyond the data, and float results compared with `==` (bit-exact).
import * as fs from "node:fs";
import { describe, expect, test } from "vitest";
import { UNKNOWN, type Value } from "../../src/engines/yara/contracts";
import { math } from "../../src/engines/yara/modules/math";
import { call, disagreements, randomBytes, text, type Case } from "./yara-module-oracle";
import { bytesSource } from "../../src/util/bytesource";

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const DATA: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  AABAAB: text("AABAAB"),
  one: text("x"),
  binary1k: randomBytes(1000, 1),
  nibbles4k: randomBytes(4096, 2, 16),
  bits333: randomBytes(333, 3, 2),
  text: text("The quick brown fox jumps over the lazy dog. ".repeat(37)),
  zeros: new Uint8Array(777),
  true: new Uint8Array(fs.readFileSync("/usr/bin/true")),
};

/** Ranges that probe every edge: whole file, empty, clipped, at and past the end, negative, 2^32. */
function ranges(len: number): [bigint, bigint][] {
  const n = BigInt(len);
  return [
    [0n, n],
    [0n, 0n],
    [1n, 10n],
    [0n, n + 100n],
    [n > 0n ? n - 1n : 0n, 100n],
    [n, 1n],
    [n + 1n, 1n],
    [-1n, 5n],
    [0n, -1n],
    [3n, n / 2n],
    [0n, 0xffffffffn],
    [0n, 0x100000000n],
    [0xffffffffn, 1n],
    [0x100000000n, 1n],
    [I64_MAX, I64_MAX],
    [I64_MIN, 1n],
  ];
}

const STRINGS = ["", "A", "AABB", "AAAAA", "ABCABC", "BCA", "ABCDEF123456987", "\x00\xff\x80\x7f", "hello world, hello yara"].map(text);

function statCases(data: Uint8Array): Case[] {
  const cases: Case[] = [];
  const c = (fn: string, args: Value[]): void => void cases.push(call(math, data, fn, args));
  for (const [o, l] of ranges(data.length)) {
    for (const fn of ["entropy", "mean", "serial_correlation", "monte_carlo_pi"]) c(fn, [o, l]);
    for (const m of [0, 127.5, 65.25]) c("deviation", [o, l, m]);
    for (const b of [0n, 0x41n, 255n, -1n, 256n]) {
      c("count", [b, o, l]);
      c("percentage", [b, o, l]);
    }
    c("mode", [o, l]);
  }
  for (const b of [0n, 0x41n, 0x78n, 255n, -1n, 256n]) {
    c("count", [b]);
    c("percentage", [b]);
  }
  c("mode", []);
  return cases;
}

describe("math over the file", () => {
  for (const [name, data] of Object.entries(DATA)) {
    test(`${name} (${data.length} bytes)`, () => {
      expect(disagreements(["math"], statCases(data), data)).toEqual([]);
    });
  }

  test("math.entropy(0, filesize) >= 7 holds on random data, as in YARA-X", () => {
    const data = randomBytes(100_000, 7);
    const e = call(math, data, "entropy", [0n, BigInt(data.length)]).value as number;
    expect(e).toBeGreaterThan(7.99);
    expect(disagreements(["math"], [{ expr: "math.entropy(0, filesize) >= 7.0", value: true }], data)).toEqual([]);
  });

  test("random data of random lengths and alphabets agree to the bit (entropy, mean, deviation, serial correlation, pi)", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const data = randomBytes(1 + ((seed * 7919) % 3000), seed * 31, [2, 3, 7, 16, 100, 256][seed % 6]);
      const n = BigInt(data.length);
      const cases = ["entropy", "mean", "serial_correlation", "monte_carlo_pi"].map((fn) => call(math, data, fn, [0n, n]));
      cases.push(call(math, data, "deviation", [0n, n, 127.5]));
      cases.push(call(math, data, "entropy", [BigInt(seed), n / 3n]));
      failures.push(...disagreements(["math"], cases, data));
    }
    expect(failures).toEqual([]);
  });
});

describe("math over strings", () => {
  test("a string that is a view of the scanned bytes (a module field) is measured on its own bytes", () => {
    const data = randomBytes(4000, 77, 50);
    const m = math.load(bytesSource(data));
    const f = (fn: string) => m.field(fn) as { kind: "func"; call(a: Value[]): Value };
    const expected = (bytes: Uint8Array): Value[] => ["entropy", "mean", "serial_correlation"].map((fn) => (math.load(bytesSource(new Uint8Array(0))).field(fn) as { call(a: Value[]): Value }).call([bytes.slice()]));
    for (const [o, l] of [[0, 100], [0, 4000], [10, 100], [10, 90]]) {
      const view = data.subarray(o, o + l);
      expect(["entropy", "mean", "serial_correlation"].map((fn) => f(fn).call([BigInt(o), BigInt(l)]))).toEqual(expected(view));
      expect(["entropy", "mean", "serial_correlation"].map((fn) => f(fn).call([view]))).toEqual(expected(view));
    }
    expect(f("count").call([7n, 10n, 90n])).toBe(BigInt(data.subarray(10, 100).filter((b) => b === 7).length));
  });

  test("every string form", () => {
    const data = text("unused");
    const cases: Case[] = [];
    for (const s of STRINGS) {
      for (const fn of ["entropy", "mean", "serial_correlation", "monte_carlo_pi"]) cases.push(call(math, data, fn, [s]));
      for (const m of [0, 65, 127.5]) cases.push(call(math, data, "deviation", [s, m]));
    }
    expect(disagreements(["math"], cases, data)).toEqual([]);
  });
});

describe("math: bit-exact floats over many distributions", () => {
  // Math.log2 (V8, fdlibm) and Rust's f64::log2 (libm in the WASM build) must agree on every
  // probability a histogram can produce; 600 random strings of random alphabets probe that widely.
  test("600 random strings: entropy, mean, deviation, serial correlation, monte carlo pi", () => {
    const cases: Case[] = [];
    for (let seed = 1; seed <= 600; seed++) {
      const len = 1 + ((seed * 104729) % 180);
      const s = randomBytes(len, seed * 7 + 3, [2, 3, 5, 10, 17, 64, 200, 256][seed % 8]);
      for (const fn of ["entropy", "mean", "serial_correlation", "monte_carlo_pi"]) cases.push(call(math, s, fn, [s]));
      cases.push(call(math, s, "deviation", [s, (seed % 255) + 0.5]));
    }
    expect(disagreements(["math"], cases, new Uint8Array(0))).toEqual([]);
  });
});

describe("math integer helpers", () => {
  test("min, max, abs, in_range, to_string, to_number", () => {
    const data = new Uint8Array(0);
    const cases: Case[] = [];
    const c = (fn: string, args: Value[]): void => void cases.push(call(math, data, fn, args));
    for (const [a, b] of [[1n, 2n], [-1n, 0n], [7n, -2n], [I64_MIN, I64_MAX], [5n, 5n]] as [bigint, bigint][]) {
      c("min", [a, b]);
      c("max", [a, b]);
    }
    for (const x of [0n, 1n, -1n, 42n, I64_MAX, I64_MIN + 1n, I64_MIN]) {
      c("abs", [x]);
      c("to_string", [x]);
      for (const base of [8n, 10n, 16n, 2n, 7n, 0n, -16n]) c("to_string", [x, base]);
    }
    for (const [x, lo, hi] of [[1n, 1n, 2n], [2n, 1n, 2n], [3n, 1n, 2n], [0n, -1n, 1n], [5n, 6n, 4n]] as bigint[][]) c("in_range", [x, lo, hi]);
    for (const [x, lo, hi] of [[0.5, 0.0, 0.6], [-1.2, -0.5, 0.75], [0.75, 0.5, 0.75], [1.0, 0.5, 0.75], [0.5, 0.5, 0.5]]) c("in_range", [x, lo, hi]);
    c("to_number", [true]);
    c("to_number", [false]);
    expect(disagreements(["math"], cases, data)).toEqual([]);
  });

  test("MEAN_BYTES is 127.5", () => {
    const v = math.load(bytesSource(new Uint8Array(0))).field("MEAN_BYTES");
    expect(v).toBe(127.5);
    expect(disagreements(["math"], [{ expr: "math.MEAN_BYTES", value: v }], new Uint8Array(0))).toEqual([]);
  });
});

describe("math: what ring3 does not decide", () => {
  test("an undefined argument gives undefined, as in YARA-X; an UNKNOWN one gives UNKNOWN", () => {
    const m = math.load(bytesSource(text("abc")));
    const entropy = m.field("entropy");
    if (typeof entropy !== "object" || entropy === null || !("kind" in entropy) || entropy.kind !== "func") throw new Error("not a function");
    expect(entropy.call([0n, undefined])).toBeUndefined();
    expect(entropy.call([UNKNOWN, 3n])).toBe(UNKNOWN);
    expect(disagreements(["math", "elf"], [{ expr: "math.entropy(0, elf.entry_point)", value: undefined }], text("abc"))).toEqual([]);
  });

  test("argument types YARA-X would not compile, and unknown fields, are UNKNOWN", () => {
    const m = math.load(bytesSource(text("abc")));
    const f = m.field("in_range") as { kind: "func"; call(a: Value[]): Value };
    expect(f.call([1n, 0.5, 2n])).toBe(UNKNOWN);
    expect(m.field("no_such_function")).toBe(UNKNOWN);
  });
});
