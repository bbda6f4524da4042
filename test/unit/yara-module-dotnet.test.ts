// The dotnet module against YARA-X, field by field, on real assemblies: the managed DLLs and EXEs of
// Debian's mono packages that `make test-tools` unpacks into .cache/dotnet
// (scripts/dotnet-assemblies.sh; RING3_DOTNET_DIR=DIR checks the assemblies of DIR instead). For
// each file, every top-level field, every stream, GUID, resource, assembly reference, module
// reference, a sample of user strings, constants and field offsets, and a sample of the classes
// with their base types, generic parameters and methods (parameters, return types) become
// conditions that YARA-X must find true on the same bytes.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../src/engines/yara/contracts";
import { dotnet } from "../../src/engines/yara/modules/dotnet";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";
import { checkDotnet, dotnetCases } from "./yara-module-dotnet-fixtures";
import { show } from "./yara-module-oracle";

const DIR = process.env.RING3_DOTNET_DIR ?? path.resolve(__dirname, "../../.cache/dotnet");

function assemblies(): string[] {
  if (!fs.existsSync(DIR)) return [];
  return fs
    .readdirSync(DIR)
    .filter((f) => /\.(dll|exe)$/i.test(f))
    .sort()
    .map((f) => path.join(DIR, f));
}

const files = assemblies();

describe("dotnet module on real assemblies", () => {
  it("has the assemblies (make test-tools unpacks them)", () => {
    expect(files.length, `no assemblies in ${DIR}: run make test-tools`).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    it(`agrees with YARA-X on ${path.basename(file)}`, () => {
      const data = new Uint8Array(fs.readFileSync(file));
      const r = dotnet.load(bytesSource(data));
      expect(r.field("is_dotnet")).toBe(true);
      const cases = dotnetCases(r, { classes: 25, methods: 4, items: 30 });
      // The same values when the file is read through positioned reads only.
      const through = dotnetCases(dotnet.load(poisonSource(data)), { classes: 25, methods: 4, items: 30 });
      expect(through.map((c) => `${c.expr}=${show(c.value)}`)).toEqual(cases.map((c) => `${c.expr}=${show(c.value)}`));
      expect(cases.filter((c) => c.value === UNKNOWN).map((c) => c.expr)).toEqual([]);
      expect(checkDotnet(data, cases)).toEqual([]);
    }, 120_000);
  }
});
