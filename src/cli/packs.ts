// Issue 10: choosing among the bundled packs on the command line (--pack, --no-pack) and the
// packs' table in `ring3 rules list`.
import { Option } from "commander";
import { bundledPacks, selectPacks, UnknownPackError, type BundledPack } from "../signatures/bundled";
import { collect, UsageError } from "./options";

/**
 * A repeatable option whose flag starts with --no- (`--no-pack NAME`) but is a list of its own,
 * not the negation of another option (commander's reading of --no-).
 */
export function listOption(flags: string, attribute: string, description: string): Option {
  const o = new Option(flags, description).argParser(collect).default([]);
  o.negate = false;
  o.attributeName = () => attribute;
  return o;
}

/** The packs a scan uses; an unknown name is a usage error. */
export function chosenPacks(packs: readonly string[], noPacks: readonly string[]): string[] {
  try {
    const out = selectPacks({ pack: packs, noPack: noPacks });
    if (out.length === 0) throw new UsageError("--no-pack leaves no bundled pack: drop --no-pack, or use --no-bundled with --rules or --hashes");
    return out;
  } catch (err) {
    if (err instanceof UnknownPackError) throw new UsageError(`--pack/--no-pack: ${err.message}`);
    throw err;
  }
}

/** One line per pack: name, on by default or not, rules, hashes, licence, source at its commit. */
export function packTable(packs: BundledPack[] = bundledPacks()): string {
  const rows = packs.map((p) => [p.name, p.default ? "on" : "off", String(p.yaraRules), String(p.hashCount), String(p.excludedRules), p.license, p.commit === "this build" ? p.repository : `${p.repository}@${p.commit.slice(0, 12)}`]);
  const head = ["PACK", "DEFAULT", "RULES", "HASHES", "LEFT OUT", "LICENSE", "SOURCE"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ");
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}
