// The pe module against YARA-X on real PE files: the bench corpus's Wine DLLs and EXEs
// (.bench/corpus/pe, written by ../shared/bench/make-corpus.sh). For each file, every header field,
// every section, the first exports, imports, resources and version strings, imphash and the
// functions must have YARA-X's values. RING3_PE_ALL=1 checks every file instead of a sample.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type ArrayValue, type StructValue } from "../../src/engines/yara/contracts";
import { pe } from "../../src/engines/yara/modules/pe";
import { checkAgainstYaraX, COMMON_EXPRS } from "./yara-module-pe-fixtures";

const DIR = path.resolve(__dirname, "../../.bench/corpus/pe");
const files = fs.readdirSync(DIR).sort();
const sample = process.env.RING3_PE_ALL ? files : files.filter((_, i) => i % 8 === 0);

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

describe("pe module on the bench corpus", () => {
  it(`agrees with YARA-X on ${sample.length} of ${files.length} PE files`, () => {
    expect(sample.length).toBeGreaterThan(10);
    const failures: string[] = [];
    let checked = 0;
    for (const name of sample) {
      const data = new Uint8Array(fs.readFileSync(path.join(DIR, name)));
      const root = pe.load(data);
      const r = checkAgainstYaraX(root, data, exprsFor(pe.load(data)));
      checked += r.checked;
      for (const d of r.disagree) failures.push(`${name}: ${d}`);
      for (const u of r.unknown) if (!/signature|is_signed/.test(u)) failures.push(`${name}: UNKNOWN ${u}`);
      expect(root.field("is_pe")).toBe(true);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(sample.length * 80);
  }, 600_000);
});
