// End to end: --shard K/N on a tree the test builds. The N shard reports together hold exactly the
// full scan's results, each file once; the split is by path below the root, so it does not change
// when the tree is scanned from elsewhere.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zip } from "../support/archives";
import { EICAR, json, ring3, tempDir, write, type Json } from "./helpers";

let dir: string;
let tree: string;
beforeAll(() => {
  dir = tempDir();
  tree = path.join(dir, "tree");
  for (let i = 0; i < 40; i++) write(tree, `d${i % 5}/sub/f${i}.txt`, `file ${i}\n`);
  for (let i = 0; i < 6; i++) write(tree, `bad/e${i}.com`, EICAR);
  fs.symlinkSync("d0", path.join(tree, "link"));
  write(tree, "no\\slash.txt", "a backslash in a Linux file name\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function key(r: Json): string {
  return [r.path, ...(r.members ?? [])].join("!");
}

function scan(args: string[], cwd?: string): Json {
  const run = ring3(["scan", "--format", "json", "--all", "--no-progress", ...args], { cwd });
  expect([0, 1], run.stderr).toContain(run.code);
  return json(run);
}

describe("--shard", () => {
  it("N = 1..4: the shards' results together equal the full scan's, no file twice", () => {
    const full = scan([tree]);
    const fullKeys = full.results.map(key).sort();
    expect(fullKeys.length).toBe(48); // 40 + 6 + the link + the backslash name
    expect(full.summary.detected).toBe(6);
    for (let n = 1; n <= 4; n++) {
      const seen: string[] = [];
      let files = 0;
      let detected = 0;
      for (let k = 1; k <= n; k++) {
        const doc = scan(["--shard", `${k}/${n}`, tree]);
        expect(doc.scan.options.shard).toBe(`${k}/${n}`);
        seen.push(...doc.results.map(key));
        files += doc.summary.files;
        detected += doc.summary.detected;
        // Same results, not just the same names.
        for (const r of doc.results) expect(full.results.find((f: Json) => key(f) === key(r))).toMatchObject({ verdict: r.verdict, hashes: r.hashes });
      }
      expect(seen.sort(), `N=${n}`).toEqual(fullKeys);
      expect(new Set(seen).size).toBe(seen.length);
      expect(files).toBe(full.summary.files);
      expect(detected).toBe(6);
    }
  });

  it("splits by the path below the root: the same from another working directory or root spelling", () => {
    const a = scan(["--shard", "2/3", tree]).results.map((r: Json) => path.relative(tree, r.path)).sort();
    const b = scan(["--shard", "2/3", "./tree/"], dir).results.map((r: Json) => path.relative("tree", r.path)).sort();
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThan(48);
    expect(b).toEqual(a);
  });

  it("a container is one file: its members are reported by the shard its file is in", () => {
    const d = path.join(dir, "zips");
    for (let i = 0; i < 4; i++) write(d, `z${i}.zip`, Buffer.from(zip([{ name: "inner/eicar.com", data: Buffer.from(EICAR) }])));
    const full = scan([d]);
    expect(full.results.filter((r: Json) => r.members !== undefined)).toHaveLength(4);
    const seen: Json[] = [];
    for (let k = 1; k <= 3; k++) {
      const doc = scan(["--shard", `${k}/3`, d]);
      for (const r of doc.results) {
        if (r.members !== undefined) expect(doc.results.some((f: Json) => f.path === r.path && f.members === undefined)).toBe(true);
      }
      seen.push(...doc.results);
    }
    expect(seen.map(key).sort()).toEqual(full.results.map(key).sort());
  });

  it("refuses standard input and a malformed K/N with exit 2", () => {
    const stdin = ring3(["scan", "--shard", "1/2", "-"], { input: "x" });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain("--shard cannot split standard input");
    for (const bad of ["0/2", "3/2", "1/0", "x", "1/2/3"]) {
      const run = ring3(["scan", "--shard", bad, tree]);
      expect(run.code, bad).toBe(2);
      expect(run.stderr).toContain("--shard takes K/N");
    }
  });
});

