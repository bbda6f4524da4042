// The fuzz targets: one per parser that reads attacker-controlled bytes, each called the way ring3
// calls it. A target returns normally for any input; it may throw only the errors its parser
// documents for bad input (`expected`). Anything else thrown is a crash; running past the driver's
// per-input budget is a hang; dying of the heap limit is a blow-up (see fuzz.ts).
import { createHash } from "node:crypto";
import { parsePathList } from "../../src/cli/scan";
import { readAr } from "../../src/containers/ar";
import { createBudget, DEFAULT_LIMITS, identify, prepareSevenZip, sevenZipReady } from "../../src/containers";
import { readWith7z } from "../../src/containers/sevenzip";
import { readGzip, readZstd } from "../../src/containers/stream";
import { readTar } from "../../src/containers/tar";
import type { ContainerReader, Limits } from "../../src/containers/types";
import { readZip } from "../../src/containers/zip";
import { HashListError, parseHashList } from "../../src/engines/hash/lists";
import { CompiledFileError, readCompiled } from "../../src/engines/yara/compiled";
import { UNKNOWN, type Value } from "../../src/engines/yara/contracts";
import { attachImage, ImageError, imageSummary, mergeImages, MergeError } from "../../src/engines/yara/image";
import { tokenize } from "../../src/engines/yara/lexer";
import { elf } from "../../src/engines/yara/modules/elf";
import { pe } from "../../src/engines/yara/modules/pe";
import { parse } from "../../src/engines/yara/parser";
import { VERSION } from "../../src/cli/version";
import { bytesSource } from "../../src/util/bytesource";

export interface Target {
  /** Once per worker, before the first input (7z-wasm's instances). */
  setup?(): Promise<void>;
  /** Before each input when the target needs to wait (7z-wasm refills retired instances). */
  before?(): Promise<void>;
  run(data: Uint8Array): void;
  /** Errors the parser throws by design on bad input. */
  expected?(err: unknown): boolean;
  /** Per-input budget in ms when the default does not fit (7z-wasm copies in and out of its FS). */
  budgetMs?: number;
  /**
   * Corpus files larger than this are run as they are but not mutated (the compiled-rules seed
   * and the inputs found from it are 808 KB, 99% matcher tables this target never reads: their
   * hashing and copying made it 450 inputs/s; the compact seed carries the same fields).
   */
  maxSeedBytes?: number;
}

/** The scan's budgets, with the total and time scaled down so an input stays cheap. */
const LIMITS: Limits = { ...DEFAULT_LIMITS, maxTotalBytes: 64 << 20, maxMemberSize: 32 << 20, maxTimeMs: 1500 };

/** Reads every member, then identifies each member's bytes (as inspect.ts does before descending). */
function container(reader: ContainerReader): Target {
  return {
    run(data) {
      const budget = createBudget(LIMITS);
      let n = 0;
      for (const m of reader(data, budget)) {
        if (m.data !== undefined) identify(m.data);
        if (++n > LIMITS.maxMembers + 1) throw new Error(`more than maxMembers (${LIMITS.maxMembers}) members yielded`);
      }
    },
  };
}

// Module values are built lazily from field names; the walk asks every struct for every name the
// pe and elf modules define (an unknown name is UNKNOWN, cheaply), and calls functions with the
// argument shapes YARA-X's signatures use.
const PE_FIELDS =
  "base_of_code base_of_data calculate_checksum characteristics checksum clear_data data_directories delayed_import_details delayed_import_rva dll_characteristics dll_name entry_point entry_point_raw export_details export_timestamp exports exports_index file_alignment forward_name full_name functions id image_base image_version imphash import_details import_rva imports is_32bit is_64bit is_dll is_pe is_signed key language language_string length library_name linker_version loader_flags locale machine name name_string number_of_delayed_imported_functions number_of_delayed_imports number_of_exports number_of_functions number_of_imported_functions number_of_imports number_of_line_numbers number_of_relocations number_of_resources number_of_rva_and_sizes number_of_sections number_of_signatures number_of_symbols number_of_version_infos offset opthdr_magic ordinal os_version overlay pdb_path pointer_to_line_numbers pointer_to_relocations pointer_to_symbol_table raw_data raw_data_offset raw_data_size resource_timestamp resource_version resources rich_signature rva rva_to_offset section_alignment section_index sections signatures size_of_code size_of_headers size_of_heap_commit size_of_heap_reserve size_of_image size_of_initialized_data size_of_optional_header size_of_stack_commit size_of_stack_reserve size_of_uninitialized_data subsystem subsystem_version timestamp toolid tools type type_string version version_info version_info_list virtual_address virtual_size win32_version_value".split(" ");
const ELF_FIELDS =
  "address align alignment bind dynamic dynamic_section_entries dynsym dynsym_entries entry_point file_size filesz flags import_md5 machine memory_size memsz name number_of_sections number_of_segments offset osabi paddr ph_entry_size ph_offset physical_address sections segments sh_entry_size sh_offset shndx size symtab symtab_entries telfhash type vaddr value virtual_address visibility".split(" ");

const str = (s: string): Uint8Array => new TextEncoder().encode(s);
const ARG_SETS: Value[][] = [[], [0n], [1n], [0x1000n], [str("kernel32.dll")], [str(".text")], [str("kernel32.dll"), str("CreateFileA")], [str("kernel32.dll"), 1n], [1n, str("kernel32.dll")], [1n, str("kernel32.dll"), str("CreateFileA")], [0n, 0n]];

/** Reads a module value through every field, element (first and last 16) and function; bounded. */
function walkValue(v: Value, names: string[], depth: number): void {
  if (depth > 4 || v === undefined || v === UNKNOWN || typeof v !== "object" || v instanceof Uint8Array) return;
  switch (v.kind) {
    case "struct":
      for (const n of names) walkValue(v.field(n), names, depth + 1);
      break;
    case "array": {
      const len = v.length();
      if (typeof len !== "number") return;
      for (let i = 0; i < Math.min(len, 16); i++) walkValue(v.at(i), names, depth + 1);
      for (let i = Math.max(16, len - 16); i < len; i++) walkValue(v.at(i), names, depth + 1);
      v.at(len); // one past the end: undefined
      break;
    }
    case "dict": {
      const entries = v.entries();
      if (Array.isArray(entries)) for (const [k, x] of entries.slice(0, 16)) (v.get(k), walkValue(x, names, depth + 1));
      break;
    }
    case "func":
      for (const args of ARG_SETS) walkValue(v.call(args), names, depth + 1);
      break;
    case "regex":
      break;
    default: {
      const never: never = v;
      throw new Error(`unknown value ${String(never)}`);
    }
  }
}

const decoder = new TextDecoder("utf-8");

/** The compiled-rule file as --rules loads it, with its digest made right so the header and program are reached. */
function compiledRules(data: Uint8Array): void {
  // One copy, at offset 0 of its own buffer: the image's arrays are viewed where they lie.
  const buf = Buffer.from(new ArrayBuffer(data.length));
  buf.set(data);
  if (buf.length >= 48) createHash("sha256").update(buf.subarray(48)).digest().copy(buf, 16);
  const file = readCompiled(buf, "fuzz", VERSION);
  imageSummary(file.image);
  // A single image is used as it is (the merge of several is not reached: see test/fuzz/README.md).
  const merged = mergeImages([file.image], false);
  imageSummary(merged);
  attachImage(merged);
}

export const TARGETS: Record<string, Target> = {
  zip: container(readZip),
  tar: container(readTar),
  gzip: container(readGzip),
  zstd: container(readZstd),
  ar: container(readAr),
  "7z": {
    ...container((data, budget) => readWith7z(identify(data) ?? "7z", data, budget)),
    setup: () => prepareSevenZip(),
    before: () => sevenZipReady(),
    budgetMs: 5000,
  },
  pe: { run: (data) => walkValue(pe.load(bytesSource(data)), PE_FIELDS, 0) },
  elf: { run: (data) => walkValue(elf.load(bytesSource(data)), ELF_FIELDS, 0) },
  "hash-list": {
    run(data) {
      const text = decoder.decode(data);
      for (const name of ["fuzz.hdb", "fuzz.hsb", "fuzz.txt"]) {
        try {
          parseHashList({ name, text }, { add() {} });
        } catch (err) {
          if (!(err instanceof HashListError)) throw err;
        }
      }
    },
  },
  "path-list": {
    run(data) {
      for (const p of parsePathList(Buffer.from(data))) if (p.length === 0) throw new Error("an empty path");
    },
  },
  "yara-parser": {
    run(data) {
      const text = decoder.decode(data);
      tokenize(text, []);
      parse(text, { file: "fuzz.yar", include: () => undefined });
    },
  },
  "compiled-rules": {
    run: compiledRules,
    maxSeedBytes: 64 << 10,
    // The digest guards against accidents, not forgery: a program with a recomputed digest is not
    // validated field by field. ring3 turns what it throws into one line and exit 2 (--rules:
    // "damaged compiled rule program"; in a worker: WorkerStartError), so here only a hang or a
    // heap blow-up is a finding; the crash inputs the fuzzer found are kept in the corpus.
    expected: (err) => err instanceof CompiledFileError || err instanceof ImageError || err instanceof MergeError || err instanceof Error,
  },
};
