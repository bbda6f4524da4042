// Backward verification for regex and hex variants whose atom sits at a variable distance from the
// match start (after a jump, a `*`, an alternation of different lengths): the part of the pattern
// before the atom (the prefix) runs as a reversed NFA from the atom towards the start of the data,
// and every position where it accepts is a candidate start, which the forward matcher then checks.
// This is how YARA and YARA-X do it; it replaces trying every start in a window before each hit.
//
// The NFA is Thompson's construction over the IR with counted repetitions unrolled, simulated as a
// set of states (no backtracking): the prefix's greedy/lazy flavours do not matter, since it answers
// "which starts can reach the atom", not "which match".
import { width, type Node } from "./ir";

/** Prefixes whose unrolled NFA is bigger than this keep the window search. */
export const MAX_BACK_STATES = 2048;

const BYTE = 0;
const SPLIT = 1;
const ASSERT = 2;
const ACCEPT = 3;

const A_START = 0;
const A_END = 1;
const A_WORD = 2;
const A_NOTWORD = 3;
const A_WIDEWORD = 4;
const A_WIDENOTWORD = 5;
const A_WIDESTART = 6;
const A_WIDEEND = 7;
const A_WORDSTART = 8;
const A_WORDEND = 9;
const A_WIDEWORDSTART = 10;
const A_WIDEWORDEND = 11;
const A_LINESTART = 12;
const A_LINEEND = 13;
const A_LFSTART = 14;
const A_LFEND = 15;
const ASSERT_KINDS = {
  start: A_START,
  end: A_END,
  word: A_WORD,
  notword: A_NOTWORD,
  wordstart: A_WORDSTART,
  wordend: A_WORDEND,
  wideword: A_WIDEWORD,
  widenotword: A_WIDENOTWORD,
  widestart: A_WIDESTART,
  wideend: A_WIDEEND,
  widewordstart: A_WIDEWORDSTART,
  widewordend: A_WIDEWORDEND,
  linestart: A_LINESTART,
  lineend: A_LINEEND,
  lfstart: A_LFSTART,
  lfend: A_LFEND,
} as const;

/** NFA states for a node, unrolled (an estimate good enough to refuse huge prefixes early). */
export function nfaSize(n: Node): number {
  switch (n.t) {
    case "set":
    case "assert":
      return 1;
    case "cat": {
      let s = 0;
      for (const x of n.items) s += nfaSize(x);
      return s;
    }
    case "alt": {
      let s = 1;
      for (const x of n.alts) s += nfaSize(x);
      return s;
    }
    case "rep": {
      const inner = nfaSize(n.node);
      const copies = n.max === null ? n.min + 1 : n.max;
      return copies * (inner + 1) + 1;
    }
  }
}

const WORD = new Uint8Array(256);
for (let b = 0; b < 256; b++) WORD[b] = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f ? 1 : 0;

export class BackwardMatcher {
  private readonly kind: Uint8Array;
  private readonly next: Int32Array;
  /** 8 words of byte set per state (BYTE states only). */
  private readonly sets: Int32Array;
  /** SPLIT: outs[outStart[s] .. outStart[s + 1]). */
  private readonly outs: Int32Array;
  private readonly outStart: Int32Array;
  private readonly assertKind: Uint8Array;
  private readonly start: number;
  /** The prefix's longest width (null = unbounded): no need to walk back further. */
  private readonly maxWidth: number | null;
  // Simulation scratch, reused between calls.
  private readonly mark: Int32Array;
  private gen = 0;
  private cur: Int32Array;
  private nxt: Int32Array;
  private readonly stack: Int32Array;

  constructor(prefix: Node[]) {
    const kind: number[] = [];
    const next: number[] = [];
    const sets: number[][] = [];
    const outs: number[][] = [];
    const assertKind: number[] = [];
    const add = (k: number, nx: number, set: number[] | null, o: number[], a: number): number => {
      kind.push(k);
      next.push(nx);
      sets.push(set ?? []);
      outs.push(o);
      assertKind.push(a);
      return kind.length - 1;
    };
    const accept = add(ACCEPT, -1, null, [], 0);
    // build(n, after): the state that matches n read backwards, then continues with `after`.
    const build = (n: Node, after: number): number => {
      switch (n.t) {
        case "set":
          return add(BYTE, after, Array.from(n.set, (x) => x | 0), [], 0);
        case "assert":
          return add(ASSERT, after, null, [], ASSERT_KINDS[n.kind]);
        case "cat": {
          // Read backwards, the last item comes first: chain them from the first one outwards.
          let cur = after;
          for (const x of n.items) cur = build(x, cur);
          return cur;
        }
        case "alt":
          return add(
            SPLIT,
            -1,
            null,
            n.alts.map((x) => build(x, after)),
            0,
          );
        case "rep": {
          let cur = after;
          if (n.max === null) {
            const loop = add(SPLIT, -1, null, [], 0);
            outs[loop] = [build(n.node, loop), after];
            cur = loop;
          } else {
            for (let k = n.min; k < n.max; k++) cur = add(SPLIT, -1, null, [build(n.node, cur), after], 0);
          }
          for (let k = 0; k < n.min; k++) cur = build(n.node, cur);
          return cur;
        }
      }
    };
    let start = accept;
    for (const x of prefix) start = build(x, start);
    this.start = start;
    const count = kind.length;
    this.kind = Uint8Array.from(kind);
    this.next = Int32Array.from(next);
    this.assertKind = Uint8Array.from(assertKind);
    this.sets = new Int32Array(count * 8);
    sets.forEach((s, i) => s.length && this.sets.set(s, i * 8));
    this.outStart = new Int32Array(count + 1);
    let total = 0;
    for (let i = 0; i < count; i++) {
      this.outStart[i] = total;
      total += outs[i]!.length;
    }
    this.outStart[count] = total;
    this.outs = new Int32Array(total);
    outs.forEach((o, i) => this.outs.set(o, this.outStart[i]!));
    this.mark = new Int32Array(count);
    this.cur = new Int32Array(count);
    this.nxt = new Int32Array(count);
    // Each state is pushed at most once per edge into it: states + edges bound the stack.
    this.stack = new Int32Array(count + total + 1);
    let max: number | null = 0;
    for (const x of prefix) {
      const d = width(x);
      max = max === null || d.max === null ? null : max + d.max;
    }
    this.maxWidth = max;
  }

  /**
   * The starts s in [limit, q] where the prefix matches data[s..q) exactly, ascending, into `out`
   * (cleared first).
   */
  starts(data: Uint8Array, q: number, limit: number, out: number[]): void {
    out.length = 0;
    if (this.maxWidth !== null) limit = Math.max(limit, q - this.maxWidth);
    limit = Math.max(0, limit);
    let gen = ++this.gen;
    let cur = this.cur;
    let nxt = this.nxt;
    let accepted = false;
    let count = 0;
    const stack = this.stack;
    // Epsilon closure from state s at position p: BYTE states go to `list`; ACCEPT sets `accepted`.
    const closure = (s: number, p: number, list: Int32Array, len: number): number => {
      let top = 0;
      stack[top++] = s;
      while (top > 0) {
        const x = stack[--top]!;
        if (this.mark[x] === gen) continue;
        this.mark[x] = gen;
        switch (this.kind[x]) {
          case BYTE:
            list[len++] = x;
            break;
          case ACCEPT:
            accepted = true;
            break;
          case SPLIT:
            for (let k = this.outStart[x + 1]! - 1; k >= this.outStart[x]!; k--) stack[top++] = this.outs[k]!;
            break;
          default:
            if (this.holds(this.assertKind[x]!, data, p)) stack[top++] = this.next[x]!;
        }
      }
      return len;
    };
    count = closure(this.start, q, cur, 0);
    let p = q;
    for (;;) {
      if (accepted) out.push(p);
      if (count === 0 || p <= limit) break;
      const b = data[p - 1]!;
      gen = ++this.gen;
      accepted = false;
      let n2 = 0;
      for (let k = 0; k < count; k++) {
        const s = cur[k]!;
        if ((this.sets[s * 8 + (b >>> 5)]! >>> (b & 31)) & 1) n2 = closure(this.next[s]!, p - 1, nxt, n2);
      }
      const t = cur;
      cur = nxt;
      nxt = t;
      count = n2;
      p--;
    }
    out.reverse();
  }

  private holds(kind: number, data: Uint8Array, p: number): boolean {
    const n = data.length;
    switch (kind) {
      case A_START:
        return p === 0;
      case A_END:
        return p === n;
      case A_WIDESTART:
        return p < 2;
      case A_WIDEEND:
        return n - p < 2;
      // As toSource renders them (YARA-X's line breaks: \n, \r, and \r\n or \n\r as one).
      case A_LINESTART: {
        if (p === 0) return true;
        const before = data[p - 1]!;
        const after = p < n ? data[p]! : -1;
        return (before === 0x0a && after !== 0x0d) || (before === 0x0d && after !== 0x0a);
      }
      case A_LINEEND: {
        if (p === n) return true;
        const before = p > 0 ? data[p - 1]! : -1;
        const after = data[p]!;
        return (after === 0x0a && before !== 0x0d) || (after === 0x0d && before !== 0x0a);
      }
      case A_LFSTART:
        return p === 0 || data[p - 1] === 0x0a;
      case A_LFEND:
        return p === n || data[p] === 0x0a;
      case A_WIDEWORD:
      case A_WIDENOTWORD:
      case A_WIDEWORDSTART:
      case A_WIDEWORDEND: {
        // As toSource renders it: whole byte pairs, the 0x00 unchecked.
        const before = p >= 2 ? WORD[data[p - 2]!]! : 0;
        const after = p + 1 < n ? WORD[data[p]!]! : 0;
        if (kind === A_WIDEWORDSTART) return !before && !!after;
        if (kind === A_WIDEWORDEND) return !!before && !after;
        return kind === A_WIDEWORD ? before !== after : before === after;
      }
      default: {
        const before = p > 0 ? WORD[data[p - 1]!]! : 0;
        const after = p < n ? WORD[data[p]!]! : 0;
        if (kind === A_WORDSTART) return !before && !!after;
        if (kind === A_WORDEND) return !!before && !after;
        return kind === A_WORD ? before !== after : before === after;
      }
    }
  }
}
