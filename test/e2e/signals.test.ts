// Signals and the report file (issue 13): SIGINT, SIGTERM and SIGHUP mid-scan give a valid report
// marked interrupted; a second signal quits at once; `-o FILE` appears only whole (temporary file
// beside it, renamed at the end, removed on failure); write errors (EPIPE, ENOSPC) are one line
// on standard error and exit 2. Every test runs the built binary on files it creates.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, ROOT, tempDir, write, type Json } from "./helpers";

const schemaDir = path.join(ROOT, "src/report/schema");
const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { "date-time": true } });
ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, "report.schema.json"), "utf8")));
ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, "ndjson-line.schema.json"), "utf8")));
function expectSchema(name: "report" | "ndjson-line", doc: unknown): void {
  const validate = ajv.getSchema(`https://github.com/ring3/ring3/schema/${name}.schema.json`)!;
  expect(validate(doc) ? [] : validate.errors).toEqual([]);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A scan slow enough to be caught mid-way: files of random bytes under a rule that reads every
 * byte of each (tens of ms a file), so a signal lands with most files still to do.
 */
function slowScan(files = 150): { dir: string; rules: string; files: string } {
  const dir = tempDir("ring3-sig-");
  dirs.push(dir);
  const rules = write(dir, "slow.yar", "rule every_byte { condition: for any i in (0..filesize-1) : ( uint8(i) == 0x100 ) }\n");
  for (let i = 0; i < files; i++) write(dir, `files/${String(i).padStart(3, "0")}.bin`, Buffer.alloc(200_000, i));
  return { dir, rules, files: path.join(dir, "files") };
}

function start(args: string[], stdio: "pipe" | "ignore" = "ignore"): ChildProcess & { done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(BIN, args, { env: { ...process.env, CI: "true", NO_COLOR: "1" }, stdio: ["ignore", stdio, "pipe"] });
  const err: Buffer[] = [];
  child.stderr!.on("data", (c: Buffer) => err.push(c));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr: Buffer.concat(err).toString("utf8") }));
  });
  return Object.assign(child, { done });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `test` is true (the scan is under way), failing after `ms`. */
async function until(test: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error("timed out waiting for the scan to get under way");
    await sleep(20);
  }
}

const temps = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"));

describe("a stop signal mid-scan", () => {
  it.each(["SIGTERM", "SIGHUP", "SIGINT"] as const)("%s: exit 2, the -o report parses and is marked interrupted, no temporary file left", async (sig) => {
    const s = slowScan();
    const report = path.join(s.dir, "report.json");
    const child = start(["scan", "--no-bundled", "--rules", s.rules, "--workers", "1", "--all", "--format", "json", "-o", report, s.files]);
    // The report is written beside its name until complete: wait for its first results there.
    await until(() => temps(s.dir).some((t) => fs.statSync(path.join(s.dir, t)).size > 1500));
    expect(fs.existsSync(report)).toBe(false);
    child.kill(sig);
    const { code, stderr } = await child.done;
    expect(code).toBe(2);
    expect(stderr).toContain(`${sig}: stopping`);
    const doc: Json = JSON.parse(fs.readFileSync(report, "utf8"));
    expectSchema("report", doc);
    expect(doc.summary).toMatchObject({ interrupted: sig, status: "incomplete", exitCode: 2, detected: 0 });
    // Files the workers held when the signal came are not results, and none is called clean unscanned.
    expect(doc.summary.files).toBeGreaterThan(0);
    expect(doc.summary.files).toBeLessThan(150);
    expect(doc.results.length).toBe(doc.summary.files);
    expect(temps(s.dir)).toEqual([]);
  }, 60_000);

  it("ndjson on standard output: every line is whole and the summary line says interrupted", async () => {
    const s = slowScan();
    const child = start(["scan", "--no-bundled", "--rules", s.rules, "--workers", "1", "--all", "--format", "ndjson", s.files], "pipe");
    const out: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => out.push(c));
    await until(() => Buffer.concat(out).toString().split("\n").length > 4);
    child.kill("SIGTERM");
    const { code } = await child.done;
    expect(code).toBe(2);
    const lines = Buffer.concat(out).toString("utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0].type).toBe("begin");
    for (const l of lines) expectSchema("ndjson-line", l);
    expect(lines.at(-1)).toMatchObject({ type: "summary", interrupted: "SIGTERM", exitCode: 2 });
    expect(lines.filter((l) => l.type === "result").length).toBe(lines.at(-1).files);
  }, 60_000);

  it("a second signal quits at once, even while the report cannot be delivered", async () => {
    // A reader that never reads: the report (thousands of results with long paths, megabytes)
    // cannot reach it, so after the first signal ring3 waits on the pipe; the second ends that.
    const d = tempDir("ring3-sig-");
    dirs.push(d);
    const deep = path.join(d, ...Array.from({ length: 4 }, (_, i) => `${"d".repeat(200)}${i}`));
    for (let i = 0; i < 2000; i++) write(deep, `${"f".repeat(200)}${i}.txt`, `clean ${i}`);
    const child = start(["scan", "--workers", "1", "--all", "--format", "json", d], "pipe");
    const stdout = child.stdout!;
    // Unread, the stream buffers up to its high-water mark and stops reading; then the pipe fills.
    await until(() => stdout.readableLength >= stdout.readableHighWaterMark);
    await sleep(1500);
    child.kill("SIGTERM");
    await sleep(1500);
    expect(child.exitCode).toBe(null);
    child.kill("SIGINT");
    const t0 = Date.now();
    const { code, stderr } = await child.done;
    expect(code).toBe(2);
    expect(stderr).toContain("SIGINT again: quit without finishing the report");
    expect(Date.now() - t0).toBeLessThan(10_000); // a bound against a hang, not a timing
  }, 60_000);

  it("a second signal while writing -o FILE leaves no temporary file", async () => {
    const s = slowScan();
    const report = path.join(s.dir, "report.json");
    fs.writeFileSync(report, '{"previous":true}\n');
    const child = start(["scan", "--no-bundled", "--rules", s.rules, "--workers", "1", "--all", "--format", "json", "-o", report, s.files]);
    await until(() => temps(s.dir).length > 0);
    // Two different signals back to back: the second comes before the first stop is done.
    child.kill("SIGTERM");
    child.kill("SIGHUP");
    const { code } = await child.done;
    expect(code).toBe(2);
    expect(temps(s.dir)).toEqual([]);
    // Either the previous report or the interrupted one, never a part of one.
    const doc: Json = JSON.parse(fs.readFileSync(report, "utf8"));
    if (doc.previous !== true) expect(doc.summary.interrupted).toBe("SIGTERM");
  }, 60_000);
});

describe("the report file", () => {
  it("replaces an existing report whole, keeps a symbolic link a link and its target's mode", () => {
    const d = tempDir("ring3-out-");
    dirs.push(d);
    write(d, "files/a.txt", "hello");
    const real = write(d, "reports/real.json", "old");
    fs.chmodSync(real, 0o640);
    const link = path.join(d, "link.json");
    fs.symlinkSync(real, link);
    const run = spawnSync(BIN, ["scan", "--format", "json", "--all", "-o", link, path.join(d, "files")], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(real, "utf8")).summary).toMatchObject({ files: 1, clean: 1 });
    expect(fs.statSync(real).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(path.join(d, "reports"))).toEqual(["real.json"]);
  });

  it("writes to a device directly (-o /dev/null)", () => {
    const d = tempDir("ring3-out-");
    dirs.push(d);
    write(d, "a.txt", "hello");
    const run = spawnSync(BIN, ["scan", "-o", "/dev/null", d], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("an unwritable folder for -o: a clear message, exit 2, nothing scanned", () => {
    const d = tempDir("ring3-out-");
    dirs.push(d);
    write(d, "a.txt", "hello");
    const run = spawnSync(BIN, ["scan", "-o", path.join(d, "no/such/dir/r.json"), d], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^ring3: --output .*no\/such\/dir\/r\.json: ENOENT/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("write errors", () => {
  it("EPIPE (ring3 scan ... | head -c1): one line on standard error, exit 2, no stack", () => {
    const s = slowScan(60);
    const run = spawnSync("bash", ["-c", `"$0" scan --no-bundled --rules "$1" --workers 1 --all --format ndjson "$2" | head -c1 >/dev/null; exit \${PIPESTATUS[0]}`, BIN, s.rules, s.files], { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("ring3: cannot write the report to standard output: the reader closed the pipe (EPIPE); scan stopped\n");
  }, 60_000);

  it("a full disk on standard output (/dev/full): one line, exit 2, no stack", () => {
    const d = tempDir("ring3-out-");
    dirs.push(d);
    write(d, "a.txt", "hello");
    const run = spawnSync("bash", ["-c", `"$0" scan --all --format json "$1" >/dev/full`, BIN, d], { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("ring3: cannot write the report to standard output: no space left on the device (ENOSPC); scan stopped\n");
  });

  // A tiny tmpfs in a private mount namespace (unshare: no root needed where user namespaces
  // are allowed); the listing is taken inside it, since the mount ends with the namespace.
  it("a full disk for -o FILE (tiny tmpfs): exit 2, the previous report untouched, no temporary file", () => {
    const s = slowScan(40);
    const mnt = path.join(s.dir, "mnt");
    fs.mkdirSync(mnt);
    const script = [
      'mount -t tmpfs -o size=12k tmpfs "$1"',
      'printf \'{"previous":true}\\n\' > "$1/r.json"',
      '"$0" scan --no-bundled --rules "$2" --workers 1 --all --format json -o "$1/r.json" "$3"; rc=$?',
      'echo "--listing"; ls -A "$1"; cat "$1/r.json"; exit $rc',
    ].join("\n");
    const run = spawnSync("unshare", ["-rm", "sh", "-c", script, BIN, mnt, s.rules, s.files], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe(`ring3: cannot write the report to ${mnt}/r.json: no space left on the device (ENOSPC); scan stopped\n`);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('--listing\nr.json\n{"previous":true}\n');
  }, 60_000);
});
