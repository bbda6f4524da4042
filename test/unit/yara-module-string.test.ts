// The string module against YARA-X: to_int with and without a base (signs, bases 2..36, overflow,
// junk, empty) and length in bytes.
import { describe, expect, test } from "vitest";
import { string } from "../../src/engines/yara/modules/string";
import { call, disagreements, text, type Case } from "./yara-module-oracle";

const data = new Uint8Array(0);

describe("string.to_int", () => {
  test("decimal", () => {
    const inputs = ["0", "1234", "-10", "+5", "-0", "007", "", "-", "+", " 1", "1 ", "1a", "0x10", "9223372036854775807",
      "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "+-1", "--1", "1_000", "\xff"];
    const cases: Case[] = inputs.map((s) => call(string, data, "to_int", [text(s)]));
    expect(cases.find((c) => c.expr.includes('"-9223372036854775808"'))?.value).toBe(-(1n << 63n));
    expect(disagreements(["string"], cases, data)).toEqual([]);
  });

  test("with a base", () => {
    const inputs = ["A", "a", "z", "Z", "011", "-011", "+ff", "10", "1z", "", "-", "7fffffffffffffff", "8000000000000000", "-8000000000000000", "0x1f", "12"];
    const cases: Case[] = [];
    for (const s of inputs) for (const base of [16n, 8n, 2n, 10n, 36n, 37n, 1n, 0n, -16n]) cases.push(call(string, data, "to_int", [text(s), base]));
    expect(disagreements(["string"], cases, data)).toEqual([]);
  });
});

describe("string.length", () => {
  test("bytes, not characters", () => {
    const cases = ["", "AXsx00ERS", "\x00\x00", "héllo"].map((s) => call(string, data, "length", [text(s)]));
    expect(cases[3].value).toBe(6n);
    expect(disagreements(["string"], cases, data)).toEqual([]);
  });
});
