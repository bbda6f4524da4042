import { performance } from "node:perf_hooks";
import { describe, expect, test } from "vitest";
import { Summarizer, exitCodeFor } from "../../src/report/summary";
import type { ScanResult } from "../../src/types";
import { ALL_RESULTS, R, summarize } from "./report-fixtures";

describe("exit code and status", () => {
  const cases: [string, ScanResult[], 0 | 1 | 2, string][] = [
    ["no files", [], 0, "clean"],
    ["clean", [R.clean], 0, "clean"],
    ["clean + policy skip (symlink)", [R.clean, R.symlink], 0, "clean"],
    ["partial max-filesize", [R.clean, R.partial], 2, "incomplete"],
    ["skipped permission-denied", [R.denied], 2, "incomplete"],
    ["error worker-crash", [R.crash], 2, "incomplete"],
    ["detected by hash", [R.hash], 1, "detected"],
    ["detected by yara", [R.yara, R.clean], 1, "detected"],
    ["detected wins over incomplete", [R.crash, R.denied, R.spaces], 1, "detected"],
    ["non-UTF-8 path detected", [R.nonUtf8], 1, "detected"],
    ["everything", ALL_RESULTS, 1, "detected"],
    [
      "detected in the part scanned (timeout)",
      [{ ...R.yara, reason: { code: "timeout", message: "10 s" } }],
      1,
      "detected",
    ],
    [
      "clean but timed out",
      [{ ...R.clean, reason: { code: "timeout", message: "10 s" } }],
      2,
      "incomplete",
    ],
    ["skipped without a reason", [{ ...R.denied, reason: undefined }], 2, "incomplete"],
  ];
  test.each(cases)("%s", (_name, results, exitCode, status) => {
    const s = summarize(results);
    expect(s.exitCode).toBe(exitCode);
    expect(s.status).toBe(status);
  });

  test.each([
    [0, 0, 0],
    [0, 3, 2],
    [1, 0, 1],
    [2, 5, 1],
  ] as const)("exitCodeFor(%i detections, %i incomplete) = %i", (d, i, code) => {
    expect(exitCodeFor(d, i)).toBe(code);
  });
});

describe("counts", () => {
  test("every field over the full fixture set", () => {
    const s = summarize(ALL_RESULTS);
    expect(s).toEqual({
      files: 11,
      clean: 2,
      detected: 5,
      partial: 1,
      skipped: 2,
      error: 1,
      incomplete: 3,
      findings: 5,
      suppressed: 0,
      members: 0,
      // clean, detected and partial count; skipped and error do not (crash.bin has size 777).
      bytesScanned: 1000 + 2048 + 4096 + 512 + 64 + 300 + 5_000_000_000 + 10,
      durationMs: 1234,
      reasons: { "max-filesize": 1, "permission-denied": 1, symlink: 1, "worker-crash": 1 },
      exitCode: 1,
      status: "detected",
    });
  });

  test("suppressed findings are counted, and a fully suppressed file is not a detection", () => {
    const allowed = {
      ...R.clean,
      suppressed: [
        { engine: "yara" as const, rule: "A", namespace: "default", by: "allow" as const, match: "fp.sfp" },
        { engine: "hash" as const, rule: "B", namespace: "l.hsb", by: "exclude-rule" as const, match: "B*" },
      ],
    };
    const s = summarize([allowed, R.clean]);
    expect(s).toMatchObject({ suppressed: 2, findings: 0, detected: 0, exitCode: 0 });
  });

  test("reason keys are sorted and a size of null counts as 0", () => {
    const s = summarize([R.symlink, R.crash, R.denied, { ...R.clean, size: null }]);
    expect(Object.keys(s.reasons)).toEqual(["permission-denied", "symlink", "worker-crash"]);
    expect(s.bytesScanned).toBe(0);
  });

  test("a result from the cache was not read this run: counted as cached, not in bytesScanned", () => {
    const s = new Summarizer(performance.now(), { cache: true });
    s.add({ ...R.clean, size: 1000, cached: true });
    s.add({ ...R.clean, size: 24 });
    expect(s.summary()).toMatchObject({ files: 2, clean: 2, cached: 1, bytesScanned: 24 });
  });

  test("an explicit duration is rounded; without one it runs from construction", () => {
    expect(new Summarizer().summary(1500.4).durationMs).toBe(1500);
    const s = new Summarizer(performance.now() - 250);
    expect(s.summary().durationMs).toBeGreaterThanOrEqual(250);
  });
});
