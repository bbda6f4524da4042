// The export directory as YARA-X reads it (parser.rs parse_exports): one entry per address-table
// slot (at most 16384), ordinal = base + index, the name of the first name-ordinal slot that points
// at the index, forwarders for RVAs inside the export directory. Any of the three tables that does
// not read whole makes the exports absent.
import { u16, u32 } from "./bytes";
import { DIR_EXPORT } from "./headers";
import { dllNameAtRva, strAtRva } from "./imports";
import type { PeFile } from "./file";

const MAX_PE_EXPORTS = 16384;

export interface ExportedFunc {
  name: string | undefined;
  ordinal: number;
  rva: number;
  offset: number | undefined;
  forwardName: string | undefined;
}

export interface ExportInfo {
  dllName: string | undefined;
  timestamp: number;
  functions: ExportedFunc[];
}

/** `count` little-endian words of `width` bytes at an RVA, or undefined when they do not all read. */
function tableAt(pe: PeFile, rva: number, count: number, width: 2 | 4): number[] | undefined {
  const at = pe.offsetInFile(rva);
  if (at === undefined || at + count * width > pe.data.length) return undefined;
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = width === 4 ? u32(pe.data, at + i * 4)! : u16(pe.data, at + i * 2)!;
  return out;
}

export function parseExports(pe: PeFile): ExportInfo | undefined {
  const dir = pe.dirEntryData(DIR_EXPORT, true);
  if (!dir || dir.rva === 0 || dir.bytes.length < 40) return undefined;
  const b = dir.bytes;
  const timestamp = u32(b, 4)!;
  const name = u32(b, 12)!;
  const base = u32(b, 16)!;
  const numberOfFunctions = u32(b, 20)!;
  const numberOfNames = u32(b, 24)!;
  const addressOfFunctions = u32(b, 28)!;
  const addressOfNames = u32(b, 32)!;
  const addressOfNameOrdinals = u32(b, 36)!;

  const funcRvas = tableAt(pe, addressOfFunctions, Math.min(numberOfFunctions, MAX_PE_EXPORTS), 4);
  if (!funcRvas) return undefined;
  const names = tableAt(pe, addressOfNames, numberOfNames, 4);
  if (!names) return undefined;
  const nameOrdinals = tableAt(pe, addressOfNameOrdinals, numberOfNames, 2);
  if (!nameOrdinals) return undefined;

  // First position of each index in the name-ordinal table (find_position keeps the first).
  const firstNameSlot = new Map<number, number>();
  nameOrdinals.forEach((ord, slot) => {
    if (!firstNameSlot.has(ord)) firstNameSlot.set(ord, slot);
  });

  // The forwarder range wraps like the u32 addition in parser.rs (an empty range when it does).
  const fwdStart = dir.rva;
  const fwdEnd = (dir.rva + dir.size) >>> 0;
  const functions = funcRvas.map((rva, i): ExportedFunc => {
    const slot = firstNameSlot.get(i);
    const nameRva = slot === undefined ? undefined : names[slot];
    const forwarded = rva >= fwdStart && rva < fwdEnd;
    return {
      name: nameRva === undefined ? undefined : strAtRva(pe, nameRva),
      ordinal: (base + i) >>> 0,
      rva,
      offset: forwarded ? undefined : pe.rvaToOffset(rva),
      forwardName: forwarded ? strAtRva(pe, rva) : undefined,
    };
  });
  return { dllName: dllNameAtRva(pe, name), timestamp, functions };
}
