// Mail as a container: RFC 822/MIME messages and mbox files, whose parts (base64, quoted-printable,
// uuencoded, BinHex) become members named by their file names; also a bare BinHex 4.0 file and
// TNEF (winmail.dat) attachments. Text is handled as Latin-1 so that offsets are byte offsets;
// every decoder's output is no larger than its input (BinHex's run-length step aside, which is
// capped), so the budgets bound mail the way they bound archives.
import { outputCap, problem, timeProblem } from "./budget";
import { Gate, cleanName, containerProblem, corrupt, fromLatin1, latin1, memberOf, startsWith } from "./carrier";
import type { Budget, Member } from "./types";

/** Header fields that open mail (and MIME parts): two of them in the first lines make a message. */
const MAIL_FIELDS = new Set([
  "from", "to", "cc", "bcc", "subject", "date", "received", "return-path", "message-id", "mime-version", "content-type",
  "content-transfer-encoding", "content-disposition", "delivered-to", "reply-to", "sender", "x-mailer", "user-agent", "references", "in-reply-to",
]);

/** Mail or mbox, judged on the first 2 KiB only: a text that merely contains "From " is not mail. */
export function isMail(data: Uint8Array): boolean {
  // The first line decides cheaply for most text: "From " or a field name and a colon.
  const first = latin1(data.subarray(0, 80));
  if (!first.startsWith("From ") && !/^[A-Za-z][A-Za-z0-9-]*:/.test(first)) return false;
  const head = latin1(data.subarray(0, 2048));
  let lines = head.split(/\r?\n/);
  if (lines[0]!.startsWith("From ")) {
    if (!/^From \S+ /.test(lines[0]!)) return false;
    lines = lines.slice(1);
  }
  let known = 0;
  for (let i = 0; i < lines.length - 1 && i < 40; i++) {
    const line = lines[i]!;
    if (line === "") break;
    if (line[0] === " " || line[0] === "\t") {
      if (i === 0) return false;
      continue;
    }
    const m = /^([!-9;-~]+):/.exec(line);
    if (!m) return false;
    if (MAIL_FIELDS.has(m[1]!.toLowerCase())) known++;
    else if (i === 0) return false; // the first field must be a mail field
  }
  return known >= 2;
}

export function isBinHex(data: Uint8Array): boolean {
  return latin1(data.subarray(0, 256)).includes("(This file must be converted with BinHex");
}

const MAX_NESTING = 32;
/** Header blocks longer than this are not headers (the rest is read as the body). */
const MAX_HEADERS = 256 * 1024;

interface Ctx {
  budget: Budget;
  gate: Gate;
  out: Member[];
  parts: number;
}

export function* readMail(data: Uint8Array, budget: Budget): Iterable<Member> {
  const s = latin1(data);
  const ctx: Ctx = { budget, gate: new Gate(budget), out: [], parts: 0 };
  // mbox: messages start at lines beginning with "From " (inside messages such lines are escaped).
  const starts = [0];
  if (s.startsWith("From ")) {
    const re = /\nFrom \S+ /g;
    for (let m = re.exec(s); m; m = re.exec(s)) starts.push(m.index + 1);
  }
  for (let i = 0; i < starts.length && !ctx.gate.stop; i++) {
    let from = starts[i]!;
    const to = i + 1 < starts.length ? starts[i + 1]! : s.length;
    if (s.startsWith("From ", from)) from = lineEnd(s, from);
    entity(s, from, to, 0, ctx);
    yield* ctx.out.splice(0);
  }
}

export function* readBinHexFile(data: Uint8Array, budget: Budget): Iterable<Member> {
  const s = latin1(data);
  const ctx: Ctx = { budget, gate: new Gate(budget), out: [], parts: 0 };
  if (!binhex(s, 0, s.length, ctx)) yield corrupt("binhex: no data found after the BinHex 4.0 banner");
  yield* ctx.out;
}

function lineEnd(s: string, from: number): number {
  const nl = s.indexOf("\n", from);
  return nl < 0 ? s.length : nl + 1;
}

interface Headers {
  type: string;
  params: Map<string, string>;
  encoding: string;
  filename?: string;
}

function parseParams(value: string): { main: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const parts = value.split(";");
  const main = parts.shift()!.trim().toLowerCase();
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.indexOf('"', 1) < 0 ? undefined : v.indexOf('"', 1));
    // RFC 2231: filename*=utf-8''name%20here (continuations name*0, name*1 are joined in order).
    const star = /^(\w+)\*(\d*)\*?$/.exec(key);
    if (star) {
      const k = star[1]!;
      const val = v.replace(/^[^']*'[^']*'/, "");
      let decoded = val;
      try {
        decoded = decodeURIComponent(val);
      } catch {
        // not percent-encoded UTF-8: keep as written
      }
      params.set(k, (star[2] && star[2] !== "0" ? (params.get(k) ?? "") : "") + decoded);
    } else params.set(key, v);
  }
  return { main, params };
}

/** RFC 2047 encoded words in a file name (=?utf-8?B?...?=). */
function decodeWords(v: string): string {
  return v.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_all, _cs: string, how: string, text: string) => {
    const bytes = how.toLowerCase() === "b" ? Buffer.from(text, "base64") : Buffer.from(qp(text.replace(/_/g, " ")));
    return bytes.toString("utf8");
  });
}

function headersOf(block: string): Headers {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  const ct = parseParams(fields.get("content-type") ?? "text/plain");
  const cd = parseParams(fields.get("content-disposition") ?? "");
  const raw = cd.params.get("filename") ?? ct.params.get("name");
  const h: Headers = { type: ct.main, params: ct.params, encoding: (fields.get("content-transfer-encoding") ?? "7bit").trim().toLowerCase() };
  if (raw !== undefined) h.filename = cleanName(decodeWords(raw));
  return h;
}

/** One MIME entity between `from` and `to`: headers, then a body that is parts, a message, or data. */
function entity(s: string, from: number, to: number, depth: number, ctx: Ctx): void {
  if (ctx.gate.stop) return;
  if (depth > MAX_NESTING) {
    ctx.out.push(corrupt(`mail: parts nested more than ${MAX_NESTING} deep`));
    return;
  }
  if (!ctx.budget.inTime()) {
    ctx.gate.stop = true;
    ctx.out.push(containerProblem(timeProblem(ctx.budget)));
    return;
  }
  // The header block ends at the first blank line inside this part (searched there only).
  const part = s.slice(from, Math.min(to, from + MAX_HEADERS));
  const m = /\r?\n\r?\n/.exec(part);
  // Headers alone (a part that ends at its blank line or before): an empty body.
  const headEnd = m ? from + m.index : to;
  const bodyFrom = m ? from + m.index + m[0].length : to;
  const h = headersOf(s.slice(from, Math.min(headEnd, from + MAX_HEADERS)));
  if (h.type.startsWith("multipart/") && h.params.get("boundary")) {
    multipart(s, bodyFrom, to, h.params.get("boundary")!, depth, ctx);
    return;
  }
  if (h.type === "message/rfc822" && !["base64", "quoted-printable"].includes(h.encoding)) {
    entity(s, bodyFrom, to, depth + 1, ctx);
    return;
  }
  leaf(s, bodyFrom, to, h, ctx);
}

function multipart(s: string, from: number, to: number, boundary: string, depth: number, ctx: Ctx): void {
  const delim = `--${boundary}`;
  let p = from;
  // The preamble (before the first delimiter) is not a part, but may still carry uuencoded data.
  let first = s.indexOf(delim, p);
  while (first >= 0 && first < to && first > from && s[first - 1] !== "\n") first = s.indexOf(delim, first + 1);
  if (first < 0 || first >= to) {
    leaf(s, from, to, { type: "text/plain", params: new Map(), encoding: "7bit" }, ctx);
    return;
  }
  p = first;
  for (;;) {
    if (ctx.gate.stop) return;
    const after = p + delim.length;
    if (s.startsWith("--", after)) return; // the close delimiter
    const partFrom = lineEnd(s, after);
    let next = s.indexOf(delim, partFrom);
    while (next >= 0 && next < to && s[next - 1] !== "\n") next = s.indexOf(delim, next + 1);
    if (next < 0 || next >= to) {
      entity(s, partFrom, to, depth + 1, ctx);
      ctx.out.push(corrupt(`mail: multipart not closed by its boundary (truncated?)`));
      return;
    }
    // The line break before a delimiter belongs to the delimiter.
    const partTo = s[next - 2] === "\r" ? next - 2 : next - 1;
    entity(s, partFrom, Math.max(partFrom, partTo), depth + 1, ctx);
    p = next;
  }
}

function leaf(s: string, from: number, to: number, h: Headers, ctx: Ctx): void {
  const body = s.slice(from, to);
  const n = ++ctx.parts;
  const name = h.filename || `part-${n}`;
  const push = (data: Uint8Array, packed?: number, damaged?: string) => {
    const stop = ctx.gate.check();
    if (stop) return void ctx.out.push(stop);
    ctx.out.push(memberOf(name, data, ctx.budget, packed, damaged ? problem("archive-corrupt", damaged) : undefined));
  };
  switch (h.encoding) {
    case "base64": {
      const clean = body.replace(/[^A-Za-z0-9+/=]/g, "");
      push(new Uint8Array(Buffer.from(clean, "base64")), undefined, clean.length % 4 === 1 ? "mail: base64 part cut short" : undefined);
      return;
    }
    case "quoted-printable":
      push(qp(body));
      return;
    case "x-uuencode":
    case "uuencode":
    case "x-uue":
      if (!uuencoded(body, 0, body.length, ctx, h.filename)) push(fromLatin1(body), undefined, "mail: uuencoded part without a begin line");
      return;
  }
  // 7bit, 8bit, binary: the bytes are in the file already (and scanned there) unless they carry
  // an encoding of their own: uuencode or BinHex inside a text body.
  // Searched within this part only: a message of many parts costs its length, not parts x length.
  let found = uuencoded(body, 0, body.length, ctx);
  found = binhex(body, 0, body.length, ctx) || found;
  if (!found && h.filename) push(fromLatin1(body));
}

/** Quoted-printable (RFC 2045): soft line breaks and =XX; anything malformed is kept as written. */
function qp(body: string): Uint8Array {
  const out = new Uint8Array(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x3d) {
      if (body[i + 1] === "\n") {
        i += 1;
        continue;
      }
      if (body[i + 1] === "\r" && body[i + 2] === "\n") {
        i += 2;
        continue;
      }
      const v = parseInt(body.slice(i + 1, i + 3), 16);
      if (/^[0-9A-Fa-f]{2}$/.test(body.slice(i + 1, i + 3)) && !Number.isNaN(v)) {
        out[n++] = v;
        i += 2;
        continue;
      }
    }
    out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** Every "begin MODE NAME" ... "end" block between from and to; true when one was found. */
function uuencoded(s: string, from: number, to: number, ctx: Ctx, fallback?: string): boolean {
  const re = /(?:^|\n)begin(?:-base64)? ([0-7]{3,4}) ([^\r\n]*)\r?\n/g;
  re.lastIndex = from > 0 ? from - 1 : 0;
  let any = false;
  for (let m = re.exec(s); m && m.index < to && !ctx.gate.stop; m = re.exec(s)) {
    any = true;
    const name = cleanName(m[2]!) || fallback || `part-${++ctx.parts}`;
    let p = m.index + m[0].length;
    const out = new Uint8Array(Math.max(0, Math.floor(((to - p) * 3) / 4)));
    let n = 0;
    let ended = false;
    while (p < to) {
      const e = Math.min(lineEnd(s, p), to);
      const line = s.slice(p, e).replace(/\r?\n$/, "");
      p = e;
      if (line === "end" || line.startsWith("end ")) {
        ended = true;
        break;
      }
      if (line === "" || line === "`") continue;
      const len = (line.charCodeAt(0) - 32) & 63;
      let got = 0;
      for (let i = 1; i + 3 < line.length + 3 && got < len; i += 4) {
        const c = [0, 1, 2, 3].map((k) => (i + k < line.length ? (line.charCodeAt(i + k) - 32) & 63 : 0));
        const b = [(c[0]! << 2) | (c[1]! >> 4), ((c[1]! & 15) << 4) | (c[2]! >> 2), ((c[2]! & 3) << 6) | c[3]!];
        for (let k = 0; k < 3 && got < len; k++, got++) out[n++] = b[k]! & 0xff;
      }
    }
    re.lastIndex = p;
    const stop = ctx.gate.check();
    if (stop) {
      ctx.out.push(stop);
      break;
    }
    ctx.out.push(memberOf(name, out.subarray(0, n), ctx.budget, undefined, ended ? undefined : problem("archive-corrupt", "uuencode: no end line (truncated?)")));
  }
  return any;
}

const BINHEX = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const BINHEX_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < BINHEX.length; i++) t[BINHEX.charCodeAt(i)] = i;
  return t;
})();

/** A BinHex 4.0 block after its banner: its data fork (and resource fork) as members. */
function binhex(s: string, from: number, to: number, ctx: Ctx): boolean {
  const banner = s.indexOf("(This file must be converted with BinHex", from);
  if (banner < 0 || banner >= to) return false;
  let p = s.indexOf("\n:", banner);
  if (p < 0 || p >= to) return false;
  p += 2;
  // 6-bit characters to bytes, up to the closing colon.
  const six = new Uint8Array(Math.ceil(((to - p) * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  let closed = false;
  for (; p < to; p++) {
    const c = s.charCodeAt(p);
    if (c === 0x3a) {
      closed = true;
      break;
    }
    if (c === 10 || c === 13 || c === 32 || c === 9) continue;
    const v = c < 128 ? BINHEX_VALUE[c]! : -1;
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      six[n++] = (acc >> bits) & 0xff;
    }
  }
  // Run-length step: 0x90 n repeats the previous byte n - 1 more times (0x90 0x00 is 0x90 itself).
  const cap = outputCap(ctx.budget, n);
  const out: number[] = [];
  let over = false;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const b = six[i]!;
    if (b === 0x90 && i + 1 < n) {
      const k = six[++i]!;
      if (k === 0) (out.push(0x90), (prev = 0x90));
      else for (let r = 1; r < k; r++) out.push(prev);
    } else (out.push(b), (prev = b));
    if (out.length > cap.limit) {
      over = true;
      break;
    }
  }
  const d = Uint8Array.from(out);
  const nameLen = d[0] ?? 0;
  const at = 1 + nameLen + 1 + 10;
  if (d.length < at + 10) {
    ctx.out.push(corrupt("binhex: header cut short"));
    return true;
  }
  const name = cleanName(latin1(d.subarray(1, 1 + nameLen))) || `part-${++ctx.parts}`;
  const dlen = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  const rlen = ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) >>> 0;
  const dataFrom = at + 10;
  const fork = d.subarray(dataFrom, Math.min(d.length, dataFrom + dlen));
  const cut = fork.length < dlen || !closed;
  const stop = ctx.gate.check();
  if (stop) return ctx.out.push(stop), true;
  const why = over ? problem("archive-ratio", "binhex: run-length data expands past the budget") : cut ? problem("archive-corrupt", "binhex: data fork cut short (truncated?)") : undefined;
  ctx.out.push(memberOf(name, fork, ctx.budget, n, why));
  const rsrcFrom = dataFrom + dlen + 2;
  if (rlen > 0 && rsrcFrom < d.length && !ctx.gate.check()) {
    const rsrc = d.subarray(rsrcFrom, Math.min(d.length, rsrcFrom + rlen));
    ctx.out.push(memberOf(`${name}.rsrc`, rsrc, ctx.budget, n, rsrc.length < rlen ? problem("archive-corrupt", "binhex: resource fork cut short") : undefined));
  }
  return true;
}

// TNEF (MS-OXTNEF): a signature, then attributes (level, id, length, data, checksum). Each
// attachment starts with attAttachRendData; its name is attAttachTitle (or the MAPI long name),
// its bytes attAttachData.
const TNEF_SIGNATURE = 0x223e9f78;
const ATT_RENDDATA = 0x00069002;
const ATT_TITLE = 0x00018010;
const ATT_DATA = 0x0006800f;

export function isTnef(data: Uint8Array): boolean {
  return data.length >= 6 && (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0 === TNEF_SIGNATURE;
}

export function* readTnef(data: Uint8Array, budget: Budget): Iterable<Member> {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const gate = new Gate(budget);
  let p = 6;
  let name: string | undefined;
  let body: Uint8Array | undefined;
  let count = 0;
  const flush = function* (): Iterable<Member> {
    if (body === undefined) return;
    const stop = gate.check();
    if (stop) return void (yield stop);
    yield memberOf(name || `attachment-${++count}`, body, budget);
    body = undefined;
    name = undefined;
  };
  while (p < data.length) {
    if (p + 9 > data.length) {
      yield* flush();
      yield corrupt(`tnef: attribute header cut short at offset ${p}`);
      return;
    }
    const level = data[p]!;
    const id = v.getUint32(p + 1, true);
    const len = v.getUint32(p + 5, true);
    const from = p + 9;
    if (from + len > data.length) {
      if (level === 2 && id === ATT_DATA) {
        body = data.subarray(from);
        const stop = gate.check();
        if (stop) return void (yield stop);
        yield memberOf(name || `attachment-${++count}`, body, budget, undefined, problem("archive-corrupt", "tnef: attachment data cut short (truncated?)"));
        return;
      }
      yield* flush();
      yield corrupt(`tnef: attribute at offset ${p} runs past the end`);
      return;
    }
    if (level === 2) {
      if (id === ATT_RENDDATA) yield* flush();
      else if (id === ATT_TITLE) name = cleanName(latin1(data.subarray(from, from + len)).replace(/\0.*$/s, ""));
      else if (id === ATT_DATA) body = data.subarray(from, from + len);
    }
    if (gate.stop) return;
    p = from + len + 2;
  }
  yield* flush();
  if (!startsWith(data, 0, "\x78\x9f\x3e\x22")) yield containerProblem(problem("archive-corrupt", "tnef: bad signature"));
}
