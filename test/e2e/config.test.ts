// End to end: ring3.json in the working folder and --config FILE. Keys are the scan flags' names,
// every flag is one (read from `scan --help`, so flags added later are covered), flags override
// the file, unknown keys and wrong values exit 2 naming the key, --print-config shows the result.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EICAR, json, ring3, tempDir, write, type Json } from "./helpers";

let dir: string;
beforeAll(() => {
  dir = tempDir();
  write(dir, "t/eicar.com", EICAR);
  write(dir, "t/marked.txt", "a config-marker here\n");
  write(dir, "t/skip/marked.txt", "a config-marker skipped\n");
  write(dir, "rules/r.yar", 'rule Config_Marker { strings: $m = "config-marker" condition: $m }');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A folder of its own, with its ring3.json. */
function project(name: string, config?: unknown): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  if (config !== undefined) fs.writeFileSync(path.join(d, "ring3.json"), typeof config === "string" ? config : JSON.stringify(config));
  return d;
}

const printed = (cwd: string, args: string[] = []): Json => {
  const run = ring3(["scan", "--print-config", ...args], { cwd });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
};

describe("config file", () => {
  it("./ring3.json sets scan options by flag name; flags override it", () => {
    const cwd = project("p1", { format: "json", "no-bundled": true, rules: [path.join(dir, "rules/r.yar")], exclude: ["skip"], all: true });
    const run = ring3(["scan", "--no-progress", path.join(dir, "t")], { cwd });
    expect(run.code).toBe(1);
    const doc = json(run);
    expect(doc.signatures.sources).toEqual([path.join(dir, "rules/r.yar")]);
    expect(doc.results.map((r: Json) => path.basename(r.path)).sort()).toEqual(["eicar.com", "marked.txt"]);
    expect(doc.results.find((r: Json) => r.path.endsWith("marked.txt")).findings[0].rule).toBe("Config_Marker");
    // --all came from the file: the clean EICAR file (no bundled signatures) is listed.
    expect(doc.results.find((r: Json) => r.path.endsWith("eicar.com")).verdict).toBe("clean");

    const text = ring3(["scan", "--no-progress", "--format", "text", "--exclude", "nothing", path.join(dir, "t")], { cwd });
    expect(text.stdout).toContain("SCAN SUMMARY");
    expect(text.stdout).toMatch(/skip\/marked\.txt: Config_Marker FOUND/);
    // A switch set in the file is turned off by its --no- form on the command line.
    const on = project("p1b", { progress: true });
    expect(printed(on).progress).toBe(true);
    expect(printed(on, ["--no-progress"]).progress).toBe(false);
  });

  it("--config FILE instead of ./ring3.json; a missing one is an error", () => {
    const cwd = project("p2", { format: "ndjson" });
    const other = write(dir, "other.json", JSON.stringify({ format: "json", "max-filesize": "1M", define: { who: "me" }, "exclude-tag": "noisy" }));
    const cfg = printed(cwd, ["--config", other]);
    expect(cfg.format).toBe("json");
    expect(cfg["max-filesize"]).toBe("1M");
    expect(cfg.define).toEqual(["who=me"]);
    expect(cfg["exclude-tag"]).toEqual(["noisy"]);
    expect(printed(cwd).format).toBe("ndjson");
    const missing = ring3(["scan", "--config", path.join(dir, "nope.json"), path.join(dir, "t")], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--config");
    expect(missing.stderr).toContain("nope.json");
  });

  it("unknown keys, wrong value kinds and bad JSON exit 2 naming the key or file, before scanning", () => {
    const cases: [unknown, string][] = [
      [{ fromat: "json" }, 'unknown key "fromat"'],
      [{ config: "x.json" }, 'unknown key "config" (it cannot be set from a config file)'],
      [{ all: "yes" }, '"all" is a switch: true or false'],
      [{ format: "xml" }, '"format" must be one of text, json, ndjson, sarif'],
      [{ "max-filesize": ["1M", "2M"] }, '"max-filesize" takes one value, not a list'],
      [{ define: ["bad"] }, '"define": --define takes NAME=VALUE'],
      [{ shard: "5/4" }, "--shard takes K/N"],
      ["{ format: json }", "not valid JSON"],
      ["[]", "must hold one JSON object"],
    ];
    for (const [config, message] of cases) {
      const cwd = project(`bad-${Math.random().toString(36).slice(2)}`, config);
      const run = ring3(["scan", "--no-progress", path.join(dir, "t")], { cwd });
      expect(run.code, JSON.stringify(config)).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe("");
    }
  });

  it("--print-config lists every scan flag (read from --help), and its output is a config file that round-trips", () => {
    const help = ring3(["scan", "--help"]).stdout;
    const flags = [...help.matchAll(/--([a-z][a-z0-9-]*)( <)?/g)].map((m) => ({ name: m[1]!, takesValue: m[2] !== undefined }));
    const names = flags.map((f) => f.name);
    // --no-X is the negation of --X (one key), unless it takes a value of its own (--no-pack NAME).
    const negation = (f: { name: string; takesValue: boolean }) => f.name.startsWith("no-") && !f.takesValue && names.includes(f.name.slice(3));
    const expected = new Set(flags.filter((f) => !["config", "print-config", "help"].includes(f.name) && !negation(f)).map((f) => f.name));
    const cwd = project("p4", { "max-filesize": "2M", exclude: ["*.iso"], "archive-depth": 3, progress: false });
    const cfg = printed(cwd, ["--format", "sarif"]);
    expect(new Set(Object.keys(cfg))).toEqual(expected);
    expect(cfg).toMatchObject({ format: "sarif", "max-filesize": "2M", exclude: ["*.iso"], "archive-depth": "3", progress: false, all: false });
    const again = project("p5", cfg);
    expect(printed(again)).toEqual(cfg);
    // The printed options scan as the flags would.
    const run = ring3(["scan", "--format", "json", path.join(dir, "t")], { cwd: again });
    expect(run.code).toBe(1);
    expect(json(run).scan.options.maxFilesize).toBe(2 * 1024 * 1024);
    expect(json(run).scan.options.archives.maxDepth).toBe(3);
  });
});
