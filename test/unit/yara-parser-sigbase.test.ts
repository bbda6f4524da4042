// The parser over signature-base (../shared beside the checkout, read in place, never copied):
// every file YARA-X accepts must parse; each rule's text, cut out by the parser, must compile in
// YARA-X again (the fallback depends on it); and the number of rules must be the number yara
// counts, so that no rule is lost or swallowed by its neighbour.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { SourceFile } from "../../src/engines/yara/ast";
import { parse, type ParseError } from "../../src/engines/yara/parser";
import { sharedPath } from "../support/shared";
import { oracleCompile } from "../support/yarax-oracle";

// Fails (does not skip) when ../shared is missing.
const DIR = sharedPath("rulesets/signature-base/yara");
/** signature-base's rules read these externals (LOKI/THOR set them); YARA-X needs them declared. */
const EXTERNALS = { filename: "", filepath: "", extension: "", filetype: "", owner: "" };

interface Parsed {
  file: string;
  text: string;
  source?: SourceFile;
  errors: ParseError[];
}

const files = fs
  .readdirSync(DIR)
  .filter((f) => /\.(yar|yara)$/i.test(f))
  .sort();
let parsed: Parsed[] = [];

beforeAll(() => {
  parsed = files.map((file) => {
    const text = fs.readFileSync(path.join(DIR, file), "utf8");
    return { file, text, ...parse(text, { file, namespace: file }) };
  });
});

/** yara 4's own count of the rules in these files (-S prints "number of rules"), one process. */
function yaraRuleCount(names: string[]): number {
  const defines = Object.keys(EXTERNALS).flatMap((k) => ["-d", `${k}=`]);
  const args = ["-w", "-S", ...defines, ...names.map((f, i) => `ns${i}:${path.join(DIR, f)}`), "/dev/null"];
  const res = spawnSync("yara", args, { encoding: "utf8", maxBuffer: 1 << 24 });
  expect(res.error, "yara 4 must be installed").toBeUndefined();
  const m = /number of rules\s*:\s*(\d+)/.exec(res.stdout);
  expect(m, `yara -S printed no rule count: ${res.stderr}`).not.toBeNull();
  return Number(m![1]);
}

describe("signature-base", () => {
  test("the rule set is there", () => {
    expect(files.length).toBeGreaterThan(700);
  });

  test("every file parses, or YARA-X rejects it too", () => {
    const failed = parsed.filter((p) => p.source === undefined);
    for (const p of failed) {
      const first = p.errors[0]!;
      expect(
        () => oracleCompile(p.text, EXTERNALS).free(),
        `${p.file}:${first.line}:${first.column}: ${first.message}, but YARA-X accepts the file`,
      ).toThrow();
    }
    // Today every file parses; a new failure must be looked at, not absorbed.
    expect(failed.map((p) => p.file)).toEqual([]);
  });

  test("each file's rules, as the parser cut them out, compile in YARA-X as they are", () => {
    // One compiler, one namespace per file: the imports plus every Rule.text, nothing else.
    const sources = parsed.map((p) => ({
      namespace: p.file,
      text: [...p.source!.imports.map((m) => `import "${m}"`), ...p.source!.rules.map((r) => r.text)].join("\n"),
    }));
    oracleCompile(sources, EXTERNALS).free();
    for (const p of parsed) {
      for (const r of p.source!.rules) {
        expect(p.text.slice(r.pos.offset, r.pos.offset + r.text.length)).toBe(r.text);
        expect(r.text).toMatch(/^(?:(?:private|global)\s+)*rule\s[\s\S]*\}$/);
        expect(r.file).toBe(p.file);
        expect(r.namespace).toBe(p.file);
      }
    }
  });

  test("the parser finds as many rules as yara counts, in all files and file by file", () => {
    const total = parsed.reduce((n, p) => n + p.source!.rules.length, 0);
    expect(total).toBe(yaraRuleCount(files));
    // A few files by hand: the largest ones, and the first and last by name.
    const bySize = [...parsed].sort((a, b) => b.text.length - a.text.length);
    for (const p of new Set([...bySize.slice(0, 4), parsed[0]!, parsed.at(-1)!])) {
      expect(p.source!.rules.length, p.file).toBe(yaraRuleCount([p.file]));
    }
  });

  test("damaged rules: the parser never throws, and parses whatever YARA-X still accepts", () => {
    // Real rules with one to three random edits (deleted characters, inserted characters or
    // YARA fragments), from a fixed seed. YARA-X is stricter on meaning (unknown identifiers,
    // invalid regex syntax), never more lenient on syntax.
    let seed = 20261126;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const rules = parsed.flatMap((p) =>
      p.source!.rules.filter((r) => r.text.length < 1500).map((r) => ({ imports: p.source!.imports, text: r.text })),
    );
    const chars = ' \n(){}[]$#@!"/\\:=,.*-+%|&^~<>?0123456789aAxXfF_';
    const fragments = [
      "(", ")", " and ", " or ", " not ", "$a", "#a", "@a[1]", "!a", "{", "}", "[1-2]", "??", "~", "|", "/", '"', "\\",
      " of ", " them", " at ", " in ", "..", "0x", "KB", " for ", " : ", "//", "/*", "*/", " private", " wide", " xor(1-2)",
      " base64", "\n", "1.5", "-",
    ];
    let accepted = 0;
    for (let k = 0; k < 600; k++) {
      const rule = rules[rnd(rules.length)]!;
      let text = rule.text;
      for (let edits = 1 + rnd(3); edits > 0; edits--) {
        const at = rnd(text.length + 1);
        const op = rnd(3);
        const insert = op === 0 ? "" : op === 1 ? chars[rnd(chars.length)]! : fragments[rnd(fragments.length)]!;
        text = text.slice(0, at) + insert + text.slice(op === 0 ? at + 1 + rnd(3) : at);
      }
      const full = [...rule.imports.map((m) => `import "${m}"`), text].join("\n");
      const ours = parse(full, { file: "damaged.yar" });
      let yaraxOk = true;
      try {
        oracleCompile(full, EXTERNALS).free();
      } catch {
        yaraxOk = false;
      }
      if (yaraxOk) {
        accepted++;
        expect(ours.errors, full).toEqual([]);
      }
    }
    // The mix must exercise both sides.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(550);
  });
});
