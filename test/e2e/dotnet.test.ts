// The built binary on .NET assemblies the test writes (test/support/dotnet-assembly.ts): rules over
// the dotnet module find the same files with the fast path as with `--engine yara-x`, and the fast
// path decides them all itself (--stats: YARA-X never called).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { assembly, sample } from "../support/dotnet-assembly";
import { json, ring3, tempDir, write, type Json } from "./helpers";

const RULES = `import "dotnet"
rule Typelib { condition: dotnet.typelib iequals "9D9AB6FC-1F1B-4B1E-8A15-7E6E1D7A9E31" }
rule Generic_Class { condition: for any c in dotnet.classes : (c.fullname == "Ns.Gen" and c.generic_parameters[1] == "U") }
rule Array_Param { condition: for any c in dotnet.classes : (for any m in c.methods : (for any p in m.parameters : (p.type == "int[3,-2...1,5...]"))) }
rule Payload_Resource { condition: for any r in dotnet.resources : (r.name matches /payload/i and r.length == 5) }
rule Hello_String { condition: for any s in dotnet.user_strings : (s == "h\\x00e\\x00l\\x00l\\x00o\\x00") }
rule Culture { condition: dotnet.assembly.culture == "en-US" and dotnet.assembly.version.build_number == 3 }
rule Not_Dotnet { condition: not dotnet.is_dotnet }
`;

describe("dotnet rules in the built binary", () => {
  it("find the same files as YARA-X, and none goes to YARA-X", () => {
    const dir = tempDir();
    const rules = write(dir, "rules/dotnet.yar", RULES);
    const files = path.join(dir, "files");
    write(files, "synth.dll", Buffer.from(assembly(sample("ok"))));
    write(files, "typelib-unreadable.dll", Buffer.from(assembly(sample("bad-typelib-first"))));
    write(files, "tables-cut.dll", Buffer.from(assembly(sample("bad-coded-index"))));
    write(files, "readme.txt", "not an assembly");
    const found: Record<string, Record<string, string[]>> = {};
    for (const engine of ["auto", "yara-x"]) {
      const run = ring3(["scan", "--no-bundled", "--rules", rules, "--engine", engine, "--stats", "--format", "json", files]);
      expect(run.code, run.stderr).toBe(1);
      found[engine] = Object.fromEntries(json(run).results.map((r: Json) => [path.basename(r.path), r.findings.map((f: Json) => f.rule).sort()]));
      if (engine === "auto") expect(run.stderr).toContain("YARA-X never called for 4 (100.00%)");
    }
    expect(found.auto).toEqual(found["yara-x"]);
    expect(found.auto!["synth.dll"]).toEqual(["Array_Param", "Culture", "Generic_Class", "Hello_String", "Payload_Resource", "Typelib"]);
    expect(found.auto!["typelib-unreadable.dll"]).not.toContain("Typelib");
    expect(found.auto!["readme.txt"]).toEqual(["Not_Dotnet"]);
  });
});
