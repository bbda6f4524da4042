// Runtime values of the condition evaluator and the operators over them, with YARA-X's semantics
// (lib/src/compiler/emit.rs): 64-bit integers that wrap on + - *, undefined on integer division
// by zero, shifts of 64 or more give 0, int/float mixing converts the integer, strings compare as
// bytes. `undefined` is YARA's undefined; every strict operator propagates it (YARA-X raises it as
// an exception that only `and`/`or` operands, `defined`, loop bodies and the rule itself catch).
// UNKNOWN (the fast path cannot tell) propagates too, but undefined wins: whatever UNKNOWN stands
// for, an undefined operand makes the result undefined.
import { UNKNOWN, type Value } from "../contracts";
import type { FileReader } from "../reader";

/** A value as the evaluator computes it: contracts' Value (bigint, float, bytes, bool, objects). */
export type V = Value;

export const I64_MIN = -(1n << 63n);

/** Truthiness in a boolean context: non-zero numbers, non-empty strings. UNKNOWN for objects. */
export function truthy(v: V): boolean | undefined | typeof UNKNOWN {
  switch (typeof v) {
    case "boolean":
      return v;
    case "bigint":
      return v !== 0n;
    case "number":
      return v !== 0; // NaN is true, like F64Ne(NaN, 0)
    case "undefined":
      return undefined;
    case "symbol":
      return UNKNOWN;
    default:
      return v instanceof Uint8Array ? v.length > 0 : UNKNOWN;
  }
}

/** Boolean value of an `and`/`or` operand, loop body or rule: undefined is caught as false. */
export function caught(v: V): boolean | typeof UNKNOWN {
  const t = truthy(v);
  return t === undefined ? false : t;
}

const isInt = (v: V): v is bigint => typeof v === "bigint";
const isNum = (v: V): v is bigint | number => typeof v === "bigint" || typeof v === "number";
const isStr = (v: V): v is Uint8Array => v instanceof Uint8Array;

/** undefined if either operand is undefined, else UNKNOWN if either is, else null (both known). */
function strict(a: V, b: V): undefined | typeof UNKNOWN | null {
  if (a === undefined || b === undefined) return undefined;
  if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
  return null;
}

const wrap = (x: bigint): bigint => BigInt.asIntN(64, x);

export function arith(op: "+" | "-" | "*" | "\\" | "%", a: V, b: V): V {
  const s = strict(a, b);
  if (s !== null) return s;
  if (isInt(a) && isInt(b)) {
    switch (op) {
      case "+":
        return wrap(a + b);
      case "-":
        return wrap(a - b);
      case "*":
        return wrap(a * b);
      case "\\":
        if (b === 0n) return undefined;
        // i64.div_s traps on MIN / -1: YARA-X's scan fails there, so let YARA-X report it.
        if (a === I64_MIN && b === -1n) return UNKNOWN;
        return a / b; // BigInt division truncates toward zero, like i64.div_s
      case "%":
        if (b === 0n) return undefined;
        return a % b; // sign of the dividend, like i64.rem_s; MIN % -1 is 0
    }
  }
  if (!isNum(a) || !isNum(b) || op === "%") return UNKNOWN; // type errors YARA-X rejects at compile time
  const x = Number(a);
  const y = Number(b);
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "\\":
      return x / y;
  }
}

export function negate(a: V): V {
  if (a === undefined || a === UNKNOWN) return a;
  if (isInt(a)) return wrap(-a);
  if (typeof a === "number") return -a;
  return UNKNOWN;
}

export function bitNot(a: V): V {
  if (a === undefined || a === UNKNOWN) return a;
  return isInt(a) ? wrap(~a) : UNKNOWN;
}

export function bitwise(op: "&" | "|" | "^" | "<<" | ">>", a: V, b: V): V {
  const s = strict(a, b);
  if (s !== null) return s;
  if (!isInt(a) || !isInt(b)) return UNKNOWN;
  switch (op) {
    case "&":
      return a & b;
    case "|":
      return a | b;
    case "^":
      return a ^ b;
    case "<<":
    case ">>": {
      // YARA-X: a shift by 64 or more (signed compare) is 0; below that, WebAssembly's shift by
      // (b mod 64), so a negative count shifts by its low six bits.
      if (b >= 64n) return 0n;
      const n = b & 63n;
      return op === "<<" ? wrap(a << n) : a >> n;
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function compare(op: "==" | "!=" | "<" | "<=" | ">" | ">=", a: V, b: V): V {
  const s = strict(a, b);
  if (s !== null) return s;
  let c: number;
  if (isInt(a) && isInt(b)) c = a < b ? -1 : a > b ? 1 : 0;
  else if (isNum(a) && isNum(b)) {
    const x = Number(a);
    const y = Number(b);
    // NaN: every comparison but != is false, as with f64 instructions.
    if (Number.isNaN(x) || Number.isNaN(y)) return op === "!=";
    c = x < y ? -1 : x > y ? 1 : 0;
  } else if (isStr(a) && isStr(b)) c = compareBytes(a, b);
  else return UNKNOWN;
  switch (op) {
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/** ASCII-only case folding, as YARA-X's icontains/iequals/... do (no Unicode folding). */
function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function eqAt(h: Uint8Array, at: number, n: Uint8Array, fold: boolean): boolean {
  for (let i = 0; i < n.length; i++) {
    const x = h[at + i];
    const y = n[i];
    if (x !== y && (!fold || lower(x) !== lower(y))) return false;
  }
  return true;
}

export type StringOp = "contains" | "icontains" | "startswith" | "istartswith" | "endswith" | "iendswith" | "iequals";

export function stringOp(op: StringOp, a: V, b: V): V {
  const s = strict(a, b);
  if (s !== null) return s;
  if (!isStr(a) || !isStr(b)) return UNKNOWN;
  const fold = op[0] === "i";
  switch (op) {
    case "contains":
    case "icontains":
      for (let i = 0; i + b.length <= a.length; i++) if (eqAt(a, i, b, fold)) return true;
      return false;
    case "startswith":
    case "istartswith":
      return b.length <= a.length && eqAt(a, 0, b, fold);
    case "endswith":
    case "iendswith":
      return b.length <= a.length && eqAt(a, a.length - b.length, b, fold);
    case "iequals":
      return a.length === b.length && eqAt(a, 0, b, true);
  }
}

/** `uint8(o)` … `int32be(o)`: undefined outside the file, like YARA-X. */
export function readInt(file: FileReader, offset: V, size: 1 | 2 | 4, signed: boolean, bigEndian: boolean): V {
  if (offset === undefined || offset === UNKNOWN) return offset;
  if (!isInt(offset)) return UNKNOWN;
  if (offset < 0n || offset > 0xffffffffffffn) return undefined;
  const o = Number(offset);
  let v: number;
  const data = file.bytes;
  if (data) {
    if (o + size > data.length) return undefined;
    v = 0;
    if (bigEndian) for (let i = 0; i < size; i++) v = v * 256 + data[o + i];
    else for (let i = size - 1; i >= 0; i--) v = v * 256 + data[o + i];
  } else {
    const r = file.uint(o, size, bigEndian);
    if (r === undefined) return undefined;
    v = r;
  }
  if (signed && v >= 2 ** (8 * size - 1)) v -= 2 ** (8 * size);
  return BigInt(v);
}

/** An external's value as YARA-X types it: integral numbers are integers, other numbers floats. */
export function externalValue(v: string | number | boolean): V {
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  return v;
}
