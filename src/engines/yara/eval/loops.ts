// Quantified loops (`for … in`, `for … of`, `… of <set>`) in three-valued logic, following
// YARA-X's emit_for: an empty loop is false whatever the quantifier; each iteration's body is
// caught (undefined counts as false); `N of` with N == 0 behaves as `none`, and N < 0 as "one true
// iteration suffices"; a percentage is ceil(n * p / 100) iterations. An iteration whose body is
// UNKNOWN keeps the loop UNKNOWN unless the other iterations already decide it.
import { UNKNOWN, type Unknown } from "../contracts";
import type { V } from "./values";

/**
 * What one iteration gives: its body's value (undefined already caught as false), `undefined` when
 * fetching the item itself raised undefined (an array element: YARA-X aborts the whole loop), or
 * HALT when fetching the item is UNKNOWN (it might have aborted the loop).
 */
export const HALT: unique symbol = Symbol("halt");
export type Step = boolean | Unknown | undefined | typeof HALT;

/** all / any / none, or at least `min` true iterations (min == 0: none; min < 0: any). */
export type Mode = { kind: "all" | "any" | "none" } | { kind: "count"; min: bigint };

/** Iterations a single loop may run before the fast path gives up (UNKNOWN; YARA-X decides). */
export const MAX_ITERATIONS = 1 << 24;

export function runLoop(mode: Mode, n: number, step: (i: number) => Step): V {
  if (n <= 0) return false;
  if (n > MAX_ITERATIONS) return UNKNOWN;
  let kind = mode.kind;
  let min = 0n;
  if (mode.kind === "count") {
    min = mode.min;
    if (min === 0n) kind = "none";
    else if (min < 0n) kind = "any";
  }
  let trues = 0n;
  let unknowns = false;
  let unknownCount = 0n;
  for (let i = 0; i < n; i++) {
    const r = step(i);
    if (r === HALT) return UNKNOWN;
    if (r === undefined) return unknowns ? UNKNOWN : undefined;
    if (r === UNKNOWN) {
      unknowns = true;
      unknownCount++;
      continue;
    }
    switch (kind) {
      case "all":
        if (!r) return false;
        break;
      case "any":
        if (r) return true;
        break;
      case "none":
        if (r) return false;
        break;
      case "count":
        if (r && ++trues >= min) return true;
        break;
    }
  }
  switch (kind) {
    case "all":
    case "none":
    case "any":
      return unknowns ? UNKNOWN : kind !== "any";
    case "count":
      return trues + unknownCount >= min ? UNKNOWN : false;
  }
}

/** The loop's mode from its quantifier's value; undefined/UNKNOWN quantifiers pass through. */
export function countMode(q: V, n: number, percent: boolean): Mode | undefined | Unknown {
  if (q === undefined || q === UNKNOWN) return q;
  if (typeof q !== "bigint") return UNKNOWN;
  if (!percent) return { kind: "count", min: q };
  // YARA-X: ceil(f64(n) * f64(p) / 100.0) truncated to an integer.
  const min = Math.ceil((n * Number(q)) / 100);
  return Number.isFinite(min) ? { kind: "count", min: BigInt(min) } : UNKNOWN;
}
