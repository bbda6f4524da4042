// What each reason code means, in one place: the text sink, the SARIF notifications and the
// documentation all describe skipped/partial/error results from this table. A Record over
// ReasonCode makes the compiler reject a new code that has no description here.
import { POLICY_SKIPS, type ReasonCode, type ScanResult } from "../types";

export const REASON_DESCRIPTIONS: Readonly<Record<ReasonCode, string>> = {
  symlink: "A symbolic link; not followed (see --follow-symlinks).",
  "not-regular": "A FIFO, socket or device; never opened.",
  "other-filesystem": "On another file system than its scan root (--one-file-system).",
  "virtual-filesystem": "On a virtual file system such as /proc, /sys or /dev.",
  loop: "A directory already visited through a symbolic link.",
  "permission-denied": "The file could not be opened: permission denied.",
  vanished: "The file was deleted or renamed between listing and reading.",
  "io-error": "Reading the file failed with an I/O error.",
  "max-filesize": "Larger than the size limit: hashed, but not pattern-matched.",
  timeout: "The per-file time limit was reached before scanning finished.",
  "worker-crash": "The worker process scanning this file died.",
  "engine-error": "A scanning engine failed on this file.",
  "archive-depth": "A container nested deeper than the archive depth limit (--archive-depth); not opened.",
  "archive-members": "A container with more members than the limit (--archive-max-members); the rest were not scanned.",
  "archive-total-size": "More unpacked bytes below one file than the limit (--archive-max-size); the rest were not scanned.",
  "archive-member-size": "A member larger than the limit (--archive-max-member-size); only its first part was scanned.",
  "archive-ratio": "A member that expands more than the limit (--archive-max-ratio), as zip bombs do; only its first part was scanned.",
  "archive-time": "Unpacking took longer than the limit (--archive-timeout); the rest was not scanned.",
  "archive-encrypted": "An encrypted member of an archive; its content could not be read.",
  "archive-unsupported": "A compression method or container variant that ring3 cannot unpack.",
  "archive-corrupt": "Truncated or damaged container data; what could be read was scanned.",
};

/** Every reason code, in the order of the table above (the schema's enum lists the same). */
export const REASON_CODES = Object.keys(REASON_DESCRIPTIONS) as ReasonCode[];

export function isPolicySkip(r: ScanResult): boolean {
  return r.verdict === "skipped" && r.reason !== undefined && POLICY_SKIPS.has(r.reason.code);
}
