// Single-stream compressed files through Node's zlib: gzip (one or many members, RFC 1952) and
// zstd. The whole decompressed stream is one member, named by gzip's FNAME field when present.
import { EMPTY_NAME, outputCap, capProblem } from "./budget";
import { decode, type Codec } from "./inflate";
import type { Budget, Member } from "./types";

/** The FNAME field of the first gzip member (bytes as stored, ISO 8859-1 by the RFC). */
export function gzipName(data: Uint8Array): Uint8Array {
  if (data.length < 10) return EMPTY_NAME;
  const flags = data[3]!;
  let p = 10;
  if (flags & 4) {
    if (p + 2 > data.length) return EMPTY_NAME;
    p += 2 + (data[p]! | (data[p + 1]! << 8)); // FEXTRA
  }
  if (!(flags & 8)) return EMPTY_NAME;
  const end = data.indexOf(0, p);
  return end < 0 ? EMPTY_NAME : data.subarray(p, end);
}

function* readStream(codec: Codec, name: Uint8Array, data: Uint8Array, budget: Budget): Iterable<Member> {
  const cap = outputCap(budget, data.length);
  const d = decode(codec, data, cap, budget, codec === "gzip" ? "gzip stream" : "zstd stream");
  if (d.data && !budget.charge(d.data.length)) {
    yield { name, data: d.data, problem: capProblem({ limit: 0, code: "archive-total-size" }, budget, codec) };
    return;
  }
  yield d.problem ? { name, data: d.data, problem: d.problem } : { name, data: d.data };
}

export function readGzip(data: Uint8Array, budget: Budget): Iterable<Member> {
  return readStream("gzip", gzipName(data), data, budget);
}

export function readZstd(data: Uint8Array, budget: Budget): Iterable<Member> {
  return readStream("zstd", EMPTY_NAME, data, budget);
}
