// What YARA-X 1.20 makes of a .NET assembly's metadata: the heaps (#Strings, #Blob, #US, #GUID),
// the tables' rows turned into names, and the user types with their methods, whose parameter and
// return types are written from the signature blobs the way YARA-X writes them ("List<string>",
// "int[0...3]", "FnPtr<void(int)>"). Every step that YARA-X lets fail gives the same absence here.
import { type Metadata, streamBytes, TooLarge } from "./metadata";
import { decodeCoded, parseTables, T, TYPE_DEF_OR_REF, type Coded, type Row, type Tables } from "./tables";

const MAX_PARAMS = 1000;
const MAX_ARRAY_DIMENSION = 50;
const MAX_RECURSION = 16;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** II.23.2 compressed unsigned integer at `p`: [value, next], or undefined. */
export function varUint(b: Uint8Array, p: number): [number, number] | undefined {
  const x = b[p];
  if (x === undefined) return undefined;
  if ((x & 0x80) === 0) return [x, p + 1];
  if ((x & 0xc0) === 0x80) return p + 2 <= b.length ? [((x & 0x3f) << 8) | b[p + 1]!, p + 2] : undefined;
  if ((x & 0xe0) === 0xc0) return p + 4 <= b.length ? [(((x & 0x1f) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0, p + 4] : undefined;
  return undefined;
}

/** A string value in UTF-8; names are JS strings here (valid UTF-8 both ways). */
const enc = new TextEncoder();
export const bytesOf = (s: string): Uint8Array => enc.encode(s);

export interface Version {
  major: number;
  minor: number;
  build: number;
  revision: number;
}

export interface Method {
  name: string;
  genericParams: string[];
  params: { name: string; type: string }[];
  returnType: string | undefined;
  visibility: string;
  abstract: boolean;
  static: boolean;
  virtual: boolean;
  final: boolean;
}

export interface Class {
  fullName: string | undefined;
  baseTypes: string[];
  visibility: string;
  type: string;
  abstract: boolean;
  sealed: boolean;
  genericParams: string[];
  methods: () => Method[];
}

class InvalidType extends Error {}

/**
 * The state of one signature's reading: the nesting depth (YARA-X stops at 16), and the characters
 * of type names written so far. TypeSpecs that name TypeSpecs grow a name geometrically with the
 * depth; past MAX_TYPE_CHARS ring3 stops (TooLarge: the field is UNKNOWN) instead of building it.
 */
interface Depth {
  n: number;
  chars: number;
}
const MAX_TYPE_CHARS = 1 << 16;

/** A position in a signature blob; every read past its end is InvalidType. */
class Cursor {
  constructor(
    private readonly b: Uint8Array,
    private p: number,
  ) {}

  u8(): number {
    const x = this.b[this.p];
    if (x === undefined) throw new InvalidType();
    this.p++;
    return x;
  }

  /** A compressed unsigned integer (II.23.2). */
  uint(): number {
    const b = this.b;
    const x = this.u8();
    if ((x & 0x80) === 0) return x;
    if ((x & 0xc0) === 0x80) return ((x & 0x3f) << 8) | this.u8();
    if ((x & 0xe0) === 0xc0) {
      if (this.p + 3 > b.length) throw new InvalidType();
      const v = (((x & 0x1f) << 24) | (b[this.p]! << 16) | (b[this.p + 1]! << 8) | b[this.p + 2]!) >>> 0;
      this.p += 3;
      return v;
    }
    throw new InvalidType();
  }

  /** A compressed signed integer (the lower bounds of arrays). */
  sint(): number {
    const start = this.p;
    const x = this.uint();
    const width = this.p - start;
    const neg = width === 1 ? 0x40 : width === 2 ? 0x2000 : 0x10000000;
    return x & 1 ? (x >>> 1) - neg : x >>> 1;
  }
}

const TYPEDEF_VISIBILITY = ["internal", "public", "public", "private", "protected", "internal", "private protected", "protected internal"];
const METHOD_VISIBILITY = ["private", "private", "private protected", "internal", "protected", "protected internal", "public", "private"];

/** Rust's rsplit_once('`') on a type name: the name without its generic arity. */
function plainName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const i = name.lastIndexOf("`");
  return i < 0 ? name : name.slice(0, i);
}

export class Assembly {
  readonly t: Tables;
  private readonly strings: Uint8Array | undefined;
  private readonly blobs: Uint8Array | undefined;
  private genericByOwner: Map<number, string[]> | undefined;
  private enclosingOf: Map<number, number> | undefined;
  private readonly names = new Map<number, string | undefined>();

  constructor(readonly m: Metadata) {
    const tilde = streamBytes(m, m.tilde);
    this.t = tilde ? parseTables(tilde) : { rows: new Array(64).fill(0), table: new Map() };
    this.strings = streamBytes(m, m.strings);
    this.blobs = streamBytes(m, m.blob);
  }

  rows(t: T): Row[] {
    return this.t.table.get(t) ?? [];
  }

  /** A #Strings entry: up to its NUL, which must be in the stream, and valid UTF-8. */
  str(index: number): string | undefined {
    if (this.names.has(index)) return this.names.get(index);
    const v = this.readStr(index);
    this.names.set(index, v);
    return v;
  }

  private readStr(index: number): string | undefined {
    const s = this.strings;
    if (!s || index > s.length) return undefined;
    const z = s.indexOf(0, index);
    if (z < 0) return undefined;
    try {
      return utf8.decode(s.subarray(index, z));
    } catch {
      return undefined;
    }
  }

  /** A #Blob entry: its compressed length, then that many bytes, all inside the stream. */
  blob(index: number): Uint8Array | undefined {
    const b = this.blobs;
    if (!b || index > b.length) return undefined;
    const l = varUint(b, index);
    if (!l) return undefined;
    const [len, at] = l;
    return at + len <= b.length ? b.subarray(at, at + len) : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Top-level fields

  moduleName(): string | undefined {
    const first = this.rows(T.Module)[0];
    return first ? this.str(first[1] as number) : undefined;
  }

  assembly(): { name: string | undefined; culture: string | undefined; version: Version } | undefined {
    const r = this.rows(T.Assembly)[0];
    if (!r) return undefined;
    const n = r as number[];
    const culture = this.str(n[8]!);
    return { name: this.str(n[7]!), culture: culture === "" ? undefined : culture, version: { major: n[1]!, minor: n[2]!, build: n[3]!, revision: n[4]! } };
  }

  assemblyRefs(): { name: string | undefined; publicKeyOrToken: Uint8Array | undefined; version: Version }[] {
    return this.rows(T.AssemblyRef).map((r) => {
      const n = r as number[];
      const pk = this.blob(n[5]!);
      return { name: this.str(n[6]!), publicKeyOrToken: pk && pk.length > 0 ? pk : undefined, version: { major: n[0]!, minor: n[1]!, build: n[2]!, revision: n[3]! } };
    });
  }

  moduleRefs(): string[] {
    return this.rows(T.ModuleRef).flatMap((r) => {
      const s = this.str(r[0] as number);
      return s === undefined ? [] : [s];
    });
  }

  /** String constants (Constant rows of type ELEMENT_TYPE_STRING with a readable blob). */
  constants(): Uint8Array[] {
    return this.rows(T.Constant).flatMap((r) => {
      if (r[0] !== 0x0e) return [];
      const v = this.blob(r[3] as number);
      return v ? [v] : [];
    });
  }

  fieldOffsets(): number[] {
    return this.rows(T.FieldRva).flatMap((r) => {
      const o = this.m.pe.rvaToOffset(r[0] as number);
      return o === undefined ? [] : [o];
    });
  }

  /** Manifest resources: name, and offset and length of the data when it is in this file. */
  resources(): { name: string | undefined; offset: number | undefined; length: number | undefined }[] {
    const raw = this.m.resources;
    return this.rows(T.ManifestResource).map((r) => {
      const at = r[0] as number;
      const impl = r[3] as Coded;
      const name = this.str(r[2] as number);
      if (!raw || impl.table !== T.File || impl.index !== 0) return { name, offset: undefined, length: undefined };
      if (at + 4 > raw.length) return { name, offset: undefined, length: undefined };
      const length = raw.file.uint(raw.base + at, 4, false)!;
      const start = Math.min(0xffffffff, at + 4);
      const data = Math.min(0xffffffff, start + length) <= raw.length ? length : undefined;
      const base = this.m.resourcesOffset;
      return { name, offset: base === undefined ? undefined : Math.min(0xffffffff, base + start), length: data };
    });
  }

  /** The first GuidAttribute on the assembly (a MemberRef of a TypeRef so named): its string. */
  typelib(): Uint8Array | undefined {
    const memberRefs = this.rows(T.MemberRef);
    const typeRefs = this.rows(T.TypeRef);
    const attr = this.rows(T.CustomAttribute).find((a) => {
      const parent = a[0] as Coded;
      const type = a[1] as Coded;
      if (parent.table !== T.Assembly || type.table !== T.MemberRef) return false;
      const mref = memberRefs[type.index];
      if (!mref) return false;
      const cls = mref[0] as Coded;
      if (cls.table !== T.TypeRef) return false;
      const tref = typeRefs[cls.index];
      return tref !== undefined && this.str(tref[1] as number) === "GuidAttribute";
    });
    if (!attr) return undefined;
    const v = this.blob(attr[2] as number);
    if (!v || v.length < 3) return undefined;
    const n = v[2]!;
    if (3 + n > v.length) return undefined;
    const s = v.subarray(3, 3 + n);
    try {
      utf8.decode(s);
    } catch {
      return undefined;
    }
    return s;
  }

  // -------------------------------------------------------------------------------------------
  // User types

  private generics(table: T, index: number): string[] {
    if (!this.genericByOwner) {
      const map = new Map<number, string[]>();
      for (const g of this.rows(T.GenericParam)) {
        const owner = g[2] as Coded;
        const name = this.str(g[3] as number);
        if (name === undefined) continue;
        const k = owner.table * 0x1000000 + owner.index;
        const l = map.get(k);
        if (l) l.push(name);
        else map.set(k, [name]);
      }
      this.genericByOwner = map;
    }
    return this.genericByOwner.get(table * 0x1000000 + index) ?? [];
  }

  /** Each nested type's enclosing type: the first NestedClass row for it that does not name itself. */
  private enclosing(): Map<number, number> {
    if (!this.enclosingOf) {
      const map = new Map<number, number>();
      for (const c of this.rows(T.NestedClass)) {
        const [inner, outer] = c as number[];
        if (inner !== outer && !map.has(inner!)) map.set(inner!, outer!);
      }
      this.enclosingOf = map;
    }
    return this.enclosingOf;
  }

  private typeDefName(r: Row): string | undefined {
    const s = this.str(r[1] as number);
    return s === "" ? undefined : s;
  }

  private typeDefNamespace(r: Row): string | undefined {
    const s = this.str(r[2] as number);
    return s === "" ? undefined : s;
  }

  /** A TypeDef's full name: enclosing types first, at most 16 parts (names and namespaces). */
  typeFullName(index: number): string | undefined {
    const defs = this.rows(T.TypeDef);
    const parts: string[] = [];
    let next: number | undefined = index;
    while (next !== undefined) {
      const idx: number = next;
      next = undefined;
      const d = defs[idx];
      if (!d) return undefined;
      if (parts.length >= MAX_RECURSION) return undefined;
      const name = plainName(this.typeDefName(d));
      if (name === undefined) return undefined;
      parts.push(name);
      const ns = this.typeDefNamespace(d);
      if (ns !== undefined) parts.push(ns);
      const vis = (d[0] as number) & 7;
      if (vis >= 2) next = this.enclosing().get(idx);
    }
    return parts.reverse().join(".");
  }

  private typeDefOrRefName(c: Coded, depth: Depth, classGenerics: string[], methodGenerics: string[]): string | undefined {
    switch (c.table) {
      case T.TypeDef:
        return this.typeFullName(c.index);
      case T.TypeRef: {
        const r = this.rows(T.TypeRef)[c.index];
        if (!r) return undefined;
        const ns = this.str(r[2] as number);
        const name = plainName(this.str(r[1] as number));
        if (ns !== undefined && name !== undefined) return `${ns}.${name}`;
        return name;
      }
      case T.TypeSpec: {
        const r = this.rows(T.TypeSpec)[c.index];
        const data = r ? this.blob(r[0] as number) : undefined;
        if (!data) return undefined;
        try {
          const out: string[] = [];
          this.typeSpec(new Cursor(data, 0), out, depth, classGenerics, methodGenerics);
          return out.join("");
        } catch (e) {
          if (e instanceof InvalidType) return undefined;
          throw e;
        }
      }
      default:
        return undefined;
    }
  }

  /**
   * Writes the type at the cursor of a signature (II.23.2.12) into `out` and moves the cursor past
   * it. Throws InvalidType where YARA-X's parse_type_spec fails.
   */
  private typeSpec(c: Cursor, out: string[], depth: Depth, cg: string[], mg: string[]): void {
    if (depth.n === MAX_RECURSION) throw new InvalidType();
    const type = c.u8();
    depth.n++;
    const simple = SIMPLE[type];
    if (simple !== undefined) out.push(simple);
    else
      switch (type) {
        case 0x0f: // PTR
          out.push("Ptr<");
          this.typeSpec(c, out, depth, cg, mg);
          out.push(">");
          break;
        case 0x10: // BYREF
          out.push("ref ");
          this.typeSpec(c, out, depth, cg, mg);
          break;
        case 0x11: // VALUETYPE
        case 0x12: {
          // CLASS
          const coded = decodeCoded(TYPE_DEF_OR_REF, c.uint());
          if (!coded) throw new InvalidType();
          const name = this.typeDefOrRefName(coded, depth, cg, mg);
          if (name === undefined) throw new InvalidType();
          depth.chars += name.length;
          if (depth.chars > MAX_TYPE_CHARS) throw new TooLarge();
          out.push(name);
          break;
        }
        case 0x13: // VAR
        case 0x1e: {
          // MVAR
          const name = (type === 0x13 ? cg : mg)[c.uint()];
          if (name === undefined) throw new InvalidType();
          out.push(name);
          break;
        }
        case 0x14: {
          // ARRAY: element type, rank, sizes, lower bounds
          this.typeSpec(c, out, depth, cg, mg);
          const rank = c.uint();
          if (rank > MAX_ARRAY_DIMENSION) throw new InvalidType();
          const nSizes = c.uint();
          if (nSizes > MAX_ARRAY_DIMENSION) throw new InvalidType();
          const sizes: number[] = [];
          for (let i = 0; i < nSizes; i++) sizes.push(c.uint() | 0);
          const nBounds = c.uint();
          if (nBounds > MAX_ARRAY_DIMENSION) throw new InvalidType();
          const bounds: number[] = [];
          for (let i = 0; i < nBounds; i++) bounds.push(c.sint());
          out.push("[");
          for (let i = 0; i < rank; i++) {
            const size = sizes[i];
            const low = bounds[i];
            if (low === 0 && size !== undefined) out.push(String(size));
            else if (low !== undefined && size !== undefined && size >= 1) out.push(`${low}...${low + size - 1}`);
            else if (low !== undefined && size === undefined) out.push(`${low}...`);
            else if (low === undefined && size !== undefined) out.push(String(size));
            if (i + 1 !== rank) out.push(",");
          }
          out.push("]");
          break;
        }
        case 0x1d: // SZARRAY
          this.typeSpec(c, out, depth, cg, mg);
          out.push("[]");
          break;
        case 0x15: {
          // GENERICINST
          this.typeSpec(c, out, depth, cg, mg);
          const n = c.uint();
          if (n >= MAX_PARAMS) throw new InvalidType();
          out.push("<");
          for (let i = 1; i <= n; i++) {
            this.typeSpec(c, out, depth, cg, mg);
            if (i < n) out.push(",");
          }
          out.push(">");
          break;
        }
        case 0x1b: {
          // FNPTR: calling convention, parameter count, return type, parameters
          c.u8();
          const n = c.uint();
          if (n >= MAX_PARAMS) throw new InvalidType();
          out.push("FnPtr<");
          this.typeSpec(c, out, depth, cg, mg);
          out.push("(");
          for (let i = 1; i <= n; i++) {
            this.typeSpec(c, out, depth, cg, mg);
            if (i < n) out.push(", ");
          }
          out.push(")>");
          break;
        }
        case 0x1f: // CMOD_REQD
        case 0x20: // CMOD_OPT
          c.uint();
          this.typeSpec(c, out, depth, cg, mg);
          break;
        default:
          throw new InvalidType();
      }
    depth.n--;
  }

  private method(index: number, def: Row, classGenerics: string[]): Method | undefined {
    const sig = this.blob(def[4] as number);
    if (!sig || sig.length < 1) return undefined;
    const flags = sig[0]!;
    let p = 1;
    if (flags & 0x10) {
      const g = varUint(sig, p);
      if (!g) return undefined;
      p = g[1];
    }
    const pc = varUint(sig, p);
    if (!pc) return undefined;
    const [paramCount] = pc;
    p = pc[1];
    const methodGenerics = this.generics(T.MethodDef, index);
    const depth = { n: 0, chars: 0 };
    const ret: string[] = [];
    const params: { name: string; type: string }[] = [];
    const paramRows = this.rows(T.Param);
    const c = new Cursor(sig, p);
    try {
      this.typeSpec(c, ret, depth, classGenerics, methodGenerics);
      for (let i = 0; i < paramCount; i++) {
        const row = paramRows[(def[5] as number) + i];
        const name = (row && this.str(row[2] as number)) ?? `P_${i}`;
        const type: string[] = [];
        this.typeSpec(c, type, depth, classGenerics, methodGenerics);
        params.push({ name, type: type.join("") });
      }
    } catch (e) {
      if (e instanceof InvalidType) return undefined;
      throw e;
    }
    const name = this.str(def[3] as number);
    if (name === undefined) return undefined;
    const f = def[2] as number;
    return {
      name,
      genericParams: methodGenerics,
      params,
      // Constructors have no return type (undefined), as in YARA's module.
      returnType: name === ".ctor" || name === ".cctor" ? undefined : ret.join(""),
      visibility: METHOD_VISIBILITY[f & 7]!,
      abstract: (f & 0x400) !== 0,
      static: (f & 0x10) !== 0,
      virtual: (f & 0x40) !== 0,
      final: (f & 0x20) !== 0,
    };
  }

  /** The user types: every TypeDef with a name, except "<Module>". */
  classes(): Class[] {
    const defs = this.rows(T.TypeDef);
    const methodDefs = this.rows(T.MethodDef);
    const impls = new Map<number, Coded[]>();
    for (const r of this.rows(T.InterfaceImpl)) {
      const k = r[0] as number;
      const l = impls.get(k);
      if (l) l.push(r[1] as Coded);
      else impls.set(k, [r[1] as Coded]);
    }
    const out: Class[] = [];
    defs.forEach((d, idx) => {
      const name = this.typeDefName(d);
      if (name === undefined || name === "<Module>") return;
      const generics = this.generics(T.TypeDef, idx);
      const first = d[5] as number;
      const next = defs[idx + 1];
      // The type's methods run from its method list to the next type's (slice semantics: none when out of order or past the end).
      const end = next ? (next[5] as number) : methodDefs.length;
      const owned = first <= end && end <= methodDefs.length ? methodDefs.slice(first, end) : undefined;
      let methods: Method[] | undefined;
      const baseTypes: string[] = [];
      const extendsName = this.typeDefOrRefName(d[3] as Coded, { n: 0, chars: 0 }, generics, []);
      if (extendsName !== undefined) baseTypes.push(extendsName);
      for (const iface of impls.get(idx) ?? []) {
        const n = this.typeDefOrRefName(iface, { n: 0, chars: 0 }, generics, []);
        if (n !== undefined) baseTypes.push(n);
      }
      const flags = d[0] as number;
      out.push({
        fullName: this.typeFullName(idx),
        baseTypes,
        visibility: TYPEDEF_VISIBILITY[flags & 7]!,
        type: flags & 0x20 ? "interface" : "class",
        abstract: (flags & 0x80) !== 0,
        sealed: (flags & 0x100) !== 0,
        genericParams: generics,
        methods: () =>
          (methods ??= (owned ?? []).flatMap((m, i) => {
            const v = this.method(first + i, m, generics);
            return v ? [v] : [];
          })),
      });
    });
    return out;
  }
}

/** Element types written as a fixed name. */
const SIMPLE: Record<number, string> = {
  0x01: "void",
  0x02: "bool",
  0x03: "char",
  0x04: "sbyte",
  0x05: "byte",
  0x06: "short",
  0x07: "ushort",
  0x08: "int",
  0x09: "uint",
  0x0a: "long",
  0x0b: "ulong",
  0x0c: "float",
  0x0d: "double",
  0x0e: "string",
  0x16: "TypedReference",
  0x18: "IntPtr",
  0x19: "UintPtr",
  0x1c: "object",
};

/**
 * The #US strings of 3 bytes or more, without their final byte (II.24.2.4). A length that does not
 * read ends the list; a string cut by the heap's end empties it.
 */
export function userStrings(m: Metadata): Uint8Array[] {
  const s = streamBytes(m, m.us);
  if (!s) return [];
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < s.length) {
    const l = varUint(s, p);
    if (!l) break;
    const [len, at] = l;
    // A length past the heap's end is "incomplete" to YARA-X's parser, which then keeps none.
    if (at + len > s.length) return [];
    if (len >= 3) out.push(s.subarray(at, at + len - 1));
    p = at + len;
  }
  return out;
}

/** Up to 16 GUIDs of the #GUID stream, written as YARA-X writes them. */
export function guids(m: Metadata): Uint8Array[] {
  const s = streamBytes(m, m.guid);
  if (!s) return [];
  const out: Uint8Array[] = [];
  const h = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");
  for (let p = 0; p + 16 <= s.length && out.length < 16; p += 16) {
    const b = s.subarray(p, p + 16);
    out.push(bytesOf(`${h([b[3]!, b[2]!, b[1]!, b[0]!])}-${h([b[5]!, b[4]!])}-${h([b[7]!, b[6]!])}-${h([b[8]!, b[9]!])}-${h([...b.subarray(10, 16)])}`));
  }
  return out;
}
