// End to end: --cache FILE on trees the test builds. A rescan of unchanged files takes their
// results from the cache (marked cached, counted in the summary); a touched or rewritten file, other
// signatures or another verdict-shaping option rescan; a damaged, foreign or other-version cache is
// ignored with a warning; concurrent scans leave a whole cache; `ring3 cache info|clear`.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zip } from "../support/archives";
import { EICAR, json, ring3, ring3Async, tempDir, write, type Json } from "./helpers";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tree(name: string): string {
  const t = path.join(dir, name);
  write(t, "eicar.com", EICAR);
  write(t, "docs/app.zip", Buffer.from(zip([{ name: "inner/eicar.txt", data: Buffer.from(EICAR) }, { name: "readme.txt", data: Buffer.from("hello\n") }])));
  for (let i = 0; i < 12; i++) write(t, `clean/c${i}.txt`, `nothing here ${i}\n`);
  return t;
}

function scan(args: string[]): Json {
  const run = ring3(["scan", "--no-progress", "--format", "json", "--all", ...args]);
  expect(run.stderr).not.toContain("internal error");
  return { ...json(run), code: run.code, stderr: run.stderr };
}

const key = (r: Json): string => [r.path, ...(r.members ?? [])].join("!");
const comparable = (r: Json): Json => {
  const { ms: _ms, cached: _c, ...rest } = r;
  return rest;
};

describe("--cache", () => {
  it("an unchanged tree is answered from the cache with the same results, marked cached", () => {
    const t = tree("t1");
    const cache = path.join(dir, "t1.cache");
    const first = scan(["--cache", cache, t]);
    expect(first.code).toBe(1);
    expect(first.summary.cached).toBe(0);
    expect(first.results.some((r: Json) => r.cached)).toBe(false);
    const second = scan(["--cache", cache, t]);
    expect(second.code).toBe(1);
    expect(second.summary.cached).toBe(14);
    expect(second.summary.files).toBe(first.summary.files);
    expect(second.summary.findings).toBe(first.summary.findings);
    expect(second.summary.members).toBe(first.summary.members);
    // Every result, members included, comes back the same and marked.
    expect(second.results.every((r: Json) => r.cached === true)).toBe(true);
    const byKey = new Map(first.results.map((r: Json) => [key(r), comparable(r)]));
    expect(second.results.map(key).sort()).toEqual([...byKey.keys()].sort());
    for (const r of second.results) expect(comparable(r)).toEqual(byKey.get(key(r)));
    expect(second.results.find((r: Json) => r.members?.[0] === "inner/eicar.txt")?.findings.length).toBeGreaterThan(0);
    // Text marks findings from the cache and counts the files (--all is part of the context).
    const text = ring3(["scan", "--no-progress", "--all", "--cache", cache, t]);
    expect(text.stdout).toMatch(/eicar\.com: .*FOUND.*\[cached\]/);
    expect(text.stdout).toMatch(/Cached: +14 file\(s\)/);
  });

  it("a touched file, and a rewrite that keeps size and mtime (ctime changes), rescan exactly that file; a deleted file leaves the cache", () => {
    const t = tree("t2");
    const cache = path.join(dir, "t2.cache");
    scan(["--cache", cache, t]);
    const touched = path.join(t, "clean/c3.txt");
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(touched, later, later);
    const after = scan(["--cache", cache, t]);
    expect(after.summary.cached).toBe(13);
    expect(after.results.filter((r: Json) => r.cached !== true).map((r: Json) => r.path)).toEqual([touched]);

    // A deleted file leaves the cache at the next scan of its folder.
    fs.rmSync(path.join(t, "clean/c7.txt"));
    expect(scan(["--cache", cache, t]).summary.cached).toBe(13);
    expect(ring3(["cache", "info", cache]).stdout).toContain("files:    13");
    write(t, "clean/c7.txt", "nothing here 7\n");

    const rewritten = path.join(t, "clean/c5.txt");
    const st = fs.statSync(rewritten);
    fs.writeFileSync(rewritten, "nothing HERE 5\n");
    fs.utimesSync(rewritten, st.atime, st.mtime);
    const again = scan(["--cache", cache, t]);
    expect(again.summary.cached).toBe(12);
    expect(again.results.filter((r: Json) => r.cached !== true).map((r: Json) => r.path).sort()).toEqual([path.join(t, "clean/c7.txt"), rewritten].sort());
  });

  it("other signatures or a verdict-shaping option rescan; an allow or exclude-rule list does not", () => {
    const t = tree("t3");
    const cache = path.join(dir, "t3.cache");
    scan(["--cache", cache, t]);
    expect(scan(["--cache", cache, t]).summary.cached).toBe(14);
    const rules = write(dir, "extra.yar", 'rule Hello { strings: $h = "hello" condition: $h }');
    const withRules = scan(["--cache", cache, "--rules", rules, t]);
    expect(withRules.summary.cached).toBe(0);
    expect(withRules.results.some((r: Json) => r.findings.some((f: Json) => f.rule === "Hello"))).toBe(true);
    // The cache now holds the run with the extra rules.
    expect(scan(["--cache", cache, "--rules", rules, t]).summary.cached).toBe(14);
    expect(scan(["--cache", cache, "--rules", rules, "--no-archives", t]).summary.cached).toBe(0);
    const excluded = scan(["--cache", cache, "--rules", rules, "--no-archives", "--exclude-rule", "Hello", t]);
    expect(excluded.summary.cached).toBe(14);
    expect(excluded.summary.suppressed).toBeGreaterThan(0);
  });

  it("only complete results are kept: a partial file is scanned every time", () => {
    const t = path.join(dir, "t4");
    write(t, "locked.zip", Buffer.from(zip([{ name: "secret.bin", data: Buffer.alloc(100, 1), encrypted: "zipcrypto" }])));
    write(t, "plain.txt", "plain\n");
    const cache = path.join(dir, "t4.cache");
    const first = scan(["--cache", cache, t]);
    expect(first.results.find((r: Json) => r.path.endsWith("locked.zip") && r.members === undefined).verdict).toBe("partial");
    const second = scan(["--cache", cache, t]);
    expect(second.summary.cached).toBe(1);
    expect(second.results.find((r: Json) => r.path.endsWith("locked.zip") && r.members === undefined).cached).toBeUndefined();
    expect(second.code).toBe(2);
  });

  it("a damaged, foreign or other-version cache is ignored with a warning, never fatal", () => {
    const t = tree("t5");
    const cache = path.join(dir, "t5.cache");
    scan(["--cache", cache, t]);
    const good = fs.readFileSync(cache);
    // Cut short.
    fs.writeFileSync(cache, good.subarray(0, Math.floor(good.length / 2)));
    const cut = scan(["--cache", cache, t]);
    expect(cut.code).toBe(1);
    expect(cut.summary.cached).toBe(0);
    expect(cut.stderr).toContain("ignored, a new cache will be written");
    expect(ring3(["cache", "info", cache]).code).toBe(0);
    // One byte changed inside an entry.
    const flipped = Buffer.from(fs.readFileSync(cache));
    const at = flipped.indexOf(Buffer.from('"clean"'));
    flipped[at + 1] = "d".charCodeAt(0);
    fs.writeFileSync(cache, flipped);
    const info = ring3(["cache", "info", cache]);
    expect(info.code).toBe(2);
    expect(info.stdout).toContain("checksum");
    expect(scan(["--cache", cache, t]).stderr).toContain("checksum does not match");
    // Another ring3 version.
    const lines = fs.readFileSync(cache, "utf8").split("\n");
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), version: "9.9.9" });
    fs.writeFileSync(cache, lines.join("\n"));
    const other = scan(["--cache", cache, t]);
    expect(other.stderr).toContain("written by ring3 9.9.9");
    expect(other.summary.cached).toBe(0);
    expect(scan(["--cache", cache, t]).summary.cached).toBe(14);
    // Not a cache at all: used for nothing and left as it was.
    const foreign = write(dir, "notes.txt", "my notes\n");
    const f = scan(["--cache", foreign, t]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain("not a ring3 cache file; not used, and left as it is");
    expect(fs.readFileSync(foreign, "utf8")).toBe("my notes\n");
    const clear = ring3(["cache", "clear", foreign]);
    expect(clear.code).toBe(2);
    expect(fs.existsSync(foreign)).toBe(true);
  });

  it("concurrent scans with one cache leave a whole cache (the last writer wins)", async () => {
    const t = tree("t6");
    const cache = path.join(dir, "t6.cache");
    const runs = await Promise.all([1, 2, 3, 4].map(() => ring3Async(["scan", "--no-progress", "--format", "json", "--all", "--cache", cache, "--workers", "1", t])));
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("");
    }
    const info = ring3(["cache", "info", cache]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain("files:    14");
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(scan(["--cache", cache, t]).summary.cached).toBe(14);
    const clear = ring3(["cache", "clear", cache]);
    expect(clear.code).toBe(0);
    expect(fs.existsSync(cache)).toBe(false);
  });
});
