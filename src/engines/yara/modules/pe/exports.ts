// The export directory as YARA-X reads it (parser.rs parse_exports): one entry per address-table
// slot the file holds (at most 16384), ordinal = base + index, the name of the first name-ordinal
// slot that points at the index, forwarders for RVAs inside the export directory.
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

/** Up to `count` little-endian words of `width` bytes at an RVA, as many as the file holds. */
function tableAt(pe: PeFile, rva: number, count: number, width: 2 | 4): number[] {
  const at = pe.offsetInFile(rva);
  if (at === undefined) return [];
  const n = Math.min(count, Math.floor((pe.data.length - at) / width));
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = width === 4 ? u32(pe.data, at + i * 4)! : u16(pe.data, at + i * 2)!;
  return out;
}

export function parseExports(pe: PeFile): ExportInfo | undefined {
  const dir = pe.dirEntryData(DIR_EXPORT, true);
  if (!dir || dir.rva === 0 || dir.bytes.length < 40) return undefined;
  const b = dir.bytes;
  const timestamp = u32(b, 4)!;
  const name = u32(b, 12)!;
  const base = u32(b, 16)!;
  const numFunctions = Math.min(u32(b, 20)!, MAX_PE_EXPORTS);
  const numNames = Math.min(u32(b, 24)!, MAX_PE_EXPORTS);
  const addressOfFunctions = u32(b, 28)!;
  const addressOfNames = u32(b, 32)!;
  const addressOfNameOrdinals = u32(b, 36)!;

  // The address table is read as far as the file goes; the name table all or nothing (nom's
  // count); the name-ordinal table as far as the file goes.
  const funcRvas = tableAt(pe, addressOfFunctions, numFunctions, 4);
  const namesAt = pe.offsetInFile(addressOfNames);
  const names = namesAt !== undefined && namesAt + numNames * 4 <= pe.data.length ? tableAt(pe, addressOfNames, numNames, 4) : [];
  const nameOrdinals = tableAt(pe, addressOfNameOrdinals, numNames, 2);

  // First position of each index in the name-ordinal table (find_position keeps the first).
  const firstNameSlot = new Map<number, number>();
  nameOrdinals.forEach((ord, slot) => {
    if (!firstNameSlot.has(ord)) firstNameSlot.set(ord, slot);
  });

  const fwdStart = dir.rva;
  const fwdEnd = Math.min(0xffffffff, dir.rva + dir.size);
  const functions: ExportedFunc[] = [];
  funcRvas.forEach((rva, i) => {
    // Ordinals past 2^32 - 1 (base + index overflowing) are dropped.
    if (base + i > 0xffffffff) return;
    const slot = firstNameSlot.get(i);
    const nameRva = slot === undefined ? undefined : names[slot];
    const forwarded = rva >= fwdStart && rva < fwdEnd;
    functions.push({
      name: nameRva === undefined ? undefined : strAtRva(pe, nameRva),
      ordinal: base + i,
      rva,
      offset: forwarded ? undefined : pe.rvaToOffset(rva),
      forwardName: forwarded ? strAtRva(pe, rva) : undefined,
    });
  });
  return { dllName: dllNameAtRva(pe, name), timestamp, functions };
}
