// The pe module against YARA-X on real PE files. By default: the native Windows DLLs that ship in
// the @microsoft/sarif-multitool-linux devDependency (x86, amd64 and arm64 builds of the MSVC
// runtime, msdia140, KernelTraceControl), always present after `npm ci`. RING3_PE_DIR=DIR checks
// the PE files of DIR instead (e.g. .bench/corpus/pe, written by ../shared/bench/make-corpus.sh;
// add RING3_PE_ALL=1 for every file rather than a sample). For each file, every header field,
// every section, the first exports, imports, resources and version strings, imphash and the
// functions must have YARA-X's values.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type ArrayValue, type StructValue } from "../../src/engines/yara/contracts";
import { pe } from "../../src/engines/yara/modules/pe";
import { checkAgainstYaraX, COMMON_EXPRS } from "./yara-module-pe-fixtures";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";

const SHIPPED = path.resolve(__dirname, "../../node_modules/@microsoft/sarif-multitool-linux");

function peFiles(): string[] {
  const dir = process.env.RING3_PE_DIR;
  if (dir) {
    const all = fs.readdirSync(dir).sort().map((f) => path.resolve(dir, f));
    return process.env.RING3_PE_ALL ? all : all.filter((_, i) => i % 8 === 0);
  }
  return ["x86", "amd64", "arm64"].flatMap((arch) =>
    fs.readdirSync(path.join(SHIPPED, arch)).filter((f) => /\.dll$/i.test(f)).sort().map((f) => path.join(SHIPPED, arch, f)),
  );
}

const sample = peFiles();

function len(root: StructValue, name: string): number {
  const n = (root.field(name) as ArrayValue).length();
  return typeof n === "number" ? n : 0;
}

/** Expressions that walk this file's own sections, imports, exports, resources and version strings. */
function exprsFor(root: StructValue): string[] {
  const out = [...COMMON_EXPRS];
  for (let i = 0; i < len(root, "sections"); i++) {
    for (const f of ["name", "full_name", "raw_data_offset", "raw_data_size", "virtual_address", "virtual_size", "characteristics"]) out.push(`pe.sections[${i}].${f}`);
  }
  for (let i = 0; i < Math.min(40, len(root, "export_details")); i++) {
    for (const f of ["name", "ordinal", "rva", "offset", "forward_name"]) out.push(`pe.export_details[${i}].${f}`);
  }
  for (let i = 0; i < len(root, "import_details"); i++) {
    out.push(`pe.import_details[${i}].library_name`, `pe.import_details[${i}].number_of_functions`, `pe.import_details[${i}].functions[0].name`, `pe.import_details[${i}].functions[0].rva`);
  }
  for (let i = 0; i < len(root, "delayed_import_details"); i++) out.push(`pe.delayed_import_details[${i}].library_name`, `pe.delayed_import_details[${i}].number_of_functions`);
  for (let i = 0; i < Math.min(30, len(root, "resources")); i++) {
    for (const f of ["type", "id", "language", "offset", "length", "rva", "type_string", "name_string"]) out.push(`pe.resources[${i}].${f}`);
  }
  for (let i = 0; i < len(root, "version_info_list"); i++) out.push(`pe.version_info_list[${i}].key`, `pe.version_info_list[${i}].value`);
  for (let i = 0; i < len(root, "data_directories"); i++) out.push(`pe.data_directories[${i}].virtual_address`, `pe.data_directories[${i}].size`);
  out.push("pe.exports(/^Dll/)", "pe.imports(/^(KERNEL32|ntdll)\\.dll$/i, /^Get/)", "pe.imports(\"msvcrt.dll\")", "pe.rich_signature.toolid(1)");
  return out;
}

describe("pe module on real PE files", () => {
  it(`agrees with YARA-X on ${sample.length} PE files`, () => {
    expect(sample.length).toBeGreaterThan(10);
    const failures: string[] = [];
    let checked = 0;
    for (const name of sample) {
      const data = new Uint8Array(fs.readFileSync(name));
      // Through positioned reads (block cache; views poisoned at each read), not the bytes in memory.
      const root = pe.load(poisonSource(data));
      const r = checkAgainstYaraX(root, data, exprsFor(pe.load(bytesSource(data))));
      checked += r.checked;
      for (const d of r.disagree) failures.push(`${name}: ${d}`);
      for (const u of r.unknown) if (!/signature|is_signed/.test(u)) failures.push(`${name}: UNKNOWN ${u}`);
      expect(root.field("is_pe")).toBe(true);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(sample.length * 80);
  }, 600_000);
});
