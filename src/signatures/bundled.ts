// The signature set compiled into the binary (esbuild inlines these files as text). Adding a file
// under signatures/ means adding its import here; a unit test checks that none is left out.
import * as crypto from "node:crypto";
import version from "../../signatures/VERSION";
import supplyChainHsb from "../../signatures/hashes/supply-chain.hsb";
import testFilesHsb from "../../signatures/hashes/test-files.hsb";
import guardsYar from "../../signatures/yara/guards.yar";
import scriptsYar from "../../signatures/yara/scripts.yar";
import supplyChainYar from "../../signatures/yara/supply-chain.yar";
import testFilesYar from "../../signatures/yara/test-files.yar";
import toolsYar from "../../signatures/yara/tools.yar";
import webshellsYar from "../../signatures/yara/webshells.yar";

export interface BundledFile {
  /** Path under signatures/, as shown in reports ("bundled/yara/test-files.yar"). */
  name: string;
  text: string;
}

export const BUNDLED_VERSION: string = version.trim();

export const BUNDLED_YARA: readonly BundledFile[] = [
  { name: "bundled/yara/guards.yar", text: guardsYar },
  { name: "bundled/yara/test-files.yar", text: testFilesYar },
  { name: "bundled/yara/supply-chain.yar", text: supplyChainYar },
  { name: "bundled/yara/scripts.yar", text: scriptsYar },
  { name: "bundled/yara/webshells.yar", text: webshellsYar },
  { name: "bundled/yara/tools.yar", text: toolsYar },
];

export const BUNDLED_HASHES: readonly BundledFile[] = [
  { name: "bundled/hashes/test-files.hsb", text: testFilesHsb },
  { name: "bundled/hashes/supply-chain.hsb", text: supplyChainHsb },
];

/** sha256 over every bundled file's name and text: tells two builds' sets apart, whatever VERSION says. */
export function bundledContentId(): string {
  const h = crypto.createHash("sha256");
  for (const f of [...BUNDLED_YARA, ...BUNDLED_HASHES]) h.update(f.name).update("\0").update(f.text).update("\0");
  return h.digest("hex").slice(0, 16);
}
