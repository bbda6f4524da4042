// Which container a file is, from its first bytes only: a name can lie, and a member has only the
// name its archive gave it. Formats with a magic number at offset 0 come first; tar (magic at 257,
// or none at all in v7 tars) is recognised by its header checksum; ISO 9660 by "CD001" at 32 KiB.
import { isHtml, isOlePackage, isPdf, isRtf } from "./docs";
import { isBinHex, isMail, isTnef } from "./mail";
import { scriptPayload, sfxFormat } from "./overlay";
import { isSis } from "./sis";
import { isSzdd } from "./szdd";
import { isUpx } from "./upx";
import { checksumOk } from "./tar";
import type { ContainerFormat } from "./types";

function at(data: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (offset + bytes.length > data.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[offset + i] !== bytes[i]) return false;
  return true;
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const MAGIC: [ContainerFormat, number, number[]][] = [
  ["zip", 0, [0x50, 0x4b, 0x03, 0x04]],
  ["zip", 0, [0x50, 0x4b, 0x05, 0x06]], // empty zip: only the end record
  ["zip", 0, [0x50, 0x4b, 0x07, 0x08, 0x50, 0x4b, 0x03, 0x04]], // split-archive marker before the first entry
  ["zip", 0, ascii("Cr24")], // Chrome extension: a header, then a zip

  ["xz", 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", 0, [0x28, 0xb5, 0x2f, 0xfd]],
  ["7z", 0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ["cab", 0, [0x4d, 0x53, 0x43, 0x46, 0, 0, 0, 0]], // "MSCF" and a reserved zero
  ["rpm", 0, [0xed, 0xab, 0xee, 0xdb]],
  ["msi", 0, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]], // OLE compound file: msi, and also doc/xls
  ["ar", 0, ascii("!<arch>\n")],
  ["other-7z", 0, ascii("Rar!\x1a\x07")], // RAR 4 and 5
  ["other-7z", 0, ascii("ITSF\x03\0\0\0")], // CHM
  ["other-7z", 0, ascii("MSWIM\0\0\0")], // WIM
  ["other-7z", 0, ascii("xar!")],
  ["other-7z", 0, ascii("hsqs")], // squashfs, little-endian
];

/**
 * Short or textual magics (cpio's "070701", ARJ's two bytes) are checked further, so that a text
 * file that happens to start with those digits is not taken for an archive and reported partial.
 */
function digits(data: Uint8Array, from: number, to: number, radix: 8 | 16): boolean {
  if (to > data.length) return false;
  for (let i = from; i < to; i++) {
    const c = data[i]!;
    const ok = radix === 8 ? c >= 0x30 && c <= 0x37 : (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (!ok) return false;
  }
  return true;
}

function cpio(data: Uint8Array): boolean {
  if (at(data, 0, ascii("07070")) && (data[5] === 0x31 || data[5] === 0x32)) return digits(data, 6, 110, 16); // newc: 13 hex fields
  if (at(data, 0, ascii("070707"))) return digits(data, 6, 76, 8); // odc: octal fields
  if (data.length < 26) return false;
  // Old binary: magic 070707 as a 16-bit word, either byte order; the name size must make sense.
  const le = data[0] === 0xc7 && data[1] === 0x71;
  const be = data[0] === 0x71 && data[1] === 0xc7;
  if (!le && !be) return false;
  const namesize = le ? data[20]! | (data[21]! << 8) : (data[20]! << 8) | data[21]!;
  return namesize > 0 && namesize <= 4096 && 26 + namesize <= data.length && data[26 + namesize - 1] === 0;
}

function arj(data: Uint8Array): boolean {
  if (!at(data, 0, [0x60, 0xea]) || data.length < 10) return false;
  const basic = data[2]! | (data[3]! << 8);
  return basic >= 30 && basic <= 2600 && data[4]! >= 30 && data[4]! <= basic;
}

export function identify(data: Uint8Array): ContainerFormat | null {
  for (const [format, offset, bytes] of MAGIC) if (at(data, offset, bytes)) return format;
  if (at(data, 0, [0x1f, 0x8b, 0x08]) && data.length >= 10 && (data[3]! & 0xe0) === 0) return "gzip"; // reserved flags clear
  if (cpio(data)) return "cpio";
  if (arj(data)) return "other-7z";
  // bzip2: "BZh", a block size digit, then the block magic (pi) or the end-of-stream magic (sqrt pi).
  if (at(data, 0, ascii("BZh")) && data.length >= 10 && data[3]! >= 0x31 && data[3]! <= 0x39) {
    if (at(data, 4, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]) || at(data, 4, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])) return "bzip2";
  }
  if (at(data, 2, ascii("-lh")) || at(data, 2, ascii("-lz"))) {
    if (data.length > 6 && data[6] === 0x2d) return "other-7z"; // LHA: "-lh5-" at offset 2
  }
  if (data.length >= 512 && checksumOk(data.subarray(0, 512)) && tarLooksReal(data)) return "tar";
  for (const off of [0x8001, 0x8801, 0x9001]) if (at(data, off, ascii("CD001"))) return "iso";
  return carrier(data);
}

/**
 * Carriers, by their first bytes too, each test cheap for files that are not one: a byte or two
 * decides before any text is looked at, and only executables with bytes after their sections,
 * scripts holding an archive's magic, and markup holding base64 are searched further.
 */
function carrier(data: Uint8Array): ContainerFormat | null {
  const c = data[0];
  if (c === undefined) return null;
  // An executable with something after it is "sfx" (whose reader also unpacks UPX); else UPX.
  if (c === 0x4d && data[1] === 0x5a) return sfxFormat(data, identify) ? "sfx" : isUpx(data) ? "upx" : null; // "MZ"
  if (c === 0x7f && at(data, 1, ascii("ELF"))) return isUpx(data) ? "upx" : sfxFormat(data, identify) ? "sfx" : null;
  if (c === 0x23 && data[1] === 0x21) return scriptPayload(data, identify) >= 0 ? "sfx" : null; // "#!"
  if (c === 0x78 && isTnef(data)) return "tnef";
  if (c === 0x53 || c === 0x4b) return isSzdd(data) ? "szdd" : null; // "SZDD", "KWAJ"
  if (c === 0x7b) return isRtf(data) ? "rtf" : null; // "{"
  if (isPdf(data)) return "pdf";
  if (((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) && isMail(data)) return "mail";
  if ((c === 0x28 || c === 0x0a || c === 0x0d) && isBinHex(data)) return "binhex";
  if (isOlePackage(data)) return "ole-package";
  if (isSis(data)) return "sis";
  if (isHtml(data)) return "html";
  return null;
}

/** A valid checksum over a block of zeros and spaces proves little: require ustar or a name. */
function tarLooksReal(data: Uint8Array): boolean {
  if (at(data, 257, ascii("ustar"))) return true;
  return data[0] !== 0 && data[156] !== undefined && (data[156] === 0 || (data[156] >= 0x30 && data[156] <= 0x37));
}
