// Rule gates: what a rule's condition demands of a file before any of its patterns can matter, read
// from the conjuncts at the top of its `and` chain: a header value (`uint16(0) == 0x5A4D`) and
// bounds on `filesize`. On a file that fails its gate a rule is false whatever its patterns match,
// so the matcher skips verifying their atom hits (on signature-base over the two clean bench
// corpora, 41-48 % of all verifier hits; YARA verifies them all).
import type { Expr } from "./ast";
import type { HeaderGuard } from "./eval";
import { readInt } from "./eval/values";
import { FileReader } from "./reader";

/**
 * One rule's gate. `spec` 0: no header read; else the read's width in bytes (1, 2, 4), plus 8 when
 * big-endian and 16 when signed. `val`: the value compared with, as its low 32 bits. `max` < 0:
 * no upper bound. All Int32, as the image stores them.
 */
export interface RuleGate {
  spec: number;
  off: number;
  val: number;
  min: number;
  max: number;
}

const INT32_MAX = 0x7fffffff;

/**
 * The gate of a condition (`guard`: its header guard, as compileProgram found it), or undefined
 * when it demands nothing of the file. Bounds beyond what Int32 holds are left out (a looser gate
 * is still a true one: it only skips less).
 */
export function ruleGate(condition: Expr, guard: HeaderGuard | undefined): RuleGate | undefined {
  let min = 0;
  let max = -1;
  const bound = (op: string, k: bigint) => {
    // filesize OP k
    if (op === "<" || op === "<=") {
      const m = op === "<" ? k - 1n : k;
      if (m >= 0n && m < BigInt(INT32_MAX) && (max < 0 || Number(m) < max)) max = Number(m);
    } else if (op === ">" || op === ">=") {
      const m = op === ">" ? k + 1n : k;
      if (m > 0n) min = Math.max(min, m > BigInt(INT32_MAX) ? INT32_MAX : Number(m));
    } else if (op === "==") {
      bound("<=", k);
      bound(">=", k);
    }
  };
  const flip: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==" };
  const walk = (e: Expr): void => {
    if (e.type !== "binary") return;
    if (e.op === "and") {
      walk(e.left);
      walk(e.right);
      return;
    }
    if (!(e.op in flip)) return;
    if (e.left.type === "filesize" && e.right.type === "int") bound(e.op, e.right.value);
    else if (e.right.type === "filesize" && e.left.type === "int") bound(flip[e.op]!, e.left.value);
  };
  walk(condition);
  let spec = 0;
  let off = 0;
  let val = 0;
  if (guard && guard.offset >= 0n && guard.offset <= BigInt(INT32_MAX - 4)) {
    spec = guard.size | (guard.be ? 8 : 0) | (guard.signed ? 16 : 0);
    off = Number(guard.offset);
    val = Number(BigInt.asIntN(32, guard.value));
  }
  if (spec === 0 && min === 0 && max < 0) return undefined;
  return { spec, off, val, min, max };
}

/**
 * The distinct gates of a program and, per matcher variant, the group of gates it is skipped
 * behind: the gates of every rule that uses it (identical declarations in several rules share
 * their variants), shut when all of them are. Group 0 is never shut (a user without a gate).
 */
export class FileGates {
  readonly varGate: Int32Array;
  // The distinct gates, flat: each header read by index (-1: none), its value and size bounds.
  private readonly gRead: Int32Array;
  private readonly gVal: Int32Array;
  private readonly gMin: Int32Array;
  private readonly gMax: Int32Array;
  // The distinct header reads: spec and offset; per file, the value read and whether it is known.
  private readonly rSpec: Int32Array;
  private readonly rOff: Int32Array;
  private readonly rValue: Int32Array;
  /** Per read, for the current file: 0 read, 1 past the end of the file (undefined), 2 not in the bytes given. */
  private readonly rState: Uint8Array;
  /** Groups (index - 1), flat: group k's gates are gMembers[gFrom[k] .. gFrom[k + 1]). */
  private readonly gFrom: Int32Array;
  private readonly gMembers: Int32Array;
  private readonly gateShut: Uint8Array;

  /**
   * `varPattern`: each variant's pattern; `canonical`: per pattern, the pattern whose variants it
   * uses; `ruleOf`: a pattern's rule.
   */
  constructor(ruleGates: readonly (RuleGate | undefined)[], varPattern: Int32Array, canonical: Int32Array, ruleOf: (pattern: number) => number) {
    const list: RuleGate[] = [];
    const ids = new Map<string, number>();
    const gateOfRule = new Int32Array(ruleGates.length).fill(-1);
    ruleGates.forEach((g, r) => {
      if (!g) return;
      const key = `${g.spec}:${g.off}:${g.val}:${g.min}:${g.max}`;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = list.push(g) - 1));
      gateOfRule[r] = id;
    });
    const reads = new Map<string, number>();
    const readList: [number, number][] = [];
    this.gRead = Int32Array.from(list, (g) => {
      if (g.spec === 0) return -1;
      const key = `${g.spec}:${g.off}`;
      let r = reads.get(key);
      if (r === undefined) reads.set(key, (r = readList.push([g.spec, g.off]) - 1));
      return r;
    });
    this.gVal = Int32Array.from(list, (g) => g.val);
    this.gMin = Int32Array.from(list, (g) => g.min);
    this.gMax = Int32Array.from(list, (g) => g.max);
    this.rSpec = Int32Array.from(readList, (r) => r[0]);
    this.rOff = Int32Array.from(readList, (r) => r[1]);
    this.rValue = new Int32Array(readList.length);
    this.rState = new Uint8Array(readList.length);
    this.gateShut = new Uint8Array(list.length);
    this.varGate = new Int32Array(varPattern.length);
    // Per canonical pattern, the gates of its users; null once a user has none.
    const users = new Map<number, Set<number> | null>();
    if (list.length > 0) {
      for (let p = 0; p < canonical.length; p++) {
        const c = canonical[p]!;
        const g = gateOfRule[ruleOf(p)]!;
        const seen = users.has(c) ? users.get(c)! : new Set<number>();
        if (seen === null || g < 0) users.set(c, null);
        else users.set(c, seen.add(g));
      }
    }
    const groupIds = new Map<string, number>();
    const groups: number[][] = [];
    const groupOf = new Map<number, number>();
    for (const [c, gates] of users) {
      if (gates === null) continue;
      const members = [...gates].sort((a, b) => a - b);
      const key = members.join(",");
      let id = groupIds.get(key);
      if (id === undefined) groupIds.set(key, (id = groups.push(members)));
      groupOf.set(c, id);
    }
    this.gFrom = new Int32Array(groups.length + 1);
    groups.forEach((m, k) => (this.gFrom[k + 1] = this.gFrom[k]! + m.length));
    this.gMembers = Int32Array.from(groups.flat());
    for (let vi = 0; vi < varPattern.length; vi++) this.varGate[vi] = groupOf.get(varPattern[vi]!) ?? 0;
  }

  /** Groups, group 0 (none) included: the length of a file's array of shut groups. */
  get size(): number {
    return this.gFrom.length;
  }

  /** None shut: the array for a file no gate applies to, or when gates are not used. */
  static readonly OPEN = new Uint8Array(1);

  /**
   * Marks in `shut` (length `size`) the groups a file of `size` bytes fails. `head`: its first
   * bytes (all of them, or a first chunk): a header read beyond `head` but inside the file is not
   * known yet, and its gate stays open.
   */
  mark(size: number, head: Uint8Array, shut: Uint8Array): Uint8Array {
    const reader = FileReader.of(head);
    for (let r = 0; r < this.rSpec.length; r++) {
      const spec = this.rSpec[r]!;
      const off = this.rOff[r]!;
      // A read past the end of the file is undefined, and the rule false.
      if (off + (spec & 7) > size) this.rState[r] = 1;
      else {
        // Read as the condition reads it (values.ts), past the bytes given: not known yet.
        const v = readInt(reader, BigInt(off), (spec & 7) as 1 | 2 | 4, (spec & 16) !== 0, (spec & 8) !== 0);
        const known = typeof v === "bigint";
        this.rState[r] = known ? 0 : 2;
        this.rValue[r] = known ? Number(BigInt.asIntN(32, v)) : 0;
      }
    }
    const gShut = this.gateShut;
    for (let i = 0; i < gShut.length; i++) {
      let dead = size < this.gMin[i]! || (this.gMax[i]! >= 0 && size > this.gMax[i]!);
      const r = this.gRead[i]!;
      if (!dead && r >= 0) dead = this.rState[r] === 1 || (this.rState[r] === 0 && this.rValue[r] !== this.gVal[i]);
      gShut[i] = dead ? 1 : 0;
    }
    shut[0] = 0;
    const from = this.gFrom;
    const members = this.gMembers;
    for (let k = 1; k < from.length; k++) {
      let all = 1;
      for (let j = from[k - 1]!; j < from[k]! && all; j++) all = gShut[members[j]!]!;
      shut[k] = all;
    }
    return shut;
  }
}
