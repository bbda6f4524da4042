// The dotnet module inside the whole fast path: rules over its fields the way public rules use them
// (typelib, GUIDs, assembly and references, resources, user strings, classes, methods and their
// parameters), through `--engine auto` and `--engine yara-x` on Debian's mono assemblies under
// 1 MB (see yara-module-dotnet.test.ts) and on other bytes. Both must report the same rules, and the fast
// path must decide every rule itself: none goes to YARA-X.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { compareCounted, engines, initEngines } from "../support/differential";
import { randomBytes, text } from "./yara-module-oracle";

const DIR = process.env.RING3_DOTNET_DIR ?? path.resolve(__dirname, "../../.cache/dotnet");
// The assemblies under 1 MB: YARA-X's WASM build takes tens of seconds on the larger ones with the
// rules that walk every parameter of every method (the field tests cover those files).
const ASSEMBLIES = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => /\.(dll|exe)$/i.test(f) && fs.statSync(path.join(DIR, f)).size < 1 << 20).sort() : [];
const wide = (s: string) => [...Buffer.from(s, "utf16le")].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");

const r = (name: string, cond: string): string => `rule ${name} { condition: ${cond} }`;
const RULES = [
  r("cecil_typelib", 'dotnet.typelib == "fd225bb4-fa53-44b2-a6db-85f5e48dcb54"'),
  r("cecil_typelib_upper", 'dotnet.typelib iequals "FD225BB4-FA53-44B2-A6DB-85F5E48DCB54"'),
  r("any_typelib", "defined dotnet.typelib"),
  r("mvid_shape", "dotnet.guids[0] matches /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/"),
  r("module_dnlib", 'dotnet.module_name == "dnlib.dll"'),
  r("assembly_mcs", 'dotnet.assembly.name == "mcs" and dotnet.assembly.version.major >= 4'),
  r("refs_mscorlib_4", 'for any a in dotnet.assembly_refs : (a.name == "mscorlib" and a.version.major == 4 and a.public_key_or_token == "\\xb7\\x7a\\x5c\\x56\\x19\\x34\\xe0\\x89")'),
  r("refs_many", "dotnet.number_of_assembly_refs >= 3"),
  r("resources_named", 'for any x in dotnet.resources : (x.name endswith ".resources" and x.length > 0 and x.offset < filesize)'),
  r("user_string_usage", `for any s in dotnet.user_strings : (s icontains "${wide("usage")}")`),
  r("user_strings_many", "dotnet.number_of_user_strings > 1000"),
  r("class_module_definition", 'for any c in dotnet.classes : (c.fullname == "Mono.Cecil.ModuleDefinition" and c.visibility == "public" and c.sealed)'),
  r("class_interface", 'for any c in dotnet.classes : (c.type == "interface" and c.abstract and c.namespace startswith "Mono.Cecil")'),
  r("class_generic", "for any c in dotnet.classes : (c.number_of_generic_parameters == 2)"),
  r("base_type_exception", 'for any c in dotnet.classes : (for any b in c.base_types : (b == "System.Exception"))'),
  r("static_main", 'for any c in dotnet.classes : (for any m in c.methods : (m.name == "Main" and m.static and m.visibility == "public"))'),
  r("param_module_definition", 'for any c in dotnet.classes : (for any m in c.methods : (for any p in m.parameters : (p.type == "Mono.Cecil.ModuleDefinition")))'),
  r("generic_return", 'for any c in dotnet.classes : (for any m in c.methods : (m.return_type startswith "System.Collections.Generic.IEnumerable<"))'),
  r("many_classes", "dotnet.number_of_classes > 1000 and dotnet.number_of_streams == 5"),
  r("us_stream_large", 'for any i in (0..dotnet.number_of_streams - 1) : (dotnet.streams[i].name == "#US" and dotnet.streams[i].size > 10000)'),
  r("field_offsets", "for any x in dotnet.field_offsets : (x > 0 and x < filesize)"),
  r("modulerefs", 'for any m in dotnet.modulerefs : (m icontains "user32" or m icontains "kernel32")'),
  r("constants", "dotnet.number_of_constants > 10"),
  r("runtime_v4", 'dotnet.version == "v4.0.30319"'),
  r("not_dotnet", "not dotnet.is_dotnet and not defined dotnet.module_name"),
];

describe("the dotnet module through the fast path agrees with YARA-X and is decided there", () => {
  let e: ReturnType<typeof engines>;
  beforeAll(() => {
    initEngines();
    e = engines([{ name: "dotnet.yar", text: ['import "dotnet"', ...RULES].join("\n"), namespace: "default" }]);
  });

  const files: [string, () => Uint8Array][] = [
    ...ASSEMBLIES.map((f): [string, () => Uint8Array] => [f, () => new Uint8Array(fs.readFileSync(path.join(DIR, f)))]),
    ["random 64 KiB", () => randomBytes(65536, 3)],
    ["text", () => text("hello world\n".repeat(400))],
    ["empty", () => new Uint8Array(0)],
  ];
  test("has the assemblies (make test-tools unpacks them)", () => expect(ASSEMBLIES.length).toBeGreaterThanOrEqual(5));
  for (const [name, load] of files) {
    test(name, () => {
      expect(compareCounted(e, name, load())).toEqual({ disagreement: undefined, decided: RULES.length, deferred: 0 });
    }, 60_000);
  }

  test("the rules match where they should (the set is not vacuous)", () => {
    const ext = (f: string) => ({ filename: f, filepath: `/scan/${f}`, extension: "", filetype: "", owner: "root" });
    const on = (f: string) => e.auto.scan(new Uint8Array(fs.readFileSync(path.join(DIR, f))), ext(f)).map((x) => x.rule);
    expect(on("Mono.Cecil.dll")).toEqual(expect.arrayContaining(["cecil_typelib", "cecil_typelib_upper", "class_module_definition", "class_interface", "mvid_shape", "runtime_v4"]));
    expect(on("Mono.Cecil.Pdb.dll")).toEqual(expect.arrayContaining(["param_module_definition", "refs_mscorlib_4", "field_offsets", "class_interface", "generic_return"]));
    expect(on("Be.Windows.Forms.HexBox.dll")).toEqual(expect.arrayContaining(["resources_named", "modulerefs"]));
    expect(e.auto.scan(text("plain"), ext("t")).map((x) => x.rule)).toEqual(["not_dotnet"]);
  });
});
