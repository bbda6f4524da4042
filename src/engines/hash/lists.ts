// Parses hash signature lists (ClamAV .hdb/.hsb, LOKI-style plain lists) line by line into a sink,
// without a regex or an object per line, so that a million-line list loads in well under a second.
// A line that does not parse is an error naming file:line: a skipped signature is a lost detection.

export type HashAlgorithm = "md5" | "sha1" | "sha256";
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["md5", "sha1", "sha256"];
/** Digest length in bytes. */
export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { md5: 16, sha1: 20, sha256: 32 };
export const ALGORITHM_LABEL: Readonly<Record<HashAlgorithm, string>> = {
  md5: "MD5",
  sha1: "SHA-1",
  sha256: "SHA-256",
};

/** A signature without a size matches files of any size. */
export const ANY_SIZE = -1;
/** ClamAV keeps sizes in a uint32 and reserves 0xffffffff; so do we. */
export const MAX_SIGNATURE_SIZE = 0xfffffffe;

export interface HashListSource {
  /** File path as the user gave it, or "bundled/..." for the shipped set. */
  name: string;
  text: string;
}

export type HashListFormat = "clamav" | "plain";

export class HashListError extends Error {
  readonly code = "E_HASH_LIST";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = "HashListError";
  }
}

/**
 * Receives each signature: the digest's bytes (a scratch buffer, valid only during the call) and
 * the name as positions in the list's text, so that the database copies both straight into its
 * own arrays and no string or object is made per signature.
 */
export interface SignatureSink {
  add(algorithm: HashAlgorithm, digest: Uint8Array, size: number, text: string, nameStart: number, nameEnd: number): void;
}

/** .hdb/.hsb (and ClamAV's PUA twins .hdu/.hsu) are ClamAV hash databases; anything else is plain. */
export function listFormat(name: string): HashListFormat {
  const m = /\.([A-Za-z]+)$/.exec(name);
  const ext = m ? m[1].toLowerCase() : "";
  return ext === "hdb" || ext === "hsb" || ext === "hdu" || ext === "hsu" ? "clamav" : "plain";
}

/** The namespace findings carry: "bundled/x.hsb" as given, a user's path reduced to its base name. */
export function listNamespace(name: string): string {
  if (name.startsWith("bundled/")) return name;
  const cut = Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\"));
  return name.slice(cut + 1);
}

// Indexed by any UTF-16 code unit, so the hot loop needs no range check.
const HEX = new Int8Array(0x10000).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/** Value of a hex digit's char code, or -1. */
export function hexValue(c: number): number {
  return c >= 0 && c < 0x10000 ? HEX[c] : -1;
}

export function algorithmForHexLength(n: number): HashAlgorithm | undefined {
  return n === 32 ? "md5" : n === 40 ? "sha1" : n === 64 ? "sha256" : undefined;
}

const CR = 13;
const TAB = 9;
const SPACE = 32;
const HASH_SIGN = 35;
const STAR = 42;
const COLON = 58;
const SEMICOLON = 59;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Reads the run of hex digits at text[from], decoding the first 64 into `out`; returns where the
 * run ends. One pass: the digest is validated and decoded together.
 */
function readDigest(text: string, from: number, end: number, out: Uint8Array): number {
  let p = from;
  for (let k = 0; k < 32 && p + 1 < end; k++, p += 2) {
    const hi = HEX[text.charCodeAt(p)];
    const lo = HEX[text.charCodeAt(p + 1)];
    if ((hi | lo) < 0) break;
    out[k] = (hi << 4) | lo;
  }
  while (p < end && HEX[text.charCodeAt(p)] >= 0) p++; // an odd digit, or digits past 64
  return p;
}

function show(text: string, at: number): string {
  return JSON.stringify(text[at]);
}

function lengthError(n: number): string {
  return `digest has ${n} hex digits; expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)`;
}

/**
 * Feeds every signature of `list` to `sink` and returns how many there were.
 * Throws HashListError at the first line that does not parse.
 */
export function parseHashList(list: HashListSource, sink: SignatureSink): number {
  const { name, text } = list;
  if (typeof text !== "string") throw new TypeError(`${name}: hash list text must be a string`);
  const clamav = listFormat(name) === "clamav";
  const digest = new Uint8Array(32);
  const n = text.length;
  let pos = n > 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;
  let count = 0;
  while (pos < n) {
    line++;
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    const next = end + 1;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    const detail = clamav ? clamavLine(text, pos, end, digest, sink) : plainLine(text, pos, end, digest, sink);
    if (detail === 1) count++;
    else if (detail !== 0) throw new HashListError(name, line, detail);
    pos = next;
  }
  return count;
}

// Line parsers return 1 for a signature, 0 for a blank or comment line, or an error message.

function plainLine(text: string, start: number, end: number, digest: Uint8Array, sink: SignatureSink): 0 | 1 | string {
  let a = start;
  let b = end;
  while (a < b && isBlank(text.charCodeAt(a))) a++;
  while (b > a && isBlank(text.charCodeAt(b - 1))) b--;
  if (a === b || text.charCodeAt(a) === HASH_SIGN) return 0;
  const h = readDigest(text, a, b, digest);
  if (h === a) return `expected a hex digest (MD5, SHA-1 or SHA-256), found ${show(text, a)}`;
  // The name follows after ";" or blanks (or both: "HASH ; name").
  let nameStart = h;
  while (nameStart < b && isBlank(text.charCodeAt(nameStart))) nameStart++;
  if (nameStart < b && text.charCodeAt(nameStart) === SEMICOLON) {
    nameStart++;
    while (nameStart < b && isBlank(text.charCodeAt(nameStart))) nameStart++;
  } else if (nameStart === h && h < b) {
    const c = text.charCodeAt(h);
    const hint = c === COLON ? " (ClamAV hash:size:name lines need a .hdb or .hsb file name)" : "";
    return `unexpected ${show(text, h)} after the digest${hint}`;
  }
  const algorithm = algorithmForHexLength(h - a);
  if (algorithm === undefined) return lengthError(h - a);
  sink.add(algorithm, digest, ANY_SIZE, text, nameStart, b);
  return 1;
}

/** ClamAV hash:size:name[:min_flevel[:max_flevel]]; the hash's length says its algorithm. */
function clamavLine(text: string, start: number, end: number, digest: Uint8Array, sink: SignatureSink): 0 | 1 | string {
  if (start === end || text.charCodeAt(start) === HASH_SIGN) return 0;
  let p = start;
  while (p < end && isBlank(text.charCodeAt(p))) p++;
  if (p === end) return 0;

  const h = readDigest(text, start, end, digest);
  if (h === end) return "expected hash:size:name";
  if (text.charCodeAt(h) !== COLON) return `invalid character ${show(text, h)} in the hash field`;
  // ClamAV reads .hdb and .hsb with one loader that tells the algorithm by length; so do we.
  const algorithm = algorithmForHexLength(h - start);
  if (algorithm === undefined) return lengthError(h - start);

  p = h + 1;
  let size: number;
  if (text.charCodeAt(p) === STAR) {
    size = ANY_SIZE;
    p++;
  } else {
    size = 0;
    const digits = p;
    for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) {
      size = size * 10 + (c - 48);
    }
    if (p === digits) return `expected a size (decimal or *) after the hash, found ${p < end ? show(text, p) : "end of line"}`;
    if (size < 1 || size > MAX_SIGNATURE_SIZE) return `size ${text.slice(digits, p)} is out of range (1..${MAX_SIGNATURE_SIZE})`;
  }
  if (p >= end || text.charCodeAt(p) !== COLON) {
    return p >= end ? "missing signature name (expected hash:size:name)" : `invalid character ${show(text, p)} in the size field`;
  }

  const nameStart = p + 1;
  let nameEnd = text.indexOf(":", nameStart);
  if (nameEnd < 0 || nameEnd > end) nameEnd = end;
  if (nameEnd === nameStart) return "empty signature name";
  // The optional fields are ClamAV functionality levels; a hash match does not depend on them.
  let fields = 3;
  for (let q = nameEnd; q < end; q++) if (text.charCodeAt(q) === COLON) fields++;
  if (fields > 5) return `too many fields (${fields}); expected hash:size:name[:min_flevel[:max_flevel]]`;
  sink.add(algorithm, digest, size, text, nameStart, nameEnd);
  return 1;
}

/** One signature as plain data: for tests, tools and small lists (the database never builds these). */
export interface HashSignature {
  algorithm: HashAlgorithm;
  /** Lowercase hex. */
  digest: string;
  /** File size in bytes, or ANY_SIZE. */
  size: number;
  /** Empty when the list gives none. */
  name: string;
}

export function readHashList(list: HashListSource): HashSignature[] {
  const out: HashSignature[] = [];
  parseHashList(list, {
    add(algorithm, digest, size, text, nameStart, nameEnd) {
      const hex = Buffer.from(digest.buffer, digest.byteOffset, DIGEST_BYTES[algorithm]).toString("hex");
      out.push({ algorithm, digest: hex, size, name: text.slice(nameStart, nameEnd) });
    },
  });
  return out;
}
