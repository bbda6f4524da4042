// What the carrier readers (mail, documents, executables' overlays, old compressions) share:
// a member from bytes a decoder produced, held to the member and total budgets the way the archive
// readers are, and small text helpers for formats that are text around binary parts.
import { EMPTY_NAME, capProblem, membersProblem, outputCap, problem, timeProblem } from "./budget";
import type { Budget, ContainerProblem, Member } from "./types";

const enc = new TextEncoder();

export function nameBytes(name: string | Uint8Array): Uint8Array {
  return typeof name === "string" ? enc.encode(name) : name;
}

/**
 * One member from decoded bytes, charged to the budget. `packed` is what it was decoded from
 * (for maxRatio); decoders that cannot expand (base64, hex) pass the output length. Over a budget:
 * the first part, with the budget's problem; `damaged` marks bytes decoded from damaged input.
 */
export function memberOf(name: string | Uint8Array, data: Uint8Array, budget: Budget, packed = data.length, damaged?: ContainerProblem): Member {
  const cap = outputCap(budget, packed);
  const n = nameBytes(name);
  if (data.length > cap.limit) {
    const part = data.subarray(0, cap.limit);
    budget.charge(part.length);
    return { name: n, data: part, problem: capProblem(cap, budget, "member") };
  }
  if (!budget.charge(data.length)) return { name: n, data, problem: capProblem({ limit: 0, code: "archive-total-size" }, budget, "member") };
  return damaged ? { name: n, data, problem: damaged } : { name: n, data };
}

/** A problem of the container as a whole. */
export function containerProblem(p: ContainerProblem): Member {
  return { name: EMPTY_NAME, problem: p };
}

export const corrupt = (what: string): Member => containerProblem(problem("archive-corrupt", what));

/**
 * Counts members and checks time before each one; the returned function gives the member to
 * yield, or a container problem (and `stop` set) once a budget says no more.
 */
export class Gate {
  count = 0;
  stop = false;
  constructor(private readonly budget: Budget) {}
  /** Null when the member may be produced; else the problem to yield (and the reader stops). */
  check(): Member | null {
    if (this.count === this.budget.limits.maxMembers) return (this.stop = true), containerProblem(membersProblem(this.budget));
    if (!this.budget.inTime()) return (this.stop = true), containerProblem(timeProblem(this.budget));
    this.count++;
    return null;
  }
}

/** Bytes as a Latin-1 string: one character per byte, so offsets agree both ways. */
export function latin1(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
}

export function fromLatin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

export function startsWith(data: Uint8Array, offset: number, s: string): boolean {
  if (offset + s.length > data.length) return false;
  for (let i = 0; i < s.length; i++) if (data[offset + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Hex digits to bytes, skipping whitespace; stops at the first other character. */
export function hexDecode(s: string, from = 0, to = s.length): { data: Uint8Array; end: number } {
  const out = new Uint8Array((to - from) >> 1);
  let n = 0;
  let hi = -1;
  let i = from;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    let v: number;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 97 && c <= 102) v = c - 87;
    else if (c >= 65 && c <= 70) v = c - 55;
    else if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    else break;
    if (hi < 0) hi = v;
    else (out[n++] = (hi << 4) | v), (hi = -1);
  }
  return { data: out.subarray(0, n), end: i };
}

/** A file name from a header or record: the last path component, no control characters. */
export function cleanName(name: string): string {
  const base = name.split(/[\\/]/).filter((s) => s !== "").pop() ?? "";
  // eslint-disable-next-line no-control-regex
  return base.replace(/[\x00-\x1f]/g, "").trim();
}
