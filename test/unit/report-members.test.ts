// Archive members in every report format: the chain below the top-level file, its exact bytes
// when a name is not UTF-8, the top-level file's roll-up (`container`), summary counts that keep
// members apart from files, and SARIF locations and fingerprints per member.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, test } from "vitest";
import ndjsonLineSchema from "../../src/report/schema/ndjson-line.schema.json";
import reportSchema from "../../src/report/schema/report.schema.json";
import { FINGERPRINT_KEY } from "../../src/report/sarif";
import { resultLines } from "../../src/report/text";
import type { Finding, ScanResult } from "../../src/types";
import { validate } from "../support/sarif-validator";
import { R, render, summarize, tempDir } from "./report-fixtures";

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(reportSchema);
const validateReport = ajv.compile(reportSchema);
const validateLine = ajv.compile(ndjsonLineSchema);
const resultSchema = ajv.compile({ $ref: "https://github.com/ring3/ring3/schema/report.schema.json#/$defs/result" });

const eicar: Finding = {
  engine: "yara",
  rule: "EICAR_Test_File",
  namespace: "ring3",
  severity: "medium",
  description: "EICAR anti-malware test file",
  references: [],
  tags: ["test_file"],
  strings: [{ id: "$eicar", offset: 0, length: 68 }],
};
const SHA = (c: string): string => c.repeat(64);

/** dist/app.zip with lib/pkg.tgz (a tar.gz) holding package/index.js (EICAR) and a Latin-1 name. */
const top: ScanResult = {
  verdict: "detected",
  path: "dist/app.zip",
  root: "dist",
  size: 900,
  hashes: { sha256: SHA("1"), sha1: "2".repeat(40), md5: "3".repeat(32) },
  findings: [],
  container: { format: ["zip"], members: 5, detected: 2, incomplete: 1 },
};
const inner: ScanResult = {
  verdict: "detected",
  path: "dist/app.zip",
  root: "dist",
  size: 68,
  hashes: { sha256: SHA("a") },
  findings: [eicar],
  members: ["lib/pkg.tgz", "package/index.js"],
};
/** The same bytes again, elsewhere in the archive. */
const twin: ScanResult = { ...inner, members: ["lib/other.tgz", "package/index.js"] };
const latin1: ScanResult = {
  verdict: "partial",
  path: "dist/app.zip",
  root: "dist",
  size: null,
  hashes: {},
  findings: [],
  members: ["caf\\xe9.txt"],
  membersBytes: [Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]).toString("base64")],
  reason: { code: "archive-encrypted", message: "encrypted member (ZipCrypto)" },
};
const MEMBERS = [top, inner, twin, latin1];

describe("schema", () => {
  test("a file detected only through its members validates; one without findings or members does not", () => {
    expect(resultSchema(JSON.parse(JSON.stringify(top)))).toBe(true);
    const { container: _c, ...bare } = top;
    expect(resultSchema(bare)).toBe(false);
    expect(resultSchema({ ...top, container: { ...top.container!, detected: 0 } })).toBe(false);
  });

  test("every archive reason code is in the schema's enum", () => {
    for (const code of ["archive-depth", "archive-members", "archive-total-size", "archive-member-size", "archive-ratio", "archive-time", "archive-encrypted", "archive-unsupported", "archive-corrupt"]) {
      expect(resultSchema({ ...latin1, reason: { code, message: "m" } })).toBe(true);
    }
    expect(resultSchema({ ...latin1, reason: { code: "archive-nope", message: "m" } })).toBe(false);
  });

  test("an empty member chain is rejected", () => {
    expect(resultSchema({ ...inner, members: [] })).toBe(false);
  });
});

describe("summary", () => {
  test("members are counted apart from files; their findings count, their verdicts do not", () => {
    const s = summarize([R.clean, ...MEMBERS]);
    expect(s.files).toBe(2);
    expect(s.detected).toBe(1);
    expect(s.partial).toBe(0);
    expect(s.members).toBe(5);
    expect(s.findings).toBe(2);
    expect(s.incomplete).toBe(0);
    expect(s.reasons).toEqual({});
    expect(s.exitCode).toBe(1);
  });

  test("a file left partial by a member makes exit code 2, counted once by its own reason", () => {
    const partialTop: ScanResult = { ...top, verdict: "partial", container: { ...top.container!, detected: 0 }, reason: { code: "archive-encrypted", message: "1 member(s) inside not fully scanned" } };
    const s = summarize([partialTop, latin1]);
    expect(s).toMatchObject({ files: 1, partial: 1, incomplete: 1, reasons: { "archive-encrypted": 1 }, exitCode: 2, status: "incomplete" });
  });
});

describe("text", () => {
  const plain = (_s: unknown, t: string): string => t;

  test("a member's line names the whole chain with '!'", () => {
    expect(resultLines(inner, false, plain)).toEqual([
      "dist/app.zip!lib/pkg.tgz!package/index.js: EICAR_Test_File FOUND (medium, yara ring3) EICAR anti-malware test file [$eicar@0x0]",
    ]);
    expect(resultLines(latin1, false, plain)).toEqual(["dist/app.zip!caf\\xe9.txt: archive-encrypted PARTIAL (encrypted member (ZipCrypto))"]);
  });

  test("a file detected only through members prints no line of its own", () => {
    expect(resultLines(top, false, plain)).toEqual([]);
  });

  test("a member name cannot forge a line or send escapes", () => {
    const evil = { ...inner, members: ["a\nb.js: OK", "\x1b[2J"] };
    const [line] = resultLines(evil, false, plain);
    expect(line.startsWith("dist/app.zip!a\\x0ab.js: OK!\\x1b[2J: EICAR_Test_File FOUND")).toBe(true);
  });

  test("the summary block counts members on their own row", async () => {
    const { text } = await render("text", MEMBERS);
    expect(text).toContain("Files:        1 (0 clean, 1 detected, 0 partial, 0 skipped, 0 error)");
    expect(text).toContain("Members:      5 (inside archives and compressed files; not counted as files)");
  });
});

describe("json and ndjson", () => {
  test("the chain, its exact bytes and the roll-up are written and validate", async () => {
    const text = (await render("json", MEMBERS)).text;
    if (!validateReport(JSON.parse(text))) throw new Error(JSON.stringify(validateReport.errors, null, 2));
    const doc = JSON.parse(text);
    const [t, i, , l] = doc.results;
    expect(t.members).toBeUndefined();
    expect(t.container).toEqual({ format: ["zip"], members: 5, detected: 2, incomplete: 1 });
    expect(i.members).toEqual(["lib/pkg.tgz", "package/index.js"]);
    expect(i.membersBytes).toBeUndefined();
    expect(l.members).toEqual(["caf\\xe9.txt"]);
    expect(Buffer.from(l.membersBytes[0], "base64")).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]));
    expect(doc.summary.members).toBe(5);
  });

  test("every ndjson line validates", async () => {
    const lines = (await render("ndjson", MEMBERS)).text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(MEMBERS.length + 2);
    for (const line of lines) {
      if (!validateLine(line)) throw new Error(JSON.stringify(validateLine.errors, null, 2));
    }
    expect(lines.at(-1).members).toBe(5);
  });
});

describe("sarif", () => {
  test("points at the outermost file, names the chain, keeps fingerprints distinct per member", async () => {
    const { file, text } = await render("sarif", MEMBERS);
    const run = JSON.parse(text).runs[0];
    expect(run.results).toHaveLength(2);
    const [a, b] = run.results;
    for (const r of [a, b]) {
      expect(r.locations[0].physicalLocation.artifactLocation).toEqual({ uri: "dist/app.zip", uriBaseId: "%SRCROOT%" });
      // Offsets are inside the member's unpacked bytes, not the archive's: no byte region.
      expect(r.locations[0].physicalLocation.region).toEqual({ startLine: 1 });
    }
    expect(a.locations[0].logicalLocations).toEqual([{ name: "package/index.js", fullyQualifiedName: "dist/app.zip!lib/pkg.tgz!package/index.js", kind: "resource" }]);
    expect(a.message.text).toContain("'dist/app.zip!lib/pkg.tgz!package/index.js' matches YARA rule EICAR_Test_File");
    expect(a.properties.members).toEqual(["lib/pkg.tgz", "package/index.js"]);
    expect(a.partialFingerprints[FINGERPRINT_KEY]).not.toBe(b.partialFingerprints[FINGERPRINT_KEY]);
    // Stable: the same member at the same place in an archive that moved keeps its fingerprint.
    const moved = JSON.parse((await render("sarif", [{ ...inner, path: "elsewhere/app2.zip", root: "elsewhere" }])).text).runs[0].results[0];
    expect(moved.partialFingerprints[FINGERPRINT_KEY]).toBe(a.partialFingerprints[FINGERPRINT_KEY]);
    // A file with the same bytes is not the member.
    const plainFile = JSON.parse((await render("sarif", [{ ...inner, members: undefined }])).text).runs[0].results[0];
    expect(plainFile.partialFingerprints[FINGERPRINT_KEY]).not.toBe(a.partialFingerprints[FINGERPRINT_KEY]);
    // The encrypted member is a notification naming its chain.
    const notes = run.invocations[0].toolExecutionNotifications.map((n: { message: { text: string } }) => n.message.text);
    expect(notes.some((t: string) => t.startsWith("'dist/app.zip!caf\\xe9.txt' was not fully scanned (partial, archive-encrypted)"))).toBe(true);
    expect(run.properties.summary.members).toBe(5);

    const copy = path.join(tempDir(), "members.sarif");
    fs.copyFileSync(file, copy);
    expect(validate([copy])).toEqual([]);
  }, 120_000);

  test("with --all, members are not listed as artifacts (the archive is)", async () => {
    const clean: ScanResult = { ...inner, verdict: "clean", findings: [], members: ["README"] };
    const run = JSON.parse((await render("sarif", [top, clean], { all: true })).text).runs[0];
    expect(run.artifacts.map((a: { location: { uri: string } }) => a.location.uri)).toEqual(["dist/app.zip"]);
  });
});
