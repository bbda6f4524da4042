// Helpers for the module tests: call a ring3 module function or read a field, write the value it
// gave as a YARA condition (`<call> == <that value>`, `not defined <call>`, ...), and check that
// YARA-X, scanning the same bytes, agrees. A wrong value cannot pass: YARA-X would not match.
import { expect } from "vitest";
import { UNKNOWN, type ModuleFactory, type Value } from "../../src/engines/yara/contracts";
import { oracleCompile } from "../support/yarax-oracle";
import { bytesSource } from "../../src/util/bytesource";

/** A YARA literal for a scalar value, exact for floats (it parses back to the same double). */
export function literal(v: Value): string {
  if (typeof v === "bigint") return v === -(1n << 63n) ? "(-9223372036854775807 - 1)" : v.toString();
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") {
    const a = Math.abs(v);
    // YARA floats have no exponent: write tiny values in full and huge ones (integers) as digits.
    let s = String(a);
    if (/e/.test(s)) s = a < 1 ? a.toFixed(60) : `${BigInt(a)}.0`;
    if (!s.includes(".")) s += ".0";
    if (Number(s) !== a) throw new Error(`no exact literal for ${v}`);
    return v < 0 || Object.is(v, -0) ? `-${s}` : s;
  }
  if (v instanceof Uint8Array) {
    let s = '"';
    for (const b of v) s += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
    return s + '"';
  }
  throw new Error(`no literal for ${String(v)}`);
}

/** The condition that holds in YARA-X exactly when `expr` has the value `v`. */
export function conditionFor(expr: string, v: Value): string {
  if (v === undefined) return `not defined ${expr}`;
  if (v === true) return `${expr}`;
  if (v === false) return `defined ${expr} and not ${expr}`;
  return `${expr} == ${literal(v)}`;
}

export interface Case {
  /** The YARA expression, e.g. `math.entropy(0, 10)`. */
  expr: string;
  /** ring3's value for it. */
  value: Value;
}

/**
 * Checks every case against YARA-X on `data` in one compiled rule set (one rule per case). Returns
 * the cases YARA-X disagrees with, so that the caller's assertion names them.
 */
export function disagreements(imports: string[], cases: Case[], data: Uint8Array): string[] {
  if (cases.length === 0) return [];
  for (const c of cases) expect(c.value, c.expr).not.toBe(UNKNOWN);
  const head = imports.map((m) => `import "${m}"\n`).join("");
  const rules = cases.map((c, i) => `rule c${i} { condition: ${conditionFor(c.expr, c.value)} }`).join("\n");
  const compiled = oracleCompile(head + rules);
  try {
    const matched = new Set(compiled.scan(data).map((m) => m.rule));
    return cases.flatMap((c, i) => (matched.has(`c${i}`) ? [] : [`${c.expr} -> ${show(c.value)}`]));
  } finally {
    compiled.free();
  }
}

export function show(v: Value): string {
  if (v instanceof Uint8Array) return literal(v);
  if (typeof v === "bigint") return `${v}n`;
  return String(v === UNKNOWN ? "UNKNOWN" : v);
}

/** A call of a module function: the YARA text and ring3's value. */
export function call(module: ModuleFactory, data: Uint8Array, fn: string, args: Value[]): Case {
  const f = module.load(bytesSource(data)).field(fn);
  if (typeof f !== "object" || f === null || !("kind" in f) || f.kind !== "func") throw new Error(`${module.name}.${fn} is not a function`);
  return { expr: `${module.name}.${fn}(${args.map(literal).join(", ")})`, value: f.call(args) };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Deterministic pseudo-random bytes (xorshift32) so that failures reproduce. */
export function randomBytes(n: number, seed: number, alphabet = 256): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x % alphabet;
  }
  return out;
}
