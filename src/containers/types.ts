// The contract between container readers (src/containers/<format>.ts) and the scan that recurses
// into them (src/pool/worker.ts). Fixed before either side was written, so both could be built at
// once. Readers work on bytes in memory and never touch the file system: a member's name is data,
// never a path to open or create.

/** Formats ring3 opens, identified by content (magic bytes), never by file name. */
export type ContainerFormat =
  | "zip" // and its family: jar war ear apk whl nupkg vsix xpi docx xlsx pptx odt ...; crx (header + zip)
  | "gzip"
  | "bzip2"
  | "xz"
  | "zstd"
  | "tar" // ustar, pax, GNU, v7
  | "ar" // and .deb (an ar of tars)
  | "7z" // the formats below are read through 7z-wasm
  | "cab"
  | "cpio"
  | "rpm"
  | "iso"
  | "msi"
  | "other-7z" // any further format 7z-wasm recognises
  // Carriers (issue 11): formats that are not archives but carry files.
  | "mail" // RFC 822/MIME message or mbox: parts by file name (mail.ts)
  | "binhex" // BinHex 4.0 (mail.ts)
  | "tnef" // winmail.dat (mail.ts)
  | "szdd" // SZDD and KWAJ, MS-DOS COMPRESS.EXE (szdd.ts)
  | "pdf" // decoded streams, embedded files by name (docs.ts)
  | "rtf" // \objdata objects (docs.ts)
  | "html" // base64 data: URIs (docs.ts)
  | "ole-package" // an Ole10Native stream: the file a document embeds (docs.ts)
  | "upx" // a UPX-packed PE: the unpacked image (upx.ts)
  | "sis" // Symbian installation file (sis.ts)
  | "sfx"; // an executable or shell script with an archive after it (overlay.ts)

/**
 * Budgets, each with a documented default and a CLI override. Reaching one makes the top-level
 * result `partial` with the budget's reason code; never `clean`.
 */
export interface Limits {
  /** Containers inside containers: the top-level file is depth 0, its members depth 1. */
  maxDepth: number;
  /** Members listed per container. */
  maxMembers: number;
  /** Unpacked bytes in total below one top-level file. */
  maxTotalBytes: number;
  /** Unpacked bytes of one member. */
  maxMemberSize: number;
  /** Unpacked / packed ratio of one member (zip bombs). */
  maxRatio: number;
  /** Wall time spent unpacking below one top-level file, milliseconds. */
  maxTimeMs: number;
}

/** Why a member (or a container) was not fully unpacked. */
export type ContainerProblemCode =
  | "archive-depth" // budget: maxDepth
  | "archive-members" // budget: maxMembers
  | "archive-total-size" // budget: maxTotalBytes
  | "archive-member-size" // budget: maxMemberSize
  | "archive-ratio" // budget: maxRatio
  | "archive-time" // budget: maxTimeMs
  | "archive-encrypted"
  | "archive-unsupported" // compression method or format variant not implemented
  | "archive-corrupt"; // truncated or damaged data, bad checksum

export interface ContainerProblem {
  code: ContainerProblemCode;
  message: string;
}

/** One member as a reader yields it. */
export interface Member {
  /** The member's name as stored, decoded as UTF-8 where valid (the caller escapes the rest). */
  name: Uint8Array;
  /** Unpacked bytes; absent when the member could not be unpacked (see problem). */
  data?: Uint8Array;
  /**
   * Set when the member is incomplete or unreadable. `data` may still hold the part unpacked
   * before a budget was reached (scan it: a detection in a part counts).
   */
  problem?: ContainerProblem;
  /** Directories, links, devices inside archives are not scanned and not yielded. */
  /**
   * Issue 9 (peak RSS): `data` is a buffer of its own (a decoder's output, not a view on the
   * container's bytes nor on 7z-wasm's heap) that the reader never reads again once the member is
   * yielded, so the scan may hand it back to the allocator as soon as the member is scanned
   * (releaseMember).
   */
  owned?: boolean;
}

/**
 * Shared accounting for one top-level file: every reader charges the bytes it unpacks and checks
 * time; a reader that gets `false` from charge() stops and reports the budget's problem.
 */
export interface Budget {
  readonly limits: Limits;
  /** Charge `bytes` unpacked; false (and the problem recorded) when maxTotalBytes is reached. */
  charge(bytes: number): boolean;
  /** False once maxTimeMs has passed since the top-level file started. */
  inTime(): boolean;
}

/**
 * A reader: yields the members of one container. It must never throw on bad input: corrupt data
 * becomes a member problem or a container-level problem (yielded as a member with no data and an
 * empty name when it concerns the container as a whole).
 */
export type ContainerReader = (data: Uint8Array, budget: Budget) => Iterable<Member>;
