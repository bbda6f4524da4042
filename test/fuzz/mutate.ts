// Inputs for the fuzz targets: a seed from the target's corpus changed by a short list of
// mutations (bit flips, interesting bytes and integers at any width and byte order, truncation,
// insertions, deletions, copies within the input, splices from another seed), as fast-check
// arbitraries so that a failing input shrinks to a small list of changes. Mutations address
// positions modulo the current length, so every list applies to every seed.
import fc from "fast-check";

export type Op =
  | { k: "flip"; at: number; bit: number }
  | { k: "byte"; at: number; v: number }
  | { k: "int"; at: number; width: 2 | 4 | 8; v: bigint; le: boolean }
  | { k: "truncate"; at: number }
  | { k: "insert"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; len: number }
  | { k: "copy"; at: number; from: number; len: number }
  | { k: "splice"; at: number; seed: number; from: number; len: number };

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x0a, 0x2f, 0x2e, 0x22, 0x5c];
const INTERESTING_INTS = [0n, 1n, 2n, 7n, 8n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];

const pos = fc.nat({ max: 0x7fffffff });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("flip" as const), at: pos, bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("byte" as const), at: pos, v: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat({ max: 255 })) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant("int" as const),
      at: pos,
      width: fc.constantFrom(2 as const, 4 as const, 8 as const),
      v: fc.oneof(fc.constantFrom(...INTERESTING_INTS), fc.bigInt({ min: 0n, max: 0xffffffffn })),
      le: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("truncate" as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("insert" as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("delete" as const), at: pos, len: fc.integer({ min: 1, max: 256 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("copy" as const), at: pos, from: pos, len: fc.integer({ min: 1, max: 512 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("splice" as const), at: pos, seed: pos, from: pos, len: fc.integer({ min: 1, max: 4096 }) }) },
);

export interface Case {
  seed: number;
  ops: Op[];
}

export const caseArb: fc.Arbitrary<Case> = fc.record({ seed: pos, ops: fc.array(opArb, { minLength: 1, maxLength: 8 }) });

/** Inputs never grow past this (a target's cost should come from its parser, not from size). */
export const MAX_INPUT = 1 << 20;

export function apply(seeds: readonly Uint8Array[], c: Case): Uint8Array {
  let b: Uint8Array = seeds.length > 0 ? seeds[c.seed % seeds.length]! : new Uint8Array(0);
  b = b.slice();
  for (const op of c.ops) b = applyOne(b, op, seeds);
  return b.length > MAX_INPUT ? b.subarray(0, MAX_INPUT) : b;
}

function applyOne(b: Uint8Array, op: Op, seeds: readonly Uint8Array[]): Uint8Array {
  const at = (n: number) => (b.length === 0 ? 0 : n % (b.length + 1));
  switch (op.k) {
    case "flip":
      if (b.length > 0) b[op.at % b.length]! ^= 1 << op.bit;
      return b;
    case "byte":
      if (b.length > 0) b[op.at % b.length] = op.v;
      return b;
    case "int": {
      if (b.length < op.width) return b;
      const i = op.at % (b.length - op.width + 1);
      for (let k = 0; k < op.width; k++) {
        const byte = Number((op.v >> BigInt(8 * k)) & 0xffn);
        b[op.le ? i + k : i + op.width - 1 - k] = byte;
      }
      return b;
    }
    case "truncate":
      return b.subarray(0, at(op.at));
    case "insert": {
      const i = at(op.at);
      return concat(b.subarray(0, i), op.bytes, b.subarray(i));
    }
    case "delete": {
      const i = at(op.at);
      return concat(b.subarray(0, i), b.subarray(i + op.len));
    }
    case "copy": {
      if (b.length === 0) return b;
      const from = op.from % b.length;
      const i = at(op.at);
      return concat(b.subarray(0, i), b.subarray(from, from + op.len), b.subarray(i));
    }
    case "splice": {
      if (seeds.length === 0) return b;
      const other = seeds[op.seed % seeds.length]!;
      if (other.length === 0) return b;
      const from = op.from % other.length;
      const i = at(op.at);
      return concat(b.subarray(0, i), other.subarray(from, from + op.len), b.subarray(i + op.len));
    }
    default: {
      const never: never = op;
      throw new Error(`unknown mutation ${JSON.stringify(never)}`);
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
