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
};

/** Every reason code, in the order of the table above (the schema's enum lists the same). */
export const REASON_CODES = Object.keys(REASON_DESCRIPTIONS) as ReasonCode[];

export function isPolicySkip(r: ScanResult): boolean {
  return r.verdict === "skipped" && r.reason !== undefined && POLICY_SKIPS.has(r.reason.code);
}
