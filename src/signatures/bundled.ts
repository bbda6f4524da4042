// The signature set built into the binary: ring3's own rules (signatures/yara, signatures/hashes)
// and the vendored packs (signatures/packs). Each pack's YARA rules are compiled at build time
// (scripts/build.mjs, compileBundled below) into a compiled rule file; the files and an index of
// the packs with their hash lists make the `bundled.rules` asset, compressed and masked: no rule
// text or indicator is in the executable in clear (scanners flagged ring3 for carrying them), and a
// scan attaches to the programs of the packs it uses without parsing. A core rule file is listed
// here (a unit test checks that none is left out); a pack's files are all taken.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { HashDb } from "../engines/hash/db";
import { readHashList } from "../engines/hash/lists";
import { readCompiled, sourcesDigest, writeCompiled, type CompiledHeader } from "../engines/yara/compiled";
import { buildImage, countRules, imageSummary, mergeImages } from "../engines/yara/image";
import { FILE_EXTERNALS, formatDiagnostic, type RuleSource } from "../engines/yara/yarax";
import { CORE_PACK } from "./attribution";
import { FP_EXCLUSIONS, IMPORT_EXCLUSIONS, packHashFiles, packNames, packRuleFiles, readExclusions, readPackSource, withoutRules, type PackSource } from "./packs";
import version from "../../signatures/VERSION";
import { VERSION } from "../cli/version";
import { assetView, inSea } from "../util/assets";

export interface BundledFile {
  /** Path under signatures/, as shown in reports ("bundled/yara/test-files.yar"). */
  name: string;
  text: string;
}

export const BUNDLED_VERSION: string = version.trim();

/** The YARA files under signatures/yara/, in the order they are compiled. */
export const BUNDLED_YARA_FILES: readonly string[] = ["guards.yar", "test-files.yar", "supply-chain.yar", "scripts.yar", "webshells.yar", "tools.yar", "office.yar", "lolbins.yar", "skimmers.yar"];

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

/** A pack as the build stored it: its SOURCE, counts, and its hash lists. */
export interface BundledPack extends Omit<PackSource, "imported"> {
  /** Rule declarations compiled in, and those left out (EXCLUDED.tsv, fp-excluded.tsv). */
  yaraRules: number;
  excludedRules: number;
  hashes: BundledFile[];
  hashCount: number;
}

interface BundledIndex {
  contentId: string;
  version: string;
  packs: BundledPack[];
  /** Each pack's compiled rule file, and the default packs' merged in one ("default"): where its stream lies after the index. */
  programs: { name: string; packs: string[]; offset: number; length: number }[];
  /** The default packs' hash lists, indexed at build time (HashDb.toBytes): where its stream lies. */
  hashDb?: { packs: string[]; offset: number; length: number };
}

const CORE: Omit<PackSource, "name" | "imported"> = {
  title: "ring3's own rules (signatures/yara, signatures/hashes)",
  repository: "https://github.com/ring3/ring3",
  commit: "this build",
  license: "Apache-2.0",
  default: true,
};

/** Every pack's sources with the excluded rules taken out, in build order (the core set first). */
export function readPacks(signaturesDir: string, opts: { fpExclusions?: boolean } = {}): { source: PackSource; yara: RuleSource[]; hashes: BundledFile[]; excluded: number }[] {
  const out = [{ source: { ...CORE, name: CORE_PACK, imported: "" }, yara: readBundledYara(signaturesDir).map((f) => ({ ...f, namespace: BUNDLED_NAMESPACE })), hashes: readBundledHashes(signaturesDir), excluded: 0 }];
  const drop = new Map<string, Set<string>>();
  // `make fp-check` tries every rule that compiles: fpExclusions false.
  for (const e of [...readExclusions(signaturesDir, IMPORT_EXCLUSIONS), ...(opts.fpExclusions === false ? [] : readExclusions(signaturesDir, FP_EXCLUSIONS))]) {
    let set = drop.get(e.namespace);
    if (!set) drop.set(e.namespace, (set = new Set()));
    set.add(e.rule);
  }
  for (const name of packNames(signaturesDir)) {
    const source = readPackSource(signaturesDir, name);
    let excluded = 0;
    const yara: RuleSource[] = [];
    for (const f of packRuleFiles(signaturesDir, name)) {
      const d = drop.get(f.namespace);
      if (d?.has("*")) {
        excluded += countRules(f.text);
        continue;
      }
      const kept = d ? withoutRules(f.name, f.text, d) : { text: f.text, removed: [] };
      excluded += kept.removed.length;
      yara.push({ ...f, text: kept.text });
    }
    out.push({ source, yara, hashes: packHashFiles(signaturesDir, name), excluded });
  }
  return out;
}

// Each stream is a checksummed zstd frame XORed with a keystream. zstd, not brotli: every start
// decompresses the default program (18.5 MB), and zstd does it in about half the time (measured on
// the 2026-12-03 set, 2 busy cores: 38-95 ms against 106-206 ms), in a smaller asset. The mask,
// because zstd may store a run of literals raw, where a rule's string would show in clear; a
// keystream rather than one repeated byte, which YARA's `xor` modifier would see through.
const ASSET_MAGIC = "R3PZ";

// The keystream is AES-128 in counter mode under a fixed key: not a secret (the key is here), only
// a keystream that OpenSSL makes natively, 0.5 ms for the 2.4 MB default stream where a JavaScript
// xorshift loop, run once and so never optimised, cost 14 ms of every start.
const MASK_KEY = Buffer.from("72696e67332d7369676e617475726573", "hex");
const MASK_IV = Buffer.alloc(16);

/** A copy of `b` XORed with the keystream (its own inverse). */
function mask(b: Uint8Array): Buffer {
  const c = crypto.createCipheriv("aes-128-ctr", MASK_KEY, MASK_IV);
  const out = c.update(b);
  c.final(); // nothing more in counter mode
  return out;
}

/**
 * The decompressed size a zstd frame declares (every frame here does: compressed with
 * pledgedSrcSize), or 0 when it does not say. RFC 8878 3.1.1.1: the frame header descriptor gives
 * the sizes of the window, dictionary-id and content-size fields.
 */
export function zstdContentSize(z: Uint8Array): number {
  if (z.length < 6 || z[0] !== 0x28 || z[1] !== 0xb5 || z[2] !== 0x2f || z[3] !== 0xfd) return 0;
  const fhd = z[4]!;
  const single = (fhd >> 5) & 1;
  const fcsBytes = [single, 2, 4, 8][fhd >> 6]!;
  let at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  if (fcsBytes === 0 || at + fcsBytes > z.length) return 0;
  let n = 0;
  for (let k = fcsBytes - 1; k >= 0; k--) n = n * 256 + z[at + k]!;
  return fcsBytes === 2 ? n + 256 : n;
}

const pack = (b: Buffer): Buffer =>
  mask(zlib.zstdCompressSync(b, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 19, [zlib.constants.ZSTD_c_checksumFlag]: 1 }, pledgedSrcSize: b.length } as zlib.ZstdOptions));

/**
 * A stream of the asset, unmasked (on a copy: the asset is read-only) and decompressed into one
 * buffer of the size its frame declares: zlib's default 16 KiB chunks, then their concatenation,
 * cost about 50 ms more of every start for the 18.5 MB default program.
 */
function unpack(z: Uint8Array): Buffer {
  const plain = mask(z);
  const size = zstdContentSize(plain);
  const chunkSize = size > 0 && size <= 1 << 30 ? Math.max(size, 64) : undefined;
  return zlib.zstdDecompressSync(plain, chunkSize ? { chunkSize } : {});
}

/**
 * The build step: the `bundled.rules` asset. An index of the packs (their SOURCE, counts and hash
 * lists), then one compiled rule file per pack and one of the default packs merged, each a zstd
 * stream of its own (masked): a scan with the default set decompresses and attaches to one program, with
 * no merge; --pack/--no-pack merge the packs' programs they name.
 */
export function compileBundled(signaturesDir: string): Buffer {
  const packs = readPacks(signaturesDir);
  const defines = Object.fromEntries(FILE_EXTERNALS.map((k) => [k, ""]));
  const entries: BundledPack[] = [];
  const programs: BundledIndex["programs"] = [];
  const streams: Buffer[] = [];
  let at = 0;
  const add = (name: string, names: string[], image: Uint8Array, digestOf: BundledFile[]) => {
    const z = pack(writeCompiled(image, { ring3: VERSION, sourcesDigest: sourcesDigest(digestOf), note: { packs: names.join(",") } }));
    programs.push({ name, packs: names, offset: at, length: z.length });
    streams.push(z);
    at += z.length;
  };
  const images: Uint8Array[] = [];
  for (const p of packs) {
    const built = buildImage(p.yara, defines);
    if (!built.image) throw new Error(`pack ${p.source.name} does not compile:\n${built.errors.map(formatDiagnostic).join("\n")}`);
    const hashCount = p.hashes.reduce((n, f) => n + readHashList(f).length, 0);
    const { imported: _imported, ...source } = p.source;
    entries.push({ ...source, yaraRules: imageSummary(built.image).yaraRules, excludedRules: p.excluded, hashes: p.hashes, hashCount });
    add(p.source.name, [p.source.name], built.image, [...p.yara, ...p.hashes]);
    if (p.source.default) images.push(built.image);
  }
  const on = packs.filter((p) => p.source.default);
  add("default", on.map((p) => p.source.name), mergeImages(images), on.flatMap((p) => [...p.yara, ...p.hashes]));
  // The lists exactly as a scan of the default packs gives them to HashDb.build (bundledHashes).
  const db = pack(HashDb.build(on.flatMap((p) => p.hashes).map((f) => ({ name: f.name, text: f.text }))).toBytes());
  const hashDb = { packs: on.map((p) => p.source.name), offset: at, length: db.length };
  streams.push(db);
  at += db.length;
  const all = packs.flatMap((p) => [...p.yara, ...p.hashes]);
  const index = pack(Buffer.from(JSON.stringify({ contentId: contentIdOf(all, []), version: BUNDLED_VERSION, packs: entries, programs, hashDb } satisfies BundledIndex), "utf8"));
  const head = Buffer.alloc(8);
  head.write(ASSET_MAGIC, 0, "latin1");
  head.writeUInt32LE(index.length, 4);
  return Buffer.concat([head, index, ...streams]);
}

let unpacked: { index: BundledIndex; body: Buffer } | undefined;

/** The asset and its index, decompressed once. Running from the sources without a build (tests), compiled from signatures/ on the spot. */
function bundledAsset(): { index: BundledIndex; body: Buffer } {
  if (unpacked) return unpacked;
  let packed: Buffer;
  try {
    packed = assetView(BUNDLED_ASSET);
  } catch (err) {
    if (inSea() || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    packed = compileBundled(path.resolve(__dirname, "../../signatures"));
  }
  if (packed.toString("latin1", 0, 4) !== ASSET_MAGIC) throw new Error("the bundled signatures: not a ring3 signature asset (build again)");
  const len = packed.readUInt32LE(4);
  const index = JSON.parse(unpack(packed.subarray(8, 8 + len)).toString("utf8")) as BundledIndex;
  unpacked = { index, body: packed.subarray(8 + len) };
  return unpacked;
}

/** One program of the asset, decompressed and checked like any compiled file. */
function program(name: string): { header: CompiledHeader; image: Uint8Array } {
  const { index, body } = bundledAsset();
  const p = index.programs.find((x) => x.name === name);
  if (!p) throw new Error(`the bundled signatures: no program ${name}`);
  let out: Uint8Array = unpack(body.subarray(p.offset, p.offset + p.length));
  // The image's arrays are viewed in place, so it must start aligned (a buffer of its own does).
  if (out.byteOffset % 8 !== 0) out = Uint8Array.from(out);
  // zstd's frame checksum has checked these bytes: no second digest over 18.5 MB at every start.
  return readCompiled(out, `the bundled signatures (${name})`, VERSION, { checked: true });
}

/** The bundled packs, in build order (the core set, "ring3", first). */
export function bundledPacks(): BundledPack[] {
  return bundledAsset().index.packs;
}

/** The packs a scan uses: the default ones, or those --pack names, less those --no-pack names. */
export function selectPacks(sel: { pack?: readonly string[]; noPack?: readonly string[] } = {}): string[] {
  const packs = bundledPacks();
  const known = new Set(packs.map((p) => p.name));
  for (const n of [...(sel.pack ?? []), ...(sel.noPack ?? [])]) {
    if (!known.has(n)) throw new UnknownPackError(n, [...known]);
  }
  const base = sel.pack && sel.pack.length > 0 ? packs.filter((p) => sel.pack!.includes(p.name)) : packs.filter((p) => p.default);
  return base.map((p) => p.name).filter((n) => !(sel.noPack ?? []).includes(n));
}

export class UnknownPackError extends Error {
  constructor(
    readonly pack: string,
    readonly known: string[],
  ) {
    super(`no signature pack named ${pack} (the packs: ${known.join(", ")})`);
  }
}

/**
 * The bundled program of the given packs (the default ones when omitted): the default set's
 * merged program as built, or the named packs' programs merged here. Not kept: the scan copies it
 * into shared memory when its workers start, and a copy kept here would stay beside that one.
 */
export function bundledCompiled(packs: readonly string[] = selectPacks()): { header: CompiledHeader; image: Uint8Array } {
  const { index } = bundledAsset();
  const order = index.packs.map((p) => p.name).filter((n) => packs.includes(n));
  const key = order.join(",");
  if (order.length === 0) throw new Error("no bundled pack selected");
  const whole = index.programs.find((p) => p.packs.join(",") === key);
  const parts = whole ? [program(whole.name)] : order.map(program);
  const header: CompiledHeader = { ...parts[0]!.header, note: { contentId: index.contentId, version: index.version, packs: key } };
  return { header, image: parts.length === 1 ? parts[0]!.image : mergeImages(parts.map((p) => p.image)) };
}

/**
 * The hash database of exactly these packs when it was indexed at build time (the default
 * packs), else undefined: the caller builds it from bundledHashes.
 */
export function bundledHashDb(packs: readonly string[]): HashDb | undefined {
  const { index, body } = bundledAsset();
  const h = index.hashDb;
  const order = index.packs.map((p) => p.name).filter((n) => packs.includes(n));
  if (!h || h.packs.join(",") !== order.join(",")) return undefined;
  return HashDb.fromBytes(unpack(body.subarray(h.offset, h.offset + h.length)));
}

export function bundledContentId(): string {
  return bundledAsset().index.contentId;
}

/** Rule declarations in the given packs (the default ones when omitted). */
export function bundledYaraRules(packs: readonly string[] = selectPacks()): number {
  return bundledPacks()
    .filter((p) => packs.includes(p.name))
    .reduce((n, p) => n + p.yaraRules, 0);
}

/** The hash lists of the given packs (the default ones when omitted). */
export function bundledHashes(packs: readonly string[] = selectPacks()): BundledFile[] {
  return bundledPacks()
    .filter((p) => packs.includes(p.name))
    .flatMap((p) => p.hashes);
}

/** Hash signatures in the given packs (the default ones when omitted), as counted at build time. */
export function bundledHashCount(packs: readonly string[] = selectPacks()): number {
  return bundledPacks()
    .filter((p) => packs.includes(p.name))
    .reduce((n, p) => n + p.hashCount, 0);
}
