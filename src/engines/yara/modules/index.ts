// The modules the fast path evaluates, by the name rules import. Modules YARA-X has and ring3 does
// not implement are opaque: every field is UNKNOWN, so a rule that needs one goes to YARA-X (a
// rule whose other terms are false is still decided here).
import { UNKNOWN, type ModuleFactory, type StructValue } from "../contracts";
import { console } from "./console";
import { dotnet } from "./dotnet";
import { elf } from "./elf";
import { hash } from "./hash";
import { lnk } from "./lnk";
import { macho } from "./macho";
import { math } from "./math";
import { pe } from "./pe";
import { string } from "./string";
import { time } from "./time";

const OPAQUE_ROOT: StructValue = { kind: "struct", field: () => UNKNOWN };

function opaque(name: string): ModuleFactory {
  return { name, load: () => OPAQUE_ROOT };
}

/** YARA-X 1.x modules ring3 leaves to YARA-X. */
const OPAQUE = ["magic", "cuckoo", "dex", "crx", "vt", "test_proto2", "test_proto3"];

export const MODULES: Record<string, ModuleFactory> = {
  pe,
  elf,
  math,
  hash,
  string,
  time,
  console,
  lnk,
  macho,
  dotnet,
  ...Object.fromEntries(OPAQUE.map((n) => [n, opaque(n)])),
};
