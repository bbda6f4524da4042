// YARA-X (the official WASM build) as the oracle for the fast path's tests: compile rule text,
// scan bytes, and get which rules matched and where each string matched. Every conformance case
// can assert both its expected value and that YARA-X agrees, so a wrong expectation cannot pass.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yarax from "@virustotal/yara-x";

const WASM = path.resolve(__dirname, "../../node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm");
let ready = false;
function init(): void {
  if (ready) return;
  yarax.initSync({ module: fs.readFileSync(WASM) });
  ready = true;
}

export interface OracleMatch {
  rule: string;
  namespace: string;
  /** Every string's matches (private strings included), keyed by identifier ("$a"). */
  strings: Record<string, { offset: number; length: number }[]>;
}

export interface OracleRules {
  /** Matching rules (private rules included, flagged), in YARA-X's order. */
  scan(data: Uint8Array, externals?: Record<string, string | number | boolean>): (OracleMatch & { private: boolean })[];
  free(): void;
}

/**
 * Compiles `source` (one or more rules) in YARA-X. Throws with YARA-X's error text when the rules
 * do not compile. `externals` declares external variables with their default values.
 */
export function oracleCompile(
  source: string | { namespace: string; text: string }[],
  externals: Record<string, string | number | boolean> = {},
): OracleRules {
  init();
  const compiler = new yarax.Compiler();
  try {
    for (const [k, v] of Object.entries(externals)) compiler.defineGlobal(k, v);
    const sources = typeof source === "string" ? [{ namespace: "default", text: source }] : source;
    for (const s of sources) {
      compiler.newNamespace(s.namespace);
      try {
        compiler.addSource(s.text);
      } catch (err) {
        throw new Error(compiler.errors.at(-1) ?? String(err));
      }
    }
    const rules = compiler.build();
    const scanner = rules.scanner();
    return {
      scan(data, ext = {}) {
        for (const [k, v] of Object.entries(ext)) scanner.setGlobal(k, v);
        const res = scanner.scan(data) as {
          matches: {
            identifier: string;
            namespace: string;
            isPrivate: boolean;
            patterns: { identifier: string; matches: { offset: number; length: number }[] }[];
          }[];
        };
        return res.matches.map((m) => ({
          rule: m.identifier,
          namespace: m.namespace,
          private: m.isPrivate,
          strings: Object.fromEntries(m.patterns.map((p) => [p.identifier, p.matches.map((x) => ({ offset: x.offset, length: x.length }))])),
        }));
      },
      free() {
        scanner.free();
        rules.free();
      },
    };
  } finally {
    compiler.free();
  }
}

/** One rule, one buffer: does it match per YARA-X? (Compiles each call; fine for tables of cases.) */
export function oracleMatches(source: string, data: Uint8Array, externals: Record<string, string | number | boolean> = {}): string[] {
  const r = oracleCompile(source, externals);
  try {
    return r.scan(data).map((m) => m.rule);
  } finally {
    r.free();
  }
}

/**
 * One string declaration (`"abc" wide`, `{ 61 ?? 62 }`, `/a.b/s`) on one buffer: YARA-X's matches
 * as "offset:length" joined by spaces, or "-" for none (the form the matcher tests compare).
 */
export function oracleStringMatches(decl: string, data: Uint8Array): string {
  const r = oracleCompile(`rule t { strings: $a = ${decl} condition: $a or not $a }`);
  try {
    const m = r.scan(data)[0]?.strings["$a"] ?? [];
    return m.map((x) => `${x.offset}:${x.length}`).join(" ") || "-";
  } finally {
    r.free();
  }
}
