// One PE file: the headers parsed once, and address translation and data-directory access shared by
// the lazily parsed parts (imports, exports, resources, ...), each in its own module.
import { u32, type Bytes } from "./bytes";
import { parseHeaders, rvaToOffset, type Headers } from "./headers";

export class PeFile {
  constructor(
    /** The whole file, read through the engine's reader. */
    readonly data: Bytes,
    readonly h: Headers,
  ) {}

  static parse(data: Bytes): PeFile | undefined {
    const h = parseHeaders(data);
    return h ? new PeFile(data, h) : undefined;
  }

  rvaToOffset(rva: number): number | undefined {
    return rvaToOffset(rva, this.h.sections, this.h.opt.fileAlignment, this.h.opt.sectionAlignment);
  }

  /** File offset of an RVA when it lies within the file (YARA-X's data_at_rva succeeds). */
  offsetInFile(rva: number): number | undefined {
    const off = this.rvaToOffset(rva);
    return off !== undefined && off <= this.data.length ? off : undefined;
  }

  /** The directory entry's address and size, or undefined when the data directory does not hold it. */
  dirEntry(index: number): { addr: number; size: number } | undefined {
    if (this.h.directoryOffset < 0) return undefined;
    const at = this.h.directoryOffset + index * 8;
    const addr = u32(this.data, at);
    const size = u32(this.data, at + 4);
    return addr === undefined || size === undefined ? undefined : { addr, size };
  }

  /**
   * get_dir_entry_data: the entry's RVA and size and its bytes, from its offset to the end of the
   * file, or only `size` bytes when `strict`.
   */
  dirEntryData(index: number, strict: boolean): { rva: number; size: number; bytes: Bytes } | undefined {
    const e = this.dirEntry(index);
    if (!e) return undefined;
    const start = this.rvaToOffset(e.addr);
    if (start === undefined || start > this.data.length) return undefined;
    const end = strict ? Math.min(this.data.length, start + e.size) : this.data.length;
    return { rva: e.addr, size: e.size, bytes: this.data.subarray(start, end) };
  }
}
