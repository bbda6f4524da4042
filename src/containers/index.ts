// Container readers behind one entry point: identify() by magic bytes, openContainer() to iterate
// members within a Budget. zip, gzip, zstd, tar and ar are read natively (Node's zlib and small
// readers); the rest goes through 7z-wasm, which must be loaded first: `await prepareSevenZip()`
// once per worker (and `await sevenZipReady()` between files, after an error retired an instance).
import { readAr } from "./ar";
import { readHtml, readOlePackage, readPdf, readRtf } from "./docs";
import { identify } from "./identify";
import { readBinHexFile, readMail, readTnef } from "./mail";
import { readOle } from "./ole";
import { makeSfxReader } from "./overlay";
import { readSis } from "./sis";
import { readSzdd } from "./szdd";
import { isUpx, readUpx } from "./upx";
import { EMPTY_NAME, problem, remainingOf } from "./budget";
import { readWith7z, SevenZipWanted } from "./sevenzip";
import { readGzip, readZstd } from "./stream";
import { readTar } from "./tar";
import type { Budget, ContainerFormat, ContainerReader, Member } from "./types";
import { readZip } from "./zip";
import { releaseBuffer } from "../util/release";

export { DEFAULT_LIMITS, createBudget, type RingBudget } from "./budget";
export { identify } from "./identify";
export { prepareSevenZip, sevenZipOnDemand, sevenZipReady, SevenZipWanted } from "./sevenzip";

const NATIVE: Partial<Record<ContainerFormat, ContainerReader>> = {
  zip: readZip,
  gzip: readGzip,
  zstd: readZstd,
  tar: readTar,
  ar: readAr,
  // Carriers (issue 11).
  mail: readMail,
  binhex: readBinHexFile,
  tnef: readTnef,
  szdd: readSzdd,
  pdf: readPdf,
  rtf: readRtf,
  html: readHtml,
  "ole-package": readOlePackage,
  sis: readSis,
  upx: readUpx,
  sfx: makeSfxReader(
    (format, data, budget) => openContainer(format, data, budget),
    identify,
    (data, budget) => (data[0] === 0x4d && isUpx(data) ? readUpx(data, budget) : null),
  ),
};

/** Smaller buffers are left to the garbage collector: Buffer's pool slabs (8 KiB) are shared. */
const RELEASE_MIN = 64 << 10;

/**
 * Hands an owned member's bytes (Member.owned) back to the allocator at once. Left to the garbage
 * collector, unpacked members piled up in old space until a full collection (a worker's young
 * generation is capped at 4 MB), and glibc then kept the freed space in the worker's arena.
 * After this the member's `data` is empty (detached): call it only when the scan of the member,
 * and of everything inside it, is over.
 */
export function releaseMember(m: Member): void {
  if (!m.owned || m.data === undefined || m.data.buffer.byteLength < RELEASE_MIN) return;
  // The whole buffer, though the member may be a view on part of it (zlib's output, sized one byte past).
  releaseBuffer(m.data, true);
}

/** Read through 7z-wasm, with ring3's own additions on top (VBA source, PowerPoint objects). */
const LAYERED: Partial<Record<ContainerFormat, ContainerReader>> = { msi: readOle };

/** Where each format is read: "native" (zlib and ring3's readers) or "7z-wasm". */
export function readerOf(format: ContainerFormat): "native" | "7z-wasm" {
  return NATIVE[format] ? "native" : "7z-wasm";
}

/**
 * The members of `data`, read as `format`. Never throws: a reader's unexpected exception becomes
 * an archive-corrupt problem after the members already yielded.
 */
export function* openContainer(format: ContainerFormat, data: Uint8Array, budget: Budget): Iterable<Member> {
  const reader = NATIVE[format];
  if (remainingOf(budget) === 0) {
    // A container cut short by the total budget would only read as corrupt: say why instead.
    yield { name: EMPTY_NAME, problem: problem("archive-total-size", `more than ${budget.limits.maxTotalBytes} bytes unpacked (maxTotalBytes)`) };
    return;
  }
  try {
    const layered = LAYERED[format];
    yield* reader ? reader(data, budget) : layered ? layered(data, budget) : readWith7z(format, data, budget);
  } catch (err) {
    if (err instanceof SevenZipWanted) throw err;
    yield { name: EMPTY_NAME, problem: problem("archive-corrupt", `${format}: ${(err as Error).message}`) };
  }
}
