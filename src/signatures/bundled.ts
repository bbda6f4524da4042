// The signature set compiled into the binary (esbuild inlines these files as text). Adding a file
// under signatures/ means adding its import here; a unit test checks that none is left out.
import * as crypto from "node:crypto";
import version from "../../signatures/VERSION";
import testFilesHsb from "../../signatures/hashes/test-files.hsb";
import testFilesYar from "../../signatures/yara/test-files.yar";

export interface BundledFile {
  /** Path under signatures/, as shown in reports ("bundled/yara/test-files.yar"). */
  name: string;
  text: string;
}

export const BUNDLED_VERSION: string = version.trim();

export const BUNDLED_YARA: readonly BundledFile[] = [{ name: "bundled/yara/test-files.yar", text: testFilesYar }];

export const BUNDLED_HASHES: readonly BundledFile[] = [{ name: "bundled/hashes/test-files.hsb", text: testFilesHsb }];

/** sha256 over every bundled file's name and text: tells two builds' sets apart, whatever VERSION says. */
export function bundledContentId(): string {
  const h = crypto.createHash("sha256");
  for (const f of [...BUNDLED_YARA, ...BUNDLED_HASHES]) h.update(f.name).update("\0").update(f.text).update("\0");
  return h.digest("hex").slice(0, 16);
}
