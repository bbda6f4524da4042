// ar archives (Unix static libraries, and .deb packages: an ar of debian-binary, control.tar.*
// and data.tar.*): 60-byte headers, GNU and BSD long names. Members are views into the input.
import { EMPTY_NAME, membersProblem, problem, remainingOf, timeProblem } from "./budget";
import type { Budget, Member } from "./types";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

export function* readAr(data: Uint8Array, budget: Budget): Iterable<Member> {
  let p = 8; // "!<arch>\n"
  let longNames: Uint8Array | undefined;
  let count = 0;
  while (p < data.length) {
    if (data[p] === 0x0a) {
      p++; // padding to an even offset
      continue;
    }
    if (p + 60 > data.length || data[p + 58] !== 0x60 || data[p + 59] !== 0x0a) {
      yield { name: EMPTY_NAME, problem: problem("archive-corrupt", `ar: bad member header at offset ${p}`) };
      return;
    }
    if (!budget.inTime()) {
      yield { name: EMPTY_NAME, problem: timeProblem(budget) };
      return;
    }
    const rawName = dec.decode(data.subarray(p, p + 16)).trimEnd();
    const size = Number(dec.decode(data.subarray(p + 48, p + 58)).trim());
    if (!Number.isSafeInteger(size) || size < 0) {
      yield { name: EMPTY_NAME, problem: problem("archive-corrupt", `ar: bad member size at offset ${p}`) };
      return;
    }
    let start = p + 60;
    const end = start + size;
    p = end + (size & 1);
    const truncated = end > data.length;
    let name: Uint8Array;
    if (rawName === "/" || rawName === "/SYM64/" || rawName.startsWith("__.SYMDEF")) continue; // symbol tables
    if (rawName === "//") {
      longNames = data.subarray(start, Math.min(end, data.length));
      continue;
    }
    const gnu = /^\/(\d+)$/.exec(rawName);
    const bsd = /^#1\/(\d+)$/.exec(rawName);
    if (gnu && longNames) {
      const from = Number(gnu[1]);
      let to = from;
      while (to < longNames.length && longNames[to] !== 0x0a && !(longNames[to] === 0x2f && longNames[to + 1] === 0x0a)) to++;
      name = longNames.subarray(Math.min(from, longNames.length), to);
    } else if (bsd) {
      const n = Math.min(Number(bsd[1]), size);
      name = data.subarray(start, Math.min(start + n, data.length));
      const nul = name.indexOf(0);
      if (nul >= 0) name = name.subarray(0, nul);
      start += n;
    } else name = enc.encode(rawName.endsWith("/") ? rawName.slice(0, -1) : rawName);
    if (count === budget.limits.maxMembers) {
      yield { name: EMPTY_NAME, problem: membersProblem(budget) };
      return;
    }
    count++;
    const body = data.subarray(start, Math.min(end, data.length));
    const limit = Math.min(budget.limits.maxMemberSize, remainingOf(budget));
    const part = body.length > limit ? body.subarray(0, limit) : body;
    budget.charge(part.length);
    if (body.length > limit) {
      const code = limit === budget.limits.maxMemberSize ? "archive-member-size" : "archive-total-size";
      yield { name, data: part, problem: problem(code, `ar member of ${size} bytes is over the ${code === "archive-member-size" ? "maxMemberSize" : "maxTotalBytes"} budget`) };
      if (code === "archive-total-size") return;
    } else if (truncated) {
      yield { name, data: part, problem: problem("archive-corrupt", `ar: member declares ${size} bytes, the file holds ${body.length}`) };
      return;
    } else yield { name, data: part };
  }
}
