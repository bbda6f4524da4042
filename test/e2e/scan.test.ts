// End to end: the built single executable on files each test creates. Every case asserts the
// exit code and the result a user would read, never just "it ran".
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ndjsonLineSchema from "../../src/report/schema/ndjson-line.schema.json";
import reportSchema from "../../src/report/schema/report.schema.json";
import { validate } from "../support/sarif-validator";
import { BIN, EICAR, EICAR_SHA256, json, ndjson, ring3, ring3Async, tempDir, write, type Json } from "./helpers";

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(reportSchema);
const validateReport = ajv.compile(reportSchema);
const validateLine = ajv.compile(ndjsonLineSchema);

function expectValidReport(doc: Json): void {
  if (!validateReport(doc)) throw new Error(JSON.stringify(validateReport.errors, null, 2));
}

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => {
  spawnSync("chmod", ["-R", "u+rwX", dir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A folder of its own for one test. */
function folder(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(d, 0o755);
  return d;
}

describe("verdicts and exit codes", () => {
  it("detects the EICAR file with both engines and exits 1", () => {
    const d = folder("eicar");
    write(d, "eicar.com", EICAR);
    write(d, "readme.txt", "nothing to see\n");
    const run = ring3(["scan", "--format", "json", d]);
    expect(run.code).toBe(1);
    const doc = json(run);
    expectValidReport(doc);
    expect(doc.summary).toMatchObject({ files: 2, clean: 1, detected: 1, exitCode: 1, status: "detected" });
    const r = doc.results.find((x: Json) => x.path.endsWith("eicar.com"));
    expect(r.verdict).toBe("detected");
    expect(r.hashes).toMatchObject({ sha256: EICAR_SHA256, md5: "44d88612fea8a8f36de82e1278abb02f", sha1: "3395856ce81f2b7382dee72602f798b642f14140" });
    const engines = r.findings.map((f: Json) => `${f.engine}:${f.rule}`).sort();
    expect(engines).toEqual(["hash:EICAR-Test-File", "yara:EICAR_Test_File"]);
    const y = r.findings.find((f: Json) => f.engine === "yara");
    expect(y.strings).toEqual([{ id: "$eicar", offset: 0, length: 68 }]);
    expect(y.references[0]).toMatch(/^https:\/\/www\.eicar\.org\//);
    // Clean files are not listed without --all.
    expect(doc.results).toHaveLength(1);
  });

  it.each([
    ["68 bytes", true, EICAR],
    ["trailing CRLF and spaces", true, EICAR + "\r\n   \t"],
    ["60 bytes of whitespace (128 in all)", true, EICAR + " ".repeat(60)],
    ["61 bytes of whitespace (129 in all)", false, EICAR + " ".repeat(61)],
    ["trailing Ctrl-Z", true, EICAR + "\x1a"],
    ["a non-whitespace byte after it", false, EICAR + "x"],
    ["not at offset 0", false, " " + EICAR],
  ])("EICAR rule: %s -> detected %s", (_name, detected, content) => {
    const d = folder(`eicar-form-${Math.random().toString(36).slice(2)}`);
    write(d, "f.txt", content);
    const run = ring3(["scan", "--no-bundled", "--rules", path.join(__dirname, "../../signatures/yara"), "--format", "json", d]);
    expect(run.code).toBe(detected ? 1 : 0);
    expect(json(run).summary.detected).toBe(detected ? 1 : 0);
  });

  it("exits 0 on a clean folder and on an empty folder", () => {
    const d = folder("clean");
    write(d, "a.txt", "hello\n");
    write(d, "sub/b.bin", Buffer.from([0, 1, 2, 3, 255]));
    write(d, "empty", "");
    const run = ring3(["scan", "--format", "json", "--all", d]);
    expect(run.code).toBe(0);
    const doc = json(run);
    expectValidReport(doc);
    expect(doc.summary).toMatchObject({ files: 3, clean: 3, exitCode: 0, status: "clean" });
    const empty = doc.results.find((r: Json) => r.path.endsWith("empty"));
    expect(empty).toMatchObject({ verdict: "clean", size: 0 });
    expect(empty.hashes.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    const e = folder("empty-folder");
    const run2 = ring3(["scan", "--format", "json", e]);
    expect(run2.code).toBe(0);
    expect(json(run2).summary.files).toBe(0);
  });

  it("reports a file it may not read as skipped (permission-denied) and exits 2, run as nobody", () => {
    const d = folder("unreadable");
    write(d, "ok.txt", "fine\n");
    const secret = write(d, "secret.txt", "hidden\n");
    fs.chmodSync(secret, 0o000);
    const locked = path.join(d, "locked");
    fs.mkdirSync(locked);
    write(locked, "inner.txt", "x");
    fs.chmodSync(locked, 0o000);
    const bin = path.join(folder("bin-copy"), "ring3");
    fs.copyFileSync(BIN, bin);
    fs.chmodSync(bin, 0o755);
    const run = ring3(["scan", "--format", "json", d], { as: "nobody", bin, cwd: "/" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    const doc = json(run);
    expectValidReport(doc);
    const byPath = Object.fromEntries(doc.results.map((r: Json) => [path.basename(r.path), r]));
    expect(byPath["secret.txt"]).toMatchObject({ verdict: "skipped", reason: { code: "permission-denied" } });
    expect(byPath["locked"]).toMatchObject({ verdict: "skipped", reason: { code: "permission-denied" } });
    expect(doc.summary).toMatchObject({ clean: 1, skipped: 2, incomplete: 2, exitCode: 2, status: "incomplete" });
    // The text report names the file and the reason.
    const text = ring3(["scan", d], { as: "nobody", bin, cwd: "/" });
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/secret\.txt.*permission-denied/);
  });

  it("never opens a FIFO (no hang) and does not fail the scan for it", () => {
    const d = folder("fifo");
    write(d, "a.txt", "x");
    expect(spawnSync("mkfifo", [path.join(d, "pipe")]).status).toBe(0);
    const run = ring3(["scan", "--format", "json", d], { timeout: 60_000 });
    expect(run.code).toBe(0);
    const r = json(run).results.find((x: Json) => x.path.endsWith("pipe"));
    expect(r).toMatchObject({ verdict: "skipped", reason: { code: "not-regular" } });
    // Named directly on the command line, too.
    const direct = ring3(["scan", "--format", "json", path.join(d, "pipe")], { timeout: 60_000 });
    expect(json(direct).results[0]).toMatchObject({ verdict: "skipped", reason: { code: "not-regular" } });
  });

  it("does not follow symlinks by default, and ends on a symlink loop when following", () => {
    const d = folder("links");
    write(d, "real/eicar.txt", EICAR);
    fs.symlinkSync(".", path.join(d, "real", "loop"));
    fs.symlinkSync("/etc/hostname", path.join(d, "outside"));
    const run = ring3(["scan", "--format", "json", d]);
    expect(run.code).toBe(1);
    const doc = json(run);
    const links = doc.results.filter((r: Json) => r.reason?.code === "symlink").map((r: Json) => path.basename(r.path)).sort();
    expect(links).toEqual(["loop", "outside"]);
    expect(doc.summary.detected).toBe(1); // the target inside the scan is scanned once, as itself

    const follow = ring3(["scan", "--format", "json", "--follow-symlinks", d], { timeout: 60_000 });
    expect(follow.code).toBe(1);
    const fdoc = json(follow);
    expect(fdoc.results.some((r: Json) => r.reason?.code === "loop" && r.path.endsWith("loop"))).toBe(true);
    expect(fdoc.results.some((r: Json) => r.path.endsWith("outside") && r.verdict === "clean")).toBe(false); // clean: not listed
    expect(fdoc.summary.clean).toBe(1); // /etc/hostname followed out of the scan on request
  });

  it("never walks into /proc through a link, and stays on one file system with --one-file-system", () => {
    const d = folder("fs-bounds");
    write(d, "a.txt", "x");
    fs.symlinkSync("/proc", path.join(d, "proc-link"));
    fs.symlinkSync("/proc/self/environ", path.join(d, "environ-link"));
    const shm = fs.mkdtempSync("/dev/shm/ring3-e2e-");
    try {
      fs.writeFileSync(path.join(shm, "eicar.txt"), EICAR);
      fs.symlinkSync(shm, path.join(d, "shm-link"));
      const run = ring3(["scan", "--format", "json", "--follow-symlinks", "--one-file-system", d], { timeout: 60_000 });
      expect(run.code).toBe(0);
      const doc = json(run);
      const byName = Object.fromEntries(doc.results.map((r: Json) => [path.basename(r.path), r]));
      expect(byName["proc-link"]).toMatchObject({ verdict: "skipped", reason: { code: "virtual-filesystem" } });
      expect(byName["environ-link"]).toMatchObject({ verdict: "skipped", reason: { code: "virtual-filesystem" } });
      expect(byName["shm-link"]).toMatchObject({ verdict: "skipped", reason: { code: "other-filesystem" } });
      expect(doc.summary).toMatchObject({ clean: 1, detected: 0, skipped: 3, incomplete: 0 });
      // Without --one-file-system the other file system is scanned.
      const all = ring3(["scan", "--format", "json", "--follow-symlinks", d], { timeout: 60_000 });
      expect(all.code).toBe(1);
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it("keeps a non-UTF-8 file name exact: escaped path plus the bytes in base64", () => {
    const d = folder("names");
    const name = Buffer.concat([Buffer.from("bad-"), Buffer.from([0xff, 0xfe]), Buffer.from(".txt")]);
    fs.writeFileSync(Buffer.concat([Buffer.from(d + "/"), name]), EICAR);
    const run = ring3(["scan", "--format", "json", d]);
    expect(run.code).toBe(1);
    const r = json(run).results[0];
    expect(r.path).toBe(`${d}/bad-\\xff\\xfe.txt`);
    expect(Buffer.from(r.pathBytes, "base64").equals(Buffer.concat([Buffer.from(d + "/"), name]))).toBe(true);
    const nd = ring3(["scan", "--format", "ndjson", d]);
    const line = ndjson(nd).find((l) => l.type === "result");
    expect(line.pathBytes).toBe(r.pathBytes);
  });

  it("reports a file deleted between walk and read as skipped (vanished)", async () => {
    const d = folder("vanish");
    const victim = write(d, "sub/victim.txt", "x");
    // One worker, busy reading standard input first; the walk queues the victim meanwhile.
    const child = spawn(BIN, ["scan", "--workers", "1", "--format", "ndjson", "-", d], { env: { ...process.env, CI: "true" } });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    await new Promise<void>((resolve) => {
      const check = () => (out.includes('"type":"begin"') ? resolve() : setTimeout(check, 20));
      check();
    });
    await new Promise((r) => setTimeout(r, 1000));
    fs.unlinkSync(victim);
    child.stdin.end("harmless stdin data");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const lines = out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const r = lines.find((l) => l.type === "result" && l.path.endsWith("victim.txt"));
    expect(r).toMatchObject({ verdict: "skipped", reason: { code: "vanished" } });
    expect(code).toBe(2);
  });

  it("reports a missing path as an error and exits 2", () => {
    const run = ring3(["scan", "--format", "json", path.join(dir, "does-not-exist")]);
    expect(run.code).toBe(2);
    expect(json(run).results[0]).toMatchObject({ verdict: "error", reason: { code: "io-error" } });
  });

  it("a file over --max-filesize is streamed through hashes and the fast path; with --engine yara-x it is read whole (up to 64 MiB)", () => {
    const d = folder("big");
    write(d, "big.txt", EICAR + " ".repeat(4000));
    write(d, "eicar.com", EICAR);
    // The fast path decides every bundled rule on the stream: EICAR's rule needs filesize <= 128,
    // so a 4,068-byte file is clean, fully scanned (not partial).
    const run = ring3(["scan", "--all", "--format", "json", "--max-filesize", "1K", d]);
    expect(run.code).toBe(1);
    const doc = json(run);
    const big = doc.results.find((r: Json) => r.path.endsWith("big.txt"));
    expect(big).toMatchObject({ verdict: "clean", size: 4068 });
    expect(big.reason).toBeUndefined();
    expect(big.hashes.sha256).toMatch(/^[0-9a-f]{64}$/);
    const alone = ring3(["scan", "--format", "json", "--max-filesize", "1K", path.join(d, "big.txt")]);
    expect(alone.code).toBe(0);
    // YARA-X needs the whole file in one buffer: it gets it (under 64 MiB), and decides the same.
    const oracle = ring3(["scan", "--engine", "yara-x", "--all", "--format", "json", "--max-filesize", "1K", path.join(d, "big.txt")]);
    expect(oracle.code).toBe(0);
    expect(json(oracle).results[0]).toMatchObject({ verdict: "clean", size: 4068 });
    expect(json(oracle).results[0].reason).toBeUndefined();
    // A hash signature still matches a file over the limit, with either engine.
    const hsb = write(folder("big-hash"), "big.hsb", `${big.hashes.sha256}:4068:Big-Test\n`);
    const h = ring3(["scan", "--format", "json", "--max-filesize", "1K", "--hashes", hsb, path.join(d, "big.txt")]);
    expect(h.code).toBe(1);
    expect(json(h).results[0]).toMatchObject({ verdict: "detected" });
    const hx = ring3(["scan", "--engine", "yara-x", "--format", "json", "--max-filesize", "1K", "--hashes", hsb, path.join(d, "big.txt")]);
    expect(json(hx).results[0]).toMatchObject({ verdict: "detected" });
    expect(json(hx).results[0].reason).toBeUndefined();
  });
});

describe("inputs", () => {
  it("scans standard input with '-'", () => {
    const run = ring3(["scan", "--format", "json", "-"], { input: EICAR });
    expect(run.code).toBe(1);
    const r = json(run).results[0];
    expect(r).toMatchObject({ verdict: "detected", path: "<stdin>", size: 68 });
    const clean = ring3(["scan", "-"], { input: "hello" });
    expect(clean.code).toBe(0);
  });

  it("reads --paths-from - with CRLF and a BOM, and NUL-separated lists", () => {
    const d = folder("paths-from");
    const a = write(d, "a b.txt", EICAR);
    const b = write(d, "clean.txt", "x");
    const list = `\ufeff${a}\r\n${b}\r\n\r\n`;
    const run = ring3(["scan", "--format", "json", "--all", "--paths-from", "-"], { input: list });
    expect(run.code).toBe(1);
    const doc = json(run);
    expect(doc.results.map((r: Json) => r.path).sort()).toEqual([a, b].sort());
    const nul = ring3(["scan", "--format", "json", "--paths-from", "-"], { input: `${a}\0${b}\0` });
    expect(nul.code).toBe(1);
    expect(json(nul).summary.files).toBe(2);
  });

  it("applies --include and --exclude (base name without a slash, path with one)", () => {
    const d = folder("filters");
    write(d, "keep/e.txt", EICAR);
    write(d, "node_modules/pkg/e.txt", EICAR);
    write(d, "keep/e.log", EICAR);
    const run = ring3(["scan", "--format", "json", "--exclude", "node_modules", "--exclude", "*.log", d]);
    expect(json(run).results.map((r: Json) => path.relative(d, r.path))).toEqual(["keep/e.txt"]);
    const inc = ring3(["scan", "--format", "json", "--include", "*.log", d]);
    expect(json(inc).results.map((r: Json) => path.relative(d, r.path))).toEqual(["keep/e.log"]);
    const byPath = ring3(["scan", "--format", "json", "--exclude", "keep/**", d]);
    expect(json(byPath).results.map((r: Json) => path.relative(d, r.path))).toEqual(["node_modules/pkg/e.txt"]);
  });
});

describe("signatures", () => {
  it("loads --rules with --define and the per-file LOKI variables", () => {
    const d = folder("rules");
    const rules = write(
      d,
      "r.yar",
      `rule by_name { condition: filename == "target.bin" and extension == ".bin" }
       rule by_define { condition: stage == 3 }
       rule by_type { condition: filetype == "ELF" }`,
    );
    write(d, "files/target.bin", "abc");
    write(d, "files/elf", Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    const run = ring3(["scan", "--no-bundled", "--rules", rules, "-d", "stage=3", "--format", "json", path.join(d, "files")]);
    expect(run.code).toBe(1);
    const got = json(run)
      .results.flatMap((r: Json) => r.findings.map((f: Json) => `${path.basename(r.path)}:${f.rule}`))
      .sort();
    expect(got).toEqual(["elf:by_define", "elf:by_type", "target.bin:by_define", "target.bin:by_name"]);
  });

  it("fails with file:line:col on a broken rule, before scanning anything (exit 2)", () => {
    const d = folder("broken");
    const bad = write(d, "bad.yar", `rule ok { condition: true }\n\nrule bad {\n  condition: $x\n}\n`);
    const run = ring3(["scan", "--no-bundled", "--rules", bad, "--format", "json", d]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    // The fast path's compiler reports it (YARA-X's wording, without its error code).
    expect(run.stderr).toContain(`${bad}:4:14: error: unknown pattern \`$x\``);
    const check = ring3(["rules", "check", bad]);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain(`${bad}:4:14: error[E025]`);
    const good = write(d, "good.yar", `rule fine { strings: $a = "abc" condition: $a }`);
    const ok = ring3(["rules", "check", good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/1 file\(s\), 1 rule\(s\), 0 error\(s\)/);
  });

  it("matches ClamAV .hdb/.hsb and plain hash lists, by size where given", () => {
    const d = folder("hashes");
    const f = write(d, "scan/sample.bin", "sample payload\n");
    const md5 = spawnSync("md5sum", [f]).stdout.toString().split(" ")[0];
    const sha1 = spawnSync("sha1sum", [f]).stdout.toString().split(" ")[0];
    const sha256 = spawnSync("sha256sum", [f]).stdout.toString().split(" ")[0];
    const lists = [
      write(d, "l.hdb", `${md5}:15:Md5.Sample\n`),
      write(d, "l.hsb", `${sha1.toUpperCase()}:*:Sha1.Sample\r\n`),
      write(d, "loki.txt", `# comment\n${sha256};Sha256.Sample\n`),
      write(d, "wrongsize.hdb", `${md5}:16:Md5.WrongSize\n`),
    ];
    const run = ring3(["scan", "--no-bundled", ...lists.flatMap((l) => ["--hashes", l]), "--format", "json", path.join(d, "scan")]);
    expect(run.code).toBe(1);
    const names = json(run).results[0].findings.map((x: Json) => x.rule).sort();
    expect(names).toEqual(["Md5.Sample", "Sha1.Sample", "Sha256.Sample"]);
    const broken = write(d, "broken.hdb", `not-a-hash:1:x\n`);
    const bad = ring3(["scan", "--no-bundled", "--hashes", broken, path.join(d, "scan")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("broken.hdb:1");
  });

  it("suppresses findings with --allow, --exclude-rule and --exclude-tag, and counts them", () => {
    const d = folder("suppress");
    write(d, "scan/eicar.com", EICAR);
    write(d, "scan/eicar-ws.txt", EICAR + "\n");
    const target = path.join(d, "scan");
    const allow = write(d, "fp.sfp", `# known test file\n${EICAR_SHA256}:68:EICAR-ok\n`);
    const a = ring3(["scan", "--format", "json", "--all", "--allow", allow, target]);
    expect(a.code).toBe(1); // the copy with a newline has another SHA-256: still detected
    const doc = json(a);
    expectValidReport(doc);
    const allowed = doc.results.find((r: Json) => r.path.endsWith("eicar.com"));
    expect(allowed).toMatchObject({ verdict: "clean", findings: [] });
    expect(allowed.suppressed.map((x: Json) => `${x.by}:${x.rule}`).sort()).toEqual(["allow:EICAR-Test-File", "allow:EICAR_Test_File"]);
    expect(doc.summary).toMatchObject({ detected: 1, suppressed: 2 });

    const byId = json(ring3(["scan", "--format", "json", "--exclude-rule", "ring3.test.*", target]));
    // The YARA rule (id ring3.test.eicar) is suppressed on both files; the hash signature is not.
    expect(byId.summary).toMatchObject({ detected: 1, suppressed: 2, findings: 1 });
    const byTag = ring3(["scan", "--format", "json", "--exclude-tag", "test_file", "--exclude-rule", "EICAR-Test-File", target]);
    expect(byTag.code).toBe(0);
    expect(json(byTag).summary).toMatchObject({ detected: 0, suppressed: 3, exitCode: 0 });

    const bad = write(d, "bad.txt", "not-a-hash\n");
    const run = ring3(["scan", "--allow", bad, target]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:1:`);
  });

  it("lists the bundled rules and prints the version with the signature set", () => {
    const list = ring3(["rules", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ring3\.test\.eicar\s+medium\s+EICAR/);
    const v = ring3(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ring3 \d+\.\d+\.\d+\nsignatures \S+ \(content [0-9a-f]{16}\)/);
  });

  it("rejects bad arguments with exit 2", () => {
    expect(ring3(["scan", "--format", "xml", "."]).code).toBe(2);
    expect(ring3(["scan", "--max-filesize", "lots", "."]).code).toBe(2);
    expect(ring3(["scan", "--no-bundled", "."]).code).toBe(2);
    expect(ring3(["frobnicate"]).code).toBe(2);
  });
});

describe("the YARA engines", () => {
  it("a rule the fast path cannot decide (a module ring3 leaves to YARA-X) goes to YARA-X for that file only; --stats counts it", () => {
    const d = folder("fallback");
    const rules = write(d, "r.yar", 'import "dex"\nrule D { strings: $a = "fallback-marker" condition: $a and not dex.is_dex }\n');
    write(d, "files/hit.txt", "xx fallback-marker yy");
    write(d, "files/other.txt", "nothing here");
    for (const engine of ["auto", "yara-x"]) {
      const run = ring3(["scan", "--no-bundled", "--rules", rules, "--engine", engine, "--stats", "--format", "json", path.join(d, "files")]);
      expect(run.code, run.stderr).toBe(1);
      const doc = json(run);
      expect(doc.results.map((r: Json) => [path.basename(r.path), r.findings.map((f: Json) => `${f.rule} ${f.strings.map((m: Json) => `${m.id}@${m.offset}`)}`)])).toEqual([["hit.txt", ["D $a@3"]]]);
      expect(run.stderr).toContain(`ring3 stats (--engine ${engine})`);
      if (engine === "auto") {
        // other.txt lacks the rule's string: decided without YARA-X; hit.txt needs it.
        expect(run.stderr).toContain("YARA-X never called for 1 (50.00%)");
        expect(run.stderr).toContain("YARA-X: 1 scan calls, 1 rule groups compiled");
      } else expect(run.stderr).toContain("YARA-X: 2 scan calls");
    }
  });
});

describe("a reader that goes away", () => {
  it("rules list and scan into `head` end quietly, without an unhandled EPIPE", () => {
    const d = folder("epipe");
    for (let i = 0; i < 300; i++) write(d, `f${i}.txt`, "clean\n");
    for (const args of [["rules", "list"], ["scan", "--all", "--format", "ndjson", d]]) {
      const run = spawnSync("sh", ["-c", `"$0" "$@" | head -1`, BIN, ...args], { encoding: "utf8", timeout: 120_000 });
      expect(run.stdout.split("\n").filter(Boolean)).toHaveLength(1);
      expect(run.stderr, args.join(" ")).not.toMatch(/Unhandled|\n\s+at /);
      // A scan cut short says so in one line (issue 13); `rules list` ends quietly.
      if (args[0] === "scan") expect(["", "ring3: cannot write the report to standard output: the reader closed the pipe (EPIPE); scan stopped\n"]).toContain(run.stderr);
      else expect(run.stderr).toBe("");
    }
  });
});

describe("formats", () => {
  it("ndjson: begin, one line per result, summary; each line valid", () => {
    const d = folder("nd");
    write(d, "e.txt", EICAR);
    write(d, "c.txt", "clean");
    const run = ring3(["scan", "--format", "ndjson", "--all", d]);
    expect(run.code).toBe(1);
    expect(run.stdout.charCodeAt(0)).toBe(0x7b); // no BOM
    const lines = ndjson(run);
    for (const l of lines) if (!validateLine(l)) throw new Error(JSON.stringify(validateLine.errors));
    expect(lines.map((l) => l.type)).toEqual(["begin", "result", "result", "summary"]);
    expect(lines[3]).toMatchObject({ detected: 1, clean: 1, exitCode: 1 });
  });

  it("sarif: passes Microsoft's validator with GitHub's rules; repository-relative, stable fingerprints", () => {
    const d = folder("sarif");
    write(d, "dist/app.js", "console.log(1)\n");
    write(d, "dist/eicar test#1.com", EICAR);
    const secret = write(d, "dist/secret.bin", "x");
    fs.chmodSync(secret, 0o000);
    const bin = path.join(folder("sarif-bin"), "ring3");
    fs.copyFileSync(BIN, bin);
    fs.chmodSync(bin, 0o755);
    const out = path.join(d, "ring3.sarif");
    // As a CI job runs it: from the checkout, on a build folder, as an ordinary user.
    fs.chmodSync(d, 0o777);
    const run = ring3(["scan", "--format", "sarif", "-o", out, "dist"], { cwd: d, as: "nobody", bin });
    expect(run.code).toBe(1);
    const problems = validate([out]).filter((x) => x.level === "error" || x.level === "warning");
    expect(problems).toEqual([]);
    const sarif = JSON.parse(fs.readFileSync(out, "utf8"));
    const r0 = sarif.runs[0];
    expect(r0.results).toHaveLength(2); // hash and YARA findings on the EICAR file
    for (const res of r0.results) {
      expect(res.locations[0].physicalLocation.artifactLocation).toEqual({ uri: "dist/eicar%20test%231.com", uriBaseId: "%SRCROOT%" });
      expect(res.partialFingerprints["ring3/v1"]).toMatch(/^[0-9a-f]{64}$/);
    }
    const yaraRule = r0.tool.driver.rules.find((x: Json) => x.name === "EICAR_Test_File");
    expect(yaraRule.properties["security-severity"]).toBe("5.5");
    expect(yaraRule.properties.tags).toContain("security");
    expect(yaraRule.help.text).toMatch(/1\. A test file, not malware/); // the rule's action comes first
    // The unreadable file is reported, not hidden, and the run says it was not fully successful.
    expect(r0.invocations[0].executionSuccessful).toBe(false);
    expect(JSON.stringify(r0.invocations[0].toolExecutionNotifications)).toContain("secret.bin");
    // Same content elsewhere, same fingerprints.
    const again = ring3(["scan", "--format", "sarif", path.join(d, "dist")]);
    const fp = (doc: Json) => doc.runs[0].results.map((x: Json) => x.partialFingerprints["ring3/v1"]).sort();
    expect(fp(JSON.parse(again.stdout))).toEqual(fp(sarif));
  });

  it("writes the report to --output and nothing else", () => {
    const d = folder("out");
    write(d, "e.txt", EICAR);
    const outFile = path.join(folder("out-dir"), "report.json");
    const before = fs.readdirSync(d);
    const run = ring3(["scan", "--format", "json", "-o", outFile, d]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expectValidReport(JSON.parse(fs.readFileSync(outFile, "utf8")));
    expect(fs.readdirSync(d)).toEqual(before);
  });

  it("text: one line per finding and problem, then a summary, no colour on a pipe", () => {
    const d = folder("text");
    write(d, "e.txt", EICAR);
    const run = ring3(["scan", d]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${d}/e.txt`);
    expect(run.stdout).toMatch(/EICAR_Test_File/);
    expect(run.stdout).not.toMatch(/\x1b\[/);
  });
});

describe("isolation", () => {
  it("turns a worker crash into an error result for that file and scans the rest", () => {
    const d = folder("crash");
    write(d, "a/crash-me.txt", "x");
    write(d, "b/eicar.txt", EICAR);
    for (let i = 0; i < 5; i++) write(d, `c/clean${i}.txt`, `clean ${i}`);
    const run = ring3(["scan", "--workers", "2", "--format", "json", "--all", d], { env: { RING3_FAILPOINT: "crash:crash-me.txt" } });
    expect(run.code).toBe(1);
    const doc = json(run);
    expect(doc.results.find((r: Json) => r.path.endsWith("crash-me.txt"))).toMatchObject({ verdict: "error", reason: { code: "worker-crash" } });
    expect(doc.summary).toMatchObject({ files: 7, clean: 5, detected: 1, error: 1 });
  });

  // Files travel to a worker in batches: a crash, a trap or a hang on one file of a batch is that
  // file's result alone; the rest of its batch is scanned on a fresh worker.
  it.each([
    ["crash", "worker-crash", []],
    ["trap", "engine-error", []],
    ["hang", "timeout", ["--timeout-per-file", "1"]],
  ] as const)("a %s in the middle of a batch: that file only (%s), every other file scanned once", (kind, code, extra) => {
    const d = folder(`batch-${kind}`);
    // Every tenth file is large: a worker starting one hands the files queued behind it back.
    for (let i = 0; i < 150; i++) write(d, `f/${String(i).padStart(3, "0")}.txt`, i === 77 ? EICAR : i % 10 === 5 ? Buffer.alloc(1_100_000, i) : `clean ${i}`);
    const run = ring3(["scan", "--workers", "1", ...extra, "--format", "json", "--all", d], { env: { RING3_FAILPOINT: `${kind}:040.txt` }, timeout: 90_000 });
    const doc = json(run);
    expect(doc.results.filter((r: Json) => r.verdict === "error")).toMatchObject([{ path: expect.stringMatching(/040\.txt$/), reason: { code } }]);
    expect(doc.summary).toMatchObject({ files: 150, clean: 148, detected: 1, error: 1 });
    expect(new Set(doc.results.map((r: Json) => r.path)).size).toBe(150);
    expect(run.code).toBe(1); // detected wins over incomplete
  });

  it("retries a file on a fresh worker when the engine traps, then reports it as an error", () => {
    const d = folder("trap");
    write(d, "a/trap-me.txt", "x");
    write(d, "b/eicar.txt", EICAR);
    for (let i = 0; i < 4; i++) write(d, `c/clean${i}.txt`, `clean ${i}`);
    const run = ring3(["scan", "--workers", "1", "--format", "json", d], { env: { RING3_FAILPOINT: "trap:trap-me.txt" } });
    expect(run.code).toBe(1);
    const doc = json(run);
    const r = doc.results.find((x: Json) => x.path.endsWith("trap-me.txt"));
    expect(r).toMatchObject({ verdict: "error", reason: { code: "engine-error" } });
    expect(r.reason.message).toMatch(/twice, on fresh workers/);
    expect(doc.summary).toMatchObject({ files: 6, clean: 4, detected: 1, error: 1 });
  });

  // YARA-X's WASM build leaks a reference-table slot per call and traps at 17,412 slots
  // (measured; see src/engines/yara/yarax.ts). Before workers retired in time, every file after
  // that point was an engine error. 4,000 files on one worker, each changing four externals (five
  // calls, about 20,000 slots), is well past it.
  it("keeps scanning correctly past YARA-X's per-instance call limit", async () => {
    const d = folder("many");
    const rules = write(
      d,
      "r.yar",
      `rule last_file { condition: filename == "f3999.b" and extension == ".b" and filetype == "ELF" and filepath contains "many" }`,
    );
    const elf = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
    for (let i = 0; i < 4000; i++) {
      write(d, `files/${Math.floor(i / 500)}/f${i}.${i % 2 ? "b" : "a"}`, i % 2 ? Buffer.concat([elf, Buffer.from(` ${i}`)]) : `content ${i}`);
    }
    const run = await ring3Async(["scan", "--no-bundled", "--rules", rules, "--workers", "1", "--format", "json", path.join(d, "files")]);
    const doc = json(run);
    expect(doc.summary).toMatchObject({ files: 4000, clean: 3999, detected: 1, error: 0, exitCode: 1 });
    expect(doc.results[0].path).toMatch(/f3999\.b$/);
  }, 300_000);

  it("abandons a file that hangs past --timeout-per-file, replaces the worker, and exits 2", () => {
    const d = folder("hang");
    write(d, "a/hang-me.txt", "x");
    for (let i = 0; i < 3; i++) write(d, `b/clean${i}.txt`, `clean ${i}`);
    const run = ring3(["scan", "--workers", "1", "--timeout-per-file", "1", "--format", "json", d], { env: { RING3_FAILPOINT: "hang:hang-me.txt" }, timeout: 90_000 });
    expect(run.code).toBe(2);
    const doc = json(run);
    expect(doc.results.find((r: Json) => r.path.endsWith("hang-me.txt"))).toMatchObject({ verdict: "error", reason: { code: "timeout" } });
    expect(doc.summary).toMatchObject({ files: 4, clean: 3, error: 1 });
  });

  // YARA-X's WASM build ignores Scanner.setTimeoutMs (measured: a 1M-iteration loop ran 28 s with
  // a 500 ms timeout), so the pool's own timeout is what bounds a slow rule.
  it("stops a YARA scan that runs past --timeout-per-file: error (timeout)", () => {
    const d = folder("slow");
    const rules = write(d, "slow.yar", `rule slow { condition: for all i in (0..filesize) : ( for all j in (0..filesize) : ( uint8(i) != 1 or uint8(j) != 2 ) ) }`);
    write(d, "files/big.bin", Buffer.alloc(1 << 20));
    const run = ring3(["scan", "--no-bundled", "--rules", rules, "--timeout-per-file", "1", "--format", "json", path.join(d, "files")], { timeout: 90_000 });
    expect(run.code).toBe(2);
    expect(json(run).results[0]).toMatchObject({ verdict: "error", reason: { code: "timeout" } });
  });
});
