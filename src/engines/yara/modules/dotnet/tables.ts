// The `#~` stream (ECMA-335 II.24.2.6): its header, then the metadata tables one after the other,
// read as YARA-X 1.20 reads them: at most 15000 rows per table (the count is clipped, and the
// offsets of the tables after it follow the clipped count), index sizes from those counts, and the
// first row that does not read (too short, or a coded index whose tag names no table) ends the
// reading: the tables before it are kept, that one and the rest are empty.

export const MAX_ROWS_PER_TABLE = 15000;

/** Table numbers (II.22). */
export const T = {
  Module: 0x00,
  TypeRef: 0x01,
  TypeDef: 0x02,
  FieldPtr: 0x03,
  Field: 0x04,
  MethodDefPtr: 0x05,
  MethodDef: 0x06,
  ParamPtr: 0x07,
  Param: 0x08,
  InterfaceImpl: 0x09,
  MemberRef: 0x0a,
  Constant: 0x0b,
  CustomAttribute: 0x0c,
  FieldMarshal: 0x0d,
  DeclSecurity: 0x0e,
  ClassLayout: 0x0f,
  FieldLayout: 0x10,
  StandaloneSig: 0x11,
  EventMap: 0x12,
  EventPtr: 0x13,
  Event: 0x14,
  PropertyMap: 0x15,
  PropertyPtr: 0x16,
  Property: 0x17,
  MethodSemantics: 0x18,
  MethodImpl: 0x19,
  ModuleRef: 0x1a,
  TypeSpec: 0x1b,
  ImplMap: 0x1c,
  FieldRva: 0x1d,
  EncLog: 0x1e,
  EncMap: 0x1f,
  Assembly: 0x20,
  AssemblyProcessor: 0x21,
  AssemblyOs: 0x22,
  AssemblyRef: 0x23,
  AssemblyRefProcessor: 0x24,
  AssemblyRefOs: 0x25,
  File: 0x26,
  ExportedType: 0x27,
  ManifestResource: 0x28,
  NestedClass: 0x29,
  GenericParam: 0x2a,
  MethodSpec: 0x2b,
  GenericParamConstraint: 0x2c,
  /** A tag that YARA-X maps to no table (its row count is 0). */
  Null: 0xff,
} as const;
export type T = (typeof T)[keyof typeof T];

// Coded index kinds (II.24.2.6): the tables a tag selects, in tag order.
export const TYPE_DEF_OR_REF: T[] = [T.TypeDef, T.TypeRef, T.TypeSpec];
const RESOLUTION_SCOPE: T[] = [T.Module, T.ModuleRef, T.AssemblyRef, T.TypeRef];
const MEMBER_REF_PARENT: T[] = [T.TypeDef, T.TypeRef, T.ModuleRef, T.MethodDef, T.TypeSpec];
const HAS_CONSTANT: T[] = [T.Field, T.Param, T.Property];
// YARA-X puts Null where the specification has the Permission table, which has no number.
const HAS_CUSTOM_ATTRIBUTE: T[] = [
  T.MethodDef, T.Field, T.TypeRef, T.TypeDef, T.Param, T.InterfaceImpl, T.MemberRef, T.Module, T.Null, T.Property, T.Event,
  T.StandaloneSig, T.ModuleRef, T.TypeSpec, T.Assembly, T.AssemblyRef, T.File, T.ExportedType, T.ManifestResource,
  T.GenericParam, T.GenericParamConstraint, T.MethodSpec,
];
const CUSTOM_ATTRIBUTE_TYPE: T[] = [T.Null, T.Null, T.MethodDef, T.MemberRef, T.Null];
const HAS_FIELD_MARSHAL: T[] = [T.Field, T.Param];
const HAS_DECL_SECURITY: T[] = [T.TypeDef, T.MethodDef, T.Assembly];
const HAS_SEMANTICS: T[] = [T.Event, T.Property];
const METHOD_DEF_OR_REF: T[] = [T.MethodDef, T.MemberRef];
const MEMBER_FORWARDED: T[] = [T.Field, T.MethodDef];
const IMPLEMENTATION: T[] = [T.File, T.AssemblyRef, T.ExportedType];
const RESOURCE_IMPLEMENTATION: T[] = [T.File, T.AssemblyRef, T.Null];
const TYPE_OR_METHOD_DEF: T[] = [T.TypeDef, T.MethodDef];

/** An index into one of several tables: the table and the row, 0-based (1-based minus one, saturating). */
export interface Coded {
  table: T;
  index: number;
}

/** CodedIndex::from_u32: undefined when the tag selects no table (the row does not read). */
export function decodeCoded(tables: T[], v: number): Coded | undefined {
  const bits = Math.ceil(Math.log2(tables.length));
  const tag = v & ((1 << bits) - 1);
  if (tag >= tables.length) return undefined;
  return { table: tables[tag]!, index: Math.max(0, (v >>> bits) - 1) };
}

/** A column of a row. */
type Col =
  | { k: "u8" }
  | { k: "u16" }
  | { k: "u32" }
  | { k: "skip"; n: number }
  /** The Constant row's type byte: only ECMA-335 element types read. */
  | { k: "elem" }
  | { k: "str" }
  | { k: "guid" }
  | { k: "blob" }
  | { k: "tbl"; t: T }
  | { k: "coded"; tables: T[] };

const u8: Col = { k: "u8" };
const u16: Col = { k: "u16" };
const u32: Col = { k: "u32" };
const str: Col = { k: "str" };
const guid: Col = { k: "guid" };
const blob: Col = { k: "blob" };
const tbl = (t: T): Col => ({ k: "tbl", t });
const coded = (tables: T[]): Col => ({ k: "coded", tables });
const skip = (n: number): Col => ({ k: "skip", n });

/** The tables in stream order, with their columns; the tables after GenericParamConstraint are not read. */
const LAYOUT: [T, Col[]][] = [
  [T.Module, [u16, str, guid, guid, guid]],
  [T.TypeRef, [coded(RESOLUTION_SCOPE), str, str]],
  [T.TypeDef, [u32, str, str, coded(TYPE_DEF_OR_REF), tbl(T.Field), tbl(T.MethodDef)]],
  [T.FieldPtr, [tbl(T.Field)]],
  [T.Field, [u16, str, blob]],
  [T.MethodDefPtr, [tbl(T.MethodDef)]],
  [T.MethodDef, [u32, u16, u16, str, blob, tbl(T.Param)]],
  [T.ParamPtr, [tbl(T.Param)]],
  [T.Param, [u16, u16, str]],
  [T.InterfaceImpl, [tbl(T.TypeDef), coded(TYPE_DEF_OR_REF)]],
  [T.MemberRef, [coded(MEMBER_REF_PARENT), str, blob]],
  [T.Constant, [{ k: "elem" }, u8, coded(HAS_CONSTANT), blob]],
  [T.CustomAttribute, [coded(HAS_CUSTOM_ATTRIBUTE), coded(CUSTOM_ATTRIBUTE_TYPE), blob]],
  [T.FieldMarshal, [coded(HAS_FIELD_MARSHAL), blob]],
  [T.DeclSecurity, [u16, coded(HAS_DECL_SECURITY), blob]],
  [T.ClassLayout, [u16, u32, tbl(T.TypeDef)]],
  [T.FieldLayout, [u32, tbl(T.Field)]],
  [T.StandaloneSig, [blob]],
  [T.EventMap, [tbl(T.TypeDef), tbl(T.Event)]],
  [T.EventPtr, [tbl(T.Event)]],
  [T.Event, [u16, str, coded(TYPE_DEF_OR_REF)]],
  [T.PropertyMap, [tbl(T.TypeDef), tbl(T.Property)]],
  [T.PropertyPtr, [tbl(T.Property)]],
  [T.Property, [u16, str, blob]],
  [T.MethodSemantics, [u16, tbl(T.MethodDef), coded(HAS_SEMANTICS)]],
  [T.MethodImpl, [tbl(T.TypeDef), coded(METHOD_DEF_OR_REF), coded(METHOD_DEF_OR_REF)]],
  [T.ModuleRef, [str]],
  [T.TypeSpec, [blob]],
  [T.ImplMap, [u16, coded(MEMBER_FORWARDED), str, tbl(T.ModuleRef)]],
  [T.FieldRva, [u32, tbl(T.Field)]],
  [T.EncLog, [skip(8)]],
  [T.EncMap, [skip(4)]],
  [T.Assembly, [u32, u16, u16, u16, u16, u32, blob, str, str]],
  [T.AssemblyProcessor, [skip(4)]],
  [T.AssemblyOs, [skip(12)]],
  [T.AssemblyRef, [u16, u16, u16, u16, u32, blob, str, str, blob]],
  [T.AssemblyRefProcessor, [u32, tbl(T.AssemblyRef)]],
  [T.AssemblyRefOs, [u32, u32, u32, tbl(T.AssemblyRef)]],
  [T.File, [u32, str, blob]],
  [T.ExportedType, [u32, u32, str, str, coded(IMPLEMENTATION)]],
  [T.ManifestResource, [u32, u32, str, coded(RESOURCE_IMPLEMENTATION)]],
  [T.NestedClass, [tbl(T.TypeDef), tbl(T.TypeDef)]],
  [T.GenericParam, [u16, u16, coded(TYPE_OR_METHOD_DEF), str]],
  [T.MethodSpec, [coded(METHOD_DEF_OR_REF), blob]],
  [T.GenericParamConstraint, [tbl(T.GenericParam), coded(TYPE_DEF_OR_REF)]],
];

/** The element types II.23.1.16 names (YARA-X's Type enum): a Constant row with another type does not read. */
export const ELEMENT_TYPES = new Set([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
  0x15, 0x16, 0x18, 0x19, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x40, 0x41, 0x45,
]);

/** A cell: a number, or a decoded coded index. */
export type Cell = number | Coded;
export type Row = Cell[];

export interface Tables {
  /** Row counts per table number (clipped), all 0 when the header did not read. */
  rows: number[];
  /** Rows of each table read; absent = empty. */
  table: Map<T, Row[]>;
}

/** Reads the tables of a `#~` stream; never throws. */
export function parseTables(s: Uint8Array): Tables {
  const out: Tables = { rows: new Array(64).fill(0), table: new Map() };
  if (s.length < 24) return out;
  const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
  const heapSizes = s[6]!;
  const validLo = dv.getUint32(8, true);
  const validHi = dv.getUint32(12, true);
  let present = 0;
  for (let i = 0; i < 64; i++) if ((i < 32 ? validLo >>> i : validHi >>> (i - 32)) & 1) present++;
  let p = 24;
  if (p + 4 * present > s.length) return out;
  const rows = new Array<number>(64).fill(0);
  for (let i = 0; i < 64; i++) {
    if ((i < 32 ? validLo >>> i : validHi >>> (i - 32)) & 1) {
      rows[i] = Math.min(dv.getUint32(p, true), MAX_ROWS_PER_TABLE);
      p += 4;
    }
  }
  out.rows = rows;
  const strSize = heapSizes & 1 ? 4 : 2;
  const guidSize = heapSizes & 2 ? 4 : 2;
  const blobSize = heapSizes & 4 ? 4 : 2;
  const count = (t: T) => (t === T.Null ? 0 : rows[t]!);
  const codedSize = (tables: T[]) => {
    const bits = Math.ceil(Math.log2(tables.length));
    const max = Math.max(...tables.map(count));
    return max <= 2 ** (16 - bits) ? 2 : 4;
  };
  const read = (n: number): number | undefined => {
    if (p + n > s.length) return undefined;
    const v = n === 1 ? s[p]! : n === 2 ? dv.getUint16(p, true) : dv.getUint32(p, true);
    p += n;
    return v;
  };
  for (const [t, cols] of LAYOUT) {
    const n = rows[t]!;
    if (n === 0) continue;
    // Column widths are fixed for the whole table.
    const widths = cols.map((c) => {
      switch (c.k) {
        case "u8":
        case "elem":
          return 1;
        case "u16":
          return 2;
        case "u32":
          return 4;
        case "skip":
          return c.n;
        case "str":
          return strSize;
        case "guid":
          return guidSize;
        case "blob":
          return blobSize;
        case "tbl":
          return rows[c.t]! > 65535 ? 4 : 2;
        case "coded":
          return codedSize(c.tables);
        default: {
          const never: never = c;
          return never;
        }
      }
    });
    const list: Row[] = [];
    for (let r = 0; r < n; r++) {
      const row: Row = [];
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i]!;
        const w = widths[i]!;
        if (c.k === "skip") {
          if (p + w > s.length) return out;
          p += w;
          row.push(0);
          continue;
        }
        const v = read(w);
        if (v === undefined) return out;
        if (c.k === "elem" && !ELEMENT_TYPES.has(v)) return out;
        if (c.k === "tbl") row.push(Math.max(0, v - 1));
        else if (c.k === "coded") {
          const d = decodeCoded(c.tables, v);
          if (!d) return out;
          row.push(d);
        } else row.push(v);
      }
      list.push(row);
    }
    out.table.set(t, list);
  }
  return out;
}
