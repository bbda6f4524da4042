// A small PE writer for the pe module's tests: DOS header with an optional Rich header, PE32 or
// PE32+ headers, .text/.rdata/.rsrc sections holding imports (by name and by ordinal), delayed
// imports, exports (named, ordinal-only, forwarded), a CodeView PDB record, a resource tree with a
// VERSIONINFO, and an overlay. Tests then truncate or corrupt what it writes.

export interface PeSpec {
  bits?: 32 | 64;
  machine?: number;
  timestamp?: number;
  characteristics?: number;
  subsystem?: number;
  dllCharacteristics?: number;
  imageBase?: bigint;
  linker?: [number, number];
  /** Entry point as an offset into .text (RVA = 0x1000 + this). */
  entryPoint?: number;
  rich?: { key: number; tools: [version: number, toolid: number, times: number][] };
  imports?: { dll: string; functions: (string | number)[] }[];
  delayedImports?: { dll: string; functions: (string | number)[] }[];
  exports?: { dllName: string; base?: number; timestamp?: number; functions: { name?: string; forward?: string }[] };
  resources?: { type: number | string; id: number | string; lang: number; data: Uint8Array }[];
  versionInfo?: [string, string][];
  pdb?: string;
  overlay?: Uint8Array;
  /** Security directory entry (address, size); default none. */
  security?: [number, number];
  /** Extra sections after the standard ones (name, characteristics). */
  extraSections?: { name: string; characteristics: number; size: number }[];
}

export const TEXT_RVA = 0x1000;
const FILE_ALIGN = 0x200;
const SECT_ALIGN = 0x1000;

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** A growable little-endian byte buffer whose positions are RVAs from `base`. */
class Buf {
  bytes: number[] = [];
  constructor(readonly base: number) {}
  get rva(): number {
    return this.base + this.bytes.length;
  }
  u8(v: number): number {
    const at = this.bytes.length;
    this.bytes.push(v & 0xff);
    return at;
  }
  u16(v: number): number {
    const at = this.bytes.length;
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff);
    return at;
  }
  u32(v: number): number {
    const at = this.bytes.length;
    for (let i = 0; i < 4; i++) this.bytes.push((v >>> (i * 8)) & 0xff);
    return at;
  }
  u64(v: bigint): number {
    const at = this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
    return at;
  }
  raw(b: ArrayLike<number>): number {
    const at = this.bytes.length;
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
    return at;
  }
  cstr(s: string): number {
    const at = this.raw(new TextEncoder().encode(s));
    this.u8(0);
    return at;
  }
  pad(a: number): void {
    while (this.bytes.length % a) this.bytes.push(0);
  }
  set32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.bytes[at + i] = (v >>> (i * 8)) & 0xff;
  }
  set64(at: number, v: bigint): void {
    this.set32(at, Number(v & 0xffffffffn));
    this.set32(at + 4, Number(v >> 32n));
  }
}

function utf16z(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff, s.charCodeAt(i) >> 8);
  out.push(0, 0);
  return out;
}

/** One VERSIONINFO node: length, value length, type, key, padding, value, padding, children. */
export function versionNode(key: string, value: number[], valueLen: number, type: number, children: number[][]): number[] {
  const out = [0, 0, valueLen & 0xff, valueLen >> 8, type, 0, ...utf16z(key)];
  while (out.length % 4) out.push(0);
  out.push(...value);
  for (const c of children) {
    while (out.length % 4) out.push(0);
    out.push(...c);
  }
  out[0] = out.length & 0xff;
  out[1] = out.length >> 8;
  return out;
}

export function versionInfoResource(pairs: [string, string][]): Uint8Array {
  const strings = pairs.map(([k, v]) => versionNode(k, utf16z(v), v.length + 1, 1, []));
  const table = versionNode("040904b0", [], 0, 1, strings);
  const sfi = versionNode("StringFileInfo", [], 0, 1, [table]);
  const vfi = versionNode("VarFileInfo", [], 0, 1, [versionNode("Translation", [0x09, 0x04, 0xb0, 0x04], 4, 0, [])]);
  const fixed = new Array<number>(52).fill(0);
  [0xbd, 0x04, 0xef, 0xfe].forEach((b, i) => (fixed[i] = b));
  return new Uint8Array(versionNode("VS_VERSION_INFO", fixed, 52, 0, [sfi, vfi]));
}

function buildImports(b: Buf, list: { dll: string; functions: (string | number)[] }[], bits: 32 | 64, delayed: boolean): [number, number] {
  const start = b.rva;
  const descSize = delayed ? 32 : 20;
  const descAt = list.map(() => {
    const at = b.bytes.length;
    for (let i = 0; i < descSize; i++) b.u8(0);
    return at;
  });
  for (let i = 0; i < descSize; i++) b.u8(0); // null descriptor
  const size = b.rva - start;
  list.forEach((imp, n) => {
    const thunk = (f: string | number, names: Map<string, number>) => {
      const v = typeof f === "number" ? (bits === 32 ? BigInt((0x80000000 | f) >>> 0) : 0x8000000000000000n | BigInt(f)) : BigInt(names.get(f)!);
      return bits === 32 ? b.u32(Number(BigInt.asUintN(32, v))) : b.u64(v);
    };
    const names = new Map<string, number>();
    for (const f of imp.functions) {
      if (typeof f !== "string") continue;
      b.pad(2);
      names.set(f, b.rva);
      b.u16(0);
      b.cstr(f);
    }
    b.pad(8);
    const intRva = b.rva;
    for (const f of imp.functions) thunk(f, names);
    if (bits === 32) b.u32(0);
    else b.u64(0n);
    const iatRva = b.rva;
    for (const f of imp.functions) thunk(f, names);
    if (bits === 32) b.u32(0);
    else b.u64(0n);
    const nameRva = b.rva;
    b.cstr(imp.dll);
    const d = descAt[n]!;
    if (delayed) {
      b.set32(d, 1);
      b.set32(d + 4, nameRva);
      b.set32(d + 12, iatRva);
      b.set32(d + 16, intRva);
    } else {
      b.set32(d, intRva);
      b.set32(d + 12, nameRva);
      b.set32(d + 16, iatRva);
    }
  });
  return [start, size];
}

function buildExports(b: Buf, e: NonNullable<PeSpec["exports"]>): [number, number] {
  b.pad(4);
  const start = b.rva;
  const dir = b.bytes.length;
  for (let i = 0; i < 40; i++) b.u8(0);
  const named = e.functions.map((f, i) => ({ ...f, i })).filter((f) => f.name !== undefined).sort((x, y) => (x.name! < y.name! ? -1 : 1));
  const funcs = b.rva;
  const funcAt = e.functions.map(() => b.u32(0));
  const names = b.rva;
  const nameAt = named.map(() => b.u32(0));
  const ords = b.rva;
  for (const f of named) b.u16(f.i);
  const dllName = b.rva;
  b.cstr(e.dllName);
  named.forEach((f, k) => {
    b.set32(nameAt[k]!, b.rva);
    b.cstr(f.name!);
  });
  e.functions.forEach((f, i) => {
    if (f.forward !== undefined) {
      b.set32(funcAt[i]!, b.rva);
      b.cstr(f.forward);
    } else {
      b.set32(funcAt[i]!, TEXT_RVA + 0x10 * (i + 1));
    }
  });
  const size = b.rva - start;
  b.set32(dir + 4, e.timestamp ?? 0);
  b.set32(dir + 12, dllName);
  b.set32(dir + 16, e.base ?? 1);
  b.set32(dir + 20, e.functions.length);
  b.set32(dir + 24, named.length);
  b.set32(dir + 28, funcs);
  b.set32(dir + 32, names);
  b.set32(dir + 36, ords);
  return [start, size];
}

type Id = number | string;
function buildResources(b: Buf, list: NonNullable<PeSpec["resources"]>): number {
  // Group into type -> id -> lang.
  const tree = new Map<Id, Map<Id, Map<number, Uint8Array>>>();
  for (const r of list) {
    if (!tree.has(r.type)) tree.set(r.type, new Map());
    const ids = tree.get(r.type)!;
    if (!ids.has(r.id)) ids.set(r.id, new Map());
    ids.get(r.id)!.set(r.lang, r.data);
  }
  const fixups: (() => void)[] = [];
  const strings: [number, string][] = [];
  const leaves: [number, Uint8Array][] = [];
  const dirOf = (entries: [Id, unknown][], child: (v: unknown) => number | ((at: number) => void)): number => {
    const at = b.bytes.length;
    const named = entries.filter(([k]) => typeof k === "string");
    const ids = entries.filter(([k]) => typeof k === "number");
    b.u32(0);
    b.u32(0x5eed);
    b.u16(4);
    b.u16(0);
    b.u16(named.length);
    b.u16(ids.length);
    for (const [k, v] of [...named, ...ids]) {
      const e = b.u32(typeof k === "number" ? k : 0);
      if (typeof k === "string") strings.push([e, k]);
      const off = b.u32(0);
      const c = child(v);
      if (typeof c === "function") c(off);
      else fixups.push(() => b.set32(off, c));
    }
    return at;
  };
  // Level 0, then 1, then 2 (breadth-first, as the parser reads them).
  const level1: [number, Map<Id, Map<number, Uint8Array>>][] = [];
  dirOf([...tree], (v) => (off) => level1.push([off, v as Map<Id, Map<number, Uint8Array>>]));
  const level2: [number, Map<number, Uint8Array>][] = [];
  for (const [off, ids] of level1) {
    b.set32(off, (0x80000000 | b.bytes.length) >>> 0);
    dirOf([...ids], (v) => (o) => level2.push([o, v as Map<number, Uint8Array>]));
  }
  for (const [off, langs] of level2) {
    b.set32(off, (0x80000000 | b.bytes.length) >>> 0);
    dirOf([...langs], (v) => (o) => leaves.push([o, v as Uint8Array]));
  }
  for (const [off, data] of leaves) {
    b.set32(off, b.bytes.length);
    const entry = b.bytes.length;
    b.u32(0);
    b.u32(data.length);
    b.u32(0);
    b.u32(0);
    fixups.push(() => {
      b.pad(4);
      b.set32(entry, b.rva);
      b.raw(data);
    });
  }
  for (const [e, s] of strings) {
    b.pad(2);
    b.set32(e, (0x80000000 | b.bytes.length) >>> 0);
    b.u16(s.length);
    for (let i = 0; i < s.length; i++) b.u16(s.charCodeAt(i));
  }
  for (const f of fixups) f();
  return b.bytes.length;
}

export function buildPe(spec: PeSpec = {}): Uint8Array {
  const bits = spec.bits ?? 32;
  const imageBase = spec.imageBase ?? (bits === 32 ? 0x400000n : 0x140000000n);

  // .text
  const text = new Buf(TEXT_RVA);
  text.raw([0x55, 0x89, 0xe5, 0xc3]);
  for (let i = 0; i < 0x100; i++) text.u8(0xcc);

  // .rdata: imports, delayed imports, exports, debug.
  const rdataRva = TEXT_RVA + align(text.bytes.length, SECT_ALIGN);
  const rdata = new Buf(rdataRva);
  rdata.u32(0);
  const dirs: [number, number][] = Array.from({ length: 16 }, () => [0, 0]);
  if (spec.imports) dirs[1] = buildImports(rdata, spec.imports, bits, false);
  if (spec.delayedImports) dirs[13] = buildImports(rdata, spec.delayedImports, bits, true);
  if (spec.exports) dirs[0] = buildExports(rdata, spec.exports);
  if (spec.pdb !== undefined) {
    rdata.pad(4);
    const dbg = rdata.rva;
    const entry = rdata.bytes.length;
    for (let i = 0; i < 28; i++) rdata.u8(0);
    rdata.pad(4);
    const cv = rdata.rva;
    rdata.raw([0x52, 0x53, 0x44, 0x53]);
    for (let i = 0; i < 20; i++) rdata.u8(i);
    rdata.cstr(spec.pdb);
    rdata.set32(entry + 12, 2);
    rdata.set32(entry + 16, rdata.rva - cv);
    rdata.set32(entry + 20, cv);
    dirs[6] = [dbg, 28];
  }

  const sections: { name: string; buf: Buf; ch: number }[] = [
    { name: ".text", buf: text, ch: 0x60000020 },
    { name: ".rdata", buf: rdata, ch: 0x40000040 },
  ];
  const resources = [...(spec.resources ?? [])];
  if (spec.versionInfo) resources.push({ type: 16, id: 1, lang: 0x409, data: versionInfoResource(spec.versionInfo) });
  let nextRva = rdataRva + align(Math.max(rdata.bytes.length, 1), SECT_ALIGN);
  if (resources.length > 0) {
    const rsrc = new Buf(nextRva);
    const size = buildResources(rsrc, resources);
    dirs[2] = [nextRva, size];
    sections.push({ name: ".rsrc", buf: rsrc, ch: 0x40000040 });
    nextRva += align(rsrc.bytes.length, SECT_ALIGN);
  }
  for (const x of spec.extraSections ?? []) {
    const buf = new Buf(nextRva);
    for (let i = 0; i < x.size; i++) buf.u8(i & 0xff);
    sections.push({ name: x.name, buf, ch: x.characteristics });
    nextRva += align(Math.max(x.size, 1), SECT_ALIGN);
  }
  if (spec.security) dirs[4] = spec.security;

  // Headers: DOS header, stub with the Rich header, PE header, optional header, section table.
  const h = new Buf(0);
  h.raw([0x4d, 0x5a]);
  while (h.bytes.length < 0x3c) h.u8(0);
  const lfanewAt = h.u32(0);
  h.raw(new TextEncoder().encode("This program cannot be run in DOS mode.\r\n$"));
  h.pad(16);
  if (spec.rich) {
    const k = spec.rich.key >>> 0;
    h.u32((0x536e6144 ^ k) >>> 0);
    h.u32(k);
    h.u32(k);
    h.u32(k);
    for (const [ver, tool, times] of spec.rich.tools) {
      h.u32((((tool << 16) | ver) ^ k) >>> 0);
      h.u32((times ^ k) >>> 0);
    }
    h.raw([0x52, 0x69, 0x63, 0x68]);
    h.u32(k);
  }
  h.pad(8);
  h.set32(lfanewAt, h.bytes.length);
  h.raw([0x50, 0x45, 0, 0]);
  h.u16(spec.machine ?? (bits === 32 ? 0x14c : 0x8664));
  h.u16(sections.length);
  h.u32(spec.timestamp ?? 0x5f000000);
  h.u32(0);
  h.u32(0);
  const optSize = bits === 32 ? 224 : 240;
  h.u16(optSize);
  h.u16(spec.characteristics ?? 0x0102);
  const opt = h.bytes.length;
  h.u16(bits === 32 ? 0x10b : 0x20b);
  h.u8(spec.linker?.[0] ?? 14);
  h.u8(spec.linker?.[1] ?? 29);
  h.u32(text.bytes.length);
  h.u32(0x1000);
  h.u32(0);
  h.u32(TEXT_RVA + (spec.entryPoint ?? 0));
  h.u32(TEXT_RVA);
  if (bits === 32) {
    h.u32(rdataRva);
    h.u32(Number(imageBase));
  } else h.u64(imageBase);
  h.u32(SECT_ALIGN);
  h.u32(FILE_ALIGN);
  h.u16(6);
  h.u16(0);
  h.u16(1);
  h.u16(2);
  h.u16(6);
  h.u16(0);
  h.u32(0);
  const sizeOfImageAt = h.u32(0);
  const sizeOfHeadersAt = h.u32(0);
  h.u32(0x1234);
  h.u16(spec.subsystem ?? 3);
  h.u16(spec.dllCharacteristics ?? 0x8140);
  for (const v of [0x100000n, 0x1000n, 0x100000n, 0x1000n]) {
    if (bits === 32) h.u32(Number(v));
    else h.u64(v);
  }
  h.u32(0);
  h.u32(16);
  for (const [a, s] of dirs) {
    h.u32(a);
    h.u32(s);
  }
  if (h.bytes.length - opt !== optSize) throw new Error("optional header size");
  const table = h.bytes.length;
  for (let i = 0; i < sections.length; i++) for (let j = 0; j < 40; j++) h.u8(0);
  const headersSize = align(h.bytes.length, FILE_ALIGN);
  h.set32(sizeOfHeadersAt, headersSize);
  h.set32(sizeOfImageAt, nextRva);
  while (h.bytes.length < headersSize) h.u8(0);

  const out: number[] = h.bytes;
  sections.forEach((s, i) => {
    const at = table + i * 40;
    const name = new TextEncoder().encode(s.name);
    for (let j = 0; j < Math.min(8, name.length); j++) out[at + j] = name[j]!;
    const raw = align(s.buf.bytes.length, FILE_ALIGN);
    const off = out.length;
    h.set32(at + 8, s.buf.bytes.length);
    h.set32(at + 12, s.buf.base);
    h.set32(at + 16, raw);
    h.set32(at + 20, off);
    h.set32(at + 36, s.ch);
    for (const b of s.buf.bytes) out.push(b);
    while (out.length < off + raw) out.push(0);
  });
  for (const b of spec.overlay ?? []) out.push(b);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------
// Checking the module against YARA-X: read an expression such as `pe.sections[1].name` or
// `pe.imports("kernel32.dll", /^Exit/)` from ring3's module, write the value back as a YARA literal
// and ask YARA-X whether `<expression> == <literal>` holds (or `not defined <expression>` for
// undefined, `<expression>` / `not <expression>` for booleans). UNKNOWN values are not checked, and
// counted so that tests can assert how many there were.

import { UNKNOWN, type RegexArg, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { oracleCompile } from "../support/yarax-oracle";

type Tok = { t: "id" | "str" | "int" | "re" | "p"; v: string; bytes?: Uint8Array; flags?: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_0-9]+/.exec(src.slice(i))!;
      out.push({ t: "id", v: m[0] });
      i += m[0].length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?(0x[0-9a-fA-F]+|[0-9]+)/.exec(src.slice(i))!;
      out.push({ t: "int", v: m[0] });
      i += m[0].length;
    } else if (c === '"') {
      const bytes: number[] = [];
      i++;
      while (src[i] !== '"') {
        if (src[i] === "\\") {
          if (src[i + 1] === "x") {
            bytes.push(parseInt(src.slice(i + 2, i + 4), 16));
            i += 4;
          } else {
            bytes.push(src.charCodeAt(i + 1));
            i += 2;
          }
        } else bytes.push(...new TextEncoder().encode(src[i++]!));
      }
      i++;
      out.push({ t: "str", v: "", bytes: new Uint8Array(bytes) });
    } else if (c === "/") {
      let j = i + 1;
      while (src[j] !== "/") j += src[j] === "\\" ? 2 : 1;
      const m = /^[is]*/.exec(src.slice(j + 1))!;
      out.push({ t: "re", v: src.slice(i + 1, j), flags: m[0] });
      i = j + 1 + m[0].length;
    } else {
      out.push({ t: "p", v: c });
      i++;
    }
  }
  return out;
}

function regexArg(source: string, flags: string): RegexArg {
  const re = new RegExp(source, flags.includes("i") ? "i" : "");
  return { kind: "regex", test: (b) => re.test(Buffer.from(b).toString("latin1")) };
}

/** Evaluates a module path expression on ring3's side. */
export function evalPath(root: StructValue, src: string): Value {
  const toks = tokenize(src);
  let k = 0;
  const expr = (): Value => {
    const t = toks[k++]!;
    if (t.t === "str") return t.bytes!;
    if (t.t === "int") return BigInt(t.v);
    if (t.t === "re") return regexArg(t.v, t.flags!);
    if (t.t !== "id" || t.v !== "pe") throw new Error(`bad expression ${src}`);
    let v: Value = root;
    for (;;) {
      const p = toks[k];
      if (p?.v === ".") {
        k++;
        const name = toks[k++]!.v;
        v = v === UNKNOWN ? UNKNOWN : v === undefined ? undefined : (v as StructValue).field(name);
      } else if (p?.v === "[") {
        k++;
        const index = expr();
        k++;
        if (v === UNKNOWN || index === UNKNOWN) v = UNKNOWN;
        else if (v === undefined || index === undefined) v = undefined;
        else if (typeof v === "object" && "kind" in v && v.kind === "array") v = v.at(Number(index));
        else if (typeof v === "object" && "kind" in v && v.kind === "dict") v = v.get(index as Uint8Array);
        else throw new Error(`cannot index ${src}`);
      } else if (p?.v === "(") {
        k++;
        const args: Value[] = [];
        while (toks[k]!.v !== ")") {
          args.push(expr());
          if (toks[k]!.v === ",") k++;
        }
        k++;
        if (v === UNKNOWN || v === undefined) continue;
        v = (v as Extract<Value, { kind: "func" }>).call(args);
      } else return v;
    }
  };
  return expr();
}

function literal(b: Uint8Array): string {
  let s = '"';
  for (const x of b) s += /[A-Za-z0-9 _.\-]/.test(String.fromCharCode(x)) ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, "0")}`;
  return s + '"';
}

/** The YARA condition that holds exactly when YARA-X's value equals ring3's. */
export function agreeCondition(expr: string, v: Value): string | undefined {
  if (v === UNKNOWN) return undefined;
  if (v === undefined) return `not defined (${expr})`;
  if (typeof v === "bigint") return `${expr} == ${v}`;
  if (typeof v === "boolean") return v ? `${expr}` : `not (${expr})`;
  if (v instanceof Uint8Array) return `${expr} == ${literal(v)}`;
  if (typeof v === "number") return `${expr} == ${v}`;
  throw new Error(`${expr}: not a scalar`);
}

export interface Agreement {
  /** Expressions where YARA-X disagrees, with ring3's value. */
  disagree: string[];
  checked: number;
  unknown: string[];
}

/** Checks every expression on these bytes in one YARA-X compile. */
export function checkAgainstYaraX(root: StructValue, data: Uint8Array, exprs: string[]): Agreement {
  const rules: string[] = [];
  const conds: [string, string][] = [];
  const unknown: string[] = [];
  exprs.forEach((e) => {
    const v = evalPath(root, e);
    const c = agreeCondition(e, v);
    if (c === undefined) unknown.push(e);
    else {
      conds.push([e, c]);
      rules.push(`rule r${conds.length - 1} { condition: ${c} }`);
    }
  });
  const oracle = oracleCompile(`import "pe"\n${rules.join("\n")}`);
  try {
    const matched = new Set(oracle.scan(data).map((m) => m.rule));
    const disagree = conds.filter((_, i) => !matched.has(`r${i}`)).map(([e, c]) => `${c}   [${describe(evalPath(root, e))}]`);
    return { disagree, checked: conds.length, unknown };
  } finally {
    oracle.free();
  }
}

function describe(v: Value): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : String(v);
}

/** Fields and calls worth checking on any file (see the test files for file-specific ones). */
export const COMMON_EXPRS = [
  "pe.is_pe", "pe.machine", "pe.subsystem", "pe.os_version.major", "pe.os_version.minor",
  "pe.subsystem_version.major", "pe.image_version.minor", "pe.linker_version.major", "pe.linker_version.minor",
  "pe.opthdr_magic", "pe.characteristics", "pe.dll_characteristics", "pe.timestamp", "pe.image_base",
  "pe.checksum", "pe.base_of_code", "pe.base_of_data", "pe.entry_point", "pe.entry_point_raw", "pe.dll_name",
  "pe.export_timestamp", "pe.section_alignment", "pe.file_alignment", "pe.loader_flags",
  "pe.size_of_optional_header", "pe.size_of_code", "pe.size_of_initialized_data", "pe.size_of_uninitialized_data",
  "pe.size_of_image", "pe.size_of_headers", "pe.size_of_stack_reserve", "pe.size_of_stack_commit",
  "pe.size_of_heap_reserve", "pe.size_of_heap_commit", "pe.pointer_to_symbol_table", "pe.win32_version_value",
  "pe.number_of_symbols", "pe.number_of_rva_and_sizes", "pe.number_of_sections", "pe.number_of_imported_functions",
  "pe.number_of_delayed_imported_functions", "pe.number_of_resources", "pe.number_of_version_infos",
  "pe.number_of_imports", "pe.number_of_delayed_imports", "pe.number_of_exports", "pe.number_of_signatures",
  "pe.is_signed", "pe.pdb_path", "pe.resource_timestamp", "pe.resource_version.major", "pe.overlay.offset", "pe.overlay.size",
  "pe.rich_signature.offset", "pe.rich_signature.length", "pe.rich_signature.key", "pe.rich_signature.raw_data",
  "pe.rich_signature.clear_data", "pe.is_32bit()", "pe.is_64bit()", "pe.is_dll()", "pe.imphash()",
  "pe.calculate_checksum()", "pe.data_directories[1].virtual_address", "pe.data_directories[2].size",
  "pe.version_info[\"CompanyName\"]", "pe.version_info[\"FileVersion\"]", "pe.version_info[\"OriginalFilename\"]",
  "pe.imports(\"kernel32.dll\")", "pe.imports(\"KERNEL32.dll\", \"ExitProcess\")", "pe.exports(\"DllMain\")",
  "pe.exports(1)", "pe.section_index(\".text\")", "pe.section_index(1024)", "pe.rich_signature.version(0)",
  "pe.locale(1033)", "pe.language(9)", "pe.rva_to_offset(4096)",
  "pe.sections[0].name", "pe.sections[0].raw_data_offset", "pe.sections[0].virtual_size",
  "pe.resources[0].type", "pe.resources[0].offset", "pe.export_details[0].name", "pe.import_details[0].library_name",
];
