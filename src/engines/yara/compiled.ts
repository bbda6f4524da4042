// Compiled rule files (`ring3 rules compile`): a program image (image.ts) behind a header that
// says what it is and proves it whole. A file is recognised by its magic, whatever its name, and
// read only when every check passes: anything else is a CompiledFileError naming the file, never
// a smaller rule set.
//
// Layout: magic (8 bytes) | u32 file format | u32 header length | SHA-256 of everything after
// these 48 bytes (32 bytes) | header (JSON) | image.
import { createHash } from "node:crypto";
import { IMAGE_FORMAT } from "./image";
import type { RuleSource } from "./yarax";

export const MAGIC = Buffer.from("RING3RC\u001a", "latin1");
/** Bumped with any change of this layout or of the image format. */
export const COMPILED_FORMAT = 1;
const FIXED = 48;

export interface CompiledHeader {
  /** The ring3 version that wrote it: the image is only read by the same version (it holds the compiler's choices). */
  ring3: string;
  imageFormat: number;
  /**
   * SHA-256 of every source file compiled in (name, NUL, text, NUL, in order), each followed by
   * the files it includes (by absolute path, sorted), hex.
   */
  sourcesDigest: string;
  /** Extra facts for reports (the bundled set stores its content id here). */
  note?: Record<string, string>;
}

export class CompiledFileError extends Error {}

export function isCompiled(head: Uint8Array): boolean {
  return head.length >= MAGIC.length && MAGIC.equals(head.subarray(0, MAGIC.length));
}

export function sourcesDigest(sources: readonly Pick<RuleSource, "name" | "text" | "includes">[]): string {
  const h = createHash("sha256");
  for (const s of sources) {
    h.update(s.name).update("\0").update(s.text).update("\0");
    // An included file is as much a source as the file naming it: editing it must change the digest.
    // The marker byte keeps an include apart from a next source of the same name and text; a
    // source without includes hashes as it did before (the bundled set's content id stays).
    if (!s.includes) continue;
    for (const file of Object.keys(s.includes).sort()) h.update("\u0001").update(file).update("\0").update(s.includes[file]!).update("\0");
  }
  return h.digest("hex");
}

export function writeCompiled(image: Uint8Array, header: Omit<CompiledHeader, "imageFormat">): Buffer {
  const json = Buffer.from(JSON.stringify({ ...header, imageFormat: IMAGE_FORMAT }), "utf8");
  const fixed = Buffer.alloc(FIXED);
  MAGIC.copy(fixed, 0);
  fixed.writeUInt32LE(COMPILED_FORMAT, 8);
  fixed.writeUInt32LE(json.length, 12);
  // The image starts at a multiple of 8 from the file's start: it can be used where it was read.
  const pad = (8 - ((FIXED + json.length) % 8)) % 8;
  const body = Buffer.concat([json, Buffer.alloc(pad, 0x20), image]);
  createHash("sha256").update(body).digest().copy(fixed, 16);
  return Buffer.concat([fixed, body]);
}

/**
 * Checks and opens a compiled file's bytes: its header and its image (a view into `bytes`).
 * `what` names the file in errors; `version` is this ring3's.
 */
export function readCompiled(bytes: Uint8Array, what: string, version: string, opts: { checked?: boolean } = {}): { header: CompiledHeader; image: Uint8Array } {
  const fail = (why: string) => new CompiledFileError(`${what}: ${why}`);
  if (!isCompiled(bytes)) throw fail("not a ring3 compiled rule file");
  if (bytes.length < FIXED) throw fail("truncated compiled rule file");
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = buf.readUInt32LE(8);
  if (format !== COMPILED_FORMAT) throw fail(`compiled rule file format ${format}; this ring3 reads format ${COMPILED_FORMAT} (compile the rules again with this ring3)`);
  const len = buf.readUInt32LE(12);
  if (FIXED + len > buf.length) throw fail("truncated compiled rule file");
  // `checked`: the bytes came through a check of their own (the bundled set's checksummed zstd frame).
  if (!opts.checked) {
    const digest = createHash("sha256").update(buf.subarray(FIXED)).digest();
    if (!digest.equals(buf.subarray(16, 48))) throw fail("damaged compiled rule file (its digest does not match: truncated or altered)");
  }
  let header: CompiledHeader;
  try {
    header = JSON.parse(buf.subarray(FIXED, FIXED + len).toString("utf8")) as CompiledHeader;
  } catch {
    throw fail("damaged compiled rule file (unreadable header)");
  }
  if (header.ring3 !== version) throw fail(`compiled by ring3 ${header.ring3}; this is ring3 ${version} (compile the rules again with this ring3)`);
  if (header.imageFormat !== IMAGE_FORMAT) throw fail(`program format ${header.imageFormat}; this ring3 reads format ${IMAGE_FORMAT}`);
  const start = FIXED + len + ((8 - ((FIXED + len) % 8)) % 8);
  return { header, image: bytes.subarray(start) };
}
