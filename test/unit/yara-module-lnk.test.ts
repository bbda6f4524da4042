// The lnk module against YARA-X, field by field: shortcuts written here per MS-SHLLINK (header,
// target ID list, LinkInfo, string data in UTF-16 and in the code page, extra data), then variants
// cut short at every length and with hostile sizes; ring3's value of each field it reads becomes a
// condition that YARA-X must find true on the same bytes.
import { describe, expect, test } from "vitest";
import { type ArrayValue, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { LNK_CONSTANTS, lnk } from "../../src/engines/yara/modules/lnk";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";
import { disagreements, randomBytes, show, type Case } from "./yara-module-oracle";

interface Shortcut {
  flags?: number;
  attributes?: number;
  times?: [bigint, bigint, bigint];
  fileSize?: number;
  iconIndex?: number;
  show?: number;
  idList?: Uint8Array;
  linkInfo?: Uint8Array;
  unicode?: boolean;
  strings?: Partial<Record<"name" | "relative_path" | "working_dir" | "cmd_line_args" | "icon_location", string | Uint8Array>>;
  /** Declared character counts that differ from the text's (hostile files). */
  counts?: Partial<Record<string, number>>;
  extra?: Uint8Array;
}

const FLAG = { name: 0x04, relative_path: 0x08, working_dir: 0x10, cmd_line_args: 0x20, icon_location: 0x40 } as const;
const ORDER = ["name", "relative_path", "working_dir", "cmd_line_args", "icon_location"] as const;

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u64(n: bigint): number[] {
  return [...u32(Number(n & 0xffffffffn)), ...u32(Number(n >> 32n))];
}

/** A FILETIME for a UNIX time. */
const filetime = (unix: bigint) => (unix + 11_644_473_600n) * 10_000_000n;

function shortcut(s: Shortcut): Uint8Array {
  let flags = s.flags ?? 0;
  if (s.idList) flags |= 0x1;
  if (s.linkInfo) flags |= 0x2;
  if (s.unicode ?? true) flags |= 0x80;
  for (const k of ORDER) if (s.strings?.[k] !== undefined) flags |= FLAG[k];
  const [c, a, w] = s.times ?? [filetime(1_600_000_000n), filetime(1_600_000_100n), filetime(1_600_000_200n)];
  const out: number[] = [
    ...u32(0x4c),
    ...[0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46],
    ...u32(flags),
    ...u32(s.attributes ?? 0x20),
    ...u64(c),
    ...u64(a),
    ...u64(w),
    ...u32(s.fileSize ?? 12345),
    ...u32(s.iconIndex ?? 0),
    ...u32(s.show ?? 1),
    ...u16(0),
    ...u16(0),
    ...u32(0),
    ...u32(0),
  ];
  if (s.idList) out.push(...u16(s.idList.length), ...s.idList);
  if (s.linkInfo) out.push(...s.linkInfo);
  const unicode = s.unicode ?? true;
  for (const k of ORDER) {
    const v = s.strings?.[k];
    if (v === undefined) continue;
    const bytes = typeof v === "string" ? (unicode ? Buffer.from(v, "utf16le") : Buffer.from(v, "latin1")) : v;
    const chars = s.counts?.[k] ?? (unicode ? bytes.length / 2 : bytes.length);
    out.push(...u16(chars), ...bytes);
  }
  out.push(...(s.extra ?? u32(0)));
  return Uint8Array.from(out);
}

/** A LinkInfo with a volume ID and a local base path (code page), per MS-SHLLINK 2.3. */
function linkInfo(path: string): Uint8Array {
  const volume = [...u32(0x10 + 6), ...u32(3), ...u32(0x1234abcd), ...u32(0x10), ...Buffer.from("VOL\0"), 0, 0];
  const header = 0x1c;
  const base = [...Buffer.from(path, "latin1"), 0];
  const suffix = [0];
  const size = header + volume.length + base.length + suffix.length;
  return Uint8Array.from([...u32(size), ...u32(header), ...u32(1), ...u32(header), ...u32(header + volume.length), ...u32(0), ...u32(header + volume.length + base.length), ...volume, ...base, ...suffix]);
}

/** A LinkInfo with the Unicode offsets (header 0x24), a UTF-16 volume label and a common path suffix. */
function linkInfoUnicode(path: string, suffix: string): Uint8Array {
  const label = Buffer.from("Vol é\0", "utf16le");
  const volume = [...u32(0x14 + label.length), ...u32(2), ...u32(0xdeadbeef), ...u32(0x14), ...u32(0x14), ...label];
  const header = 0x24;
  const ansiBase = [...Buffer.from("C:\\ANSI", "latin1"), 0];
  const ansiSuffix = [0];
  const uniBase = [...Buffer.from(path + "\0", "utf16le")];
  const uniSuffix = [...Buffer.from(suffix + "\0", "utf16le")];
  const vAt = header;
  const bAt = vAt + volume.length;
  const sAt = bAt + ansiBase.length;
  const ubAt = sAt + ansiSuffix.length;
  const usAt = ubAt + uniBase.length;
  const size = usAt + uniSuffix.length;
  return Uint8Array.from([...u32(size), ...u32(header), ...u32(3), ...u32(vAt), ...u32(bAt), ...u32(0), ...u32(sAt), ...u32(ubAt), ...u32(usAt), ...volume, ...ansiBase, ...ansiSuffix, ...uniBase, ...uniSuffix]);
}

/** A tracker data block (MS-SHLLINK 2.5.10), a console block it skips, then the terminal block. */
function extraBlocks(machine: string, overlay: number[] = []): Uint8Array {
  const tracker = [...u32(0x60), ...u32(0xa0000003), ...u32(0x58), ...u32(0), ...Buffer.from(machine.padEnd(16, "\0").slice(0, 16), "latin1"), ...randomBytes(64, 11)];
  const other = [...u32(12), ...u32(0xa0000002), ...u32(7)];
  return Uint8Array.from([...other, ...tracker, ...u32(0), ...overlay]);
}

/** Two shell items (a root folder and a file entry) and the terminal ID. */
const ID_LIST = Uint8Array.from([...u16(20), 0x1f, 0x50, ...randomBytes(16, 3), ...u16(12), 0x32, 0, ...u32(0), ...Buffer.from("a.exe\0"), ...u16(0)]);

const item = (bytes: number[]) => [...u16(bytes.length + 2), ...bytes];
/** One shell item of each class YARA-X reads something in, with short and odd ones. */
const MANY_ITEMS = Uint8Array.from([
  ...item([0x00, 0, ...u32(0), ...u32(0), 0x41, ...Buffer.from("C:\\x.cpl\0", "latin1")]),
  ...item([0x00, 0, ...u32(0), ...u32(0), 0x00, 0, ...u32(0), ...u32(0), 0, 0, ...Buffer.from("C:\\\u00e9.cpl\0", "utf16le")]),
  ...item([0x1e, 0x50, ...randomBytes(16, 5)]),
  ...item([0x23, ...Buffer.from("C:\\".padEnd(20, "\0"), "latin1"), 0, 0]),
  ...item([0x2e, 0x80, ...randomBytes(16, 6)]),
  ...item([0x31, 0, ...u32(0), ...u32(0), 0, 0, 0x10, 0, ...Buffer.from("dir\0", "latin1")]),
  ...item([0x36, 0, ...u32(0), ...u32(0), 0, 0, 0x10, 0, ...Buffer.from("w\u00e9\0", "utf16le")]),
  ...item([0x41, 0x01, 0x02, ...Buffer.from("\\\\server\\share\0", "latin1")]),
  ...item([0x61, 1, 2, 3]),
  ...item([0x74, 9]),
  ...item([0x99]),
  ...item([0x1f, 0x50, 1, 2]),
  ...item([0x21, 0x41]),
  ...u16(1),
  ...item([0x30]),
  ...u16(0),
  ...item([0x31, 0, 0, 0]),
]);

const FIELDS = [
  "is_lnk", "name", "creation_time", "access_time", "write_time", "file_size", "file_attributes", "icon_location", "icon_index", "show_command",
  "drive_type", "drive_serial_number", "volume_label", "local_base_path", "common_path_suffix", "relative_path", "working_dir", "cmd_line_args",
  "overlay_size", "overlay_offset",
];
const ITEM = ["item_type", "data", "cpl_file_path", "root_folder_id", "volume_name", "volume_id", "file_entry_name", "network_location"];
const TRACKER = ["version", "machine_id", "droid_volume_id", "droid_file_id", "droid_birth_volume_id", "droid_birth_file_id"];

function root(data: Uint8Array, poisoned = false): StructValue {
  return lnk.load(poisoned ? poisonSource(data) : bytesSource(data)) as StructValue;
}

function cases(data: Uint8Array): Case[] {
  const r = root(data);
  const through = root(data, true);
  const out: Case[] = FIELDS.map((f): Case => {
    const v = r.field(f) as Value;
    expect(show(through.field(f) as Value), `${f} through a source`).toBe(show(v));
    return { expr: `lnk.${f}`, value: v };
  });
  const t = r.field("tracker_data") as StructValue | undefined;
  if (t === undefined) out.push({ expr: "lnk.tracker_data.version", value: undefined });
  else for (const f of TRACKER) out.push({ expr: `lnk.tracker_data.${f}`, value: t.field(f) as Value });
  const list = r.field("target_id_list") as ArrayValue;
  const n = list.length() as number;
  for (let i = 0; i <= n; i++) {
    const item = list.at(i) as StructValue | undefined;
    if (!item) out.push({ expr: `lnk.target_id_list[${i}].item_type`, value: undefined });
    else for (const f of ITEM) out.push({ expr: `lnk.target_id_list[${i}].${f}`, value: item.field(f) as Value });
  }
  return out;
}

const SAMPLES: Record<string, Uint8Array> = {
  minimal: shortcut({}),
  "all strings, UTF-16": shortcut({
    idList: ID_LIST,
    linkInfo: linkInfo("C:\\Windows\\System32\\cmd.exe"),
    strings: { name: "A shortcut é", relative_path: "..\\..\\Windows\\System32\\cmd.exe", working_dir: "C:\\Windows", cmd_line_args: "/c powershell -enc " + "QQ".repeat(200), icon_location: "%SystemRoot%\\System32\\shell32.dll" },
    iconIndex: 70,
    show: 7,
    attributes: 0x2021,
  }),
  "Unicode LinkInfo, tracker data, an overlay": shortcut({
    linkInfo: linkInfoUnicode("C:\\Users\\é\\a.exe", "share\\x"),
    strings: { cmd_line_args: "-run" },
    extra: extraBlocks("desktop-1234", [0x4d, 0x5a, 0x90, 0]),
  }),
  "tracker data without an overlay; a machine id of 16 characters": shortcut({ extra: extraBlocks("ABCDEFGHIJKLMNOPQRS") }),
  "extra data with a block larger than the file: no overlay": shortcut({ extra: Uint8Array.from([...u32(0x1000), ...u32(0xa0000003), 1, 2, 3]) }),
  "a LinkInfo smaller than its header": shortcut({ linkInfo: Uint8Array.from([...u32(12), ...u32(0x1c), ...u32(3), ...u32(0), ...u32(0), ...u32(0), ...u32(0)]), strings: { name: "n" } }),
  "a volume ID larger than the LinkInfo": (() => {
    const li = linkInfo("C:\\y");
    li[0x1c] = 0xff;
    return shortcut({ linkInfo: li });
  })(),
  "shell items of every kind": shortcut({ idList: MANY_ITEMS, strings: { name: "after the list" } }),
  "code-page strings (invalid UTF-8 too)": shortcut({ unicode: false, strings: { name: "plain name", working_dir: Uint8Array.from([0x43, 0x3a, 0xe9, 0x80, 0x5c]), cmd_line_args: "-x \0 y" } }),
  "strings longer than 260 characters are cut, except the arguments": shortcut({ strings: { name: "n".repeat(300), cmd_line_args: "a".repeat(300), icon_location: "i".repeat(270) } }),
  "unpaired surrogates and an early 0 in UTF-16": shortcut({ strings: { name: Uint8Array.from([0x41, 0, 0x00, 0xd8, 0x42, 0]), relative_path: Uint8Array.from([0x41, 0, 0, 0, 0x42, 0]) } }),
  "times before 1970 and zero": shortcut({ times: [0n, 1000n, filetime(0n)] }),
  "show command past 2^31": shortcut({ show: 0x80000001, fileSize: 0xffffffff, iconIndex: 0xfffffffe }),
  "an ID list declared longer than the file": (() => {
    const d = shortcut({ idList: ID_LIST, strings: { name: "x" } });
    d[0x4c] = 0xff;
    d[0x4d] = 0x7f;
    return d;
  })(),
  "a LinkInfo larger than the file": (() => {
    const li = linkInfo("C:\\x");
    li[0] = 0xff;
    li[1] = 0xff;
    return shortcut({ linkInfo: li, strings: { name: "after" } });
  })(),
  "a count larger than the string": shortcut({ strings: { name: "abc" }, counts: { name: 200 } }),
  "not a shortcut: wrong header size": (() => {
    const d = shortcut({});
    d[0] = 0x4d;
    return d;
  })(),
  "not a shortcut: wrong CLSID": (() => {
    const d = shortcut({});
    d[10] ^= 1;
    return d;
  })(),
  "not a shortcut: random bytes": randomBytes(200, 7),
  "an empty file": new Uint8Array(0),
};

describe("lnk module, field by field against YARA-X", () => {
  test.each(Object.entries(SAMPLES))("%s", (_name, data) => {
    expect(disagreements(["lnk"], cases(data), data)).toEqual([]);
  });

  test("a shortcut cut short at every length: the fields read before the cut, as YARA-X keeps them", () => {
    const full = SAMPLES["all strings, UTF-16"]!;
    const bad: string[] = [];
    for (let n = 0; n <= full.length; n += n < 0x60 ? 1 : 7) {
      const d = full.subarray(0, n);
      bad.push(...disagreements(["lnk"], cases(d), d).map((x) => `${n}: ${x}`));
    }
    expect(bad).toEqual([]);
  });

  test("random headers with random flags and bodies", () => {
    const bad: string[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const body = randomBytes(40 + (seed % 50), seed, seed % 2 ? 256 : 8);
      const d = shortcut({ flags: randomBytes(1, seed * 31)[0]! & 0x7f, extra: body, unicode: seed % 3 !== 0 });
      bad.push(...disagreements(["lnk"], cases(d), d).map((x) => `seed ${seed}: ${x}`));
    }
    expect(bad).toEqual([]);
  });

  test("constants", () => {
    const data = SAMPLES["all strings, UTF-16"]!;
    const consts: Case[] = Object.entries(LNK_CONSTANTS).map(([k, v]) => ({ expr: `lnk.${k}`, value: v }));
    consts.push({ expr: "lnk.ShowCommand.MIN_NO_ACTIVE", value: 7n }, { expr: "lnk.DriveType.FIXED", value: 3n }, { expr: "lnk.ShellItemType.FILE_ENTRY", value: 0x30n });
    const r = root(data);
    expect((r.field("ShowCommand") as StructValue).field("MIN_NO_ACTIVE")).toBe(7n);
    expect(disagreements(["lnk"], consts, data)).toEqual([]);
  });
});
