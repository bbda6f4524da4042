// Who a finding's signature comes from: its pack (from the namespace the build gave it), the
// rule's author (its `author` metadata) and the pack's licence. Signature-base's DRL 1.1 asks
// that the author be kept in any message based on a match, so every finding carries them.
// Small on purpose: workers bundle it.
import type { Finding } from "../types";

/** Each bundled pack's licence (SPDX id); the unit test checks it against signatures/packs/NAME/SOURCE. */
export const PACK_LICENSES: Readonly<Record<string, string>> = {
  ring3: "Apache-2.0",
  "signature-base": "DRL-1.1",
  reversinglabs: "MIT",
  eset: "BSD-2-Clause",
};

/** The namespace of the core set (signatures/yara). */
export const CORE_PACK = "ring3";

/**
 * The pack a namespace belongs to: the core set's "ring3", a pack rule file's "PACK/path.yar", or
 * a bundled hash list's "bundled/packs/PACK/..." ("bundled/hashes/..." is the core set's).
 */
export function packOf(namespace: string): string | undefined {
  if (namespace === CORE_PACK || namespace.startsWith("bundled/hashes/")) return CORE_PACK;
  const m = /^(?:bundled\/packs\/)?([a-z0-9-]+)\//.exec(namespace);
  return m && m[1] !== "bundled" && Object.hasOwn(PACK_LICENSES, m[1]) ? m[1] : undefined;
}

/** Sets `pack`, `author` and `license` on a finding where they are known. */
export function attribute(f: Finding, author?: unknown): Finding {
  const pack = packOf(f.namespace);
  if (pack !== undefined) {
    f.pack = pack;
    f.license = PACK_LICENSES[pack];
  }
  if (typeof author === "string" && author.trim() !== "") f.author = author.trim();
  else if (pack === CORE_PACK) f.author = "ring3";
  return f;
}

/** "by AUTHOR (PACK, LICENSE)", or the parts known; "" for a finding with none. */
export function attributionText(f: Pick<Finding, "pack" | "author" | "license">): string {
  const where = [f.pack, f.license].filter((x) => x !== undefined && x !== "").join(", ");
  if (f.author === undefined && where === "") return "";
  return [f.author !== undefined ? `by ${f.author}` : "", where !== "" ? `(${where})` : ""].filter((x) => x !== "").join(" ");
}
