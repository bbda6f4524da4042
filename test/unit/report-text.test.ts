import { describe, expect, test } from "vitest";
import { humanBytes, printable } from "../../src/report/text";
import type { ScanResult } from "../../src/types";
import { ALL_RESULTS, R, render } from "./report-fixtures";

const ANSI = /\x1b\[[0-9;]*m/;

function body(text: string): string[] {
  return text.split("\n----------- SCAN SUMMARY")[0]!.split("\n").filter((l) => l !== "");
}

describe("text", () => {
  test("no colour codes when color is false, colour when true", async () => {
    const plain = (await render("text", ALL_RESULTS, { color: false })).text;
    // The fixture's file name contains ESC; escaped, it must not reach the terminal either.
    expect(plain).not.toMatch(ANSI);
    expect(plain.includes("\x1b")).toBe(false);
    const coloured = (await render("text", ALL_RESULTS, { color: true })).text;
    expect(coloured).toMatch(ANSI);
    // Colour is the only difference.
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  test("one line per finding and per problem, path first; policy skips only counted", async () => {
    const lines = body((await render("text", ALL_RESULTS)).text);
    expect(lines).toEqual([
      expect.stringMatching(/^samples\/dropper\.exe: Win\.Dropper\.Agent-1234 FOUND \(critical, hash main\.tsv\) Known dropper sample \[sha256 a{64}\]$/),
      "samples/tools/mimi.exe: Mimikatz_Strings FOUND (high, yara credentials) Strings of the Mimikatz credential dumper [$s1@0x1f0 $s2@0x2000 $s2@0x2400 $s3@0x3000 +1 more (capped)]",
      "samples/a dir/report #3 100%.pdf: Suspicious_PDF_JS FOUND (medium, yara documents) PDF with embedded JavaScript [$js@0x4d]",
      "samples/über.js: Packed_UPX FOUND (low, yara packers) [$upx0@0x178]",
      expect.stringMatching(/^samples\/caf\\xe9\.exe: Mimikatz_Strings FOUND /),
      "samples/big.iso: max-filesize PARTIAL (5000000000 bytes is over --max-filesize 104857600)",
      "samples/secret/key.bin: permission-denied SKIPPED (EACCES: permission denied, open)",
      "samples/crash.bin: worker-crash ERROR (worker exited with code 134)",
    ]);
  });

  test("all adds clean files and policy skips", async () => {
    const lines = body((await render("text", ALL_RESULTS, { all: true })).text);
    expect(lines).toContain("samples/readme.txt: OK");
    expect(lines).toContain("samples/link-to-etc: symlink SKIPPED (symbolic link, not followed)");
    expect(lines).toContain("samples/evil\\x0aname\\x1b[31m.txt: OK");
    expect(lines).toHaveLength(11);
  });

  test("a detection in a partly scanned file gets a finding line and a PARTIAL line", async () => {
    const r: ScanResult = { ...R.spaces, reason: { code: "timeout", message: "10 s limit" } };
    const lines = body((await render("text", [r])).text);
    expect(lines).toEqual([
      expect.stringMatching(/^samples\/a dir\/report #3 100%\.pdf: Suspicious_PDF_JS FOUND/),
      "samples/a dir/report #3 100%.pdf: timeout PARTIAL (10 s limit)",
    ]);
  });

  test.each([
    ["detected", ALL_RESULTS, "Outcome:      DETECTED (exit 1): 5 file(s) matched a signature; 3 not fully scanned"],
    ["incomplete", [R.clean, R.denied, R.symlink], "Outcome:      INCOMPLETE (exit 2): nothing found, but 1 file(s) were not fully scanned"],
    ["clean", [R.clean, R.symlink], "Outcome:      CLEAN (exit 0): nothing found, every file fully scanned"],
  ] as const)("summary block: %s", async (_name, results, outcomeLine) => {
    const text = (await render("text", [...results])).text;
    expect(text).toContain("\n----------- SCAN SUMMARY -----------\n");
    expect(text.trimEnd().split("\n").at(-1)).toBe(outcomeLine);
  });

  test("summary block rows", async () => {
    const text = (await render("text", ALL_RESULTS)).text;
    expect(text).toContain("Files:        11 (2 clean, 5 detected, 1 partial, 2 skipped, 1 error)\n");
    expect(text).toContain("Findings:     5\n");
    expect(text).toContain("Incomplete:   3 (max-filesize 1, permission-denied 1, worker-crash 1)\n");
    expect(text).toContain("Not scanned:  symlink 1 (by policy)\n");
    expect(text).toContain("Data scanned: 4.7 GiB (5000008030 bytes)\n");
    expect(text).toContain("Time:         1.23 s\n");
  });

  test.each([
    ["plain/name.txt", "plain/name.txt"],
    ["new\nline", "new\\x0aline"],
    ["tab\tand\rcr", "tab\\x09and\\x0dcr"],
    ["esc\x1b[2J", "esc\\x1b[2J"],
    ["c1\u009b", "c1\\x9b"],
    ["bidi\u202egnp.exe", "bidi\\u{202e}gnp.exe"],
    ["ünïcødé", "ünïcødé"],
  ])("printable(%j) = %j", (input, expected) => {
    expect(printable(input)).toBe(expected);
  });

  test.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [5_000_000_000, "4.7 GiB"],
  ])("humanBytes(%i) = %s", (n, s) => {
    expect(humanBytes(n)).toBe(s);
  });
});
