// Shared pieces of the small modules (math, hash, string, time, console, elf): building struct and
// function values, reading arguments, and the integer conversions that YARA-X makes. The reference
// is YARA-X's WASM build (the fallback engine), where `usize` is 32 bits: a range that does not fit
// in 32 bits behaves there as it does here, not as a 64-bit native build would.
import { UNKNOWN, type FuncValue, type StructValue, type Value } from "../contracts";

const U32_MAX = 0xffffffffn;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** A struct whose fields are values or thunks evaluated (once) on first read; other names are UNKNOWN. */
export function struct(fields: Record<string, Value | (() => Value)>): StructValue {
  const cache = new Map<string, Value>();
  return {
    kind: "struct",
    field(name) {
      if (cache.has(name)) return cache.get(name);
      if (!Object.hasOwn(fields, name)) return UNKNOWN;
      const f = fields[name];
      const v = typeof f === "function" ? f() : f;
      cache.set(name, v);
      return v;
    },
  };
}

/**
 * A module's value whose root is built from the file only when a field that needs it is first
 * read: `constant` answers the names that need no file (a module's constants), `parse` builds the
 * rest, once.
 */
export function lazyStruct(parse: () => StructValue, constant?: (name: string) => Value | undefined): StructValue {
  let root: StructValue | undefined;
  return { kind: "struct", field: (name) => constant?.(name) ?? (root ??= parse()).field(name) };
}

/**
 * A module function. YARA-X propagates undefined arguments to an undefined result, and ring3 cannot
 * decide when an argument is UNKNOWN; `impl` sees only defined, decided arguments.
 */
export function func(impl: (args: Value[]) => Value): FuncValue {
  return {
    kind: "func",
    call(args) {
      if (args.some((a) => a === UNKNOWN)) return UNKNOWN;
      if (args.some((a) => a === undefined)) return undefined;
      return impl(args);
    },
  };
}

export const isInt = (v: Value): v is bigint => typeof v === "bigint";
export const isFloat = (v: Value): v is number => typeof v === "number";
export const isStr = (v: Value): v is Uint8Array => v instanceof Uint8Array;
export const isBool = (v: Value): v is boolean => typeof v === "boolean";

/** Rust's `i64::try_into::<usize>()` on wasm32: 0 ..= 2^32-1, else None. */
function toUsize(v: bigint): number | undefined {
  return v >= 0n && v <= U32_MAX ? Number(v) : undefined;
}

/** Rust's `u64 as usize` on wasm32: the low 32 bits. */
export function truncUsize(v: bigint): number {
  return Number(v & U32_MAX);
}

/** i64 arithmetic in a release build wraps. */
export function wrapI64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function inI64(v: bigint): boolean {
  return v >= I64_MIN && v <= I64_MAX;
}

/** A range of the file: [start, end). */
export interface Span {
  start: number;
  end: number;
}

/**
 * The `(offset, length)` range that math functions read: both must fit in usize, the end saturates
 * and is clipped to the file's `size`, and a start past the end of the file is undefined.
 */
export function clippedRange(size: number, offset: bigint, length: bigint): Span | undefined {
  const len = toUsize(length);
  const start = toUsize(offset);
  if (len === undefined || start === undefined) return undefined;
  const end = Math.min(size, Math.min(start + len, Number(U32_MAX)));
  if (start > end) return undefined;
  return { start, end };
}

/**
 * The `(offset, size)` range that hash functions read: `offset..offset + size` (i64 sum, wrapping),
 * both ends usize, and the whole range inside the file, else undefined. No clipping, unlike math.
 */
export function exactRange(fileSize: number, offset: bigint, size: bigint): Span | undefined {
  const start = toUsize(offset);
  const end = toUsize(wrapI64(offset + size));
  if (start === undefined || end === undefined || start > end || end > fileSize) return undefined;
  return { start, end };
}

const utf8 = new TextEncoder();
/** A YARA string value from a JS string (UTF-8). */
export function bytes(s: string): Uint8Array {
  return utf8.encode(s);
}
