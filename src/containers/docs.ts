// Documents that carry other files: PDF (streams decoded, embedded files by name), RTF (\objdata
// OLE 1 objects), HTML (base64 data: URIs) and OLE packages (the "Package" object Office and RTF
// use to embed a file: an Ole10Native stream or an OLE 1 native block). Every loop is over the
// input once; nothing follows a reference more than one step, so self-referencing objects cannot
// make a loop.
import { outputCap, problem, timeProblem } from "./budget";
import { Gate, cleanName, containerProblem as containerProblemOf, corrupt, hexDecode, latin1, memberOf, startsWith } from "./carrier";
import { decode } from "./inflate";
import type { Budget, ContainerProblem, Member } from "./types";

// ---- PDF ----

/**
 * "%PDF-" at offset 0, or on a line of its own within the first KiB (readers accept a little junk
 * before the header, and droppers use that); a text that mentions %PDF mid-line is not a PDF.
 */
export function isPdf(data: Uint8Array): boolean {
  if (startsWith(data, 0, "%PDF-")) return true;
  const head = data.subarray(0, 1024);
  const at = Buffer.from(head.buffer, head.byteOffset, head.byteLength).indexOf("\n%PDF-");
  return at >= 0 && /^%PDF-\d\.\d\s*[\r\n]/.test(latin1(data.subarray(at + 1, at + 16)));
}

const MAX_FILTERS = 8;
/** A stream's dictionary longer than this is no dictionary: the "stream" found belongs elsewhere. */
const MAX_DICT = 64 * 1024;

/** What a stream is, from its dictionary: filters in order, and whether it is an embedded file. */
function filtersOf(dict: string): string[] {
  const m = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict);
  if (!m) return [];
  return (m[1]!.match(/\/[A-Za-z0-9]+/g) ?? []).map((f) => f.slice(1));
}

function applyFilter(name: string, input: Uint8Array, budget: Budget, what: string): { data?: Uint8Array; problem?: ContainerProblem } | null {
  switch (name) {
    case "FlateDecode":
    case "Fl": {
      // zlib: a 2-byte header (and an Adler-32 after the data that raw inflate ignores).
      const body = input.length >= 2 && (input[0]! & 0x0f) === 8 && ((input[0]! << 8) | input[1]!) % 31 === 0 ? input.subarray(2) : input;
      return decode("deflate-raw", body, outputCap(budget, input.length), budget, what);
    }
    case "ASCIIHexDecode":
    case "AHx": {
      const s = latin1(input);
      const end = s.indexOf(">");
      const hex = s.slice(0, end < 0 ? s.length : end);
      const padded = hex.replace(/\s/g, "").length % 2 === 1 ? `${hex}0` : hex;
      return { data: hexDecode(padded).data };
    }
    case "ASCII85Decode":
    case "A85":
      return { data: ascii85(latin1(input)) };
    case "RunLengthDecode":
    case "RL":
      return runLength(input, outputCap(budget, input.length).limit);
    case "LZWDecode":
    case "LZW": {
      const cap = outputCap(budget, input.length);
      const r = lzw(input, cap.limit);
      return r.over ? { data: r.data, problem: problem(cap.code, `${what}: LZW stream expands past the budget`) } : r.error ? { data: r.data, problem: problem("archive-corrupt", `${what}: ${r.error}`) } : { data: r.data };
    }
    default:
      return null; // images (DCT, JPX, JBIG2, CCITT), Crypt: left as they are
  }
}

function ascii85(s: string): Uint8Array {
  const body = s.replace(/^\s*<~/, "");
  const end = body.indexOf("~>");
  const text = (end < 0 ? body : body.slice(0, end)).replace(/\s/g, "");
  const out = new Uint8Array(Math.ceil((text.length * 4) / 5) + text.length * 4);
  let n = 0;
  let group: number[] = [];
  const flush = (g: number[], bytes: number) => {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 85 + (g[i] ?? 84);
    for (let i = 0; i < bytes; i++) out[n++] = (v >>> (24 - 8 * i)) & 0xff;
  };
  for (const ch of text) {
    if (ch === "z" && group.length === 0) {
      n += 4; // four zero bytes (the array is zeroed)
      continue;
    }
    const c = ch.charCodeAt(0) - 33;
    if (c < 0 || c > 84) break;
    group.push(c);
    if (group.length === 5) flush(group, 4), (group = []);
  }
  if (group.length > 1) flush(group, group.length - 1);
  return out.subarray(0, n);
}

/** LZW as PDF writes it: 9 to 12-bit codes, most significant bit first, 256 clear, 257 end, early change. */
export function lzw(input: Uint8Array, limit: number): { data: Uint8Array; error?: string; over?: boolean } {
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < 256; i++) (prefix[i] = -1), (suffix[i] = i), (first[i] = i);
  const out = new Uint8Array(Math.min(limit, Math.max(1024, input.length * 8)));
  let buf = out;
  let n = 0;
  const stack = new Uint8Array(4096);
  let width = 9;
  let next = 258;
  let prev = -1;
  let acc = 0;
  let bits = 0;
  let p = 0;
  const emit = (code: number): boolean => {
    let k = 0;
    for (let c = code; c >= 0 && k < 4096; c = prefix[c]!) stack[k++] = suffix[c]!;
    if (n + k > limit) return false;
    if (n + k > buf.length) {
      const grown = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, n + k)));
      grown.set(buf.subarray(0, n));
      buf = grown;
    }
    while (k > 0) buf[n++] = stack[--k]!;
    return true;
  };
  for (;;) {
    while (bits < width && p < input.length) (acc = ((acc << 8) | input[p++]!) & 0xffffff), (bits += 8);
    if (bits < width) return { data: buf.subarray(0, n), error: "LZW stream ends without its end code" };
    bits -= width;
    const code = (acc >> bits) & ((1 << width) - 1);
    if (code === 256) {
      (width = 9), (next = 258), (prev = -1);
      continue;
    }
    if (code === 257) return { data: buf.subarray(0, n) };
    if (prev < 0) {
      if (code > 255) return { data: buf.subarray(0, n), error: "LZW code before any entry" };
      if (!emit(code)) return { data: buf.subarray(0, n), over: true };
      prev = code;
      continue;
    }
    if (code > next || next >= 4096) return { data: buf.subarray(0, n), error: "LZW code out of range" };
    const known = code < next;
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = known ? first[code]! : first[prev]!;
      first[next] = first[prev]!;
      next++;
    }
    if (!emit(code)) return { data: buf.subarray(0, n), over: true };
    if (next + 1 >= 1 << width && width < 12) width++;
    prev = code;
  }
}

function runLength(input: Uint8Array, limit: number): { data: Uint8Array; problem?: ContainerProblem } {
  const out: number[] = [];
  for (let i = 0; i < input.length; ) {
    const len = input[i++]!;
    if (len === 128) break;
    if (len < 128) for (let k = 0; k <= len && i < input.length; k++) out.push(input[i++]!);
    else {
      const b = input[i++] ?? 0;
      for (let k = 0; k < 257 - len; k++) out.push(b);
    }
    if (out.length > limit) return { data: Uint8Array.from(out.slice(0, limit)), problem: problem("archive-ratio", "pdf: run-length stream expands past the budget") };
  }
  return { data: Uint8Array.from(out) };
}

/** A PDF string literal or hex string at the start of `s`, decoded simply (escapes, no encodings). */
function pdfString(s: string): string {
  const t = s.trimStart();
  if (t.startsWith("<")) return latin1(hexDecode(t, 1, Math.max(1, t.indexOf(">"))).data);
  if (!t.startsWith("(")) return "";
  let out = "";
  for (let i = 1, depth = 1; i < t.length; i++) {
    const c = t[i]!;
    if (c === "\\") {
      const e = t[++i] ?? "";
      out += { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" }[e] ?? e;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth === 0) break;
    out += c;
  }
  // UTF-16BE with a byte order mark, as /UF names usually are.
  if (out.startsWith("\xfe\xff")) return Buffer.from(out.slice(2), "latin1").swap16().toString("utf16le");
  return out;
}

export function* readPdf(data: Uint8Array, budget: Budget): Iterable<Member> {
  const s = latin1(data);
  const gate = new Gate(budget);
  // One pass over the object headers: where each object's body starts (for /Length references).
  const objects: { id: string; num: string; at: number; after: number }[] = [];
  const bodyOf = new Map<string, number>();
  const header = /(\d+)\s+(\d+)\s+obj\b/g;
  for (let m = header.exec(s); m; m = header.exec(s)) {
    const id = `${m[1]} ${m[2]}`;
    objects.push({ id, num: m[1]!, at: m.index, after: m.index + m[0].length });
    if (!bodyOf.has(id)) bodyOf.set(id, m.index + m[0].length);
  }
  // Names of embedded files: file specifications "/EF << /F 12 0 R >>" with "/UF (name)" or "/F (name)".
  const names = new Map<string, string>();
  const spec = /\/EF\s*<<[^>]{0,512}?\/(?:UF|F)\s+(\d+)\s+(\d+)\s+R/g;
  for (let m = spec.exec(s); m; m = spec.exec(s)) {
    const region = s.slice(Math.max(0, m.index - 4096), m.index);
    const objStart = region.lastIndexOf(" obj");
    const own = objStart < 0 ? region : region.slice(objStart);
    const n = /\/UF\s*(\([^)]*\)|<[0-9A-Fa-f\s]*>)/.exec(own) ?? /\/F\s*(\([^)]*\)|<[0-9A-Fa-f\s]*>)/.exec(own);
    if (n) names.set(`${m[1]} ${m[2]}`, cleanName(pdfString(n[1]!)));
  }
  const encrypted = /\/Encrypt\s+\d+\s+\d+\s+R/.test(s.slice(Math.max(0, s.length - 4096))) || /trailer[\s\S]{0,400}\/Encrypt/.test(s);
  // Next occurrences, found once and moved forward only: many objects cost one pass, not one each.
  const next = (word: string) => {
    let pos = -2;
    return (from: number): number => {
      if (pos === -1 || (pos >= from && pos !== -2)) return pos;
      pos = s.indexOf(word, from);
      return pos;
    };
  };
  const nextStream = next("stream");
  const nextEndObj = next("endobj");
  const nextEndStream = next("endstream");
  let count = 0;
  let cut = false;
  let skipTo = 0;
  for (const o of objects) {
    if (o.at < skipTo) continue; // inside the previous object's stream
    if (!budget.inTime()) return void (yield containerProblemOf(timeProblem(budget)));
    const { id, after } = o;
    let streamAt = nextStream(after);
    // "endstream" contains "stream": skip over it to the next keyword that opens a stream.
    while (streamAt >= 3 && s.startsWith("end", streamAt - 3)) streamAt = nextStream(streamAt + 6);
    const endObj = nextEndObj(after);
    if (streamAt < 0 || (endObj >= 0 && endObj < streamAt) || streamAt - after > MAX_DICT) continue;
    const dict = s.slice(after, streamAt);
    if (/\d+\s+\d+\s+obj\b/.test(dict)) continue; // the keyword belongs to a later object
    let from = streamAt + 6;
    if (s[from] === "\r") from++;
    if (s[from] === "\n") from++;
    let length = -1;
    const direct = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict);
    const ref = /\/Length\s+(\d+)\s+(\d+)\s+R/.exec(dict);
    if (direct) length = Number(direct[1]);
    else if (ref) {
      // One step to the length's own object, never further (a reference to a reference is ignored).
      const body = bodyOf.get(`${ref[1]} ${ref[2]}`);
      const value = body === undefined ? null : /^\s*(\d+)\s/.exec(s.slice(body, body + 32));
      if (value) length = Number(value[1]);
    }
    if (length < 0 || from + length > s.length || !/^\s*endstream/.test(s.slice(from + length, from + length + 12))) {
      const endStream = nextEndStream(from);
      if (endStream < 0) {
        cut = true;
        length = s.length - from;
      } else length = endStream - from;
      while (length > 0 && (s[from + length - 1] === "\n" || s[from + length - 1] === "\r")) length--;
    }
    skipTo = from + length;
    const embedded = /\/Type\s*\/EmbeddedFile\b/.test(dict) || names.has(id);
    const filters = filtersOf(dict);
    if (!embedded && filters.length === 0) continue; // plain bytes, scanned in the file itself
    if (/\/Subtype\s*\/Image\b/.test(dict) && !embedded) continue;
    let bytes: Uint8Array = data.subarray(from, from + length);
    let trouble: ContainerProblem | undefined;
    let decoded = true;
    for (const f of filters.slice(0, MAX_FILTERS)) {
      const r = applyFilter(f, bytes, budget, `pdf object ${id}`);
      if (r === null) {
        decoded = false;
        break;
      }
      if (!r.data) {
        trouble = r.problem;
        bytes = new Uint8Array(0);
        break;
      }
      bytes = r.data;
      trouble ??= r.problem;
    }
    if (!decoded && !embedded) continue;
    if (!decoded) trouble ??= problem("archive-unsupported", `pdf object ${id}: filter ${filters.join(" ")} not decoded`);
    if (encrypted) trouble = problem("archive-encrypted", "pdf: the document is encrypted; streams were not decrypted");
    const stop = gate.check();
    if (stop) return void (yield stop);
    count++;
    const name = names.get(id) || `obj-${o.num}`;
    yield bytes.length === 0 && trouble ? { name: new TextEncoder().encode(name), problem: trouble } : memberOf(name, bytes, budget, Math.max(1, length), trouble);
  }
  if (cut) yield corrupt("pdf: a stream has no endstream (truncated?)");
  else if (!/%%EOF/.test(s.slice(Math.max(0, s.length - 2048))) && count === 0 && !/endobj/.test(s)) yield corrupt("pdf: no objects (truncated?)");
}

// ---- OLE packages (the "Package" class: a file embedded in a document) ----

interface Packaged {
  name: string;
  data: Uint8Array;
  cut: boolean;
}

/**
 * The packaged file in a Package native block: u16 2, label\0, source path\0, u32 0x30000, u32
 * length, temp path, u32 size, bytes. Null when the block is not one.
 */
function parsePackage(d: Uint8Array, p: number): Packaged | null {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const z = (max: number): string | null => {
    const end = d.indexOf(0, p);
    if (end < 0 || end - p > max) return null;
    const s = latin1(d.subarray(p, end));
    p = end + 1;
    return s;
  };
  if (p + 2 > d.length || v.getUint16(p, true) !== 2) return null;
  p += 2;
  const label = z(1024);
  const source = label === null ? null : z(1024);
  if (source === null || p + 8 > d.length) return null;
  // u16 0, u16 3 (embedded file), then the temporary path with its length (and a NUL).
  if (v.getUint32(p, true) !== 0x00030000) return null;
  p += 4;
  const tempLen = v.getUint32(p, true);
  p += 4;
  if (tempLen > 1024 || p + tempLen + 4 > d.length) return null;
  const temp = latin1(d.subarray(p, p + tempLen)).replace(/\0.*$/s, "");
  p += tempLen;
  const size = v.getUint32(p, true);
  p += 4;
  const name = cleanName(label || temp || source);
  const data = d.subarray(p, Math.min(d.length, p + size));
  return { name, data, cut: data.length < size };
}

/** An Ole10Native stream: its declared size, then a Package block. */
export function isOlePackage(d: Uint8Array): boolean {
  if (d.length < 16) return false;
  const total = (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
  return total <= d.length - 4 && total + 4 + 4096 >= d.length && d[4] === 2 && d[5] === 0 && parsePackage(d, 4) !== null;
}

export function* readOlePackage(data: Uint8Array, budget: Budget): Iterable<Member> {
  const pkg = parsePackage(data, 4);
  if (!pkg) return void (yield corrupt("ole package: not a Package object"));
  yield memberOf(pkg.name || "package", pkg.data, budget, undefined, pkg.cut ? problem("archive-corrupt", "ole package: file cut short") : undefined);
}

// ---- RTF ----

export function isRtf(data: Uint8Array): boolean {
  return startsWith(data, 0, "{\\rtf");
}

/**
 * Every \objdata group: hex digits (whitespace between them) holding an OLE 1 object: version,
 * format, class name, topic, item, then the native data. A Package yields its file; any other
 * class its native data (an OLE compound file for Office objects, opened in turn).
 */
export function* readRtf(data: Uint8Array, budget: Budget): Iterable<Member> {
  const s = latin1(data);
  const gate = new Gate(budget);
  const re = /\\objdata\b/g;
  let n = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const { data: obj, end } = objdataHex(s, m.index + m[0].length);
    re.lastIndex = Math.max(end, m.index + 1);
    if (obj.length < 12) continue;
    n++;
    const stop = gate.check();
    if (stop) return void (yield stop);
    const ole1 = nativeOf(obj);
    if (!ole1) {
      yield memberOf(`object-${n}`, obj, budget);
      continue;
    }
    if (ole1.cls.toLowerCase() === "package") {
      const pkg = parsePackage(ole1.native, 0);
      if (pkg) {
        yield memberOf(pkg.name || `object-${n}`, pkg.data, budget, undefined, pkg.cut || ole1.cut ? problem("archive-corrupt", "rtf: embedded file cut short") : undefined);
        continue;
      }
    }
    yield memberOf(`object-${n}.${cleanName(ole1.cls) || "bin"}`, ole1.native, budget, undefined, ole1.cut ? problem("archive-corrupt", "rtf: object data cut short") : undefined);
  }
  if (n === 0 && !s.trimEnd().endsWith("}")) yield corrupt("rtf: document not closed (truncated?)");
}

/**
 * The hex digits of an \objdata group up to the brace that closes it. Exploit documents scatter
 * control words, groups and other junk between the digits (which Word ignores): so does this.
 */
function objdataHex(s: string, from: number): { data: Uint8Array; end: number } {
  const out = new Uint8Array((s.length - from) >> 1);
  let n = 0;
  let hi = -1;
  let depth = 0;
  let p = from;
  while (p < s.length) {
    const c = s.charCodeAt(p);
    if (c === 0x7d) {
      if (depth === 0) break;
      depth--;
      p++;
    } else if (c === 0x7b) {
      depth++;
      p++;
    } else if (c === 0x5c) {
      // \'hh is an escaped byte (not part of the hex data); \word[-N][ ] a control word; \binN skips N bytes.
      if (s[p + 1] === "'") {
        p += 4;
        continue;
      }
      const w = /^\\([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(s.slice(p, p + 48));
      if (!w) {
        p += 2;
        continue;
      }
      p += w[0].length;
      if (w[1] === "bin" && w[2]) p += Math.max(0, Number(w[2]));
    } else {
      let v = -1;
      if (c >= 48 && c <= 57) v = c - 48;
      else if (c >= 97 && c <= 102) v = c - 87;
      else if (c >= 65 && c <= 70) v = c - 55;
      if (v >= 0) {
        if (hi < 0) hi = v;
        else (out[n++] = (hi << 4) | v), (hi = -1);
      }
      p++;
    }
  }
  return { data: out.subarray(0, n), end: p };
}

function nativeOf(d: Uint8Array): { cls: string; native: Uint8Array; cut: boolean } | null {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let p = 8; // OLE version, format id
  const str = (): string | null => {
    if (p + 4 > d.length) return null;
    const len = v.getUint32(p, true);
    if (len > 4096 || p + 4 + len > d.length) return null;
    const t = latin1(d.subarray(p + 4, p + 4 + len)).replace(/\0+$/, "");
    p += 4 + len;
    return t;
  };
  const cls = str();
  if (cls === null || str() === null || str() === null || p + 4 > d.length) return null;
  const size = v.getUint32(p, true);
  p += 4;
  const native = d.subarray(p, Math.min(d.length, p + size));
  return { cls, native, cut: native.length < size };
}

// ---- HTML ----

/**
 * Markup (its first byte '<') holding base64 somewhere (a data: URI, or atob() as HTML smuggling
 * uses): found by native searches, no parse.
 */
export function isHtml(data: Uint8Array): boolean {
  let p = startsWith(data, 0, "\xef\xbb\xbf") ? 3 : 0;
  while (p < data.length && p < 256 && (data[p] === 0x20 || data[p] === 0x0a || data[p] === 0x0d || data[p] === 0x09)) p++;
  if (data[p] !== 0x3c) return false;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return b.indexOf(";base64,") >= 0 || b.indexOf("atob(") >= 0;
}

/** Quoted base64 runs this long in markup are decoded (shorter ones are ids, hashes, icons). */
const BLOB_MIN = 1024;

export function* readHtml(data: Uint8Array, budget: Budget): Iterable<Member> {
  const s = latin1(data);
  const gate = new Gate(budget);
  const re = /data:([\w.+/-]*)(?:;[\w.+-]+=[^;,"'\s]*)*;base64,([A-Za-z0-9+/=\s%]+)/g;
  let n = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const text = m[2]!.replace(/\s|%0[AaDd]/g, "");
    if (text.length < 8) continue;
    const stop = gate.check();
    if (stop) return void (yield stop);
    n++;
    const ext = (m[1] || "").split("/").pop() || "bin";
    yield memberOf(`data-${n}.${cleanName(ext) || "bin"}`, new Uint8Array(Buffer.from(text, "base64")), budget);
  }
  // Long quoted base64 strings (a payload a script decodes with atob()).
  const blob = new RegExp(`["'\`]([A-Za-z0-9+/]{${BLOB_MIN},}={0,2})["'\`]`, "g");
  let k = 0;
  for (let m = blob.exec(s); m; m = blob.exec(s)) {
    const stop = gate.check();
    if (stop) return void (yield stop);
    yield memberOf(`blob-${++k}.bin`, new Uint8Array(Buffer.from(m[1]!, "base64")), budget);
  }
}
