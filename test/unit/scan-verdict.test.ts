// The one verdict rule (src/scan/verdict.ts), exhaustively: every reason code, with and without
// findings, scanned or not; the result-level form used after suppression; and agreement with the
// walk's verdict for the file-system errors both of them meet.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { reasonKind, verdictOf, verdictOfResult } from "../../src/scan";
import type { Reason, ReasonCode, ScanResult, Verdict } from "../../src/types";
import { reasonForError } from "../../src/util/fs-reasons";

// Every code of the ReasonCode union, read from its source so that a new code cannot be missed here.
const CODES = [...fs.readFileSync(path.join(__dirname, "../../src/types.ts"), "utf8").split("export type ReasonCode =")[1]!.split("export const POLICY_SKIPS")[0]!.matchAll(/\|\s*"([a-z-]+)"/g)].map((m) => m[1] as ReasonCode);

const SKIPS = ["symlink", "not-regular", "other-filesystem", "virtual-filesystem", "loop", "permission-denied", "vanished"];
const FAILURES = ["io-error", "worker-crash", "engine-error"];
const LIMITS = ["max-filesize", "timeout", "archive-depth", "archive-members", "archive-total-size", "archive-member-size", "archive-ratio", "archive-time", "archive-encrypted", "archive-unsupported", "archive-corrupt"];

/** The expected verdict, written as the rule reads in words. */
function expected(found: number, code: ReasonCode | undefined, scanned: boolean): Verdict {
  if (found > 0 && scanned) return "detected";
  if (code === undefined) return scanned ? "clean" : "error";
  if (FAILURES.includes(code)) return "error";
  if (SKIPS.includes(code)) return scanned ? "partial" : "skipped";
  return scanned ? "partial" : "error";
}

describe("verdictOf", () => {
  it("knows every reason code, each in exactly one kind", () => {
    expect(CODES.length).toBe(21);
    expect([...SKIPS, ...FAILURES, ...LIMITS].sort()).toEqual([...CODES].sort());
    for (const c of CODES) expect(reasonKind(c)).toBe(SKIPS.includes(c) ? "skip" : FAILURES.includes(c) ? "failure" : "limit");
  });

  const cases: [number, ReasonCode | undefined, boolean][] = [];
  for (const found of [0, 1, 3]) for (const code of [undefined, ...CODES]) for (const scanned of [true, false]) cases.push([found, code, scanned]);
  it.each(cases)("found %i, reason %s, scanned %s", (found, code, scanned) => {
    const reason: Reason | undefined = code === undefined ? undefined : { code, message: "m" };
    expect(verdictOf(found, reason, scanned)).toBe(expected(found, code, scanned));
  });

  it("is never clean with a reason, and never clean unscanned", () => {
    for (const code of CODES) for (const s of [true, false]) expect(verdictOf(0, { code, message: "" }, s)).not.toBe("clean");
    expect(verdictOf(0, undefined, false)).not.toBe("clean");
  });

  it("gives the walk's verdict for every file-system error it maps", () => {
    for (const code of ["EACCES", "EPERM", "ENOENT", "ENOTDIR", "ELOOP", "EIO", "EISDIR", undefined]) {
      const r = reasonForError(Object.assign(new Error("x"), { code }) as NodeJS.ErrnoException);
      expect(verdictOf(0, { code: r.code, message: r.message }, false)).toBe(r.verdict);
    }
  });
});

describe("verdictOfResult (after suppression)", () => {
  const finding = { engine: "yara" as const, rule: "r", namespace: "default", severity: "high" as const, description: "", references: [], tags: [] };
  const base: ScanResult = { verdict: "detected", path: "a.zip", root: ".", size: 1, hashes: {}, findings: [] };
  const table: [string, Partial<ScanResult>, Verdict][] = [
    ["own finding", { findings: [finding] }, "detected"],
    ["nothing left", {}, "clean"],
    ["nothing left, partly scanned", { reason: { code: "max-filesize", message: "" } }, "partial"],
    ["nothing left, engine failed", { reason: { code: "engine-error", message: "" } }, "error"],
    ["a member still detected", { container: { format: ["zip"], members: 2, detected: 1, incomplete: 0 } }, "detected"],
    ["no member detected any more", { container: { format: ["zip"], members: 2, detected: 0, incomplete: 1 }, reason: { code: "archive-encrypted", message: "" } }, "partial"],
    // A member's verdict is its own: what lies below it has results of its own.
    ["a member holding a detected member", { members: ["inner.zip"], container: { format: ["zip"], members: 1, detected: 1, incomplete: 0 } }, "clean"],
    ["a member with its own finding", { members: ["inner.zip"], findings: [finding] }, "detected"],
  ];
  it.each(table)("%s", (_name, patch, want) => {
    expect(verdictOfResult({ ...base, ...patch })).toBe(want);
  });
});
