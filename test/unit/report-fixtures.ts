// Synthetic results for the report tests: one of each kind a scan produces, including names
// that stress escaping (spaces, '#', '%', non-ASCII, bytes that are not UTF-8, control chars).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Summarizer } from "../../src/report/summary";
import { createSink, type Format, type SinkOptions } from "../../src/report/sink";
import type { Finding, RunInfo, ScanResult, Summary } from "../../src/types";

export const CWD = "/work/scan";

export function runInfo(roots: string[] = ["samples"], cwd = CWD): RunInfo {
  return {
    tool: { name: "ring3", version: "0.1.0" },
    signatures: {
      version: "2025.01.0",
      contentId: "0123456789abcdef",
      yaraRules: 120,
      hashSignatures: 5000,
      sources: ["bundled"],
    },
    scan: {
      roots,
      cwd,
      options: { maxFilesize: 104857600, followSymlinks: false, archives: true },
      start: "2025-01-02T03:04:05.000Z",
    },
  };
}

const SHA = (c: string): string => c.repeat(64);

const hashFinding: Finding = {
  engine: "hash",
  rule: "Win.Dropper.Agent-1234",
  namespace: "main.tsv",
  severity: "critical",
  description: "Known dropper sample",
  references: ["https://example.org/dropper"],
  tags: ["dropper", "windows"],
  hash: { algorithm: "sha256", value: SHA("a") },
};

const yaraFinding: Finding = {
  engine: "yara",
  rule: "Mimikatz_Strings",
  namespace: "credentials",
  severity: "high",
  description: "Strings of the Mimikatz credential dumper",
  references: [],
  tags: ["hacktool"],
  strings: [
    { id: "$s1", offset: 0x1f0, length: 8 },
    { id: "$s2", offset: 0x2000, length: 12 },
    { id: "$s2", offset: 0x2400, length: 12 },
    { id: "$s3", offset: 0x3000, length: 5 },
    { id: "$s4", offset: 0x3100, length: 5 },
  ],
  stringsTruncated: true,
};

const mediumFinding: Finding = {
  engine: "yara",
  rule: "Suspicious_PDF_JS",
  namespace: "documents",
  severity: "medium",
  description: "PDF with embedded JavaScript",
  references: [],
  tags: [],
  strings: [{ id: "$js", offset: 77, length: 11 }],
};

const lowFinding: Finding = {
  engine: "yara",
  rule: "Packed_UPX",
  namespace: "packers",
  severity: "low",
  description: "",
  references: [],
  tags: ["packer"],
  strings: [{ id: "$upx0", offset: 0x178, length: 4 }],
};

function base(p: string, extra: Partial<ScanResult> = {}): ScanResult {
  return { verdict: "clean", path: p, root: "samples", size: 100, hashes: { sha256: SHA("0") }, findings: [], ms: 1, ...extra };
}

/** `samples/caf\xe9.exe`: Latin-1 é, not valid UTF-8. */
const nonUtf8Bytes = Buffer.concat([Buffer.from("samples/caf"), Buffer.from([0xe9]), Buffer.from(".exe")]);

export const R = {
  clean: base("samples/readme.txt", { size: 1000 }),
  hash: base("samples/dropper.exe", { verdict: "detected", size: 2048, hashes: { sha256: SHA("a"), md5: "b".repeat(32) }, findings: [hashFinding] }),
  yara: base("samples/tools/mimi.exe", { verdict: "detected", size: 4096, hashes: { sha256: SHA("c") }, findings: [yaraFinding] }),
  spaces: base("samples/a dir/report #3 100%.pdf", { verdict: "detected", size: 512, hashes: { sha256: SHA("d") }, findings: [mediumFinding] }),
  unicode: base("samples/über.js", { verdict: "detected", size: 64, hashes: { sha256: SHA("e") }, findings: [lowFinding] }),
  nonUtf8: base("samples/caf\\xe9.exe", {
    verdict: "detected",
    pathBytes: nonUtf8Bytes.toString("base64"),
    size: 300,
    hashes: { sha256: SHA("f") },
    findings: [yaraFinding],
  }),
  partial: base("samples/big.iso", {
    verdict: "partial",
    size: 5_000_000_000,
    hashes: { sha256: SHA("1") },
    reason: { code: "max-filesize", message: "5000000000 bytes is over --max-filesize 104857600" },
  }),
  denied: base("samples/secret/key.bin", {
    verdict: "skipped",
    size: null,
    hashes: {},
    reason: { code: "permission-denied", message: "EACCES: permission denied, open" },
  }),
  symlink: base("samples/link-to-etc", { verdict: "skipped", size: null, hashes: {}, reason: { code: "symlink", message: "symbolic link, not followed" } }),
  crash: base("samples/crash.bin", {
    verdict: "error",
    size: 777,
    hashes: {},
    reason: { code: "worker-crash", message: "worker exited with code 134" },
  }),
  newline: base("samples/evil\nname\x1b[31m.txt", { size: 10 }),
} satisfies Record<string, ScanResult>;

export const ALL_RESULTS: ScanResult[] = Object.values(R);

export function summarize(results: ScanResult[]): Summary {
  const s = new Summarizer(0);
  for (const r of results) s.add(r);
  return s.summary(1234);
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ring3-report-"));
}

/** Runs results through a format's sink into a temp file and returns the file's bytes. */
export async function render(
  format: Format,
  results: ScanResult[],
  opts: Partial<SinkOptions> = {},
  run: RunInfo = runInfo(),
): Promise<{ file: string; bytes: Buffer; text: string; summary: Summary }> {
  const file = path.join(tempDir(), `out.${format}`);
  const out = fs.createWriteStream(file);
  const sink = createSink(format, out, { all: false, color: false, ...opts });
  sink.begin(run);
  for (const r of results) {
    sink.result(r);
    await sink.ready();
  }
  const summary = summarize(results);
  await sink.end(summary, { ...run, scan: { ...run.scan, end: "2025-01-02T03:04:06.234Z" } });
  const bytes = fs.readFileSync(file);
  return { file, bytes, text: bytes.toString("utf8"), summary };
}
