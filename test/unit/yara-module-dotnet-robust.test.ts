// The dotnet module on damaged assemblies: real ones (from .cache/dotnet, see
// yara-module-dotnet.test.ts) cut short inside each part of the metadata and with bytes changed in
// the metadata root, the stream headers, the table header (row counts, heap sizes, present
// tables) and each heap. ring3 never throws, and every field it reads agrees with YARA-X on the
// same damaged bytes; thousands more random mutations are checked for not throwing alone.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { UNKNOWN, type ArrayValue, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { dotnet } from "../../src/engines/yara/modules/dotnet";
import { bytesSource } from "../../src/util/bytesource";
import { randomBytes } from "./yara-module-oracle";
import { checkDotnet, dotnetCases } from "./yara-module-dotnet-fixtures";

const DIR = process.env.RING3_DOTNET_DIR ?? path.resolve(__dirname, "../../.cache/dotnet");
const SMALL = { classes: 4, methods: 1, items: 4 };

interface Stream {
  name: string;
  offset: number;
  size: number;
}

function streams(data: Uint8Array): Stream[] {
  const r = dotnet.load(bytesSource(data));
  const a = r.field("streams") as ArrayValue;
  const out: Stream[] = [];
  for (let i = 0; i < (a.length() as number); i++) {
    const s = a.at(i) as StructValue;
    out.push({ name: new TextDecoder().decode(s.field("name") as Uint8Array), offset: Number(s.field("offset")), size: Number(s.field("size")) });
  }
  return out;
}

/** Reads every field (lists whole), as a rule set could: must not throw. */
function touchAll(v: Value, depth = 0): void {
  if (depth > 6 || typeof v !== "object" || v === null || v instanceof Uint8Array) return;
  if (v.kind === "struct") {
    for (const f of ["is_dotnet", "module_name", "version", "typelib", "number_of_classes", "number_of_user_strings", "number_of_resources", "streams", "guids", "constants", "assembly", "assembly_refs", "resources", "classes", "field_offsets", "user_strings", "modulerefs", "name", "fullname", "namespace", "base_types", "methods", "parameters", "generic_parameters", "return_type", "type", "version", "major", "culture", "public_key_or_token", "offset", "length"])
      touchAll(v.field(f), depth + 1);
  } else if (v.kind === "array") {
    const n = v.length();
    if (typeof n === "number") for (let i = 0; i < n; i++) touchAll(v.at(i), depth + 1);
  }
}

function variants(data: Uint8Array): [string, Uint8Array][] {
  const s = streams(data);
  const out: [string, Uint8Array][] = [];
  const at = (name: string) => s.find((x) => x.name === name)!;
  // The metadata root ("BSJB"): its version string's length, then the stream count and headers.
  const md = Buffer.from(data).indexOf("BSJB");
  const count = md + 16 + (data[md + 12]! | (data[md + 13]! << 8)) + 2;
  /** Offset of the size field of the named stream's header. */
  const headerSize = (name: string) => {
    let p = count + 2;
    for (const x of s) {
      if (x.name === name) return p + 4;
      p += 8 + Math.ceil((x.name.length + 1) / 4) * 4;
    }
    throw new Error(name);
  };
  const set = (label: string, edits: [number, number][]) => {
    const d = data.slice();
    for (const [o, b] of edits) if (o >= 0 && o < d.length) d[o] = b;
    out.push([label, d]);
  };
  for (const x of s) {
    out.push([`cut 3 bytes into ${x.name}`, data.slice(0, x.offset + 3)]);
    out.push([`cut in the middle of ${x.name}`, data.slice(0, x.offset + (x.size >> 1))]);
    out.push([`cut 1 byte before the end of ${x.name}`, data.slice(0, x.offset + x.size - 1)]);
  }
  out.push(["cut in the metadata root", data.slice(0, md + 20)]);
  const t = at("#~").offset;
  set("heap sizes all 4 bytes", [[t + 6, 0x07]]);
  set("no heap of 4 bytes", [[t + 6, 0x00]]);
  set("a present table dropped from the valid mask", [[t + 8, data[t + 8]! & ~0x04]]);
  set("an unknown table added to the valid mask", [[t + 15, data[t + 15]! | 0x80]]);
  set("the Module table with 70000 rows", [[t + 24, 0x70], [t + 25, 0x11], [t + 26, 0x01]]);
  set("the TypeRef table with 20000 rows", [[t + 28, 0x20], [t + 29, 0x4e]]);
  set("the TypeRef table with 1 row", [[t + 28, 1], [t + 29, 0]]);
  set("stream count 300", [[count, 0x2c], [count + 1, 0x01]]);
  set("stream count 1 more than the headers", [[count, s.length + 1]]);
  set("a version string of 256 bytes", [[md + 12, 0], [md + 13, 1]]);
  set("the #Strings stream past the end of the file", [[headerSize("#Strings") + 3, 0x7f]]);
  set("the #Blob stream 1 byte short", (() => {
    const h = headerSize("#Blob");
    const n = at("#Blob").size - 1;
    return [[h, n & 0xff], [h + 1, (n >> 8) & 0xff], [h + 2, (n >> 16) & 0xff]] as [number, number][];
  })());
  const us = at("#US");
  set("the first user string longer than the heap", [[us.offset + 1, 0xc0], [us.offset + 2, 0xff]]);
  set("the #US stream's size 1 byte short", (() => {
    const h = headerSize("#US");
    const n = us.size - 1;
    return [[h, n & 0xff], [h + 1, (n >> 8) & 0xff], [h + 2, (n >> 16) & 0xff]] as [number, number][];
  })());
  set("the #GUID stream 20 bytes long", [[headerSize("#GUID"), 20]]);
  // The #US heap's entries: where each length byte is, to cut the heap inside the last string, to
  // leave half a two-byte length at its end, and to put a length byte that does not read mid-heap.
  const lengths: number[] = [];
  for (let p = us.offset; p < us.offset + us.size && data[p]! < 0x80; p += 1 + data[p]!) lengths.push(p);
  const last = lengths.filter((p) => data[p]! >= 3).at(-1)!;
  const resize = (n: number): [number, number][] => {
    const h = headerSize("#US");
    return [[h, n & 0xff], [h + 1, (n >> 8) & 0xff], [h + 2, (n >> 16) & 0xff], [h + 3, 0]];
  };
  set("the #US heap ending inside its last string", resize(last + 2 - us.offset));
  set("the #US heap ending in half a 2-byte length", [...resize(last + 1 - us.offset), [last, 0x81]]);
  set("a #US length byte that does not read (0xe0) mid-heap", [[lengths[lengths.length >> 1]!, 0xe0]]);
  for (let i = 0; i < 12; i++) {
    const target = s[i % s.length]!;
    const r = randomBytes(6, 1000 + i);
    const o = target.offset + (((r[0]! << 8) | r[1]!) % Math.max(1, Math.min(target.size, 512)));
    set(`random bytes in ${target.name} at +${o - target.offset}`, [[o, r[2]!], [o + 1, r[3]!], [o + 7, r[4]!]]);
  }
  return out;
}

const FILES = ["Mono.Cecil.Rocks.dll", "Be.Windows.Forms.HexBox.dll"].map((f) => path.join(DIR, f));

describe("dotnet module on damaged assemblies", () => {
  for (const file of FILES) {
    it(`agrees with YARA-X on ${path.basename(file)} cut short and altered`, () => {
      expect(fs.existsSync(file), `${file}: run make test-tools`).toBe(true);
      const data = new Uint8Array(fs.readFileSync(file));
      const bad: string[] = [];
      for (const [label, v] of variants(data)) {
        const r = dotnet.load(bytesSource(v));
        touchAll(r);
        const cases = dotnetCases(r, SMALL);
        expect(cases.filter((c) => c.value === UNKNOWN).map((c) => c.expr), label).toEqual([]);
        bad.push(...checkDotnet(v, cases).map((x) => `${label}: ${x}`));
      }
      expect(bad).toEqual([]);
    }, 300_000);

    it(`never throws on 600 random mutations of ${path.basename(file)}'s metadata`, () => {
      const data = new Uint8Array(fs.readFileSync(file));
      const s = streams(data);
      const lo = Math.min(...s.map((x) => x.offset)) - 200;
      const hi = Math.max(...s.map((x) => x.offset + x.size));
      for (let i = 0; i < 600; i++) {
        const d = data.slice();
        const r = randomBytes(12, 7 + i);
        for (let k = 0; k < 4; k++) d[lo + ((r[k * 3]! << 16) | (r[k * 3 + 1]! << 8) | r[k * 3 + 2]!) % (hi - lo)] = r[(k * 5) % 12]!;
        touchAll(dotnet.load(bytesSource(i % 3 === 0 ? d.subarray(0, lo + (i * 97) % (hi - lo)) : d)));
      }
    }, 300_000);
  }
});
