// The `string` module: to_int (Rust's i64 parsing: an optional sign, then at least one digit of
// the base, no spaces, no prefix, no overflow) and length (in bytes), as YARA-X's
// lib/src/modules/string.rs.
import { UNKNOWN, type ModuleFactory, type StructValue } from "../contracts";
import { func, inI64, isInt, isStr, struct } from "./util";

/** `i64::from_str_radix` over bytes; undefined where Rust returns an error. */
export function parseInt64(s: Uint8Array, radix: number): bigint | undefined {
  let i = 0;
  let negative = false;
  if (s.length > 0 && (s[0] === 0x2b || s[0] === 0x2d)) {
    negative = s[0] === 0x2d;
    i = 1;
  }
  if (i >= s.length) return undefined; // "" or a lone sign
  const big = BigInt(radix);
  let v = 0n;
  for (; i < s.length; i++) {
    const d = digit(s[i]);
    if (d === undefined || d >= radix) return undefined;
    v = v * big + BigInt(d);
  }
  const signed = negative ? -v : v;
  return inI64(signed) ? signed : undefined;
}

function digit(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41 + 10;
  return undefined;
}

const STRING: StructValue = struct({
  to_int: func((a) => {
    if (a.length === 1 && isStr(a[0])) return parseInt64(a[0], 10);
    if (a.length === 2 && isStr(a[0]) && isInt(a[1])) {
      if (a[1] < 2n || a[1] > 36n) return undefined;
      return parseInt64(a[0], Number(a[1]));
    }
    return UNKNOWN;
  }),
  length: func((a) => (a.length === 1 && isStr(a[0]) ? BigInt(a[0].length) : UNKNOWN)),
});

export const string: ModuleFactory = { name: "string", load: () => STRING };
