// The single executables stand alone: a copy of dist/ring3 in an empty folder, with no
// node_modules, no dist/assets and a bare environment, starts, reads its assets from the SEA blob,
// starts workers from the bundled source and instantiates WebAssembly there, also as `nobody`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, EICAR, ROOT, ring3, tempDir, write, type Json } from "./helpers";

const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const asRoot = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;

/** A bare environment: no NODE_* variables, and an asset directory that does not exist, so that
 * an executable that looked on disk instead of in its blob would fail. */
const bare: NodeJS.ProcessEnv = {
  PATH: "/usr/bin:/bin",
  HOME: "/nonexistent",
  RING3_ASSET_DIR: "/nonexistent/ring3-assets",
  NODE_OPTIONS: "",
  NODE_PATH: "",
};

let dir: string;
let bin: string;
let scanDir: string;
beforeAll(() => {
  dir = tempDir("ring3-sea-");
  bin = path.join(dir, "ring3");
  fs.copyFileSync(BIN, bin);
  fs.chmodSync(bin, 0o755);
  scanDir = path.join(dir, "scan");
  fs.mkdirSync(scanDir, { mode: 0o755 });
  write(scanDir, "eicar.com", EICAR);
  write(scanDir, "clean.txt", "nothing to see here\n");
  for (const f of fs.readdirSync(scanDir)) fs.chmodSync(path.join(scanDir, f), 0o644);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function version(as?: "nobody") {
  const run = ring3(["--version"], { bin, cwd: dir, env: bare, as });
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^ring3 \d+\.\d+\.\d+/);
  expect(run.stdout).toContain("(single executable)");
  return run;
}

/** Scans the EICAR folder: exit 1 and a YARA finding need a worker started from the bundled
 * worker source (SEA asset) running the YARA engine. */
function scanEicar(extra: string[], as?: "nobody") {
  const run = ring3(["scan", "--format", "json", "--workers", "2", ...extra, scanDir], { bin, cwd: dir, env: bare, as });
  expect(run.code, run.stderr).toBe(1);
  const doc: Json = JSON.parse(run.stdout);
  const result = doc.results.find((r: Json) => r.path.endsWith("eicar.com"));
  expect(result?.verdict).toBe("detected");
  expect(result.findings.map((f: Json) => f.engine)).toContain("yara");
  return doc;
}

describe("dist/ring3, a copy on its own", () => {
  it("prints its version (exit 0) as the current user", () => {
    version();
  });

  it.skipIf(!asRoot)("prints its version as nobody (setpriv)", () => {
    version("nobody");
  });

  it("starts workers from the bundled source and matches YARA rules in them", () => {
    scanEicar([]);
  });

  it.skipIf(!asRoot)("scans as nobody", () => {
    scanEicar([], "nobody");
  });

  it("instantiates YARA-X's WebAssembly in the workers", () => {
    // Today every YARA rule runs in YARA-X; once ring3's own matcher decides most rules,
    // `--engine yara-x` still sends everything through the WebAssembly engine.
    const help = ring3(["scan", "--help"], { bin, cwd: dir, env: bare }).stdout;
    scanEicar(help.includes("--engine") ? ["--engine", "yara-x"] : []);
  });
});

describe("the bundles inside the executables", () => {
  // Inside a SEA, `require` loads only Node's built-in modules, and the executable may be copied
  // to any machine: so every dependency is bundled and no path of the build machine is baked in.
  const bundles = [path.join(ROOT, "dist", "ring3.cjs"), path.join(ROOT, "dist", "assets", "worker.js")];

  it.each(bundles.map((f) => [path.relative(ROOT, f), f]))("%s requires only Node's built-in modules", (_name, file) => {
    const source = fs.readFileSync(file, "utf8");
    // Calls of `require(...)`, or of `__require(...)` in the worker's IIFE bundle; not esbuild's
    // own helper `function __require()`.
    // Signature files are bundled as text, and a rule's comment may quote the code it detects.
    const signatureText = signatureFiles().map((f) => fs.readFileSync(f, "utf8"));
    const required = [...source.matchAll(/(?<!function )\b(?:__)?require\(([^)]*)\)/g)]
      .filter((m) => !signatureText.some((t) => t.includes(m[0])))
      .map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    const notBuiltin = required.filter((arg) => {
      const name = /^["'](.*)["']$/.exec(arg.trim())?.[1];
      return name === undefined || !isBuiltin(name);
    });
    expect(notBuiltin).toEqual([]);
  });

  it.each(bundles.map((f) => [path.relative(ROOT, f), f]))("%s holds no absolute path of the build machine", (_name, file) => {
    expect(fs.readFileSync(file, "utf8")).not.toContain(ROOT);
  });
});

describe("the single executables' format", () => {
  /** postject flips the fuse's last character from 0 to 1 when it injects the blob. */
  function fused(file: string): boolean {
    const bytes = fs.readFileSync(file);
    return bytes.includes(`${SEA_FUSE}:1`);
  }

  it("dist/ring3 is an ELF executable with the SEA blob injected", () => {
    const head = Buffer.alloc(4);
    const fd = fs.openSync(BIN, "r");
    fs.readSync(fd, head, 0, 4, 0);
    fs.closeSync(fd);
    expect(head.toString("latin1")).toBe("\x7fELF");
    expect(fused(BIN)).toBe(true);
  });

  const exe = path.join(ROOT, "dist", "ring3.exe");
  it.skipIf(!fs.existsSync(exe))("dist/ring3.exe is a PE executable with the SEA blob injected (run it with make test-windows)", () => {
    const bytes = fs.readFileSync(exe);
    expect(bytes.subarray(0, 2).toString("latin1")).toBe("MZ");
    const pe = bytes.readUInt32LE(0x3c);
    expect(bytes.subarray(pe, pe + 4).toString("latin1")).toBe("PE\0\0");
    expect(bytes.includes(`${SEA_FUSE}:1`)).toBe(true);
    expect(bytes.includes("NODE_SEA_BLOB")).toBe(true);
  });
});

function signatureFiles(dir = path.join(ROOT, "signatures")): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? signatureFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
