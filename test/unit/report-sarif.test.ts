import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { beforeAll, describe, expect, test } from "vitest";
import { Output } from "../../src/report/output";
import { FINGERPRINT_KEY, ruleIdOf, sarifSink } from "../../src/report/sarif";
import type { RunInfo, ScanResult } from "../../src/types";
import { multitool, validate, type Diagnostic } from "../support/sarif-validator";
import { ALL_RESULTS, R, render, runInfo, summarize, tempDir } from "./report-fixtures";

type Sarif = any; // the tests read the document as plain JSON

const PATHS = {
  twoRoots: ["samples", "/opt/other/tool.exe"],
  fileRoot: ["samples/dropper.exe"],
  absRoot: ["/data/in"],
};

const otherTool: ScanResult = { ...R.hash, path: "/opt/other/tool.exe", root: "/opt/other/tool.exe" };
const absRootFile: ScanResult = { ...R.spaces, path: "/data/in/x y#.bin", root: "/data/in" };
const winRun: RunInfo = runInfo(["out"], "C:\\Users\\ci\\build");
const winInside: ScanResult = { ...R.spaces, path: "out\\bin\\setup #1 ü.exe", root: "out" };
const winOutside: ScanResult = { ...R.hash, path: "D:\\cache\\x.exe", root: "out" };

/** Scenario name -> rendered SARIF document and its file. */
const docs: Record<string, { file: string; sarif: Sarif }> = {};

async function renderSarif(name: string, results: ScanResult[], run?: RunInfo, all = false): Promise<void> {
  const { file, text } = await render("sarif", results, { all }, run);
  docs[name] = { file, sarif: JSON.parse(text) };
}

async function renderCapped(): Promise<void> {
  const file = path.join(tempDir(), "capped.sarif");
  const stream = fs.createWriteStream(file);
  const sink = sarifSink(new Output(stream, true), { all: false, color: false }, { maxResults: 2, maxNotifications: 1 });
  const results = [R.unicode, R.spaces, R.yara, R.hash, R.denied, R.crash, R.partial];
  const run = runInfo();
  sink.begin(run);
  for (const r of results) sink.result(r);
  await sink.end(summarize(results), { ...run, scan: { ...run.scan, end: "2025-01-02T03:04:06.234Z" } });
  docs.capped = { file, sarif: JSON.parse(fs.readFileSync(file, "utf8")) };
}

let diagnostics: Diagnostic[] = [];
let canary = "";

/**
 * A log the validator must flag (a rule without help: GH2012). Sarif.Multitool 5.7 silently
 * reports nothing for some broken logs, so zero findings only counts if this one is caught.
 */
function writeCanary(): string {
  const file = path.join(tempDir(), "canary.sarif");
  const log = structuredClone(docs.main!.sarif);
  delete log.runs[0].tool.driver.rules[0].help;
  fs.writeFileSync(file, JSON.stringify(log));
  return file;
}

beforeAll(async () => {
  await renderSarif("main", ALL_RESULTS);
  await renderSarif("twoRoots", [R.yara, otherTool], runInfo(PATHS.twoRoots));
  await renderSarif("fileRoot", [{ ...R.hash, root: "samples/dropper.exe" }], runInfo(PATHS.fileRoot));
  await renderSarif("absRoot", [absRootFile], runInfo(PATHS.absRoot));
  await renderSarif("windows", [winInside, winOutside], winRun);
  await renderSarif("empty", []);
  await renderSarif("incomplete", [R.clean, R.denied, R.partial, R.symlink]);
  await renderSarif("all", ALL_RESULTS, undefined, true);
  await renderSarif("stdin", [{ ...R.yara, path: "<stdin>", root: "-" }], runInfo(["-"]));
  await renderCapped();
  canary = writeCanary();
  diagnostics = validate([canary, ...Object.values(docs).map((d) => d.file)]);
}, 180_000);

function run0(name: string): Sarif {
  return docs[name]!.sarif.runs[0];
}

function uris(name: string): { uri: string; uriBaseId?: string }[] {
  return run0(name).results.map((r: Sarif) => r.locations[0].physicalLocation.artifactLocation);
}

describe("SARIF validator (Sarif.Multitool validate --rule-kind Sarif;Gh)", () => {
  const ours = (): Diagnostic[] => diagnostics.filter((d) => !d.file.endsWith("/canary.sarif"));
  test("is alive: it flags the canary", () => {
    expect(diagnostics).toContainEqual(expect.objectContaining({ file: `file://${canary}`, level: "error", rule: "GH2012" }));
  });
  test("reports no errors for any scenario", () => {
    expect(ours().filter((d) => d.level === "error")).toEqual([]);
  });
  test("reports no warnings either", () => {
    expect(ours().filter((d) => d.level === "warning")).toEqual([]);
  });
});

describe("SARIF 2.1.0 JSON Schema (the copy shipped with the validator)", () => {
  let validateSarif: ReturnType<Ajv2020["compile"]>;
  beforeAll(() => {
    const schemaFile = path.join(path.dirname(multitool()), "sarif-2.1.0.json");
    const ajv = new Ajv2020({
      strict: false,
      allErrors: true,
      formats: {
        "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
        uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
        uri: (s: string) => URL.canParse(s),
        "uri-reference": (s: string) => !/[\s"<>\\^`{|}]/.test(s) && URL.canParse(s, "file:///base/"),
      },
    });
    validateSarif = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, "utf8")));
  });

  test.each(Object.keys(PATHS).concat(["main", "windows", "empty", "incomplete", "capped", "all", "stdin"]))("%s validates", (name) => {
    validateSarif(docs[name]!.sarif);
    expect(validateSarif.errors ?? []).toEqual([]);
  });

  test("and it does reject a broken log", () => {
    const broken = structuredClone(docs.main!.sarif);
    broken.runs[0].results[0].level = "fatal";
    expect(validateSarif(broken)).toBe(false);
  });
});

describe("rule ids", () => {
  const f = { severity: "high", description: "", references: [], tags: [] } as const;
  test.each([
    ["yara", "credentials", "Mimikatz", "yara/credentials/Mimikatz"],
    ["hash", "main.tsv", "Win.Trojan.Agent-1", "hash/main.tsv/Win.Trojan.Agent-1"],
    ["hash", "bundled/hashes/test-files.hsb", "EICAR", "hash/bundled/hashes/test-files.hsb/EICAR"],
    ["hash", "/home/me/my list.hsb", "a/b c#1", "hash/home/me/my%20list.hsb/a%2Fb%20c%231"],
    ["yara", "", "r", "yara/_/r"],
    ["yara", "ünï", "r", "yara/%C3%BCn%C3%AF/r"],
  ] as const)("%s %j %j -> %s", (engine, namespace, rule, id) => {
    expect(ruleIdOf({ ...f, engine, namespace, rule, references: [], tags: [] })).toBe(id);
  });
});

describe("sarif document", () => {
  test("tool driver and rules", () => {
    const run = run0("main");
    const driver = run.tool.driver;
    expect(docs.main!.sarif.version).toBe("2.1.0");
    expect(driver).toMatchObject({ name: "ring3", version: "0.1.0", informationUri: "https://github.com/ring3/ring3" });
    expect(driver.rules.map((r: Sarif) => r.id)).toEqual([
      "hash/main.tsv/Win.Dropper.Agent-1234",
      "yara/credentials/Mimikatz_Strings",
      "yara/documents/Suspicious_PDF_JS",
      "yara/packers/Packed_UPX",
    ]);
    for (const rule of driver.rules) {
      expect(rule.id).toMatch(/^[A-Za-z0-9._~%/-]+$/);
      expect(rule.shortDescription.text).not.toBe("");
      expect(rule.fullDescription.text).not.toBe("");
      expect(rule.help.text).toMatch(/Quarantine/);
      expect(rule.help.markdown).toMatch(/false positive, exclude its path/);
      expect(rule.properties.tags).toEqual(expect.arrayContaining(["security", rule.id.split("/")[0]]));
    }
    expect(driver.rules.map((r: Sarif) => [r.properties["security-severity"], r.defaultConfiguration.level])).toEqual([
      ["9.5", "error"],
      ["8.0", "error"],
      ["5.5", "warning"],
      ["3.0", "note"],
    ]);
  });

  test("one result per finding, pointing at its rule", () => {
    const run = run0("main");
    expect(run.results).toHaveLength(5);
    for (const r of run.results) {
      expect(run.tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(r.level).toBe(run.tool.driver.rules[r.ruleIndex].defaultConfiguration.level);
    }
    const mimi = run.results[1];
    expect(mimi.message.text).toContain("'samples/tools/mimi.exe'");
    expect(mimi.message.text).toContain("Mimikatz_Strings");
    expect(mimi.message.text).toContain("$s1 at 0x1f0");
    expect(mimi.locations[0].physicalLocation.region).toEqual({ startLine: 1, byteOffset: 0x1f0, byteLength: 8 });
  });

  // GitHub resolves relative URIs from the repository root and ignores originalUriBaseIds, so a
  // root inside the working directory keeps %SRCROOT% at the working directory.
  test("URIs relative to %SRCROOT% = the working directory holding the root, percent-encoded", () => {
    expect(run0("main").originalUriBaseIds).toEqual({ "%SRCROOT%": { uri: "file:///work/scan/" } });
    expect(uris("main")).toEqual([
      { uri: "samples/dropper.exe", uriBaseId: "%SRCROOT%" },
      { uri: "samples/tools/mimi.exe", uriBaseId: "%SRCROOT%" },
      { uri: "samples/a%20dir/report%20%233%20100%25.pdf", uriBaseId: "%SRCROOT%" },
      { uri: "samples/%C3%BCber.js", uriBaseId: "%SRCROOT%" },
      { uri: "samples/caf%E9.exe", uriBaseId: "%SRCROOT%" }, // the exact byte from pathBytes
    ]);
    expect(run0("main").invocations[0].workingDirectory.uri).toBe("file:///work/scan/");
  });

  test.each([
    ["twoRoots", "file:///work/scan/", [{ uri: "samples/tools/mimi.exe", uriBaseId: "%SRCROOT%" }, { uri: "file:///opt/other/tool.exe" }]],
    ["fileRoot", "file:///work/scan/", [{ uri: "samples/dropper.exe", uriBaseId: "%SRCROOT%" }]],
    ["absRoot", "file:///data/in/", [{ uri: "x%20y%23.bin", uriBaseId: "%SRCROOT%" }]],
    [
      "windows",
      "file:///C:/Users/ci/build/",
      [{ uri: "out/bin/setup%20%231%20%C3%BC.exe", uriBaseId: "%SRCROOT%" }, { uri: "file:///D:/cache/x.exe" }],
    ],
  ])("%%SRCROOT%% and URIs: %s", (name, srcroot, expected) => {
    expect(run0(name).originalUriBaseIds["%SRCROOT%"].uri).toBe(srcroot);
    expect(uris(name)).toEqual(expected);
  });

  test("standard input: %SRCROOT% is the cwd and the file is <stdin>", () => {
    expect(run0("stdin").originalUriBaseIds["%SRCROOT%"].uri).toBe("file:///work/scan/");
    expect(uris("stdin")).toEqual([{ uri: "%3Cstdin%3E", uriBaseId: "%SRCROOT%" }]);
  });

  test("with all, every hashed file is a run artifact with its digests", () => {
    expect(run0("main").artifacts).toBeUndefined();
    const artifacts = run0("all").artifacts;
    expect(artifacts.map((a: Sarif) => a.location.uri)).toEqual([
      "samples/readme.txt",
      "samples/dropper.exe",
      "samples/tools/mimi.exe",
      "samples/a%20dir/report%20%233%20100%25.pdf",
      "samples/%C3%BCber.js",
      "samples/caf%E9.exe",
      "samples/big.iso",
      "samples/evil%0Aname%1B%5B31m.txt",
    ]);
    expect(artifacts[1]).toEqual({
      location: { uri: "samples/dropper.exe", uriBaseId: "%SRCROOT%" },
      length: 2048,
      hashes: { "sha-256": "a".repeat(64), md5: "b".repeat(32) },
    });
  });

  test("fingerprints: sha256(ruleId:file sha256), the same on another machine", async () => {
    const elsewhere = (await render("sarif", ALL_RESULTS, {}, runInfo(["/mnt/x/samples"], "/home/ci"))).text;
    const a = run0("main").results.map((r: Sarif) => r.partialFingerprints[FINGERPRINT_KEY]);
    const b = JSON.parse(elsewhere).runs[0].results.map((r: Sarif) => r.partialFingerprints[FINGERPRINT_KEY]);
    expect(b).toEqual(a);
    const expected = createHash("sha256").update(`yara/credentials/Mimikatz_Strings:${"c".repeat(64)}`).digest("hex");
    expect(a[1]).toBe(expected);
    expect(new Set(a).size).toBe(a.length);
  });

  test("files not fully scanned become notifications; policy skips do not", () => {
    const inv = run0("main").invocations[0];
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.exitCode).toBe(1);
    const notes = inv.toolExecutionNotifications;
    expect(notes.map((n: Sarif) => [n.level, n.descriptor.id])).toEqual([
      ["warning", "max-filesize"],
      ["warning", "permission-denied"],
      ["error", "worker-crash"],
    ]);
    expect(notes[1].message.text).toContain("samples/secret/key.bin");
    expect(notes[1].message.text).toContain("permission-denied");
    expect(notes[1].locations[0].physicalLocation.artifactLocation).toEqual({ uri: "samples/secret/key.bin", uriBaseId: "%SRCROOT%" });
    expect(run0("main").tool.driver.notifications.map((n: Sarif) => n.id)).toEqual(["max-filesize", "permission-denied", "worker-crash"]);
  });

  test("an incomplete run: exit 2, executionSuccessful false, counts in run properties", () => {
    const run = run0("incomplete");
    expect(run.results).toEqual([]);
    expect(run.invocations[0]).toMatchObject({ executionSuccessful: false, exitCode: 2 });
    expect(run.properties.summary).toMatchObject({ files: 4, clean: 1, partial: 1, skipped: 2, incomplete: 2, exitCode: 2, status: "incomplete" });
  });

  test("a clean empty run", () => {
    const run = run0("empty");
    expect(run.results).toEqual([]);
    expect(run.tool.driver.rules).toEqual([]);
    expect(run.invocations[0]).toMatchObject({ executionSuccessful: true, exitCode: 0, toolExecutionNotifications: [] });
  });

  test("over the result cap the most severe are kept and the rest announced", () => {
    const run = run0("capped");
    expect(run.results.map((r: Sarif) => r.ruleId)).toEqual(["hash/main.tsv/Win.Dropper.Agent-1234", "yara/credentials/Mimikatz_Strings"]);
    expect(run.tool.driver.rules).toHaveLength(2);
    expect(run.properties.summary.resultsOmitted).toBe(2);
    const texts = run.invocations[0].toolExecutionNotifications.map((n: Sarif) => n.message.text);
    expect(texts).toHaveLength(3);
    expect(texts[1]).toMatch(/^2 more files were not fully scanned/);
    expect(texts[2]).toMatch(/^2 results of lower severity were left out/);
  });

  test("UTF-8 without BOM", () => {
    const bytes = fs.readFileSync(docs.main!.file);
    expect(bytes[0]).toBe(0x7b);
    expect(bytes.toString("utf8")).toContain("samples/über.js");
  });
});
