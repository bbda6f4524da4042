// The pe module against YARA-X on PE files written by the tests: each expression's value in ring3
// must be the value YARA-X computes (checked by compiling `<expr> == <value>` in YARA-X), and key
// values are also asserted outright.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { StructValue } from "../../src/engines/yara/contracts";
import { pe } from "../../src/engines/yara/modules/pe";
import { PE_CONSTANTS } from "../../src/engines/yara/modules/pe/constants";
import { buildPe, checkAgainstYaraX, COMMON_EXPRS, evalPath, type PeSpec } from "./yara-module-pe-fixtures";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";

const FULL: PeSpec = {
  rich: { key: 0x1badb002, tools: [[30729, 147, 12], [0, 1, 200], [26715, 260, 5]] },
  imports: [
    { dll: "KERNEL32.dll", functions: ["ExitProcess", "GetProcAddress", 17] },
    { dll: "ws2_32.dll", functions: [3, 4, 115, 600] },
    { dll: "OLEAUT32.dll", functions: [2, 6, 302] },
    { dll: "user32.DLL", functions: ["MessageBoxW"] },
  ],
  delayedImports: [{ dll: "shell32.dll", functions: ["ShellExecuteW", 5] }],
  exports: {
    dllName: "sample.dll",
    base: 5,
    timestamp: 0x60000000,
    functions: [{ name: "DllMain" }, {}, { name: "Forwarded", forward: "kernel32.Sleep" }, { name: "GetThing" }],
  },
  resources: [
    { type: 10, id: "CONFIG", lang: 0x409, data: new Uint8Array([1, 2, 3, 4, 5]) },
    { type: "PNG", id: 7, lang: 0x407, data: new Uint8Array(33) },
    { type: 3, id: 1, lang: 0x809, data: new Uint8Array(16) },
  ],
  versionInfo: [["CompanyName", "Evil Corp"], ["FileVersion", "1.2.3.4"], ["OriginalFilename", "ßample.exe"], ["Empty", ""]],
  pdb: "C:\\build\\sample.pdb",
  overlay: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
  characteristics: 0x2102,
};

const EXTRA = [
  "pe.number_of_imports", "pe.import_details[1].functions[0].name", "pe.import_details[1].functions[3].name",
  "pe.import_details[2].functions[2].name", "pe.import_details[0].functions[2].ordinal", "pe.import_details[0].functions[1].rva",
  "pe.import_details[3].number_of_functions", "pe.delayed_import_details[0].library_name",
  "pe.delayed_import_details[0].functions[1].name", "pe.imports(\"ws2_32.dll\", \"closesocket\")",
  "pe.imports(\"ws2_32.dll\", 3)", "pe.imports(\"ws2_32.dll\", 9)", "pe.imports(\"ws2_32.dll\")",
  "pe.imports(/kernel32/i, /^Get/)", "pe.imports(/kernel32/, /^Get/)", "pe.imports(pe.IMPORT_DELAYED, \"shell32.dll\", \"ShellExecuteW\")",
  "pe.imports(pe.IMPORT_ANY, \"shell32.dll\")", "pe.imports(pe.IMPORT_STANDARD, \"shell32.dll\")",
  "pe.imports(pe.IMPORT_DELAYED, \"shell32.dll\", 5)", "pe.imports(pe.IMPORT_ANY, /32/, /W$/)",
  "pe.import_rva(\"kernel32.dll\", \"GetProcAddress\")", "pe.import_rva(\"kernel32.dll\", 17)",
  "pe.delayed_import_rva(\"shell32.dll\", 5)", "pe.import_rva(\"kernel32.dll\", \"Nope\")",
  "pe.exports(\"dllmain\")", "pe.exports(\"GetThing\")", "pe.exports(\"Nope\")", "pe.exports(6)", "pe.exports(9)",
  "pe.exports(/^Get/)", "pe.exports_index(\"GetThing\")", "pe.exports_index(6)", "pe.exports_index(/^Forw/)",
  "pe.exports_index(\"Nope\")", "pe.export_details[1].name", "pe.export_details[1].ordinal", "pe.export_details[2].forward_name",
  "pe.export_details[2].offset", "pe.export_details[3].offset", "pe.export_details[3].rva",
  "pe.resources[0].id", "pe.resources[0].name_string", "pe.resources[1].type_string", "pe.resources[1].id",
  "pe.resources[1].language", "pe.resources[2].length", "pe.resources[3].type", "pe.resources[3].offset",
  "pe.locale(0x407)", "pe.locale(0x408)", "pe.language(7)", "pe.version_info[\"Empty\"]", "pe.version_info[\"Nope\"]",
  "pe.version_info_list[3].key", "pe.version_info_list[2].value", "pe.rich_signature.version(30729)",
  "pe.rich_signature.version(30729, 147)", "pe.rich_signature.toolid(260)", "pe.rich_signature.toolid(1, 0)",
  "pe.rich_signature.toolid(147, 1)", "pe.sections[3].name", "pe.sections[2].full_name", "pe.section_index(\".rsrc\")",
  "pe.section_index(\".RSRC\")", "pe.data_directories[13].size", "pe.data_directories[16].size",
];

function check(data: Uint8Array, exprs: string[]) {
  const r = checkAgainstYaraX(pe.load(bytesSource(data)), data, exprs);
  expect(r.disagree).toEqual([]);
  // The same through positioned reads (block cache; views poisoned at each read).
  const s = checkAgainstYaraX(pe.load(poisonSource(data)), data, exprs);
  expect(s.disagree).toEqual([]);
  expect(s.unknown).toEqual(r.unknown);
  return r;
}

const get = (data: Uint8Array, expr: string) => evalPath(pe.load(bytesSource(data)), expr);

describe("pe module on written PE files", () => {
  for (const bits of [32, 64] as const) {
    it(`agrees with YARA-X on a full PE${bits === 32 ? "32" : "32+"}`, () => {
      const data = buildPe({ ...FULL, bits });
      const r = check(data, [...COMMON_EXPRS, ...EXTRA]);
      expect(r.checked).toBe(COMMON_EXPRS.length + EXTRA.length);
      // Every field is answered (no certificate table: no signatures).
      expect(r.unknown).toEqual([]);
    });
  }

  it("computes the values a reader expects", () => {
    const data = buildPe(FULL);
    const expectedImphash = createHash("md5")
      .update(
        "kernel32.exitprocess,kernel32.getprocaddress,kernel32.ord17,ws2_32.closesocket,ws2_32.connect,ws2_32.wsastartup," +
          "ws2_32.ord600,oleaut32.sysallocstring,oleaut32.sysfreestring,oleaut32.ord302,user32.messageboxw",
      )
      .digest("hex");
    expect(Buffer.from(get(data, "pe.imphash()") as Uint8Array).toString()).toBe(expectedImphash);
    expect(get(data, "pe.number_of_sections")).toBe(3n);
    expect(get(data, "pe.number_of_exports")).toBe(4n);
    expect(get(data, "pe.exports(\"getthing\")")).toBe(true);
    expect(get(data, "pe.imports(\"ws2_32.dll\", 3)")).toBe(1n);
    expect(get(data, "pe.is_dll()")).toBe(true);
    expect(get(data, "pe.number_of_resources")).toBe(4n);
    expect(get(data, "pe.overlay.size")).toBe(7n);
    expect(get(data, "pe.rich_signature.toolid(147)")).toBe(12n);
    expect(Buffer.from(get(data, "pe.version_info[\"OriginalFilename\"]") as Uint8Array).toString()).toBe("ßample.exe");
    expect(Buffer.from(get(data, "pe.pdb_path") as Uint8Array).toString()).toBe("C:\\build\\sample.pdb");
  });

  it("gives YARA-X's values for a file that is not a PE", () => {
    for (const data of [new Uint8Array(0), new TextEncoder().encode("MZ but not really a PE file, just text"), new Uint8Array(4096)]) {
      check(data, [...COMMON_EXPRS, "pe.imports(\"a.dll\", \"b\")", "pe.imports(\"a.dll\")", "pe.exports_index(1)", "pe.sections[0].name"]);
      expect(get(data, "pe.is_pe")).toBe(false);
      expect(get(data, "pe.number_of_sections")).toBeUndefined();
    }
  });

  it("has no signatures when the certificate table lies past the end (Authenticode: yara-module-pe-authenticode)", () => {
    const data = buildPe({ security: [0x3000, 0x100] });
    check(data, ["pe.number_of_signatures", "pe.is_signed", "pe.signatures[0].serial"]);
    const root = pe.load(bytesSource(data));
    expect(root.field("number_of_signatures")).toBe(0n);
    expect(root.field("is_signed")).toBe(false);
    expect(buildPe({}).length).toBeGreaterThan(0);
    expect((pe.load(bytesSource(buildPe({}))) as StructValue).field("number_of_signatures")).toBe(0n);
  });

  it("has YARA-X's constants", () => {
    const data = new Uint8Array(0);
    const names = Object.keys(PE_CONSTANTS);
    const r = check(data, names.map((n) => `pe.${n}`));
    expect(r.checked).toBe(names.length);
  });
});

