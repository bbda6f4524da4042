// The lnk module (Windows shortcuts, MS-SHLLINK) as YARA-X 1.20 reads it, every field: the header,
// the target ID list's shell items, LinkInfo (volume, local base path, common path suffix), the
// string data (name, relative path, working folder, arguments, icon location), the tracker data
// block and the overlay after the terminal block. A body that ends early keeps the fields read
// before it, as YARA-X does.
import { type ArrayValue, type ByteSource, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { FileReader } from "../reader";
import { lazyStruct, struct } from "./util";

const HEADER_SIZE = 0x4c;
/** 00021401-0000-0000-C000-000000000046, as stored. */
const CLSID = [0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46];

const HAS_LINK_TARGET_ID_LIST = 0x1;
const HAS_LINK_INFO = 0x2;
const IS_UNICODE = 0x80;
/** The string data, in file order: flag, field, and the length cap YARA-X applies (Windows' 260). */
const STRINGS: [number, string, number | undefined][] = [
  [0x04, "name", 260],
  [0x08, "relative_path", 260],
  [0x10, "working_dir", 260],
  [0x20, "cmd_line_args", undefined],
  [0x40, "icon_location", 260],
];

/** The module's constants (enums): YARA-X names them at the module's top level. */
export const LNK_CONSTANTS: Record<string, bigint> = {
  FILE_ATTRIBUTE_READONLY: 0x1n,
  FILE_ATTRIBUTE_HIDDEN: 0x2n,
  FILE_ATTRIBUTE_SYSTEM: 0x4n,
  RESERVED_1: 0x8n,
  FILE_ATTRIBUTE_DIRECTORY: 0x10n,
  FILE_ATTRIBUTE_ARCHIVE: 0x20n,
  RESERVED_2: 0x40n,
  FILE_ATTRIBUTE_NORMAL: 0x80n,
  FILE_ATTRIBUTE_TEMPORARY: 0x100n,
  FILE_ATTRIBUTE_SPARSE_FILE: 0x200n,
  FILE_ATTRIBUTE_REPARSE_POINT: 0x400n,
  FILE_ATTRIBUTE_COMPRESSED: 0x800n,
  FILE_ATTRIBUTE_OFFLINE: 0x1000n,
  FILE_ATTRIBUTE_NOT_CONTENT_INDEXED: 0x2000n,
  FILE_ATTRIBUTE_ENCRYPTED: 0x4000n,
};

const utf8 = new TextEncoder();
const lossy = new TextDecoder("utf-8");

/** FILETIME (100 ns since 1601) to a UNIX time in seconds; undefined before 1970. */
function unixTime(lo: number, hi: number): bigint | undefined {
  const t = ((BigInt(hi) << 32n) | BigInt(lo)) / 10_000_000n - 11_644_473_600n;
  return t >= 0n ? t : undefined;
}

/** UTF-16LE up to the first 0 unit (or the end), unpaired surrogates as U+FFFD, as UTF-8 bytes. */
function utf16(b: Uint8Array): Uint8Array {
  let s = "";
  for (let i = 0; i + 1 < b.length; i += 2) {
    const u = b[i]! | (b[i + 1]! << 8);
    if (u === 0) break;
    s += String.fromCharCode(u);
  }
  return utf8.encode(s); // the encoder writes each unpaired surrogate as U+FFFD, as Rust's from_utf16_lossy
}

function parse(r: FileReader): Record<string, Value> {
  const fields: Record<string, Value> = {};
  const h = r.read(0, HEADER_SIZE);
  if (h.length < HEADER_SIZE || r.uint(0, 4, false) !== HEADER_SIZE || CLSID.some((b, i) => h[4 + i] !== b)) {
    fields.is_lnk = false;
    return fields;
  }
  const u32 = (o: number) => r.uint(o, 4, false)!;
  const flags = u32(0x14);
  fields.is_lnk = true;
  fields.file_attributes = BigInt(u32(0x18));
  fields.creation_time = unixTime(u32(0x1c), u32(0x20));
  fields.access_time = unixTime(u32(0x24), u32(0x28));
  fields.write_time = unixTime(u32(0x2c), u32(0x30));
  fields.file_size = BigInt(u32(0x34));
  fields.icon_index = BigInt(u32(0x38));
  const show = u32(0x3c);
  fields.show_command = show < 0x80000000 ? BigInt(show) : undefined;

  // The body: each part read in order; the first one that does not fit ends the reading.
  let p = HEADER_SIZE;
  const left = () => r.size - p;
  if (flags & HAS_LINK_TARGET_ID_LIST) {
    if (left() < 2) return fields;
    // A list declared longer than the file is cut to it.
    const n = Math.min(r.uint(p, 2, false)!, left() - 2);
    fields.target_id_list = shellItems(r.copy(p + 2, n));
    p += 2 + n;
  }
  if (flags & HAS_LINK_INFO) {
    if (left() < 28) return fields;
    const size = u32(p);
    const unicodeOffsets = u32(p + 4) >= 0x24;
    if (unicodeOffsets && left() < 36) return fields;
    if (size > left()) return fields;
    linkInfo(r, p, size, unicodeOffsets, fields);
    p += size;
  }
  const unicode = (flags & IS_UNICODE) !== 0;
  for (const [flag, name, cap] of STRINGS) {
    if (!(flags & flag)) continue;
    if (left() < 2) return fields;
    let n = r.uint(p, 2, false)!;
    if (cap !== undefined) n = Math.min(n, cap);
    const bytes = unicode ? 2 * n : n;
    if (left() - 2 < bytes) return fields;
    const raw = r.read(p + 2, bytes);
    fields[name] = unicode ? utf16(raw) : utf8.encode(lossy.decode(raw));
    p += 2 + bytes;
  }
  extraData(r, p, fields);
  return fields;
}

/** A string up to its first 0 byte (or the end), invalid UTF-8 replaced, as UTF-8 bytes. */
function cString(b: Uint8Array): Uint8Array {
  const z = b.indexOf(0);
  return utf8.encode(lossy.decode(z < 0 ? b : b.subarray(0, z)));
}

/** LinkInfo (MS-SHLLINK 2.3) of `size` bytes at `at`: the volume ID, local base path and common path suffix. */
function linkInfo(r: FileReader, at: number, size: number, unicodeOffsets: boolean, fields: Record<string, Value>): void {
  const info = r.copy(at, size);
  // The header's fields are read from the file: a LinkInfo may declare a size smaller than its header.
  const u32 = (o: number) => r.uint(at + o, 4, false)!;
  const flags = u32(8);
  // Offsets are from the LinkInfo's start; one past its end reads nothing (an empty string).
  const from = (o: number) => (o <= info.length ? info.subarray(o) : undefined);
  const at32 = (o: number) => (o + 4 <= r.size - at ? r.uint(at + o, 4, false)! : undefined);
  if (flags & 1) {
    const vol = from(u32(12));
    if (vol && vol.length >= 16) {
      const v = new DataView(vol.buffer, vol.byteOffset, vol.byteLength);
      const driveType = v.getUint32(4, true);
      fields.drive_type = driveType < 0x80000000 ? BigInt(driveType) : undefined;
      fields.drive_serial_number = BigInt(v.getUint32(8, true));
      const volSize = v.getUint32(0, true);
      if (volSize <= vol.length) {
        const volume = vol.subarray(0, volSize);
        let labelAt = v.getUint32(12, true);
        // 0x14 says the label is UTF-16, at the offset in the next four bytes.
        const unicodeLabel = labelAt === 0x14;
        if (unicodeLabel) labelAt = vol.length >= 20 ? v.getUint32(16, true) : -1;
        if (labelAt >= 0 && labelAt <= volume.length) fields.volume_label = unicodeLabel ? utf16(volume.subarray(labelAt)) : cString(volume.subarray(labelAt));
      }
    }
    const uni = unicodeOffsets ? at32(28) : undefined;
    if (uni !== undefined && uni > 0) {
      const b = from(uni);
      if (b) fields.local_base_path = utf16(b);
    } else {
      const b = from(u32(16));
      if (b) fields.local_base_path = cString(b);
    }
  }
  if (flags & 2) {
    const uni = unicodeOffsets ? at32(32) : undefined;
    if (uni !== undefined && uni > 0) {
      const b = from(uni);
      if (b) fields.common_path_suffix = utf16(b);
    } else {
      const b = from(u32(24));
      if (b) fields.common_path_suffix = cString(b);
    }
  }
}

/** A shell item's class as YARA-X files it (ShellItemType), or the class itself. */
function itemType(c: number): number {
  switch (c & 0x70) {
    case 0x20:
    case 0x30:
    case 0x40:
      return c & 0x70;
  }
  if (c === 0x1e) return 0x1f;
  if (c === 0x70) return 0x71;
  return c;
}

/**
 * The ItemIDs of a LinkTargetIDList (up to the terminal one), each with what YARA-X reads in it
 * (after libfwsi: CPL path, root folder GUID, volume name or GUID, file entry name, network path).
 */
function shellItems(list: Uint8Array): ArrayValue {
  const items: StructValue[] = [];
  let p = 0;
  while (list.length - p >= 2) {
    const size = list[p]! | (list[p + 1]! << 8);
    if (size === 0) break;
    const data = list.subarray(p + 2, p + 2 + Math.max(0, size - 2));
    p += 2 + data.length;
    if (data.length === 0) continue;
    const c = data[0]!;
    const f: Record<string, Value> = { item_type: BigInt(itemType(c)), data: data.slice(1), cpl_file_path: undefined, root_folder_id: undefined, volume_name: undefined, volume_id: undefined, file_entry_name: undefined, network_location: undefined };
    const tail = (o: number) => (o <= data.length ? data.subarray(o) : undefined);
    if (c === 0x00) {
      if (data.length > 10) f.cpl_file_path = data[10] === 0 ? (data.length >= 22 ? utf16(data.subarray(22)) : undefined) : cString(data.subarray(10));
    } else if (c === 0x1e || c === 0x1f) {
      if (data.length >= 18) f.root_folder_id = guid(data.subarray(2, 18));
    } else if ((c & 0x70) === 0x20) {
      if (c & 1) {
        if (data.length >= 21) f.volume_name = cString(data.subarray(1, 21));
      } else if (data.length >= 18) f.volume_id = guid(data.subarray(2, 18));
    } else if ((c & 0x70) === 0x30) {
      const t = tail(12);
      if (t) f.file_entry_name = c & 4 ? utf16(t) : cString(t);
    } else if ((c & 0x70) === 0x40) {
      const t = tail(3);
      if (t) f.network_location = cString(t);
    }
    items.push(struct(f));
  }
  return { kind: "array", length: () => items.length, at: (i) => (Number.isInteger(i) && i >= 0 && i < items.length ? items[i] : undefined) };
}

/** A GUID stored little-endian, written as YARA-X writes it (lower-case, hyphenated). */
function guid(b: Uint8Array): Uint8Array {
  const h = (x: number[]) => x.map((y) => y.toString(16).padStart(2, "0")).join("");
  const s = `${h([b[3]!, b[2]!, b[1]!, b[0]!])}-${h([b[5]!, b[4]!])}-${h([b[7]!, b[6]!])}-${h([b[8]!, b[9]!])}-${h([...b.subarray(10, 16)])}`;
  return utf8.encode(s);
}

/**
 * The extra data blocks after the string data, up to the terminal block (a size under 4): the
 * tracker data block, and what follows the terminal block (the overlay). A block that does not fit
 * leaves both undefined.
 */
function extraData(r: FileReader, p: number, fields: Record<string, Value>): void {
  for (;;) {
    if (r.size - p < 4) return;
    const size = r.uint(p, 4, false)!;
    if (size < 4) {
      const overlay = r.size - p - 4;
      if (overlay > 0) fields.overlay_offset = BigInt(r.size - overlay);
      fields.overlay_size = BigInt(overlay);
      return;
    }
    if (size > r.size - p) return;
    if (size >= 8 && r.uint(p + 4, 4, false) === 0xa0000003 && size - 8 >= 88) {
      const b = r.copy(p + 8, 88);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      fields.tracker_data = struct({
        version: BigInt(dv.getUint32(4, true)),
        machine_id: cString(b.subarray(8, 24)),
        droid_volume_id: guid(b.subarray(24, 40)),
        droid_file_id: guid(b.subarray(40, 56)),
        droid_birth_volume_id: guid(b.subarray(56, 72)),
        droid_birth_file_id: guid(b.subarray(72, 88)),
      });
    }
    p += size;
  }
}

/** The fields ring3 reads; the others YARA-X has (see the top of the file) are UNKNOWN. */
const READ = [
  "is_lnk", "name", "creation_time", "access_time", "write_time", "file_size", "file_attributes", "icon_location", "icon_index", "show_command",
  "drive_type", "drive_serial_number", "volume_label", "local_base_path", "common_path_suffix", "relative_path", "working_dir", "cmd_line_args",
  "overlay_size", "overlay_offset", "tracker_data", "target_id_list",
];

/** The enums that are not inline: a struct of their values (lnk.ShowCommand.NORMAL). */
const ENUMS: Record<string, StructValue> = {
  ShowCommand: struct({ NORMAL: 1n, MAXIMIZED: 3n, MIN_NO_ACTIVE: 7n }),
  DriveType: struct({ UNKNOWN: 0n, NO_ROOT_DIR: 1n, REMOVABLE: 2n, FIXED: 3n, REMOTE: 4n, CDROM: 5n, RAMDISK: 6n }),
  ShellItemType: struct({
    CONTROL_PANEL_CPL: 0x00n,
    CONTROL_PANEL_CATEGORY: 0x01n,
    ROOT_FOLDER: 0x1fn,
    VOLUME: 0x20n,
    FILE_ENTRY: 0x30n,
    NETWORK_LOCATION: 0x40n,
    COMPRESSED_FOLDER: 0x52n,
    URI: 0x61n,
    CONTROL_PANEL: 0x71n,
    PRINTERS: 0x72n,
    COMMON_PLACES_FOLDER: 0x73n,
    USERS_FILES_FOLDER: 0x74n,
  }),
};

function load(source: ByteSource): StructValue {
  return lazyStruct(
    () => {
      const f = parse(FileReader.from(source));
      const all: Record<string, Value> = {};
      for (const k of READ) all[k] = f[k];
      // A repeated field is never undefined in YARA-X: an empty list where there is none.
      all.target_id_list ??= shellItems(new Uint8Array(0));
      return struct(all);
    },
    (name) => LNK_CONSTANTS[name] ?? ENUMS[name],
  );
}

export const lnk: ModuleFactory = { name: "lnk", load };
