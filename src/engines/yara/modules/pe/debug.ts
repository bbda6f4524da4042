// The PDB path from the CodeView debug entry (parser.rs parse_dbg): RSDS, NB10 or MTOC records,
// at the entry's RVA when it resolves, else at its raw offset.
import { cstr, u32 } from "./bytes";
import { DIR_DEBUG } from "./headers";
import type { PeFile } from "./file";

const IMAGE_DEBUG_TYPE_CODEVIEW = 2;

export function parsePdbPath(pe: PeFile): Uint8Array | undefined {
  const dir = pe.dirEntryData(DIR_DEBUG, true);
  if (!dir) return undefined;
  const b = dir.bytes;
  for (let at = 0; at + 28 <= b.length; at += 28) {
    if (u32(b, at + 12) !== IMAGE_DEBUG_TYPE_CODEVIEW) continue;
    const va = u32(b, at + 20)!;
    const raw = u32(b, at + 24)!;
    const offset = (va !== 0 ? pe.rvaToOffset(va) : undefined) ?? raw;
    if (offset <= 0 || offset > pe.data.length) continue;
    const sig = u32(pe.data, offset);
    const skip = sig === 0x53445352 ? 20 : sig === 0x3031424e ? 12 : sig === 0x434f544d ? 16 : -1;
    if (skip < 0 || offset + 4 + skip > pe.data.length) continue;
    // The first CodeView record decides; the path is bytes, UTF-8 or not.
    return cstr(pe.data, offset + 4 + skip)!;
  }
  return undefined;
}
