// Tar (v7, ustar, pax, GNU): 512-byte headers, each verified by its checksum, pax records and GNU
// long names applied to the entry that follows. Members are views into the input (no copy), so a
// huge declared size can only be a truncation, never an allocation.
import { EMPTY_NAME, membersProblem, problem, remainingOf, timeProblem } from "./budget";
import type { Budget, Member } from "./types";

const BLOCK = 512;

function field(h: Uint8Array, at: number, len: number): Uint8Array {
  const f = h.subarray(at, at + len);
  const nul = f.indexOf(0);
  return nul < 0 ? f : f.subarray(0, nul);
}

/** An octal number (spaces and NULs around it), or GNU's base-256 when the top bit is set. */
function number(h: Uint8Array, at: number, len: number): number {
  if (h[at]! & 0x80) {
    let n = h[at]! & 0x3f; // 0x80 positive; 0xff (negative) is nonsense for a size and reads huge
    if (h[at] === 0xff) return Number.MAX_SAFE_INTEGER;
    for (let i = 1; i < len; i++) n = n * 256 + h[at + i]!;
    return n;
  }
  let n = 0;
  let seen = false;
  for (let i = at; i < at + len; i++) {
    const c = h[i]!;
    if (c >= 0x30 && c <= 0x37) (n = n * 8 + (c - 0x30)), (seen = true);
    else if (c === 0 || c === 0x20) {
      if (seen) break;
    } else return -1;
  }
  return n;
}

/** The header's checksum is the sum of its bytes with the checksum field read as spaces. */
export function checksumOk(h: Uint8Array): boolean {
  const stored = number(h, 148, 8);
  if (stored < 0) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b; // some old tars summed signed chars
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

const utf8 = new TextEncoder();
const latin = new TextDecoder("utf-8", { fatal: false });

/** pax extended header records: "LEN key=value\n". Only path and size matter for scanning. */
function paxRecords(data: Uint8Array): { path?: Uint8Array; size?: number } {
  const out: { path?: Uint8Array; size?: number } = {};
  let p = 0;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    if (sp < 0) break;
    const len = Number(latin.decode(data.subarray(p, sp)));
    if (!Number.isInteger(len) || len <= sp - p || p + len > data.length) break;
    const rec = data.subarray(sp + 1, p + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) {
      const key = latin.decode(rec.subarray(0, eq));
      const value = rec.subarray(eq + 1);
      if (key === "path") out.path = value;
      else if (key === "size") {
        const n = Number(latin.decode(value));
        if (Number.isSafeInteger(n) && n >= 0) out.size = n;
      }
    }
    p += len;
  }
  return out;
}

function join(prefix: Uint8Array, name: Uint8Array): Uint8Array {
  if (prefix.length === 0) return name;
  const out = new Uint8Array(prefix.length + 1 + name.length);
  out.set(prefix);
  out[prefix.length] = 0x2f;
  out.set(name, prefix.length + 1);
  return out;
}

const USTAR = utf8.encode("ustar\0");

export function* readTar(data: Uint8Array, budget: Budget): Iterable<Member> {
  let p = 0;
  let count = 0;
  let longName: Uint8Array | undefined;
  let pax: { path?: Uint8Array; size?: number } = {};
  for (;;) {
    if (p + BLOCK > data.length) {
      if (p < data.length || p === 0) yield { name: EMPTY_NAME, problem: problem("archive-corrupt", "tar: ends inside a header") };
      return; // a tar may also end without its two zero blocks
    }
    const h = data.subarray(p, p + BLOCK);
    if (isZeroBlock(h)) return;
    if (!checksumOk(h)) {
      yield { name: EMPTY_NAME, problem: problem("archive-corrupt", `tar: bad header checksum at offset ${p}`) };
      return;
    }
    if (!budget.inTime()) {
      yield { name: EMPTY_NAME, problem: timeProblem(budget) };
      return;
    }
    const type = h[156]!;
    let size = number(h, 124, 12);
    if (pax.size !== undefined && type !== 0x78 && type !== 0x67) size = pax.size;
    if (size < 0) {
      yield { name: EMPTY_NAME, problem: problem("archive-corrupt", `tar: bad size field at offset ${p}`) };
      return;
    }
    const start = p + BLOCK;
    const available = Math.max(0, Math.min(size, data.length - start));
    const body = data.subarray(start, start + available);
    const truncated = available < size;
    p = start + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 0x4c /* L: GNU long name */ || type === 0x78 /* x: pax */ || type === 0x67 /* g: pax global */) {
      if (truncated) {
        yield { name: EMPTY_NAME, problem: problem("archive-corrupt", "tar: truncated extended header") };
        return;
      }
      if (type === 0x4c) longName = field(body, 0, body.length);
      else if (type === 0x78) pax = paxRecords(body);
      continue; // global pax headers set defaults that do not change what is scanned
    }
    // Regular files: '0', NUL (old tars), '7' (contiguous) and, as POSIX asks, unknown types.
    const file = type === 0x30 || type === 0 || type === 0x37 || !"123456KVDMNS".includes(String.fromCharCode(type));
    const isUstar = h.subarray(257, 263).every((b, i) => b === USTAR[i]);
    const name = pax.path ?? longName ?? (isUstar ? join(field(h, 345, 155), field(h, 0, 100)) : field(h, 0, 100));
    longName = undefined;
    pax = {};
    if (type === 0x53 /* S: GNU sparse */ || type === 0x4d /* M: multi-volume continuation */) {
      yield { name, problem: problem("archive-unsupported", `tar: entry type ${String.fromCharCode(type)} (sparse or multi-volume)`) };
    } else if (file) {
      if (count === budget.limits.maxMembers) {
        yield { name: EMPTY_NAME, problem: membersProblem(budget) };
        return;
      }
      count++;
      const limit = Math.min(budget.limits.maxMemberSize, remainingOf(budget));
      const data = body.length > limit ? body.subarray(0, limit) : body;
      const within = budget.charge(data.length);
      if (body.length > limit) {
        const code = limit === budget.limits.maxMemberSize ? "archive-member-size" : "archive-total-size";
        yield { name, data, problem: problem(code, `tar member of ${size} bytes is over the ${code === "archive-member-size" ? "maxMemberSize" : "maxTotalBytes"} budget`) };
        if (code === "archive-total-size") return;
      } else if (!within) {
        yield { name, data, problem: problem("archive-total-size", `more than ${budget.limits.maxTotalBytes} bytes unpacked (maxTotalBytes)`) };
        return;
      } else if (truncated) {
        yield { name, data, problem: problem("archive-corrupt", `tar: member declares ${size} bytes, the file holds ${available}`) };
      } else yield { name, data };
    }
    if (truncated) {
      if (!file) yield { name: EMPTY_NAME, problem: problem("archive-corrupt", "tar: truncated") };
      return;
    }
  }
}
