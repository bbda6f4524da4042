// The signature set built into the binary. The YARA rules are compiled at build time
// (scripts/build.mjs, compileBundled below) into a compiled rule file, brotli-compressed, shipped
// as the `bundled.rules` asset with the hash lists in its header: no rule text or indicator is in
// the executable in clear (scanners flagged ring3 for carrying them), and a scan attaches to the
// program without parsing. Adding a file under signatures/ means listing it here, and a unit test
// checks that none is left out.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { readCompiled, sourcesDigest, writeCompiled, type CompiledHeader } from "../engines/yara/compiled";
import { buildImage, imageSummary } from "../engines/yara/image";
import { FILE_EXTERNALS, formatDiagnostic } from "../engines/yara/yarax";
import version from "../../signatures/VERSION";
import { VERSION } from "../cli/version";
import { getAsset, inSea } from "../util/assets";

export interface BundledFile {
  /** Path under signatures/, as shown in reports ("bundled/yara/test-files.yar"). */
  name: string;
  text: string;
}

export const BUNDLED_VERSION: string = version.trim();

/** The YARA files under signatures/yara/, in the order they are compiled. */
export const BUNDLED_YARA_FILES: readonly string[] = ["guards.yar", "test-files.yar", "supply-chain.yar", "scripts.yar", "webshells.yar", "tools.yar"];

/** The hash lists under signatures/hashes/. */
export const BUNDLED_HASH_FILES: readonly string[] = ["test-files.hsb", "supply-chain.hsb"];

/** The bundled rules' namespace. */
export const BUNDLED_NAMESPACE = "ring3";
export const BUNDLED_ASSET = "bundled.rules";

/** The YARA files from a signatures/ folder, named as in reports. */
export function readBundledYara(signaturesDir: string): BundledFile[] {
  return BUNDLED_YARA_FILES.map((f) => ({ name: `bundled/yara/${f}`, text: fs.readFileSync(path.join(signaturesDir, "yara", f), "utf8") }));
}

export function readBundledHashes(signaturesDir: string): BundledFile[] {
  return BUNDLED_HASH_FILES.map((f) => ({ name: `bundled/hashes/${f}`, text: fs.readFileSync(path.join(signaturesDir, "hashes", f), "utf8") }));
}

/** sha256 over every bundled file's name and text: tells two builds' sets apart, whatever VERSION says. */
export function contentIdOf(yara: readonly BundledFile[], hashes: readonly BundledFile[]): string {
  const h = crypto.createHash("sha256");
  for (const f of [...yara, ...hashes]) h.update(f.name).update("\0").update(f.text).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** The build step: the bundled YARA files as a compiled rule file (the hash lists in its header), brotli-compressed. */
export function compileBundled(signaturesDir: string): Buffer {
  const yara = readBundledYara(signaturesDir);
  const sources = yara.map((f) => ({ ...f, namespace: BUNDLED_NAMESPACE }));
  const defines = Object.fromEntries(FILE_EXTERNALS.map((k) => [k, ""]));
  const built = buildImage(sources, defines);
  if (!built.image) throw new Error(`the bundled rules do not compile:\n${built.errors.map(formatDiagnostic).join("\n")}`);
  const hashes = readBundledHashes(signaturesDir);
  const note = { contentId: contentIdOf(yara, hashes), version: BUNDLED_VERSION, hashes: JSON.stringify(hashes) };
  const file = writeCompiled(built.image, { ring3: VERSION, sourcesDigest: sourcesDigest([...sources, ...hashes]), note });
  return zlib.brotliCompressSync(file, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: file.length } });
}

let cached: { header: CompiledHeader; image: Uint8Array } | undefined;

/**
 * The bundled program: the asset, decompressed and checked like any compiled file. Running from
 * the sources without a build (tests), compiled from signatures/ on the spot.
 */
export function bundledCompiled(): { header: CompiledHeader; image: Uint8Array } {
  if (cached) return cached;
  let packed: Buffer;
  try {
    packed = getAsset(BUNDLED_ASSET);
  } catch (err) {
    if (inSea() || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    packed = compileBundled(path.resolve(__dirname, "../../signatures"));
  }
  const file = zlib.brotliDecompressSync(packed);
  // An aligned copy: the image's arrays are viewed where they lie.
  const bytes = new Uint8Array(new ArrayBuffer(file.length));
  bytes.set(file);
  cached = readCompiled(bytes, "the bundled signatures", VERSION);
  return cached;
}

export function bundledContentId(): string {
  return bundledCompiled().header.note?.contentId ?? "unknown";
}

/** Rule declarations in the bundled YARA files (as counted in their sources). */
export function bundledYaraRules(): number {
  return imageSummary(bundledCompiled().image).yaraRules;
}

/** The bundled hash lists (from the compiled set's header). */
export function bundledHashes(): BundledFile[] {
  return JSON.parse(bundledCompiled().header.note?.hashes ?? "[]") as BundledFile[];
}
