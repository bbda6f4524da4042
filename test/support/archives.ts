// Fixture builders for container tests: every archive is made by the test that uses it, from
// bytes held in memory (hand-written formats, Node's zlib, and 7z-wasm for the formats only 7-Zip
// writes), so no binary fixture is checked in and no system tool is needed. Shared by the unit
// tests of src/containers and the end-to-end tests of archive scanning.
import * as zlib from "node:zlib";
import SevenZip from "7z-wasm";

const enc = new TextEncoder();
export const bytes = (s: string | Uint8Array): Uint8Array => (typeof s === "string" ? enc.encode(s) : s);

/** The EICAR test file, assembled at run time so that this source is not itself a detection. */
export const EICAR = enc.encode("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*");

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

export function crc32(data: Uint8Array, value = 0): number {
  return zlib.crc32(data, value) >>> 0;
}

/** Little-endian field writer. */
class Le {
  private readonly parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------
// zip

export interface ZipEntry {
  name: string | Uint8Array;
  data?: Uint8Array;
  /** "store" (default for data under 64 bytes), "deflate", or a raw method number. */
  method?: "store" | "deflate" | number;
  /** Bytes to store as the member's packed data instead of compressing `data`. */
  packed?: Uint8Array;
  /** Flag bit 0 (ZipCrypto) or AES (method 99 with the 0x9901 extra); the data is random bytes. */
  encrypted?: "zipcrypto" | "aes";
  /** Sizes and CRC in a data descriptor after the data (flag bit 3). */
  descriptor?: boolean;
  /** Zip64 extra fields for this entry's sizes and offset. */
  zip64?: boolean;
  /** Overrides: a wrong CRC, a lying declared size, a local name that differs from the central one. */
  crc?: number;
  size?: number;
  localName?: string | Uint8Array;
  /** Unix mode in the external attributes (0o120777 for a symlink). */
  mode?: number;
}

export interface ZipOptions {
  /** Write the zip64 end of central directory record and locator. */
  zip64?: boolean;
  comment?: string;
}

interface Built {
  local: Uint8Array;
  central: (offset: number) => Uint8Array;
}

function zipEntry(e: ZipEntry): Built {
  const name = bytes(e.name);
  const data = e.data ?? new Uint8Array(0);
  const method = e.encrypted === "aes" ? 99 : e.method === "deflate" ? 8 : typeof e.method === "number" ? e.method : 0;
  let packed = e.packed ?? (method === 8 ? zlib.deflateRawSync(data) : data);
  if (e.encrypted) packed = concat([new Uint8Array(12).fill(0x5a), packed.map((b) => b ^ 0xa5)]);
  const flags = (e.encrypted ? 1 : 0) | (e.descriptor ? 8 : 0) | 0x800;
  const crc = e.crc ?? crc32(data);
  const size = e.size ?? data.length;
  const z64 = e.zip64 === true;
  const aesExtra = e.encrypted === "aes" ? new Le().u16(0x9901).u16(7).u16(2).u8(0x41).u8(0x45).u8(3).u16(8).done() : new Uint8Array(0);
  const localExtra = concat([z64 ? new Le().u16(1).u16(16).u64(size).u64(packed.length).done() : new Uint8Array(0), aesExtra]);
  const localName = e.localName !== undefined ? bytes(e.localName) : name;
  const local = new Le()
    .u32(0x04034b50)
    .u16(z64 ? 45 : 20)
    .u16(flags)
    .u16(method)
    .u16(0)
    .u16(0x21)
    .u32(e.descriptor ? 0 : crc)
    .u32(e.descriptor ? 0 : z64 ? 0xffffffff : packed.length)
    .u32(e.descriptor ? 0 : z64 ? 0xffffffff : size)
    .u16(localName.length)
    .u16(localExtra.length)
    .done();
  const descriptor = e.descriptor
    ? z64
      ? new Le().u32(0x08074b50).u32(crc).u64(packed.length).u64(size).done()
      : new Le().u32(0x08074b50).u32(crc).u32(packed.length).u32(size).done()
    : new Uint8Array(0);
  return {
    local: concat([local, localName, localExtra, packed, descriptor]),
    central: (offset) => {
      const extra = concat([z64 ? new Le().u16(1).u16(24).u64(size).u64(packed.length).u64(offset).done() : new Uint8Array(0), aesExtra]);
      const head = new Le()
        .u32(0x02014b50)
        .u16(e.mode !== undefined ? 0x031e : 0x0014)
        .u16(z64 ? 45 : 20)
        .u16(flags)
        .u16(method)
        .u16(0)
        .u16(0x21)
        .u32(crc)
        .u32(z64 ? 0xffffffff : packed.length)
        .u32(z64 ? 0xffffffff : size)
        .u16(name.length)
        .u16(extra.length)
        .u16(0)
        .u16(0)
        .u16(0)
        .u32(e.mode !== undefined ? (e.mode << 16) >>> 0 : 0)
        .u32(z64 ? 0xffffffff : offset)
        .done();
      return concat([head, name, extra]);
    },
  };
}

function endRecords(count: number, cdOffset: number, cdSize: number, zip64: boolean, comment: string): Uint8Array {
  const c = bytes(comment);
  const parts: Uint8Array[] = [];
  if (zip64) {
    const eocd64At = cdOffset + cdSize;
    parts.push(new Le().u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count).u64(cdSize).u64(cdOffset).done());
    parts.push(new Le().u32(0x07064b50).u32(0).u64(eocd64At).u32(1).done());
  }
  const n = zip64 ? 0xffff : count;
  parts.push(new Le().u32(0x06054b50).u16(0).u16(0).u16(n).u16(n).u32(cdSize).u32(zip64 ? 0xffffffff : cdOffset).u16(c.length).done(), c);
  return concat(parts);
}

/** A zip of `entries`, in order. */
export function zip(entries: ZipEntry[], opts: ZipOptions = {}): Uint8Array {
  const built = entries.map(zipEntry);
  const offsets: number[] = [];
  let at = 0;
  for (const b of built) offsets.push(at), (at += b.local.length);
  const central = concat(built.map((b, i) => b.central(offsets[i]!)));
  return concat([...built.map((b) => b.local), central, endRecords(entries.length, at, central.length, opts.zip64 === true, opts.comment ?? "")]);
}

/** A Chrome extension: a crx3 (or crx2) header before the zip. */
export function crx(zipBytes: Uint8Array, version: 2 | 3 = 3): Uint8Array {
  if (version === 3) {
    const header = new Uint8Array(20).fill(7); // an opaque CrxFileHeader protobuf
    return concat([bytes("Cr24"), new Le().u32(3).u32(header.length).done(), header, zipBytes]);
  }
  const key = new Uint8Array(16).fill(1);
  const sig = new Uint8Array(8).fill(2);
  return concat([bytes("Cr24"), new Le().u32(2).u32(key.length).u32(sig.length).done(), key, sig, zipBytes]);
}

/**
 * A raw deflate stream of `total` zero bytes made from one compressed 64 MiB segment repeated,
 * so that gigabytes are described without ever being allocated. Each segment ends in a full
 * flush (no reference crosses it); a final empty block closes the stream.
 */
export function deflatedZeros(total: number, segment = 64 * 1024 * 1024): { packed: Uint8Array; crc: number } {
  const zeros = new Uint8Array(Math.min(segment, total));
  const seg = zlib.deflateRawSync(zeros, { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 });
  const whole = Math.floor(total / zeros.length);
  const rest = total - whole * zeros.length;
  const parts: Uint8Array[] = Array(whole).fill(seg);
  const segCrc = crc32(zeros);
  let crc = 0;
  for (let i = 0; i < whole; i++) crc = crc32Combine(crc, segCrc, zeros.length);
  if (rest > 0) {
    parts.push(zlib.deflateRawSync(zeros.subarray(0, rest), { finishFlush: zlib.constants.Z_FULL_FLUSH }));
    crc = crc32(zeros.subarray(0, rest), crc);
  }
  parts.push(Uint8Array.of(0x03, 0x00)); // a final fixed-Huffman block with only end-of-block
  return { packed: concat(parts), crc };
}

/**
 * A 42.zip-style nested bomb: the bottom `kernel` bytes of zeros, then `levels` levels of zips,
 * each holding `fan` deflated copies of the level below.
 */
export function nestedZipBomb(levels: number, fan = 16, kernel = 1024 * 1024 * 1024): Uint8Array {
  const { packed, crc } = deflatedZeros(kernel);
  let current = zip(Array.from({ length: fan }, (_, i) => ({ name: `${i}.dat`, method: "deflate" as const, packed, crc, size: kernel })));
  for (let level = 1; level < levels; level++) {
    current = zip(Array.from({ length: fan }, (_, i) => ({ name: `${level}-${i}.zip`, data: current, method: "deflate" as const })));
  }
  return current;
}

/**
 * Fifield's "better zip bomb" (quoted overlap): `files` local headers in a row, each followed by
 * a non-final stored deflate block that quotes the next local header, and all of them ending in
 * one shared kernel of `kernel` zeros. Every member unpacks to the kernel plus the headers it
 * quotes; the central directory lists each, so the archive expands about `files` times its kernel.
 */
export function overlapZipBomb(files: number, kernel = 64 * 1024 * 1024): Uint8Array {
  const { packed: kernelPacked, crc: kernelCrc } = deflatedZeros(kernel);
  const names = Array.from({ length: files }, (_, i) => enc.encode(`f${String(i).padStart(4, "0")}`));
  // Local headers depend on their member's CRC and sizes, which depend on the headers after it:
  // build from the last member to the first.
  const headers: Uint8Array[] = new Array(files);
  const sizes: { packed: number; size: number; crc: number }[] = new Array(files);
  let suffixPacked = kernelPacked.length; // what follows a quote: the rest of the chain's data
  let suffixSize = kernel;
  let suffixCrcData: Uint8Array[] = []; // the quoted headers in front of the kernel, innermost last
  for (let i = files - 1; i >= 0; i--) {
    const quoted = i === files - 1 ? [] : [headers[i + 1]!];
    const quoteBlocks = quoted.map((h) => concat([Uint8Array.of(0x00), new Le().u16(h.length).u16(~h.length & 0xffff).done()]));
    const packedLen = (quoteBlocks[0]?.length ?? 0) + (quoted[0]?.length ?? 0) + suffixPacked;
    const prefix = [...quoted, ...suffixCrcData];
    const size = prefix.reduce((n, p) => n + p.length, 0) + kernel;
    let crc = 0;
    for (const p of prefix) crc = crc32(p, crc);
    crc = crcOfZerosAfter(crc, kernel, kernelCrc);
    sizes[i] = { packed: packedLen, size, crc };
    headers[i] = concat([
      new Le().u32(0x04034b50).u16(20).u16(0).u16(8).u16(0).u16(0x21).u32(crc).u32(packedLen).u32(size).u16(names[i]!.length).u16(0).done(),
      names[i]!,
    ]);
    suffixPacked = packedLen;
    suffixSize = size;
    suffixCrcData = prefix;
  }
  void suffixSize;
  // The file: header 0, then for each i a stored block quoting header i+1 (the quote is header
  // i+1 itself, so it is written once), then the kernel.
  const body: Uint8Array[] = [headers[0]!];
  const offsets = [0];
  let at = headers[0]!.length;
  for (let i = 1; i < files; i++) {
    const h = headers[i]!;
    const block = concat([Uint8Array.of(0x00), new Le().u16(h.length).u16(~h.length & 0xffff).done()]);
    body.push(block, h);
    at += block.length;
    offsets.push(at);
    at += h.length;
  }
  body.push(kernelPacked);
  at += kernelPacked.length;
  const central = concat(
    names.map((name, i) =>
      concat([
        new Le()
          .u32(0x02014b50)
          .u16(20)
          .u16(20)
          .u16(0)
          .u16(8)
          .u16(0)
          .u16(0x21)
          .u32(sizes[i]!.crc)
          .u32(sizes[i]!.packed)
          .u32(sizes[i]!.size)
          .u16(name.length)
          .u16(0)
          .u16(0)
          .u16(0)
          .u16(0)
          .u32(0)
          .u32(offsets[i]!)
          .done(),
        name,
      ]),
    ),
  );
  return concat([...body, central, endRecords(files, at, central.length, false, "")]);
}

/** CRC-32 of (data whose CRC is `crc`) followed by `n` zeros, given the CRC of those zeros alone. */
function crcOfZerosAfter(crc: number, n: number, zerosCrc: number): number {
  return crc32Combine(crc, zerosCrc, n);
}

function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}

/** zlib's crc32_combine: the CRC of A then B from CRC(A), CRC(B) and B's length, in log time. */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let c = crc1 >>> 0;
  for (;;) {
    gf2Square(even, odd);
    if (len2 % 2 === 1) c = gf2Times(even, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
    gf2Square(odd, even);
    if (len2 % 2 === 1) c = gf2Times(odd, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
  }
  return (c ^ crc2) >>> 0;
}

/**
 * A zip that contains itself by reference: a chain of `depth` entries where each entry's stored
 * data starts with the next entry's local header and runs to the end of the file, through the
 * central directory and end record that list it. Read from any entry's first byte, the rest is
 * again a zip (with a prefix) listing the same entries: unpacking it yields itself, one header
 * shorter, again and again.
 */
export function selfContainingZip(depth = 4): Uint8Array {
  const names = Array.from({ length: depth }, (_, i) => enc.encode(`self${i}.zip`));
  // Layout: LH0 LH1 ... LH(depth-1) CD EOCD; entry i's data starts right after LH i.
  const lhLen = (i: number) => 30 + names[i]!.length;
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < depth; i++) offsets.push(at), (at += lhLen(i));
  const cdOffset = at;
  const cdLen = names.reduce((n, name) => n + 46 + name.length, 0);
  const total = cdOffset + cdLen + 22;
  // Sizes are known from the layout; CRCs would need a fixed point, so they are left as zero:
  // a reader must stop this on structure, before any CRC is checked.
  const sizeOf = (i: number) => total - (offsets[i]! + lhLen(i));
  const lhs = names.map((name, i) =>
    concat([new Le().u32(0x04034b50).u16(20).u16(0).u16(0).u16(0).u16(0x21).u32(0).u32(sizeOf(i)).u32(sizeOf(i)).u16(name.length).u16(0).done(), name]),
  );
  const cds = names.map((name, i) =>
    concat([
      new Le().u32(0x02014b50).u16(20).u16(20).u16(0).u16(0).u16(0).u16(0x21).u32(0).u32(sizeOf(i)).u32(sizeOf(i)).u16(name.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offsets[i]!).done(),
      name,
    ]),
  );
  return concat([...lhs, ...cds, endRecords(depth, cdOffset, cdLen, false, "")]);
}

// ---------------------------------------------------------------------------------------------
// gzip, zstd

/** A gzip member with an FNAME field (zlib's gzipSync writes none). */
export function gzip(data: Uint8Array, name?: string | Uint8Array): Uint8Array {
  const n = name === undefined ? undefined : bytes(name);
  const header = Uint8Array.of(0x1f, 0x8b, 8, n ? 8 : 0, 0, 0, 0, 0, 0, 3);
  const trailer = new Le().u32(crc32(data)).u32(data.length % 2 ** 32).done();
  return concat([header, ...(n ? [n, Uint8Array.of(0)] : []), zlib.deflateRawSync(data), trailer]);
}

/** `copies` gzip members each of `each` zeros: a gzip of copies × each bytes, none allocated. */
export function gzipOfZeros(copies: number, each = 100 * 1024 * 1024): Uint8Array {
  const one = zlib.gzipSync(new Uint8Array(each), { level: 9 });
  return concat(Array(copies).fill(one));
}

export function zstd(data: Uint8Array): Uint8Array {
  return (zlib as unknown as { zstdCompressSync(d: Uint8Array): Uint8Array }).zstdCompressSync(data);
}

// ---------------------------------------------------------------------------------------------
// tar

export interface TarEntry {
  name: string | Uint8Array;
  data?: Uint8Array;
  /** Type flag character: "0" file (default), "5" directory, "2" symlink, ... */
  type?: string;
  linkname?: string;
  /** Override the size field (a lie), written as octal unless `base256`. */
  declaredSize?: number;
  base256?: boolean;
}

function octal(n: number, len: number): Uint8Array {
  const s = n.toString(8).padStart(len - 1, "0");
  return enc.encode(s.length > len - 1 ? s.slice(-(len - 1)) + "\0" : s + "\0");
}

function tarHeader(name: Uint8Array, size: number, type: string, opts: { prefix?: Uint8Array; linkname?: string; base256?: boolean; magic?: "ustar" | "gnu" | "v7" }): Uint8Array {
  const h = new Uint8Array(512);
  h.set(name.subarray(0, 100), 0);
  h.set(octal(0o644, 8), 100);
  h.set(octal(0, 8), 108);
  h.set(octal(0, 8), 116);
  if (opts.base256 || size > 0o77777777777) {
    h[124] = 0x80;
    for (let i = 11, v = size; i >= 1; i--, v = Math.floor(v / 256)) h[124 + i] = v % 256;
  } else h.set(octal(size, 12), 124);
  h.set(octal(0, 12), 136);
  h[156] = type.charCodeAt(0);
  if (opts.linkname) h.set(enc.encode(opts.linkname).subarray(0, 100), 157);
  if (opts.magic === "ustar" || opts.magic === undefined) h.set(enc.encode("ustar\x0000"), 257);
  else if (opts.magic === "gnu") h.set(enc.encode("ustar  \0"), 257);
  if (opts.prefix) h.set(opts.prefix.subarray(0, 155), 345);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return h;
}

function padded(data: Uint8Array): Uint8Array {
  const pad = (512 - (data.length % 512)) % 512;
  return concat([data, new Uint8Array(pad)]);
}

/**
 * A tar. Names longer than 100 bytes go, by `style`: "ustar" into the prefix field (split at a
 * slash), "pax" into a pax `path` record, "gnu" into a GNU ././@LongLink entry.
 */
export function tar(entries: TarEntry[], style: "ustar" | "pax" | "gnu" | "v7" = "ustar", end = true): Uint8Array {
  const out: Uint8Array[] = [];
  for (const e of entries) {
    const name = bytes(e.name);
    const data = e.data ?? new Uint8Array(0);
    const size = e.declaredSize ?? data.length;
    const type = e.type ?? "0";
    const magic = style === "gnu" ? "gnu" : style === "v7" ? "v7" : "ustar";
    let shortName = name;
    let prefix: Uint8Array | undefined;
    if (name.length > 100) {
      if (style === "pax") {
        const rec = (k: string, v: Uint8Array) => {
          const body = concat([enc.encode(` ${k}=`), v, enc.encode("\n")]);
          let len = body.length + 1;
          while (String(len).length + body.length !== len) len = String(len).length + body.length;
          return concat([enc.encode(String(len)), body]);
        };
        const pax = rec("path", name);
        out.push(tarHeader(enc.encode("PaxHeaders/x"), pax.length, "x", { magic }), padded(pax));
        shortName = name.subarray(0, 100);
      } else if (style === "gnu") {
        const long = concat([name, Uint8Array.of(0)]);
        out.push(tarHeader(enc.encode("././@LongLink"), long.length, "L", { magic }), padded(long));
        shortName = name.subarray(0, 100);
      } else {
        const cut = name.lastIndexOf(0x2f, 155);
        prefix = name.subarray(0, cut);
        shortName = name.subarray(cut + 1);
      }
    }
    out.push(tarHeader(shortName, size, type, { prefix, linkname: e.linkname, base256: e.base256, magic }));
    if (data.length > 0) out.push(padded(data));
  }
  if (end) out.push(new Uint8Array(1024));
  return concat(out);
}

// ---------------------------------------------------------------------------------------------
// ar, deb, cpio

export function ar(entries: { name: string; data: Uint8Array }[], style: "gnu" | "bsd" = "gnu"): Uint8Array {
  const out: Uint8Array[] = [enc.encode("!<arch>\n")];
  const long = entries.filter((e) => e.name.length > 15 && style === "gnu");
  let table = "";
  const at = new Map<string, number>();
  for (const e of long) at.set(e.name, table.length), (table += e.name + "/\n");
  const header = (name: string, size: number) => enc.encode(name.padEnd(16) + "0".padEnd(12) + "0".padEnd(6) + "0".padEnd(6) + "100644".padEnd(8) + String(size).padEnd(10) + "`\n");
  const push = (name: string, body: Uint8Array) => {
    out.push(header(name, body.length), body);
    if (body.length & 1) out.push(enc.encode("\n"));
  };
  if (table) push("//", enc.encode(table));
  for (const e of entries) {
    if (style === "bsd" && e.name.length > 15) push(`#1/${e.name.length}`, concat([enc.encode(e.name), e.data]));
    else push(e.name.length > 15 ? `/${at.get(e.name)}` : `${e.name}/`, e.data);
  }
  return concat(out);
}

/** A .deb: debian-binary, control.tar.gz, data.tar.<compression> holding `files`. */
export function deb(files: TarEntry[], compression: "gz" | "zst" | "none" = "gz"): Uint8Array {
  const control = gzip(tar([{ name: "./control", data: enc.encode("Package: eicar\nVersion: 1\n") }]));
  const data = tar(files);
  const packed = compression === "gz" ? gzip(data) : compression === "zst" ? zstd(data) : data;
  return ar([
    { name: "debian-binary", data: enc.encode("2.0\n") },
    { name: "control.tar.gz", data: control },
    { name: compression === "none" ? "data.tar" : `data.tar.${compression}`, data: packed },
  ]);
}

/** cpio "newc" (070701), the format of initramfs and rpm payloads. */
export function cpio(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const out: Uint8Array[] = [];
  const pad4 = (n: number) => new Uint8Array((4 - (n % 4)) % 4);
  const one = (name: string, data: Uint8Array, mode: number, ino: number) => {
    const n = enc.encode(name + "\0");
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0];
    const head = enc.encode("070701" + fields.map((f) => f.toString(16).padStart(8, "0")).join(""));
    out.push(head, n, pad4(head.length + n.length), data, pad4(data.length));
  };
  entries.forEach((e, i) => one(e.name, e.data, 0o100644, i + 1));
  one("TRAILER!!!", new Uint8Array(0), 0, 0);
  return concat(out);
}

// ---------------------------------------------------------------------------------------------
// cab, iso, rpm: hand-written, uncompressed variants (no system tool writes them everywhere)

/** A cabinet with one uncompressed folder holding `entries`. */
export function cab(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const payload = concat(entries.map((e) => e.data));
  const files: Uint8Array[] = [];
  let off = 0;
  for (const e of entries) {
    files.push(concat([new Le().u32(e.data.length).u32(off).u16(0).u16(0x5021).u16(0).u16(0x20).done(), enc.encode(e.name + "\0")]));
    off += e.data.length;
  }
  const blocks: Uint8Array[] = [];
  for (let p = 0; p < payload.length || blocks.length === 0; p += 32768) {
    const chunk = payload.subarray(p, p + 32768);
    blocks.push(concat([new Le().u32(0).u16(chunk.length).u16(chunk.length).done(), chunk]));
  }
  const filesBytes = concat(files);
  const headerLen = 36;
  const folderLen = 8;
  const dataStart = headerLen + folderLen + filesBytes.length;
  const total = dataStart + blocks.reduce((n, b) => n + b.length, 0);
  const header = new Le().u32(0x4643534d).u32(0).u32(total).u32(0).u32(headerLen + folderLen).u32(0).u8(3).u8(1).u16(1).u16(entries.length).u16(0).u16(0x1234).u16(0).done();
  const folder = new Le().u32(dataStart).u16(blocks.length).u16(0).done();
  return concat([header, folder, filesBytes, ...blocks]);
}

/** A minimal ISO 9660 image: one file in the root directory. */
export function iso(name: string, data: Uint8Array): Uint8Array {
  const S = 2048;
  const both16 = (v: number) => new Le().u16(v).u8(v >>> 8).u8(v).done();
  const both32 = (v: number) => concat([new Le().u32(v).done(), Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255)]);
  const date7 = Uint8Array.of(126, 1, 1, 0, 0, 0, 0);
  const record = (id: Uint8Array, lba: number, size: number, dir: boolean) => {
    const len = 33 + id.length + ((33 + id.length) % 2);
    const r = new Uint8Array(len);
    r.set(concat([Uint8Array.of(len, 0), both32(lba), both32(size), date7, Uint8Array.of(dir ? 2 : 0, 0, 0), both16(1), Uint8Array.of(id.length), id]));
    return r;
  };
  const rootLba = 20;
  const fileLba = 21;
  const fileSectors = Math.max(1, Math.ceil(data.length / S));
  const totalSectors = fileLba + fileSectors;
  const img = new Uint8Array(totalSectors * S);
  const pvd = new Uint8Array(S);
  pvd.set(Uint8Array.of(1), 0);
  pvd.set(enc.encode("CD001"), 1);
  pvd[6] = 1;
  pvd.fill(0x20, 8, 72); // system and volume identifiers
  pvd.set(enc.encode("RING3"), 40);
  pvd.set(both32(totalSectors), 80);
  pvd.set(both16(1), 120);
  pvd.set(both16(1), 124);
  pvd.set(both16(S), 128);
  pvd.set(both32(10), 132); // path table size
  pvd.set(new Le().u32(18).done(), 140);
  pvd.set(Uint8Array.of(0, 0, 0, 19), 148);
  pvd.set(record(Uint8Array.of(0), rootLba, S, true), 156);
  pvd.fill(0x20, 190, 813);
  pvd.fill(0x30, 813, 881);
  pvd[881] = 1;
  img.set(pvd, 16 * S);
  img.set(concat([Uint8Array.of(255), enc.encode("CD001"), Uint8Array.of(1)]), 17 * S);
  img.set(concat([Uint8Array.of(1, 0), new Le().u32(rootLba).done(), Uint8Array.of(1, 0, 0, 0)]), 18 * S); // L path table
  img.set(concat([Uint8Array.of(1, 0, 0, 0, 0, rootLba, 0, 1, 0, 0)]), 19 * S); // M path table
  img.set(concat([record(Uint8Array.of(0), rootLba, S, true), record(Uint8Array.of(1), rootLba, S, true), record(enc.encode(name.toUpperCase() + ";1"), fileLba, data.length, false)]), rootLba * S);
  img.set(data, fileLba * S);
  return img;
}

/** A minimal rpm: lead, empty signature and main headers, and a gzip'd cpio payload. */
export function rpm(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const lead = new Uint8Array(96);
  lead.set(Uint8Array.of(0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 0, 0, 1), 0);
  lead.set(enc.encode("eicar-1-1"), 10);
  lead.set(Uint8Array.of(0, 1, 0, 5), 76); // os 1, signature type 5 (header-style)
  const be32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  // One string tag each, as rpm itself always writes some: name (1000) in the main header.
  const headerWith = (tag: number, value: string) => {
    const store = enc.encode(value + "\0");
    return concat([Uint8Array.of(0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0), be32(1), be32(store.length), be32(tag), be32(6), be32(0), be32(1), store]);
  };
  const sig = headerWith(1000, "x");
  const sigPadded = concat([sig, new Uint8Array((8 - (sig.length % 8)) % 8)]);
  const main = headerWith(1000, "eicar");
  return concat([lead, sigPadded, main, gzip(cpio(entries.map((e) => ({ name: "./" + e.name, data: e.data }))))]);
}

/**
 * An OLE compound file's header sector followed by `sectors` zeroed 512-byte sectors, the FAT
 * in the first `fatSectors` of them (listed in the header's DIFAT, no DIFAT sectors).
 */
export function oleHeader(
  sectors: number,
  h: { fatSectors: number; firstDir: number; miniCutoff: number; firstMiniFat: number; miniFatSectors: number },
): { out: Uint8Array; v: DataView; at: (sector: number) => number } {
  const S = 512;
  const out = new Uint8Array(S * (1 + sectors));
  const v = new DataView(out.buffer);
  out.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 0);
  v.setUint16(24, 0x3e, true);
  v.setUint16(26, 3, true);
  v.setUint16(28, 0xfffe, true);
  v.setUint16(30, 9, true); // 512-byte sectors
  v.setUint16(32, 6, true); // 64-byte mini sectors
  v.setUint32(44, h.fatSectors, true);
  v.setUint32(48, h.firstDir, true);
  v.setUint32(56, h.miniCutoff, true);
  v.setUint32(60, h.firstMiniFat, true);
  v.setUint32(64, h.miniFatSectors, true);
  v.setUint32(68, 0xfffffffe, true); // no DIFAT sectors
  for (let i = 0; i < 109; i++) v.setUint32(76 + 4 * i, i < h.fatSectors ? i : 0xffffffff, true);
  return { out, v, at: (sector) => S * (sector + 1) };
}

/**
 * A minimal OLE compound file (the container of .msi, .doc, .xls): one stream under the root,
 * under 4 KiB, so kept in the mini stream. Sectors: 0 FAT, 1 directory, 2 mini FAT, 3.. mini
 * stream.
 */
export function ole(name: string, data: Uint8Array): Uint8Array {
  if (data.length >= 4096) throw new Error("ole(): streams of 4 KiB and more are not written here");
  const S = 512;
  const END = 0xfffffffe;
  const FREE = 0xffffffff;
  const miniSectors = Math.max(1, Math.ceil(data.length / 64));
  const streamSectors = Math.ceil((miniSectors * 64) / S);
  const { out, v, at } = oleHeader(3 + streamSectors, { fatSectors: 1, firstDir: 1, miniCutoff: 4096, firstMiniFat: 2, miniFatSectors: 1 });
  // FAT: sector 0 is the FAT, 1 and 2 single-sector chains, 3.. the mini stream's chain.
  for (let i = 0; i < S / 4; i++) v.setUint32(at(0) + 4 * i, FREE, true);
  v.setUint32(at(0), 0xfffffffd, true);
  v.setUint32(at(0) + 4, END, true);
  v.setUint32(at(0) + 8, END, true);
  for (let i = 0; i < streamSectors; i++) v.setUint32(at(0) + 4 * (3 + i), i === streamSectors - 1 ? END : 4 + i, true);
  // Mini FAT: one chain through the stream's mini sectors.
  for (let i = 0; i < S / 4; i++) v.setUint32(at(2) + 4 * i, FREE, true);
  for (let i = 0; i < miniSectors; i++) v.setUint32(at(2) + 4 * i, i === miniSectors - 1 ? END : i + 1, true);
  const entry = (index: number, entryName: string, type: number, child: number, start: number, size: number) => {
    const base = at(1) + 128 * index;
    for (let i = 0; i < entryName.length; i++) v.setUint16(base + 2 * i, entryName.charCodeAt(i), true);
    v.setUint16(base + 64, entryName.length ? (entryName.length + 1) * 2 : 0, true);
    out[base + 66] = type;
    out[base + 67] = 1; // black
    v.setUint32(base + 68, FREE, true);
    v.setUint32(base + 72, FREE, true);
    v.setUint32(base + 76, child, true);
    v.setUint32(base + 116, start, true);
    v.setUint32(base + 120, size, true);
  };
  entry(0, "Root Entry", 5, 1, 3, miniSectors * 64);
  entry(1, name, 2, FREE, 0, data.length);
  entry(2, "", 0, FREE, 0, 0);
  entry(3, "", 0, FREE, 0, 0);
  out.set(data, at(3));
  return out;
}

// ---------------------------------------------------------------------------------------------
// 7z-wasm for what only 7-Zip writes here: 7z (plain and encrypted), xz, bzip2

/**
 * An archive written by 7-Zip (7z-wasm) from `files` (names relative, "/" for folders):
 * type "7z", "xz", "bzip2", "zip", "tar", "wim"; `password` encrypts (7z: with -mhe, the names too);
 * `args` adds switches (such as -mm=BZip2 for a zip's method).
 */
export async function sevenZipCreate(type: string, files: { name: string; data: Uint8Array }[], opts: { password?: string; encryptNames?: boolean; args?: string[] } = {}): Promise<Uint8Array> {
  const saved = process.exitCode;
  const sz = await SevenZip({ print: () => undefined, printErr: () => undefined, stdin: () => null } as never);
  try {
    sz.FS.mkdir("/in");
    for (const f of files) {
      const parts = f.name.split("/");
      let dir = "/in";
      for (const p of parts.slice(0, -1)) {
        dir += "/" + p;
        try {
          sz.FS.mkdir(dir);
        } catch {
          // exists
        }
      }
      sz.FS.writeFile(`/in/${f.name}`, f.data);
    }
    sz.FS.chdir("/in");
    const args = ["a", "-bd", `-t${type}`, "/out.bin", ...files.map((f) => f.name)];
    if (opts.password) args.push(`-p${opts.password}`, ...(opts.encryptNames ? ["-mhe=on"] : []));
    if (opts.args) args.push(...opts.args);
    sz.callMain(args);
    return sz.FS.readFile("/out.bin");
  } finally {
    process.exitCode = saved;
  }
}
