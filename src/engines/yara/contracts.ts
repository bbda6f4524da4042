// The contracts between the fast path's stages, fixed before the stages were written so that they
// could be built side by side:
//
//   parser.ts         text -> ast.ts SourceFile
//   strings/          StringDecl[] -> PatternSet (atoms, one multi-pattern pass, verifiers) -> MatchTable
//   eval/             SourceFile[] -> Program; Program.evaluate(file context) -> a Tri per rule
//   modules/          module values (pe, elf, math, hash, string, time, console) over the file, read
//                     through a ByteSource (never the whole file in memory)
//   engine.ts         ties them together; a rule that stays UNKNOWN goes to YARA-X for that file
//
// Three-valued logic: every value the evaluator computes may be UNKNOWN, meaning "the fast path
// cannot tell; YARA-X must decide". UNKNOWN is not YARA's *undefined* (a module field that has no
// value for this file, e.g. pe.number_of_sections on a text file): undefined has exact YARA
// semantics that the fast path reproduces; UNKNOWN never reaches a verdict.

/** ring3's "cannot decide here". Distinct from `undefined`, which is YARA's undefined value. */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** A rule's outcome on one file. */
export type Tri = true | false | Unknown;

// ---------------------------------------------------------------------------------------------
// Matcher output

/** YARA-X's default cap on recorded matches per pattern and file. */
export const MAX_MATCHES_PER_PATTERN = 1_000_000;

/** The matches of one pattern (one StringDecl) on one file. */
export interface PatternMatches {
  /** Confirmed matches, ascending by offset (then by length), at most MAX_MATCHES_PER_PATTERN. */
  offsets: number[];
  lengths: number[];
  /**
   * True when `offsets` holds every match YARA-X would report. False when the verifier met a case
   * it cannot decide exactly (some candidates are neither confirmed nor ruled out): the confirmed
   * matches are real, but counts, "no match" and the n-th offset are UNKNOWN.
   */
  complete: boolean;
}

/**
 * Matches of every pattern on one file, indexed by pattern index (the position of the StringDecl in
 * the order the rules and their strings were given to the string compiler). A pattern absent from
 * the table matched nowhere, exactly.
 */
export interface MatchTable {
  get(pattern: number): PatternMatches | undefined;
  /** The patterns present in the table (any confirmed match, or complete === false), ascending. */
  hits(): number[];
}

// ---------------------------------------------------------------------------------------------
// Values (module fields, function results, externals)

/**
 * - bigint: YARA integer (64-bit signed; wrap with BigInt.asIntN(64, v) after arithmetic)
 * - number: YARA float
 * - Uint8Array: YARA string (bytes)
 * - boolean
 * - undefined: YARA's undefined (field absent for this file)
 * - UNKNOWN: the fast path does not know (not implemented)
 */
export type Value = bigint | number | Uint8Array | boolean | StructValue | ArrayValue | DictValue | FuncValue | RegexArg | undefined | Unknown;

export interface StructValue {
  kind: "struct";
  /** A field's value; UNKNOWN for fields ring3 does not implement, undefined for absent ones. */
  field(name: string): Value;
}

export interface ArrayValue {
  kind: "array";
  /** Element count; undefined when the array itself is undefined for this file. */
  length(): number | undefined | Unknown;
  at(i: number): Value;
}

export interface DictValue {
  kind: "dict";
  get(key: Uint8Array): Value;
  /** Entries in YARA-X's iteration order, for `for any k, v in dict`; UNKNOWN if not enumerable. */
  entries(): [Uint8Array, Value][] | undefined | Unknown;
}

/** A module function; overloads are resolved by the function from its arguments' runtime types. */
export interface FuncValue {
  kind: "func";
  call(args: Value[]): Value;
}

/** A regular expression passed as an argument (pe.imports(/kernel32/i, /Create.*\/)) */
export interface RegexArg {
  kind: "regex";
  /** True / false for a match anywhere in `bytes`, UNKNOWN where the translation is not exact. */
  test(bytes: Uint8Array): boolean | Unknown;
}

/**
 * A module: its root structure for one file. Built lazily: nothing is parsed until a field is read,
 * and a module that no rule of the file's candidates uses costs nothing.
 */
export interface ModuleFactory {
  name: string;
  /** The module's root value for the file (or container member) read through `source`. */
  load(source: ByteSource): StructValue;
}

// ---------------------------------------------------------------------------------------------
// File access

/** Positioned reads over a file or a buffer; the engine never sees a file descriptor. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Bytes [offset, offset+length) clipped to size; a view valid until the next read() call on this
   * source (copy it to keep it). Throws on an I/O error (the caller turns that into a result).
   */
  read(offset: number, length: number): Uint8Array;
}

/** Positioned reads over a file or a buffer; the engine never sees a file descriptor. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Bytes [offset, offset+length) clipped to size; a view valid until the next read() call on this
   * source (copy it to keep it). Throws on an I/O error (the caller turns that into a result).
   */
  read(offset: number, length: number): Uint8Array;
}
