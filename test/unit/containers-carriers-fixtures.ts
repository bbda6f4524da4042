// Carrier fixtures, written here byte by byte from the formats' public descriptions: MIME mail and
// mbox, uuencode, BinHex 4.0, TNEF, SZDD/KWAJ, PDF, RTF objects, OLE packages, compound files with
// storages (VBA projects, PowerPoint objects), PE stubs with overlays, InstallShield packagings,
// Symbian .sis and UPX pack headers with NRV streams. Shared by the unit and end-to-end tests.
import { spawnSync } from "node:child_process";
import * as zlib from "node:zlib";
import { concat, oleHeader } from "../support/archives";

const enc = new TextEncoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const latin = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));

// ---- mail ----

export interface Part {
  name?: string;
  type?: string;
  encoding?: "base64" | "quoted-printable" | "x-uuencode" | "7bit";
  data: Uint8Array;
  /** RFC 2231 style: filename*=utf-8''... */
  rfc2231?: boolean;
}

export function base64Lines(d: Uint8Array): string {
  return (Buffer.from(d).toString("base64").match(/.{1,76}/g) ?? []).join("\n");
}

export function qpEncode(d: Uint8Array): string {
  let out = "";
  let line = 0;
  for (const b of d) {
    const s = (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
    if (line + s.length > 72) (out += "=\n"), (line = 0);
    out += s;
    line += s.length;
  }
  return out;
}

export function uuencode(name: string, d: Uint8Array): string {
  const ch = (v: number) => (v === 0 ? "`" : String.fromCharCode(v + 32));
  let out = `begin 644 ${name}\n`;
  for (let i = 0; i < d.length; i += 45) {
    const chunk = d.subarray(i, i + 45);
    let line = ch(chunk.length);
    for (let k = 0; k < chunk.length; k += 3) {
      const [a, b, c] = [chunk[k]!, chunk[k + 1] ?? 0, chunk[k + 2] ?? 0];
      line += ch(a >> 2) + ch(((a & 3) << 4) | (b >> 4)) + ch(((b & 15) << 2) | (c >> 6)) + ch(c & 63);
    }
    out += line + "\n";
  }
  return out + "`\nend\n";
}

export function mime(parts: Part[], headers = "From: a@example.com\nTo: b@example.com\nSubject: test\n", boundary = "XYZ-boundary"): string {
  let s = `${headers}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="${boundary}"\n\nThis is a multi-part message.\n`;
  for (const p of parts) {
    s += `--${boundary}\n`;
    s += `Content-Type: ${p.type ?? "application/octet-stream"}${p.name && !p.rfc2231 ? `; name="${p.name}"` : ""}\n`;
    s += `Content-Transfer-Encoding: ${p.encoding ?? "base64"}\n`;
    if (p.name) s += p.rfc2231 ? `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(p.name)}\n` : `Content-Disposition: attachment; filename="${p.name}"\n`;
    s += "\n";
    switch (p.encoding ?? "base64") {
      case "base64":
        s += base64Lines(p.data) + "\n";
        break;
      case "quoted-printable":
        s += qpEncode(p.data) + "\n";
        break;
      case "x-uuencode":
        s += uuencode(p.name ?? "file", p.data);
        break;
      case "7bit":
        s += Buffer.from(p.data).toString("latin1") + "\n";
        break;
    }
  }
  return s + `--${boundary}--\n`;
}

// ---- BinHex 4.0 ----

const BINHEX = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';

/** BinHex 4.0 text of one file (the CRCs are written as zero: the reader does not need them). */
export function binhex(name: string, data: Uint8Array, rle = false): string {
  const head = concat([Uint8Array.of(name.length), latin(name), Uint8Array.of(0), latin("TEXTttxt"), new Uint8Array(2)]);
  const sizes = new Uint8Array(8);
  new DataView(sizes.buffer).setUint32(0, data.length);
  let raw = concat([head, sizes, new Uint8Array(2), data, new Uint8Array(2), new Uint8Array(2)]);
  if (rle) {
    // Runs of 4+ equal bytes as byte, 0x90, count; 0x90 itself as 0x90 0x00.
    const out: number[] = [];
    for (let i = 0; i < raw.length; ) {
      let n = 1;
      while (i + n < raw.length && raw[i + n] === raw[i] && n < 255) n++;
      const b = raw[i]!;
      if (b === 0x90) out.push(0x90, 0), (n = 1);
      else if (n >= 4) out.push(b, 0x90, n);
      else {
        out.push(b);
        n = 1;
      }
      i += n;
    }
    raw = Uint8Array.from(out);
  }
  let bits = 0;
  let acc = 0;
  let s = "";
  for (const b of raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += BINHEX[(acc >> bits) & 63];
    }
  }
  if (bits > 0) s += BINHEX[(acc << (6 - bits)) & 63];
  return `(This file must be converted with BinHex 4.0)\n:${(s.match(/.{1,64}/g) ?? []).join("\n")}:\n`;
}

// ---- TNEF ----

function tnefAttr(level: number, id: number, data: Uint8Array): Uint8Array {
  const h = new Uint8Array(9);
  const v = new DataView(h.buffer);
  h[0] = level;
  v.setUint32(1, id, true);
  v.setUint32(5, data.length, true);
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xffff;
  return concat([h, data, Uint8Array.of(sum & 0xff, sum >> 8)]);
}

export function tnef(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const parts = [Uint8Array.of(0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00), tnefAttr(1, 0x00089006, Uint8Array.of(1, 0, 0, 0))];
  for (const f of files) {
    parts.push(tnefAttr(2, 0x00069002, new Uint8Array(14)));
    parts.push(tnefAttr(2, 0x00018010, latin(`${f.name}\0`)));
    parts.push(tnefAttr(2, 0x0006800f, f.data));
  }
  return concat(parts);
}

// ---- SZDD / KWAJ ----

/** LZSS as SZDD reads it, literals only except for repeats found by a naive search. */
export function lzss(data: Uint8Array): Uint8Array {
  const window = new Uint8Array(4096).fill(0x20);
  let pos = 4096 - 16;
  const out: number[] = [];
  for (let i = 0; i < data.length; ) {
    const ctl = out.length;
    out.push(0);
    for (let bit = 0; bit < 8 && i < data.length; bit++) {
      // The longest match (3..18) in the window, else a literal.
      let best = 0;
      let at = 0;
      for (let s = 0; s < 4096; s++) {
        let n = 0;
        while (n < 18 && i + n < data.length && window[(s + n) & 4095] === data[i + n] && ((s + n) & 4095) !== pos) n++;
        if (n > best) (best = n), (at = s);
      }
      if (best >= 3) {
        out.push(at & 0xff, ((at >> 4) & 0xf0) | (best - 3));
        for (let k = 0; k < best; k++) (window[pos] = data[i + k]!), (pos = (pos + 1) & 4095);
        i += best;
      } else {
        out[ctl] |= 1 << bit;
        out.push(data[i]!);
        window[pos] = data[i]!;
        pos = (pos + 1) & 4095;
        i++;
      }
    }
  }
  return Uint8Array.from(out);
}

export function szdd(data: Uint8Array): Uint8Array {
  const h = concat([latin("SZDD\x88\xf0\x27\x33A_"), new Uint8Array(4)]);
  new DataView(h.buffer).setUint32(10, data.length, true);
  return concat([h, lzss(data)]);
}

export function kwaj(name: string, ext: string, data: Uint8Array, method: 0 | 1 | 2): Uint8Array {
  const body = method === 0 ? data : method === 1 ? data.map((b) => b ^ 0xff) : lzss(data);
  const opt = concat([new Uint8Array(4), latin(`${name}\0${ext}\0`)]);
  new DataView(opt.buffer).setUint32(0, data.length, true);
  const h = concat([latin("KWAJ\x88\xf0\x27\xd1"), new Uint8Array(6)]);
  const v = new DataView(h.buffer);
  v.setUint16(8, method, true);
  v.setUint16(10, 14 + opt.length, true);
  v.setUint16(12, 1 | 8 | 16, true);
  return concat([h, opt, body]);
}

// ---- PDF ----

export interface PdfObject {
  dict: string;
  stream?: Uint8Array;
  /** Writes /Length as a reference to an object holding it. */
  lengthRef?: number;
}

/** A PDF of numbered objects (1..n), a cross-reference table and a trailer. */
export function pdf(objects: (PdfObject | string)[], trailer = ""): Uint8Array {
  const parts: Uint8Array[] = [latin("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(offset);
    let chunk: Uint8Array;
    if (typeof o === "string") chunk = latin(`${i + 1} 0 obj\n${o}\nendobj\n`);
    else {
      const len = o.lengthRef ? `/Length ${o.lengthRef} 0 R` : `/Length ${o.stream!.length}`;
      chunk = concat([latin(`${i + 1} 0 obj\n<< ${o.dict} ${len} >>\nstream\n`), o.stream!, latin("\nendstream\nendobj\n")]);
    }
    parts.push(chunk);
    offset += chunk.length;
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) xref += `${String(off).padStart(10, "0")} 00000 n \n`;
  parts.push(latin(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailer}>>\nstartxref\n${offset}\n%%EOF\n`));
  return concat(parts);
}

export function ascii85(d: Uint8Array): string {
  let s = "";
  for (let i = 0; i < d.length; i += 4) {
    const chunk = d.subarray(i, i + 4);
    const padded = concat([chunk, new Uint8Array(4 - chunk.length)]);
    let v = new DataView(padded.buffer).getUint32(0);
    if (v === 0 && chunk.length === 4) {
      s += "z";
      continue;
    }
    const c: string[] = [];
    for (let k = 0; k < 5; k++) (c.unshift(String.fromCharCode(33 + (v % 85))), (v = Math.floor(v / 85)));
    s += c.slice(0, chunk.length + 1).join("");
  }
  return `${s}~>`;
}

/** The file-specification pair: a named spec object pointing at an EmbeddedFile stream. */
export function pdfWithAttachment(name: string, data: Uint8Array, filter: "none" | "flate" = "none"): Uint8Array {
  const stream = filter === "flate" ? zlib.deflateSync(data) : data;
  return pdf([
    "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(x) 3 0 R] >> >> >>",
    "<< /Type /Pages /Kids [] /Count 0 >>",
    `<< /Type /Filespec /F (${name}) /EF << /F 4 0 R >> >>`,
    { dict: `/Type /EmbeddedFile${filter === "flate" ? " /Filter /FlateDecode" : ""}`, stream },
  ]);
}

// ---- OLE packages, RTF ----

/** A Package native block: the file's label, source and temporary paths, its size and bytes. */
export function packageBlock(name: string, data: Uint8Array): Uint8Array {
  const temp = latin(`C:\\Temp\\${name}\0`);
  const fixed = new Uint8Array(8);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, 0x00030000, true);
  v.setUint32(4, temp.length, true);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, data.length, true);
  return concat([Uint8Array.of(2, 0), latin(`${name}\0C:\\Users\\me\\${name}\0`), fixed, temp, size, data]);
}

/** An Ole10Native stream: the block's size first. */
export function ole10Native(name: string, data: Uint8Array): Uint8Array {
  const block = packageBlock(name, data);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, block.length, true);
  return concat([size, block]);
}

/** An OLE 1 object (as RTF's \objdata holds it) of class `cls` around `native`. */
export function ole1(cls: string, native: Uint8Array): Uint8Array {
  const str = (s: string) => {
    const b = latin(s ? `${s}\0` : "");
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, b.length, true);
    return concat([n, b]);
  };
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, 0x0501, true);
  new DataView(head.buffer).setUint32(4, 2, true);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, native.length, true);
  return concat([head, str(cls), str(""), str(""), size, native]);
}

export function rtf(objects: Uint8Array[]): Uint8Array {
  let s = "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times;}}\\pard Hello\\par\n";
  for (const o of objects) {
    const hex = Buffer.from(o).toString("hex");
    s += `{\\object\\objemb{\\*\\objclass Package}\\objw100\\objh100{\\*\\objdata \n${(hex.match(/.{1,128}/g) ?? []).join("\n")}\n}}\n`;
  }
  return latin(s + "}\n");
}

// ---- compound files with storages ----

export interface CfbEntry {
  /** "/"-separated path: storages are created on the way. */
  path: string;
  data: Uint8Array;
}

/**
 * A compound file (MS-CFB, version 3) with storages: every stream kept in regular 512-byte
 * sectors, the mini stream cutoff written as 0 so that readers take them from there. Children of
 * a storage hang as a chain of right siblings (readers walk the whole tree).
 */
export function cfb(entries: CfbEntry[]): Uint8Array {
  const S = 512;
  const END = 0xfffffffe;
  const FREE = 0xffffffff;
  interface Node {
    name: string;
    type: 1 | 2 | 5;
    children: Node[];
    data?: Uint8Array;
    id?: number;
    start?: number;
  }
  const root: Node = { name: "Root Entry", type: 5, children: [] };
  for (const e of entries) {
    const parts = e.path.split("/");
    let at = root;
    for (const p of parts.slice(0, -1)) {
      let next = at.children.find((c) => c.name === p && c.type === 1);
      if (!next) at.children.push((next = { name: p, type: 1, children: [] }));
      at = next;
    }
    at.children.push({ name: parts[parts.length - 1]!, type: 2, children: [], data: e.data });
  }
  const nodes: Node[] = [];
  const number = (n: Node) => {
    n.id = nodes.length;
    nodes.push(n);
    n.children.forEach(number);
  };
  number(root);
  // Layout: sector 0.. FAT, then directory, then each stream.
  const dirSectors = Math.ceil(nodes.length / 4);
  const streamSectors = nodes.map((n) => (n.type === 2 ? Math.max(1, Math.ceil(n.data!.length / S)) : 0));
  const dataSectors = dirSectors + streamSectors.reduce((a, b) => a + b, 0);
  let fatSectors = 1;
  while (fatSectors * (S / 4) < fatSectors + dataSectors) fatSectors++;
  const total = fatSectors + dataSectors;
  // Mini stream cutoff 0: no stream is small.
  const { out, v, at } = oleHeader(total, { fatSectors, firstDir: fatSectors, miniCutoff: 0, firstMiniFat: END, miniFatSectors: 0 });
  const fat = new Uint32Array(fatSectors * (S / 4)).fill(FREE);
  for (let i = 0; i < fatSectors; i++) fat[i] = 0xfffffffd;
  const chain = (start: number, n: number) => {
    for (let i = 0; i < n; i++) fat[start + i] = i === n - 1 ? END : start + i + 1;
  };
  chain(fatSectors, dirSectors);
  let next = fatSectors + dirSectors;
  nodes.forEach((n, i) => {
    if (n.type !== 2) return;
    n.start = next;
    chain(next, streamSectors[i]!);
    out.set(n.data!, at(next));
    next += streamSectors[i]!;
  });
  for (let i = 0; i < fat.length; i++) v.setUint32(at(Math.floor(i / (S / 4))) + 4 * (i % (S / 4)), fat[i]!, true);
  // Directory entries; the root's and storages' children as right-sibling chains.
  const dirAt = at(fatSectors);
  for (let i = nodes.length; i < dirSectors * 4; i++) {
    const base = dirAt + 128 * i;
    v.setUint32(base + 68, FREE, true);
    v.setUint32(base + 72, FREE, true);
    v.setUint32(base + 76, FREE, true);
  }
  for (const n of nodes) {
    const base = dirAt + 128 * n.id!;
    for (let i = 0; i < n.name.length; i++) v.setUint16(base + 2 * i, n.name.charCodeAt(i), true);
    v.setUint16(base + 64, (n.name.length + 1) * 2, true);
    out[base + 66] = n.type;
    out[base + 67] = 1;
    v.setUint32(base + 68, FREE, true);
    v.setUint32(base + 72, FREE, true);
    v.setUint32(base + 76, n.children.length ? n.children[0]!.id! : FREE, true);
    v.setUint32(base + 116, n.type === 2 ? n.start! : n.type === 5 ? END : 0, true);
    v.setUint32(base + 120, n.type === 2 ? n.data!.length : 0, true);
  }
  for (const n of nodes) n.children.forEach((c, k) => v.setUint32(dirAt + 128 * c.id! + 72, k + 1 < n.children.length ? n.children[k + 1]!.id! : FREE, true));
  return out;
}

/** MS-OVBA compression with literal tokens only (valid, if not small). */
export function ovbaCompress(d: Uint8Array): Uint8Array {
  const out: number[] = [1];
  for (let i = 0; i < d.length || i === 0; i += 4096) {
    const chunk = d.subarray(i, i + 4096);
    const body: number[] = [];
    for (let k = 0; k < chunk.length; k += 8) {
      body.push(0);
      for (let j = k; j < Math.min(chunk.length, k + 8); j++) body.push(chunk[j]!);
    }
    const size = body.length + 2;
    const header = 0x8000 | 0x3000 | (size - 3);
    out.push(header & 0xff, header >> 8, ...body);
    if (d.length === 0) break;
  }
  return Uint8Array.from(out);
}

function dirRecord(id: number, body: Uint8Array): Uint8Array {
  const h = new Uint8Array(6);
  new DataView(h.buffer).setUint16(0, id, true);
  new DataView(h.buffer).setUint32(2, body.length, true);
  return concat([h, body]);
}

const u32le = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

/**
 * A VBA project storage's streams (under `prefix`): the dir stream with one module per entry,
 * each module stream some p-code bytes and then its compressed source at the recorded offset.
 */
export function vbaProject(prefix: string, modules: { name: string; source: string }[]): CfbEntry[] {
  const records: Uint8Array[] = [
    dirRecord(0x0001, u32le(1)), // PROJECTSYSKIND
    dirRecord(0x0004, latin("VBAProject")), // PROJECTNAME
    concat([Uint8Array.of(0x09, 0x00), u32le(4), u32le(0x5b), Uint8Array.of(0x01, 0x00)]), // PROJECTVERSION (6 bytes after a size of 4)
    dirRecord(0x000f, Uint8Array.of(modules.length, 0)), // PROJECTMODULES
  ];
  const entries: CfbEntry[] = [];
  for (const m of modules) {
    const pcode = new Uint8Array(100).fill(0xcc);
    records.push(dirRecord(0x0019, latin(m.name)), dirRecord(0x001a, latin(m.name)), dirRecord(0x0031, u32le(pcode.length)), dirRecord(0x002b, new Uint8Array(0)));
    entries.push({ path: `${prefix}VBA/${m.name}`, data: concat([pcode, ovbaCompress(latin(m.source))]) });
  }
  records.push(dirRecord(0x0010, new Uint8Array(0)));
  entries.push({ path: `${prefix}VBA/dir`, data: ovbaCompress(concat(records)) });
  entries.push({ path: `${prefix}VBA/_VBA_PROJECT`, data: Uint8Array.of(0xcc, 0x61, 0xff, 0xff, 0, 0, 0) });
  return entries;
}

/** A PowerPoint document stream holding one compressed ExOleObjStg record. */
export function pptDocument(object: Uint8Array): Uint8Array {
  const z = zlib.deflateSync(object);
  const body = concat([u32le(object.length), z]);
  const rec = new Uint8Array(8);
  const v = new DataView(rec.buffer);
  v.setUint16(0, 0x0010, true); // version 0, instance 1: compressed
  v.setUint16(2, 0x1011, true);
  v.setUint32(4, body.length, true);
  const container = new Uint8Array(8);
  const c = new DataView(container.buffer);
  c.setUint16(0, 0x000f, true);
  c.setUint16(2, 0x03e8, true);
  c.setUint32(4, 8 + body.length, true);
  return concat([container, rec, body]);
}

// ---- executables ----

/** A PE32 with the named sections (raw data given), optionally followed by an overlay. */
export function pe(sections: { name: string; data: Uint8Array; vsize?: number }[] = [{ name: ".text", data: new Uint8Array(512).fill(0xc3) }], overlay?: Uint8Array, headerExtra?: { at: number; data: Uint8Array }): Uint8Array {
  const headerSize = 0x400;
  let raw = headerSize;
  const table: { name: string; raw: number; size: number; vsize: number; vaddr: number }[] = [];
  let vaddr = 0x1000;
  for (const s of sections) {
    const size = Math.ceil(s.data.length / 512) * 512;
    table.push({ name: s.name, raw: size ? raw : 0, size, vsize: s.vsize ?? Math.max(size, 0x1000), vaddr });
    raw += size;
    vaddr += Math.ceil((s.vsize ?? Math.max(size, 0x1000)) / 0x1000) * 0x1000;
  }
  const out = new Uint8Array(raw);
  const v = new DataView(out.buffer);
  out.set(latin("MZ"), 0);
  v.setUint32(0x3c, 0x40, true);
  out.set(latin("PE\0\0"), 0x40);
  v.setUint16(0x44, 0x14c, true);
  v.setUint16(0x46, sections.length, true);
  v.setUint16(0x54, 0xe0, true);
  v.setUint16(0x56, 0x0102, true);
  v.setUint16(0x58, 0x10b, true);
  const tableAt = 0x58 + 0xe0;
  table.forEach((t, i) => {
    const b = tableAt + 40 * i;
    out.set(latin(t.name.padEnd(8, "\0")), b);
    v.setUint32(b + 8, t.vsize, true);
    v.setUint32(b + 12, t.vaddr, true);
    v.setUint32(b + 16, t.size, true);
    v.setUint32(b + 20, t.raw, true);
    if (t.size) out.set(sections[i]!.data, t.raw);
  });
  if (headerExtra) out.set(headerExtra.data, headerExtra.at);
  return overlay ? concat([out, overlay]) : out;
}

/** InstallShield's plain packaging: name, path, version, decimal size, bytes, for each file. */
export function installShieldFiles(files: { name: string; data: Uint8Array }[]): Uint8Array {
  return concat(files.flatMap((f) => [latin(`${f.name}\0Disk1\\${f.name}\0${"1.0.0.0"}\0${f.data.length}\0`), f.data]));
}

/** The MSI-based packaging: "InstallShield", a count, then per file a 312-byte block and its obfuscated zlib bytes. */
export function installShieldMsi(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const KEY = [0xec, 0xca, 0x79, 0xf8];
  const parts: Uint8Array[] = [latin("InstallShield\0"), concat([u32le(files.length), new Uint8Array(28)])];
  for (const f of files) {
    const z = zlib.deflateSync(f.data);
    const block = new Uint8Array(312);
    block.set(latin(f.name), 0);
    new DataView(block.buffer).setUint32(0x104 + 8, z.length, true);
    const key = latin(f.name).map((b, i) => b ^ KEY[i & 3]!);
    const enc2 = z.map((b, i) => {
      const x = b ^ key[(i & 0x3ff) % key.length]!;
      return ((x >> 4) | (x << 4)) & 0xff;
    });
    parts.push(block, enc2);
  }
  return concat(parts);
}

/** A Symbian ER6 .sis with simple file records (zlib-compressed unless `stored`). */
export function sis(files: { name: string; data: Uint8Array }[], stored = false): Uint8Array {
  const header = new Uint8Array(100);
  const v = new DataView(header.buffer);
  v.setUint32(0, 0x01000000, true);
  v.setUint32(4, 0x10003a12, true);
  v.setUint32(8, 0x10000419, true);
  v.setUint16(18, 1, true);
  v.setUint16(20, files.length, true);
  v.setUint16(36, 1 | (stored ? 8 : 0), true);
  const recSize = 28 + 4 + 4 + 4 + 8;
  const recAt = header.length;
  v.setUint32(52, recAt, true);
  let dataAt = recAt + recSize * files.length;
  const records: Uint8Array[] = [];
  const blobs: Uint8Array[] = [];
  for (const f of files) {
    const name = new Uint8Array(Buffer.from(`!:\\sys\\bin\\${f.name}`, "utf16le"));
    const body = stored ? f.data : zlib.deflateSync(f.data);
    const r = new Uint8Array(recSize);
    const rv = new DataView(r.buffer);
    rv.setUint32(20, name.length, true);
    rv.setUint32(24, dataAt, true);
    rv.setUint32(28, body.length, true);
    rv.setUint32(32, dataAt + name.length, true);
    rv.setUint32(36, f.data.length, true);
    records.push(r);
    blobs.push(name, body);
    dataAt += name.length + body.length;
  }
  return concat([header, ...records, ...blobs]);
}

// ---- UPX ----

/** NRV bit stream writer: bits MSB first in 32-bit little-endian words interleaved with bytes. */
class NrvWriter {
  out: number[] = [];
  private slot = -1;
  private n = 0;
  private word = 0;
  bit(b: number): void {
    if (this.n === 0) {
      this.slot = this.out.length;
      this.out.push(0, 0, 0, 0);
      this.n = 32;
      this.word = 0;
    }
    this.n--;
    this.word |= (b & 1) << this.n;
    const w = this.word >>> 0;
    this.out[this.slot] = w & 0xff;
    this.out[this.slot + 1] = (w >>> 8) & 0xff;
    this.out[this.slot + 2] = (w >>> 16) & 0xff;
    this.out[this.slot + 3] = (w >>> 24) & 0xff;
  }
  byte(b: number): void {
    this.out.push(b);
  }
}

/**
 * An NRV2B/2D/2E stream of literals and the end marker: the offset code whose value, times 256
 * plus the byte 0xff, makes 0xffffffff. The code's bits are derived from the decoders' loops.
 */
export function nrvLiterals(variant: "2b" | "2d" | "2e", data: Uint8Array): Uint8Array {
  const w = new NrvWriter();
  for (const b of data) (w.bit(1), w.byte(b));
  w.bit(0);
  const target = 0x1000002;
  if (variant === "2b") {
    // off = 1; do off = 2 off + bit while (!bit): the binary digits after the leading 1.
    const digits = target.toString(2).slice(1);
    [...digits].forEach((d, i) => (w.bit(Number(d)), w.bit(i === digits.length - 1 ? 1 : 0)));
  } else {
    // off = 1; loop { off = 2 off + a; if (stop) break; off = 2 (off - 1) + b }: walk back from the target.
    const steps: [number, number][] = [];
    let x = target;
    const last = x & 1;
    x = (x - last) / 2;
    while (x !== 1) {
      const r = (x + 2) % 4;
      steps.unshift([r >> 1, r & 1]);
      x = (x + 2 - r) / 4;
    }
    for (const [a, b] of steps) (w.bit(a), w.bit(0), w.bit(b));
    w.bit(last);
    w.bit(1);
  }
  w.byte(0xff);
  return Uint8Array.from(w.out);
}

export function adler32(d: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const x of d) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A PE as UPX lays it out: UPX0 (no raw data), UPX1 holding the stream, the pack header before it. */
/**
 * UPX's method 14: xz's raw LZMA1 encoder (real matches, not only literals), behind UPX's two
 * property bytes ((lc + lp) << 3 | pb, lp << 4 | lc).
 */
export function upxLzmaStream(image: Uint8Array, lc = 3, lp = 0, pb = 2): Uint8Array {
  const run = spawnSync("xz", ["--format=raw", `--lzma1=preset=6,lc=${lc},lp=${lp},pb=${pb}`, "-c"], { input: image, maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`xz: ${run.stderr}`);
  return concat([Uint8Array.of(((lc + lp) << 3) | pb, (lp << 4) | lc), new Uint8Array(run.stdout)]);
}

const upxStream = (method: 2 | 5 | 8 | 14, data: Uint8Array): Uint8Array => (method === 14 ? upxLzmaStream(data) : nrvLiterals(method === 2 ? "2b" : method === 5 ? "2d" : "2e", data));

export function upxPe(image: Uint8Array, method: 2 | 5 | 8 | 14, stream?: Uint8Array): Uint8Array {
  const packed = stream ?? upxStream(method, image);
  const h = new Uint8Array(32);
  const v = new DataView(h.buffer);
  h.set(latin("UPX!"), 0);
  h[4] = 13;
  h[5] = 9;
  h[6] = method;
  h[7] = 8;
  v.setUint32(8, adler32(image), true);
  v.setUint32(12, adler32(packed), true);
  v.setUint32(16, image.length, true);
  v.setUint32(20, packed.length, true);
  v.setUint32(24, image.length, true);
  return pe(
    [
      { name: "UPX0", data: new Uint8Array(0), vsize: 0x10000 },
      { name: "UPX1", data: packed },
    ],
    undefined,
    { at: 0x3e0, data: h },
  );
}

/**
 * A little-endian ELF64 as UPX lays it out: Ehdr, one Phdr, l_info ("UPX!"), p_info (the original
 * size), then blocks: the first NRV-compressed, the second stored (equal sizes), then the end block.
 */
export function upxElf(image: Uint8Array, method: 2 | 5 | 8 | 14): Uint8Array {
  const ehdr = new Uint8Array(64 + 56);
  const v = new DataView(ehdr.buffer);
  ehdr.set(latin("\x7fELF\x02\x01\x01"), 0);
  v.setUint16(16, 2, true);
  v.setUint16(18, 62, true);
  v.setUint32(32, 64, true); // e_phoff
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true);
  v.setUint32(64, 1, true); // PT_LOAD
  const info = new Uint8Array(24);
  const iv = new DataView(info.buffer);
  info.set(latin("UPX!"), 4);
  info[10] = 13;
  info[11] = 22;
  iv.setUint32(16, image.length, true);
  iv.setUint32(20, image.length, true);
  const half = image.length >> 1;
  const block = (unc: Uint8Array, cpr: Uint8Array, m: number) => {
    const b = new Uint8Array(12);
    const bv = new DataView(b.buffer);
    bv.setUint32(0, unc.length, true);
    bv.setUint32(4, cpr.length, true);
    b[8] = m;
    return concat([b, cpr]);
  };
  const first = image.subarray(0, half);
  const packed = upxStream(method, first);
  const second = image.subarray(half);
  return concat([ehdr, info, block(first, packed.length < first.length ? packed : first, method), block(second, second, 0), new Uint8Array(12), latin("loader stub and the trailing UPX! header")]);
}

/** LZW as PDF's LZWDecode reads it (early change): a clear code first, the end code last. */
export function lzwEncode(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let width = 9;
  const put = (code: number) => {
    acc = (acc << width) | code;
    bits += width;
    while (bits >= 8) (bits -= 8), out.push((acc >> bits) & 0xff);
    acc &= (1 << bits) - 1;
  };
  let dict = new Map<string, number>();
  let next = 258;
  put(256);
  let w = "";
  for (const b of data) {
    const c = String.fromCharCode(b);
    const wc = w + c;
    if (w === "" || dict.has(wc) || (wc.length === 1)) {
      w = wc;
      continue;
    }
    put(w.length === 1 ? w.charCodeAt(0) : dict.get(w)!);
    if (next < 4095) {
      dict.set(wc, next++);
      if (next >= 1 << width && width < 12) width++;
    } else {
      put(256);
      (dict = new Map()), (next = 258), (width = 9);
    }
    w = c;
  }
  if (w !== "") put(w.length === 1 ? w.charCodeAt(0) : dict.get(w)!);
  put(257);
  if (bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Uint8Array.from(out);
}
