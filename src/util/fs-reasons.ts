// What a file-system error or an unexpected file type means for a result: a reason code and a
// message. Shared by the walk (which never reads) and the scan stage (which opens and reads).
import type * as fs from "node:fs";
import type { ReasonCode } from "../types";

/** Maps a file-system error to a reason (and what the walk calls a file it could not reach). */
export function reasonForError(err: NodeJS.ErrnoException): { code: ReasonCode; message: string; verdict: "skipped" | "error" } {
  switch (err.code) {
    case "EACCES":
    case "EPERM":
      return { code: "permission-denied", message: `permission denied (${err.code})`, verdict: "skipped" };
    case "ENOENT":
    case "ENOTDIR":
      return { code: "vanished", message: `no longer exists (${err.code})`, verdict: "skipped" };
    case "ELOOP":
      return { code: "symlink", message: "is a symbolic link (not followed)", verdict: "skipped" };
    default:
      return { code: "io-error", message: `${err.code ?? "error"}: ${err.message}`, verdict: "error" };
  }
}

export function describeType(st: fs.Stats): string {
  if (st.isFIFO()) return "a FIFO (named pipe), never opened";
  if (st.isSocket()) return "a socket, never opened";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device, never opened";
  return "not a regular file";
}
