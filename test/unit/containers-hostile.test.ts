// Hostile containers: each must end within its budget, in seconds, with the process well under
// 1 GB, and with the problem code that names what stopped it. The bombs are built here without
// ever holding their unpacked size: deflate streams of zeros are repeated segments (see
// test/support/archives.ts), and a 10 GB gzip is 100 concatenated gzip members.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as esbuild from "esbuild";
import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, identify, openContainer } from "../../src/containers";
import type { Limits } from "../../src/containers/types";
import * as A from "../support/archives";

const dec = new TextDecoder();
const GB = 1024 ** 3;

/** Recurses like the scan; records every problem, the time taken and the highest RSS seen. */
function walk(data: Uint8Array, over: Partial<Limits> = {}) {
  const lim = { ...DEFAULT_LIMITS, ...over };
  const budget = createBudget(lim);
  const out = { problems: [] as string[], members: 0, unpacked: 0, ms: 0 };
  const t0 = performance.now();
  const visit = (bytes: Uint8Array, path: string[]) => {
    const f = identify(bytes);
    if (f === null) return;
    if (path.length >= lim.maxDepth) return void out.problems.push(`${path.join("!")}: archive-depth`);
    for (const m of openContainer(f, bytes, budget)) {
      const here = [...path, dec.decode(m.name) || "-"];
      if (m.problem) out.problems.push(`${here.join("!")}: ${m.problem.code}`);
      if (m.data) {
        out.members++;
        out.unpacked += m.data.length;
        visit(m.data, here);
      }
    }
  };
  visit(data, []);
  out.ms = performance.now() - t0;
  return out;
}

const codes = (problems: string[]) => [...new Set(problems.map((p) => p.slice(p.lastIndexOf(": ") + 2)))].sort();

describe("nested zip bomb (42.zip style)", () => {
  // 4 levels of 16, 1 GiB of zeros at the bottom: 16^4 GiB = 64 TiB declared, about 0.5 MB on disk.
  const bomb = A.nestedZipBomb(4, 16, GB);

  test("fixture: what 42.zip is, a small file that claims terabytes", () => {
    expect(bomb.length).toBeLessThan(2_000_000);
    const top = [...openContainer("zip", bomb, createBudget(DEFAULT_LIMITS))];
    expect(top.length).toBe(16);
    expect(identify(top[0]!.data!)).toBe("zip");
  });

  test("default limits: the zips of the lowest level expand past maxRatio, no kernel is reached", () => {
    const r = walk(bomb);
    expect(r.problems.length).toBe(16 ** 3);
    expect(r.problems[0]).toBe("3-0.zip!2-0.zip!1-0.zip: archive-ratio");
    expect(codes(r.problems)).toEqual(["archive-ratio"]);
    expect(r.ms).toBeLessThan(5_000);
  });

  test("ratio lifted: ends on maxTotalBytes, each 1 GiB kernel refused by maxMemberSize", () => {
    const r = walk(bomb, { maxRatio: 1e9 });
    expect(codes(r.problems)).toEqual(["archive-member-size", "archive-total-size"]);
    expect(r.unpacked).toBeLessThanOrEqual(DEFAULT_LIMITS.maxTotalBytes);
    expect(r.ms).toBeLessThan(15_000);
  });

  test("every size budget lifted: the time budget ends it", () => {
    const r = walk(bomb, { maxRatio: 1e9, maxTotalBytes: 1e15, maxTimeMs: 2000 });
    expect(codes(r.problems)).toEqual(["archive-member-size", "archive-time"]);
    expect(r.ms).toBeLessThan(15_000);
  });

  test("depth 2: the levels below are never opened", () => {
    const r = walk(bomb, { maxDepth: 2 });
    expect(codes(r.problems)).toEqual(["archive-depth"]);
    expect(r.problems.length).toBe(256);
  });
});

describe("overlapping-entries zip bomb (Fifield)", () => {
  test("fixture: every member is valid deflate whose CRC matches, so real unzippers expand it", () => {
    const small = A.overlapZipBomb(5, 2 ** 20);
    const view = new DataView(small.buffer, small.byteOffset);
    let cd = view.getUint32(small.length - 22 + 16, true);
    for (let i = 0; i < 5; i++) {
      const [crc, packed, size, local] = [view.getUint32(cd + 16, true), view.getUint32(cd + 20, true), view.getUint32(cd + 24, true), view.getUint32(cd + 42, true)];
      const start = local + 30 + view.getUint16(local + 26, true);
      const out = zlib.inflateRawSync(small.subarray(start, start + packed));
      expect(out.length).toBe(size);
      expect(A.crc32(out)).toBe(crc);
      expect(size).toBeGreaterThanOrEqual(2 ** 20 + (4 - i) * 35); // the kernel plus the headers it quotes
      cd += 46 + view.getUint16(cd + 28, true);
    }
  });

  test("300 entries over one 64 MiB kernel (about 19 GiB): recognised, nothing unpacked", () => {
    const bomb = A.overlapZipBomb(300, 64 * 2 ** 20);
    const t0 = performance.now();
    const r = walk(bomb);
    expect(r.problems.length).toBe(300);
    expect(codes(r.problems)).toEqual(["archive-ratio"]);
    expect(r.unpacked).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("a zip that contains itself", () => {
  test("fixture: each entry's data is the rest of the file, directory and end record included, and reads as a zip", () => {
    const self = A.selfContainingZip(4);
    const view = new DataView(self.buffer, self.byteOffset);
    const start = 30 + view.getUint16(26, true);
    const packed = view.getUint32(18, true);
    expect(start + packed).toBe(self.length);
    expect(identify(self.subarray(start))).toBe("zip"); // the next entry's local header
  });

  test("stopped on structure: no member is unpacked, so there is nothing to recurse into", () => {
    for (const depth of [1, 2, 4, 40]) {
      const r = walk(A.selfContainingZip(depth));
      expect(r.unpacked).toBe(0);
      expect(r.problems.length).toBe(depth);
      expect(codes(r.problems)).toEqual(["archive-corrupt"]); // data overlapping the directory that lists it
    }
  });
});

describe("gzip of 10 GB of zeros", () => {
  const gz = A.gzipOfZeros(100, 100 * 1024 * 1024); // 100 members of 100 MiB: 10.5 GB
  test("fixture: about 10 MB, 10 GB declared", () => {
    expect(gz.length).toBeLessThan(12_000_000);
  });

  test.each<[string, Partial<Limits>, string]>([
    ["default limits: a first part decoded to size the cap shows the ratio of a bomb", {}, "archive-ratio"],
    ["maxMemberSize when the ratio is lifted (the first part is zeros, scanned)", { maxRatio: 1e6 }, "archive-member-size"],
    ["maxRatio when members may be large", { maxMemberSize: 4 * GB, maxTotalBytes: 4 * GB, maxRatio: 20 }, "archive-ratio"],
    ["maxTotalBytes when it is the smallest", { maxMemberSize: 4 * GB, maxRatio: 1e6, maxTotalBytes: 300 * 2 ** 20 }, "archive-total-size"],
  ])("%s", (_, over, code) => {
    const r = walk(gz, over);
    expect(r.problems).toEqual([`-: ${code}`]);
    expect(r.ms).toBeLessThan(10_000);
  });
});

describe("tar with a huge declared size", () => {
  test.each([
    ["octal 8 GiB", A.tar([{ name: "big", data: A.EICAR, declaredSize: 8 * GB - 1 }])],
    ["base-256 2^60", A.tar([{ name: "big", data: A.EICAR, declaredSize: 2 ** 60, base256: true }], "gnu")],
    ["gzip'd, base-256 2^60", A.gzip(A.tar([{ name: "big", data: A.EICAR, declaredSize: 2 ** 60, base256: true }], "gnu"))],
  ])("%s: corrupt, the bytes present are scanned, nothing allocated", (_, data) => {
    const before = process.memoryUsage().arrayBuffers;
    const r = walk(data);
    expect(codes(r.problems)).toEqual(["archive-corrupt"]);
    expect(r.unpacked).toBeLessThan(20_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 2 ** 20);
  });
});

describe("peak memory, each bomb in a fresh process (VmHWM, fixture building included)", () => {
  // Peaks inside zlib (output gathered up to the cap, then dropped) never show between members, and
  // garbage from earlier tests would blur an in-process figure: so each case runs alone. The figure
  // is /proc's VmHWM: getrusage's maxRSS would start at this (large) test process's size, which a
  // forked child inherits.
  const root = path.resolve(__dirname, "../..");
  let bundle: string;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-bombs-"));
    bundle = path.join(dir, "bombs.cjs");
    const entry = `
      import { createBudget, identify, openContainer, DEFAULT_LIMITS } from ${JSON.stringify(path.join(root, "src/containers"))};
      import * as A from ${JSON.stringify(path.join(root, "test/support/archives"))};
      const cases: Record<string, () => Uint8Array> = {
        nested: () => A.nestedZipBomb(4, 16, 2 ** 30),
        overlap: () => A.overlapZipBomb(300, 64 * 2 ** 20),
        self: () => A.selfContainingZip(40),
        gzip10g: () => A.gzipOfZeros(100, 100 * 2 ** 20),
        tar: () => A.tar([{ name: "big", data: A.EICAR, declaredSize: 2 ** 60, base256: true }], "gnu"),
      };
      const [name, over] = process.argv.slice(2);
      const lim = { ...DEFAULT_LIMITS, ...JSON.parse(over!) };
      const data = cases[name!]!();
      const budget = createBudget(lim);
      const problems = new Set<string>();
      const t0 = performance.now();
      const visit = (bytes: Uint8Array, depth: number): void => {
        const f = identify(bytes);
        if (f === null) return;
        if (depth >= lim.maxDepth) return void problems.add("archive-depth");
        for (const m of openContainer(f, bytes, budget)) {
          if (m.problem) problems.add(m.problem.code);
          if (m.data) visit(m.data, depth + 1);
        }
      };
      visit(data, 0);
      console.log(JSON.stringify({ codes: [...problems].sort(), ms: performance.now() - t0, maxRssMiB: Number(/VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))![1]) / 1024 }));
    `;
    esbuild.buildSync({ stdin: { contents: entry, resolveDir: root, loader: "ts" }, bundle: true, platform: "node", format: "cjs", outfile: bundle, external: ["7z-wasm"], logLevel: "silent" });
  });

  test.each<[string, Partial<Limits>, string[]]>([
    ["nested", {}, ["archive-ratio"]],
    ["nested", { maxRatio: 1e9 }, ["archive-member-size", "archive-total-size"]],
    ["overlap", {}, ["archive-ratio"]],
    ["self", {}, ["archive-corrupt"]],
    ["gzip10g", {}, ["archive-ratio"]],
    ["gzip10g", { maxRatio: 1e6 }, ["archive-member-size"]],
    ["gzip10g", { maxMemberSize: 4 * GB, maxTotalBytes: 4 * GB, maxRatio: 20 }, ["archive-ratio"]],
    ["tar", {}, ["archive-corrupt"]],
  ])("%s %j", (name, over, want) => {
    const run = spawnSync(process.execPath, [bundle, name, JSON.stringify(over)], { encoding: "utf8", env: { ...process.env, NODE_PATH: path.join(root, "node_modules") }, timeout: 60_000 });
    expect(run.stderr).toBe("");
    const r = JSON.parse(run.stdout) as { codes: string[]; ms: number; maxRssMiB: number };
    console.log(`${name} ${JSON.stringify(over)}: ${r.codes.join(",")} in ${r.ms.toFixed(0)} ms, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
    expect(r.codes).toEqual(want);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.maxRssMiB).toBeLessThan(700);
  });
});
