// readIncludes (includes.ts) reads the files a rule file includes; it tokenizes a text only when
// the word `include` is followed by a string or a comment, so the check must let every directive
// through: spaces of any kind, comments between the two tokens, several directives.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readIncludes } from "../../src/engines/yara/includes";

describe("readIncludes finds every directive", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-includes-"));
    for (const n of ["a", "b", "c", "d"]) fs.writeFileSync(path.join(dir, `${n}.yar`), `rule from_${n} { condition: true }\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const included = (text: string) => Object.keys(readIncludes({ name: path.join(dir, "main.yar"), text, namespace: "default" }).includes ?? {}).map((f) => path.basename(f)).sort();

  test("plain, after a comment, across lines, after a no-break space", () => {
    expect(included(`include "a.yar"\ninclude /* why */ "b.yar"\ninclude // next line\n  "c.yar"\ninclude\u00a0"d.yar"\nrule r { condition: true }`)).toEqual(["a.yar", "b.yar", "c.yar", "d.yar"]);
  });

  test("the word elsewhere is no directive", () => {
    expect(included(`rule include_me { strings: $a = "include" condition: $a }\n// include "a.yar" in a comment`)).toEqual([]);
    expect(included(`rule r { strings: $a = "x" condition: $a }`)).toEqual([]);
  });
});
