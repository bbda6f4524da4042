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

/** ASCII case folding: YARA-X's icontains/iequals/... when both sides are ASCII. */
function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

const isAscii = (s: Uint8Array): boolean => {
  for (let i = 0; i < s.length; i++) if (s[i]! >= 0x80) return false;
  return true;
};

/** The length of the valid UTF-8 sequence at s[i], or 0 (an invalid byte). */
function utf8Len(s: Uint8Array, i: number): number {
  const b = s[i]!;
  const n = b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
  if (n === 0 || i + n > s.length) return 0;
  const c1 = s[i + 1]!;
  // The second byte's range is narrower after E0, ED, F0 and F4 (no overlong forms, surrogates, > U+10FFFF).
  const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) if ((s[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

/**
 * YARA-X's lower case of a string with non-ASCII bytes (bstr's to_lowercase): each valid UTF-8
 * character replaced by its Unicode lower case, one character at a time (so a final sigma is σ),
 * invalid bytes kept as they are.
 */
export function unicodeLower(s: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const b = s[i]!;
    if (b < 0x80) {
      out.push(lower(b));
      i++;
      continue;
    }
    const n = utf8Len(s, i);
    if (n === 0) {
      out.push(b);
      i++;
      continue;
    }
    for (const x of utf8Out.encode(utf8.decode(s.subarray(i, i + n)).toLowerCase())) out.push(x);
    i += n;
  }
  return Uint8Array.from(out);
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
  let fold = op[0] === "i";
  if (fold && !(isAscii(a) && isAscii(b))) {
    // Beyond ASCII, YARA-X lower-cases both sides as UTF-8 and compares the bytes ("CAFÉ" icontains "fé").
    a = unicodeLower(a);
    b = unicodeLower(b);
    fold = false;
  }
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
      return a.length === b.length && eqAt(a, 0, b, fold);
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

/** `float32(o)` … `float64be(o)`: an IEEE float of 4 or 8 bytes as a float; undefined outside the file. */
export function readFloat(file: FileReader, offset: V, size: 4 | 8, bigEndian: boolean): V {
  if (offset === undefined || offset === UNKNOWN) return offset;
  if (!isInt(offset)) return UNKNOWN;
  if (offset < 0n || offset > 0xffffffffffffn) return undefined;
  const o = Number(offset);
  if (o + size > file.size) return undefined;
  const b = file.read(o, size);
  const dv = new DataView(b.buffer, b.byteOffset, size);
  return size === 4 ? dv.getFloat32(0, !bigEndian) : dv.getFloat64(0, !bigEndian);
}

/** An external's value as YARA-X types it: integral numbers are integers, other numbers floats. */
export function externalValue(v: string | number | boolean): V {
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  return v;
}
