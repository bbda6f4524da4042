// Paths as bytes: on Linux a file name is any byte string, and a scanner that decodes it lossily
// can no longer open the file (fast-glob does this). ring3 keeps the bytes and derives a display form.
import * as path from "node:path";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** True when the bytes are valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The display form of a path: valid UTF-8 as is; otherwise each byte of an invalid sequence is
 * written as `\xNN` (lowercase hex) and the caller also reports the exact bytes (pathBytes, base64).
 */
export function displayPath(p: Buffer | string): { path: string; pathBytes?: string } {
  if (typeof p === "string") return { path: p };
  if (isUtf8(p)) return { path: p.toString("utf8") };
  let out = "";
  let i = 0;
  while (i < p.length) {
    const n = validSequenceLength(p, i);
    if (n > 0) {
      out += p.subarray(i, i + n).toString("utf8");
      i += n;
    } else {
      out += "\\x" + p[i].toString(16).padStart(2, "0");
      i += 1;
    }
  }
  return { path: out, pathBytes: p.toString("base64") };
}

/** Length of the valid UTF-8 sequence starting at i, or 0. */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) [n, min] = [2, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [n, min] = [3, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [n, min] = [4, 0x10000];
  else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const d = b[i + k];
    if ((d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/** Joins a directory and a child name, as bytes. */
export function joinBytes(dir: Buffer, name: Buffer): Buffer {
  const sep = Buffer.from(path.sep);
  if (dir.length > 0 && dir[dir.length - 1] === sep[0]) return Buffer.concat([dir, name]);
  return Buffer.concat([dir, sep, name]);
}
