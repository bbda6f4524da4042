import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, test } from "vitest";
import { REASON_CODES } from "../../src/report/reasons";
import { SEVERITIES, type ScanResult } from "../../src/types";
import { ALL_RESULTS, R, render } from "./report-fixtures";

const schemaDir = path.join(__dirname, "../../src/report/schema");
const reportSchema = JSON.parse(fs.readFileSync(path.join(schemaDir, "report.schema.json"), "utf8"));
const lineSchema = JSON.parse(fs.readFileSync(path.join(schemaDir, "ndjson-line.schema.json"), "utf8"));

// strict mode on: the schemas themselves must be clean for anyone compiling them with ajv.
const ajv = new Ajv2020({
  strict: true,
  allErrors: true,
  formats: { "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/ },
});
ajv.addSchema(reportSchema);
ajv.addSchema(lineSchema);
const validateReport = ajv.getSchema(reportSchema.$id)!;
const validateLine = ajv.getSchema(lineSchema.$id)!;

function expectValid(validate: typeof validateReport, data: unknown): void {
  const ok = validate(data);
  expect(validate.errors ?? [], JSON.stringify(data).slice(0, 300)).toEqual([]);
  expect(ok).toBe(true);
}

function shownPaths(results: { path: string }[]): string[] {
  return results.map((r) => r.path);
}

describe("json", () => {
  test.each([false, true])("validates against the schema (all=%s)", async (all) => {
    const { bytes, text } = await render("json", ALL_RESULTS, { all });
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    const doc = JSON.parse(text);
    expectValid(validateReport, doc);
    expect(doc.summary.exitCode).toBe(1);
    expect(doc.scan.end).toBe("2025-01-02T03:04:06.234Z");
  });

  test("shows non-clean results by default; all adds the clean ones", async () => {
    const nonClean = ALL_RESULTS.filter((r) => r.verdict !== "clean").map((r) => r.path);
    const byDefault = JSON.parse((await render("json", ALL_RESULTS)).text);
    expect(shownPaths(byDefault.results)).toEqual(nonClean);
    const all = JSON.parse((await render("json", ALL_RESULTS, { all: true })).text);
    expect(shownPaths(all.results)).toEqual(ALL_RESULTS.map((r) => r.path));
    // The summary counts everything either way.
    expect(byDefault.summary).toEqual(all.summary);
  });

  test("an empty run is a valid document", async () => {
    const doc = JSON.parse((await render("json", [])).text);
    expectValid(validateReport, doc);
    expect(doc.results).toEqual([]);
    expect(doc.summary.exitCode).toBe(0);
  });

  test("keeps path and pathBytes; non-ASCII is escaped so the bytes are pure ASCII", async () => {
    const { bytes, text } = await render("json", [R.nonUtf8, R.unicode, R.newline], { all: true });
    expect([...bytes].every((b) => b < 0x80)).toBe(true);
    const doc = JSON.parse(text);
    const [nonUtf8, unicode, newline] = doc.results;
    expect(nonUtf8.path).toBe("samples/caf\\xe9.exe");
    expect(Buffer.from(nonUtf8.pathBytes, "base64")).toEqual(
      Buffer.concat([Buffer.from("samples/caf"), Buffer.from([0xe9]), Buffer.from(".exe")]),
    );
    expect(unicode.path).toBe("samples/über.js");
    expect(unicode.pathBytes).toBeUndefined();
    expect(newline.path).toBe("samples/evil\nname\x1b[31m.txt");
  });

  test("archive members are carried through", async () => {
    const member = { ...R.yara, members: ["inner.zip", "payload.exe"] } as ScanResult;
    const doc = JSON.parse((await render("json", [member])).text);
    expectValid(validateReport, doc);
    expect(doc.results[0].members).toEqual(["inner.zip", "payload.exe"]);
  });

  test("fields the schema does not know are not written", async () => {
    const odd = { ...R.crash, workerId: 3 } as ScanResult;
    const doc = JSON.parse((await render("json", [odd])).text);
    expectValid(validateReport, doc);
    expect(doc.results[0].workerId).toBeUndefined();
  });
});

describe("ndjson", () => {
  test.each([false, true])("every line validates (all=%s)", async (all) => {
    const { bytes, text } = await render("ndjson", ALL_RESULTS, { all });
    expect(bytes[0]).toBe(0x7b); // "{": no BOM
    expect(text.includes("\r")).toBe(false);
    expect(text.endsWith("}\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    const shown = ALL_RESULTS.filter((r) => all || r.verdict !== "clean");
    expect(lines).toHaveLength(shown.length + 2);
    const parsed = lines.map((l) => JSON.parse(l));
    for (const line of parsed) expectValid(validateLine, line);
    expect(parsed.map((p) => p.type)).toEqual(["begin", ...shown.map(() => "result"), "summary"]);
    expect(parsed.slice(1, -1).map((p) => p.path)).toEqual(shown.map((r) => r.path));
    const summary = parsed.at(-1);
    expect(summary.exitCode).toBe(1);
    expect(summary.scan).toEqual({ start: "2025-01-02T03:04:05.000Z", end: "2025-01-02T03:04:06.234Z" });
    expect(parsed[0].scan.end).toBeUndefined();
  });

  test("a newline in a file name stays inside its line", async () => {
    const { text } = await render("ndjson", [R.newline], { all: true });
    expect(text.split("\n")).toHaveLength(4); // begin, result, summary, and "" after the last \n
  });
});

describe("schema strictness", () => {
  const good = JSON.parse(JSON.stringify({ type: "result", ...R.yara }));
  const cases: [string, (line: Record<string, any>) => void][] = [
    ["extra property on a result", (l) => (l.extra = 1)],
    ["extra property on a finding", (l) => (l.findings[0].extra = 1)],
    ["unknown verdict", (l) => (l.verdict = "infected")],
    ["unknown engine", (l) => (l.findings[0].engine = "clamav")],
    ["unknown severity", (l) => (l.findings[0].severity = "severe")],
    ["unknown reason code", (l) => (l.reason = { code: "too-big", message: "" })],
    ["partial without a reason", (l) => ((l.verdict = "partial"), (l.findings = []))],
    ["detected without findings", (l) => (l.findings = [])],
    ["members not strings", (l) => (l.members = [1])],
    ["uppercase sha256", (l) => (l.hashes.sha256 = "A".repeat(64))],
  ];
  test("the good line passes", () => expectValid(validateLine, good));
  test.each(cases)("rejects %s", (_name, spoil) => {
    const line = structuredClone(good);
    spoil(line);
    expect(validateLine(line)).toBe(false);
  });

  test("rejects an extra property on the summary and on a begin line", async () => {
    const lines = (await render("ndjson", [R.clean])).text.trim().split("\n").map((l) => JSON.parse(l));
    expect(validateLine({ ...lines[0], extra: 1 })).toBe(false);
    expect(validateLine({ ...lines.at(-1), extra: 1 })).toBe(false);
  });

  test("enums match the code", () => {
    expect(reportSchema.$defs.reasonCode.enum).toEqual(REASON_CODES);
    expect(reportSchema.$defs.severity.enum).toEqual(SEVERITIES);
  });
});
