// The hash signature database. Per algorithm: a sorted flat array of digests with parallel sizes
// and labels; each label (list, name) kept as UTF-8 in one blob. Every array lives in a
// SharedArrayBuffer, so the main thread builds it once and workers use it without a copy.
import { SEVERITIES, type FileHashes, type Finding, type Severity } from "../../types";
import { attribute } from "../../signatures/attribution";
import {
  ALGORITHM_LABEL,
  ANY_SIZE,
  DIGEST_BYTES,
  HASH_ALGORITHMS,
  MAX_SIGNATURE_SIZE,
  hexValue,
  listNamespace,
  parseHashList,
  type HashAlgorithm,
  type HashListSource,
} from "./lists";

export interface HashListInput extends HashListSource {
  /** Severity of this list's findings; "high" when absent. */
  severity?: Severity;
}

/** One algorithm's signatures in shared memory. Buffers may be longer than the data. */
export interface SharedHashTable {
  /** Signatures in the table, i.e. entries in `order` (the other arrays may hold dropped repeats). */
  count: number;
  /** Entries as listed, repeats included: the length of digests, sizes and labels. */
  entries: number;
  /** DIGEST_BYTES per entry. */
  digests: SharedArrayBuffer;
  /** Uint32 per signature: the file size, or 0xffffffff for any size. */
  sizes: SharedArrayBuffer;
  /** Uint32 per signature: its label (name and list). */
  labels: SharedArrayBuffer;
  /** Uint32 per signature: entry indices in ascending digest order, exact repeats left out. */
  order: SharedArrayBuffer;
  /** Uint32 open-addressing set of the sizes that signatures have; 0 = empty slot, else size + 1. */
  sizeSet: SharedArrayBuffer;
  /** Some signature matches any size, so this digest is always worth computing. */
  anySize: boolean;
}

/** The whole database as a structured-cloneable object: post it to a worker, then HashDb.fromShared. */
export interface SharedHashDb {
  format: typeof FORMAT;
  lists: { namespace: string; severity: Severity }[];
  labelCount: number;
  /** UTF-8 names back to back: label i is names[nameOffsets[i] .. nameOffsets[i + 1]). */
  names: SharedArrayBuffer;
  /** Uint32, labelCount + 1 entries. */
  nameOffsets: SharedArrayBuffer;
  /** Uint16 per label: index into lists. */
  labelLists: SharedArrayBuffer;
  md5: SharedHashTable;
  sha1: SharedHashTable;
  sha256: SharedHashTable;
}

export type AlgorithmSet = Record<HashAlgorithm, boolean>;

const FORMAT = "ring3-hashdb/1";
const ANY = 0xffffffff; // a stored size that matches every file (MAX_SIGNATURE_SIZE is one less)
const MAX_LISTS = 0x10000;

export class HashDb {
  readonly count: number;
  readonly counts: Readonly<Record<HashAlgorithm, number>>;
  /** Bytes of shared memory in use (buffers reserve address space beyond this, untouched). */
  readonly byteLength: number;
  private readonly tables: Record<HashAlgorithm, Table>;
  private readonly names: Uint8Array;
  private readonly nameOffsets: Uint32Array;
  private readonly labelLists: Uint16Array;

  private constructor(private readonly shared: SharedHashDb) {
    if (shared?.format !== FORMAT) throw new Error(`not a ring3 hash database (format ${String(shared?.format)})`);
    const labels = shared.labelCount;
    this.nameOffsets = view(Uint32Array, shared.nameOffsets, labels + 1);
    this.labelLists = view(Uint16Array, shared.labelLists, labels);
    this.names = view(Uint8Array, shared.names, this.nameOffsets[labels]);
    this.tables = {
      md5: new Table(shared.md5, DIGEST_BYTES.md5, labels),
      sha1: new Table(shared.sha1, DIGEST_BYTES.sha1, labels),
      sha256: new Table(shared.sha256, DIGEST_BYTES.sha256, labels),
    };
    this.counts = { md5: shared.md5.count, sha1: shared.sha1.count, sha256: shared.sha256.count };
    this.count = this.counts.md5 + this.counts.sha1 + this.counts.sha256;
    let bytes = this.names.byteLength + this.nameOffsets.byteLength + this.labelLists.byteLength;
    for (const a of HASH_ALGORITHMS) bytes += this.tables[a].byteLength;
    this.byteLength = bytes;
  }

  /** Parses and indexes the lists; throws HashListError (file:line) at the first malformed line. */
  static build(lists: readonly HashListInput[]): HashDb {
    if (lists.length > MAX_LISTS) throw new Error(`too many hash lists (${lists.length}; at most ${MAX_LISTS})`);
    // Upper bounds from the text lengths: a signature line has at least 32 characters, a name at
    // most 3 UTF-8 bytes per UTF-16 unit. They size address-space reservations, not memory.
    let chars = 0;
    for (const l of lists) chars += typeof l.text === "string" ? l.text.length : 0;
    const maxEntries = Math.ceil(chars / 32) + lists.length + 1;
    const labels = new LabelBuilder(maxEntries + lists.length, chars * 3 + 1);
    const staging: Record<HashAlgorithm, TableBuilder> = {
      md5: new TableBuilder(DIGEST_BYTES.md5, maxEntries),
      sha1: new TableBuilder(DIGEST_BYTES.sha1, maxEntries),
      sha256: new TableBuilder(DIGEST_BYTES.sha256, maxEntries),
    };
    const info: SharedHashDb["lists"] = [];
    lists.forEach((list, listIndex) => {
      const severity = list.severity ?? "high";
      if (!SEVERITIES.includes(severity)) throw new Error(`${list.name}: unknown severity ${JSON.stringify(severity)}`);
      info.push({ namespace: listNamespace(list.name), severity });
      parseHashList(list, {
        add(algorithm, digest, size, text, nameStart, nameEnd) {
          staging[algorithm].add(digest, size === ANY_SIZE ? ANY : size, labels.intern(listIndex, text, nameStart, nameEnd));
        },
      });
    });
    return new HashDb({
      format: FORMAT,
      lists: info,
      ...labels.finish(),
      md5: staging.md5.finish(),
      sha1: staging.sha1.finish(),
      sha256: staging.sha256.finish(),
    });
  }

  /** Wraps a database built elsewhere (typically in the main thread) without copying it. */
  static fromShared(shared: SharedHashDb): HashDb {
    return new HashDb(shared);
  }

  toShared(): SharedHashDb {
    return this.shared;
  }

  /**
   * The database as bytes, for a build step (the bundled lists are indexed when the executable is
   * built: at every start, parsing and indexing their 8,400 lines cost about 60 ms). fromBytes
   * gives back an equal database.
   */
  toBytes(): Buffer {
    const s = this.shared;
    const buffers: SharedArrayBuffer[] = [s.names, s.nameOffsets, s.labelLists];
    const tables = HASH_ALGORITHMS.map((a) => {
      const t = s[a];
      buffers.push(t.digests, t.sizes, t.labels, t.order, t.sizeSet);
      return { count: t.count, entries: t.entries, anySize: t.anySize };
    });
    const head = Buffer.from(JSON.stringify({ format: s.format, lists: s.lists, labelCount: s.labelCount, tables, lengths: buffers.map((b) => b.byteLength) }), "utf8");
    const out = Buffer.alloc(4 + head.length + buffers.reduce((n, b) => n + b.byteLength, 0));
    out.writeUInt32LE(head.length, 0);
    head.copy(out, 4);
    let at = 4 + head.length;
    for (const b of buffers) {
      out.set(new Uint8Array(b), at);
      at += b.byteLength;
    }
    return out;
  }

  /** A database from toBytes' output, in shared memory of its own; throws on bytes that are not one. */
  static fromBytes(bytes: Uint8Array): HashDb {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 4 || 4 + buf.readUInt32LE(0) > buf.length) throw new Error("not a ring3 hash database (truncated)");
    const headLen = buf.readUInt32LE(0);
    const head = JSON.parse(buf.toString("utf8", 4, 4 + headLen)) as {
      format: typeof FORMAT;
      lists: SharedHashDb["lists"];
      labelCount: number;
      tables: { count: number; entries: number; anySize: boolean }[];
      lengths: number[];
    };
    let at = 4 + headLen;
    let k = 0;
    const next = (): SharedArrayBuffer => {
      const n = head.lengths[k++]!;
      if (n === undefined || at + n > buf.length) throw new Error("not a ring3 hash database (truncated)");
      const sab = new SharedArrayBuffer(n);
      new Uint8Array(sab).set(buf.subarray(at, at + n));
      at += n;
      return sab;
    };
    const names = next();
    const nameOffsets = next();
    const labelLists = next();
    const table = (i: number): SharedHashTable => {
      const t = head.tables[i]!;
      return { count: t.count, entries: t.entries, anySize: t.anySize, digests: next(), sizes: next(), labels: next(), order: next(), sizeSet: next() };
    };
    const [md5, sha1, sha256] = [table(0), table(1), table(2)];
    return new HashDb({ format: head.format, lists: head.lists, labelCount: head.labelCount, names, nameOffsets, labelLists, md5, sha1, sha256 });
  }

  /** Which digests can match a file of this size: the others need not be computed. */
  algorithmsFor(size: number): AlgorithmSet {
    const t = this.tables;
    return { md5: t.md5.wants(size), sha1: t.sha1.wants(size), sha256: t.sha256.wants(size) };
  }

  /** Every signature that matches a file of `size` bytes with these digests (hex). */
  lookup(size: number, hashes: FileHashes): Finding[] {
    const found: Finding[] = [];
    for (const algorithm of HASH_ALGORITHMS) {
      const hex = hashes[algorithm];
      if (hex === undefined) continue;
      const t = this.tables[algorithm];
      if (!t.setKey(hex)) throw new TypeError(`lookup: ${algorithm} digest is not ${t.width * 2} hex digits: ${JSON.stringify(hex)}`);
      for (let k = t.lowerBound(); k < t.count && t.keyEquals(t.order[k]); k++) {
        const e = t.order[k];
        const s = t.sizes[e];
        if (s !== ANY && s !== size) continue;
        found.push(this.finding(algorithm, hex.toLowerCase(), t.labels[e]));
      }
    }
    return found;
  }

  private finding(algorithm: HashAlgorithm, value: string, label: number): Finding {
    const list = this.shared.lists[this.labelLists[label]];
    const start = this.nameOffsets[label];
    const end = this.nameOffsets[label + 1];
    // A nameless signature (a bare hash in a plain list) is known by its digest.
    const rule = end > start ? Buffer.from(this.names.buffer, start, end - start).toString("utf8") : value;
    return attribute({
      engine: "hash",
      rule,
      namespace: list.namespace,
      severity: list.severity,
      description: `File matches ${ALGORITHM_LABEL[algorithm]} signature "${rule}" from ${list.namespace}`,
      references: [],
      tags: [],
      hash: { algorithm, value },
    }); // issue 10: pack and licence
  }
}

type ArrayCtor<A> = { new (buffer: SharedArrayBuffer, byteOffset: number, length: number): A; BYTES_PER_ELEMENT: number };

function view<A>(ctor: ArrayCtor<A>, buffer: SharedArrayBuffer, length: number): A {
  if (!(buffer instanceof SharedArrayBuffer) || !(length >= 0) || buffer.byteLength < length * ctor.BYTES_PER_ELEMENT) {
    throw new Error("hash database: a shared buffer is missing or shorter than its data");
  }
  return new ctor(buffer, 0, length);
}

/** Read side of one algorithm's shared arrays, plus a scratch key for lookups. */
class Table {
  readonly count: number;
  readonly byteLength: number;
  readonly digests: Uint8Array;
  readonly sizes: Uint32Array;
  readonly labels: Uint32Array;
  readonly order: Uint32Array;
  private readonly sizeSet: Uint32Array;
  private readonly anySize: boolean;
  private readonly key: Uint8Array;

  constructor(s: SharedHashTable, readonly width: number, labelCount: number) {
    const n = (this.count = s.count);
    this.order = view(Uint32Array, s.order, n);
    const entries = s.entries;
    this.digests = view(Uint8Array, s.digests, entries * width);
    this.sizes = view(Uint32Array, s.sizes, entries);
    this.labels = view(Uint32Array, s.labels, entries);
    this.sizeSet = view(Uint32Array, s.sizeSet, s.sizeSet.byteLength >>> 2);
    this.anySize = s.anySize;
    this.key = new Uint8Array(width);
    this.byteLength =
      this.digests.byteLength + this.sizes.byteLength + this.labels.byteLength + this.order.byteLength + this.sizeSet.byteLength;
    if (n > 0 && labelCount === 0) throw new Error("hash database: signatures without labels");
  }

  wants(size: number): boolean {
    if (this.anySize) return true;
    if (this.sizeSet.length === 0 || !(size >= 0 && size <= MAX_SIGNATURE_SIZE) || size !== Math.floor(size)) return false;
    return setHas(this.sizeSet, size);
  }

  setKey(hex: string): boolean {
    const w = this.width;
    if (typeof hex !== "string" || hex.length !== 2 * w) return false;
    for (let i = 0; i < w; i++) {
      const hi = hexValue(hex.charCodeAt(2 * i));
      const lo = hexValue(hex.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) return false;
      this.key[i] = (hi << 4) | lo;
    }
    return true;
  }

  /** First position in `order` whose digest is >= the key. */
  lowerBound(): number {
    const { digests: d, key, width: w, order } = this;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let cmp = 0;
      for (let j = 0, o = order[mid] * w; j < w; j++) {
        cmp = d[o + j] - key[j];
        if (cmp !== 0) break;
      }
      if (cmp < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether entry i's digest is the key. */
  keyEquals(i: number): boolean {
    const { digests: d, key, width: w } = this;
    for (let j = 0, o = i * w; j < w; j++) if (d[o + j] !== key[j]) return false;
    return true;
  }
}

// The size set: open addressing over any capacity (load at most 0.7), the slot taken from the high
// bits of a multiplicative hash because signature sizes often share low bits (multiples of 512).

function setSlot(size: number, capacity: number): number {
  return Math.floor(((Math.imul(size, 0x9e3779b1) >>> 0) / 0x100000000) * capacity);
}

function setHas(set: Uint32Array, size: number): boolean {
  const cap = set.length;
  for (let i = setSlot(size, cap); ; ) {
    const v = set[i];
    if (v === size + 1) return true;
    if (v === 0) return false;
    if (++i === cap) i = 0;
  }
}

function setAdd(set: Uint32Array, size: number): void {
  const cap = set.length;
  for (let i = setSlot(size, cap); ; ) {
    const v = set[i];
    if (v === size + 1) return;
    if (v === 0) {
      set[i] = size + 1;
      return;
    }
    if (++i === cap) i = 0;
  }
}

// Building. Fresh memory costs page faults, which dominate the build time on some machines (a VM
// here: about 4 ms per MB touched); so the build writes each array once, straight into its final
// shared buffer, and sorts an index instead of moving entries. A growable SharedArrayBuffer
// reserves address space up front and never moves as it grows.

type GrowableSab = SharedArrayBuffer & { grow(byteLength: number): void };
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => GrowableSab;

function reserve(maxBytes: number): GrowableSab {
  return new GrowableSharedArrayBuffer(0, { maxByteLength: maxBytes });
}

/** Grows `buffer` to hold `length` elements (never past `max`) and returns a view over them. */
function grown<A>(ctor: ArrayCtor<A>, buffer: GrowableSab, length: number, max: number): A {
  if (length > max) throw new Error(`hash database: internal bound exceeded (${length} > ${max})`);
  buffer.grow(length * ctor.BYTES_PER_ELEMENT);
  return new ctor(buffer, 0, length);
}

function nextCapacity(capacity: number, needed: number, max: number): number {
  return Math.min(max, Math.max(needed, capacity * 2, 4096));
}

// The builders keep plain typed-array fields (one type each) so that the hot paths stay monomorphic.

class TableBuilder {
  private n = 0;
  private capacity = 0;
  private readonly digestBuffer: GrowableSab;
  private readonly sizeBuffer: GrowableSab;
  private readonly labelBuffer: GrowableSab;
  private digests = new Uint8Array(0);
  private sizes = new Uint32Array(0);
  private labels = new Uint32Array(0);

  constructor(
    private readonly width: number,
    private readonly maxEntries: number,
  ) {
    this.digestBuffer = reserve(maxEntries * width);
    this.sizeBuffer = reserve(maxEntries * 4);
    this.labelBuffer = reserve(maxEntries * 4);
  }

  add(digest: Uint8Array, size: number, label: number): void {
    if (this.n === this.capacity) this.grow();
    const i = this.n++;
    const w = this.width;
    const d = this.digests;
    for (let j = 0, o = i * w; j < w; j++) d[o + j] = digest[j];
    this.sizes[i] = size;
    this.labels[i] = label;
  }

  private grow(): void {
    const cap = (this.capacity = nextCapacity(this.capacity, this.n + 1, this.maxEntries));
    this.digests = grown(Uint8Array, this.digestBuffer, cap * this.width, this.maxEntries * this.width);
    this.sizes = grown(Uint32Array, this.sizeBuffer, cap, this.maxEntries);
    this.labels = grown(Uint32Array, this.labelBuffer, cap, this.maxEntries);
  }

  /** Orders the entries by digest, leaves exact repeats out, builds the size set. */
  finish(): SharedHashTable {
    const w = this.width;
    const d = this.digests;
    const sizes = this.sizes;
    const labels = this.labels;
    const orderBuffer = new SharedArrayBuffer(this.n * 4);
    const order = sortedOrder(d, w, this.n, sizes, labels, new Uint32Array(orderBuffer));

    // A repeat (same digest, size, name and list) would only report the same finding twice.
    let m = 0;
    let sized = 0;
    let anySize = false;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (m > 0) {
        const p = order[m - 1];
        if (sizes[i] === sizes[p] && labels[i] === labels[p] && sameDigest(d, i * w, p * w, w)) continue;
      }
      order[m++] = i;
      if (sizes[i] === ANY) anySize = true;
      else sized++;
    }

    const sizeSetBuffer = new SharedArrayBuffer(sized === 0 ? 0 : 4 * (Math.ceil(sized / 0.7) + 1));
    const set = new Uint32Array(sizeSetBuffer);
    for (let i = 0; i < this.n; i++) if (sizes[i] !== ANY) setAdd(set, sizes[i]);

    return {
      count: m,
      entries: this.n,
      digests: this.digestBuffer,
      sizes: this.sizeBuffer,
      labels: this.labelBuffer,
      order: orderBuffer,
      sizeSet: sizeSetBuffer,
      anySize,
    };
  }
}

function sameDigest(d: Uint8Array, a: number, b: number, w: number): boolean {
  for (let j = 0; j < w; j++) if (d[a + j] !== d[b + j]) return false;
  return true;
}

/**
 * Entry indices in digest order. Two radix passes over each digest's first four bytes place almost
 * everything (digests are uniformly distributed); runs that share those bytes are then sorted by
 * comparison, which also orders repeats of one digest by size and label.
 */
function sortedOrder(d: Uint8Array, w: number, n: number, sizes: Uint32Array, labels: Uint32Array, order: Uint32Array): Uint32Array {
  const key = new Uint32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += w) key[i] = ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;

  const first = new Uint32Array(n);
  const count = new Uint32Array(0x10000);
  for (let i = 0; i < n; i++) count[key[i] & 0xffff]++;
  prefixSums(count);
  for (let i = 0; i < n; i++) first[count[key[i] & 0xffff]++] = i;
  count.fill(0);
  for (let i = 0; i < n; i++) count[key[i] >>> 16]++;
  prefixSums(count);
  for (let j = 0; j < n; j++) {
    const i = first[j];
    order[count[key[i] >>> 16]++] = i;
  }

  const compare = (a: number, b: number): number => {
    for (let j = 4, oa = a * w, ob = b * w; j < w; j++) {
      const c = d[oa + j] - d[ob + j];
      if (c !== 0) return c;
    }
    return sizes[a] - sizes[b] || labels[a] - labels[b];
  };
  for (let j = 0; j < n; ) {
    const k0 = key[order[j]];
    let k = j + 1;
    while (k < n && key[order[k]] === k0) k++;
    if (k - j > 1) order.set(Array.from(order.subarray(j, k)).sort(compare), j);
    j = k;
  }
  return order;
}

/** Turns counts into start positions, in place. */
function prefixSums(count: Uint32Array): void {
  let sum = 0;
  for (let i = 0; i < count.length; i++) {
    const c = count[i];
    count[i] = sum;
    sum += c;
  }
}

const utf8 = new TextEncoder();
const CACHE_SLOTS = 1 << 16;

/**
 * Interns (list, name) pairs as labels without a string per signature: the name's UTF-8 bytes go
 * straight into the blob and stay only if the pair is new. Repeats are found through a fixed
 * direct-mapped cache rather than a full table: names in real lists repeat close together
 * (LOKI's campaign comments), a missed repeat costs only its bytes, and the cache touches 256 KB
 * where a table over a million names would touch megabytes.
 */
class LabelBuilder {
  private count = 0;
  private capacity = 0;
  private blobLength = 0;
  private readonly blobBuffer: GrowableSab;
  private readonly offsetBuffer: GrowableSab;
  private readonly listBuffer: GrowableSab;
  private blob = new Uint8Array(0);
  private offsets = new Uint32Array(0);
  private lists = new Uint16Array(0);
  private readonly cache = new Int32Array(CACHE_SLOTS); // label + 1, 0 = empty
  private readonly cacheHash = new Int32Array(CACHE_SLOTS); // to reject most misses without comparing bytes

  constructor(
    private readonly maxLabels: number,
    private readonly maxBytes: number,
  ) {
    this.blobBuffer = reserve(maxBytes);
    this.offsetBuffer = reserve((maxLabels + 1) * 4);
    this.listBuffer = reserve(maxLabels * 2);
    this.growLabels();
  }

  intern(list: number, text: string, start: number, end: number): number {
    const base = this.blobLength;
    if (base + (end - start) * 3 > this.blob.length) {
      this.blob = grown(Uint8Array, this.blobBuffer, nextCapacity(this.blob.length, base + (end - start) * 3, this.maxBytes), this.maxBytes);
    }
    const blob = this.blob;
    let p = base;
    let h = 0x811c9dc5 ^ list; // FNV-1a (as int32) over the bytes, seeded with the list
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        p = base + utf8.encodeInto(text.slice(start, end), blob.subarray(base)).written;
        h = 0x811c9dc5 ^ list;
        for (let q = base; q < p; q++) h = Math.imul(h ^ blob[q], 0x01000193);
        break;
      }
      blob[p++] = c;
      h = Math.imul(h ^ c, 0x01000193);
    }

    const slot = (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
    const cached = this.cache[slot] - 1;
    if (cached >= 0 && this.cacheHash[slot] === h && this.lists[cached] === list && this.sameName(cached, base, p)) return cached;

    if (this.count === this.capacity) this.growLabels();
    const id = this.count++;
    this.lists[id] = list;
    this.offsets[id + 1] = p;
    this.blobLength = p;
    this.cache[slot] = id + 1;
    this.cacheHash[slot] = h;
    return id;
  }

  private growLabels(): void {
    const cap = (this.capacity = nextCapacity(this.capacity, this.count + 1, this.maxLabels));
    this.offsets = grown(Uint32Array, this.offsetBuffer, cap + 1, this.maxLabels + 1);
    this.lists = grown(Uint16Array, this.listBuffer, cap, this.maxLabels);
  }

  private sameName(id: number, start: number, end: number): boolean {
    const a = this.offsets[id];
    const len = this.offsets[id + 1] - a;
    if (len !== end - start) return false;
    const blob = this.blob;
    for (let j = 0; j < len; j++) if (blob[a + j] !== blob[start + j]) return false;
    return true;
  }

  finish(): Pick<SharedHashDb, "labelCount" | "names" | "nameOffsets" | "labelLists"> {
    return { labelCount: this.count, names: this.blobBuffer, nameOffsets: this.offsetBuffer, labelLists: this.listBuffer };
  }
}
