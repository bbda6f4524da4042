// How a scan ends when it cannot end normally: SIGINT, SIGTERM and SIGHUP stop it with a valid,
// interrupted report (a second signal ends the process at once), and `-o FILE` is written to a
// temporary file beside FILE and renamed only when whole, so a report that exists always parses.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ReportSink } from "../report/sink";
import type { ExitCode, RunInfo, Summary } from "../types";
import { UsageError } from "./options";

/** The signals that stop a scan: Ctrl-C, a CI runner's cancel or timeout, a closed terminal. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The report could not be written (disk full, reader gone, ...): exit 2 with this message. */
export class ReportWriteError extends UsageError {}

export interface ReportFile {
  stream: NodeJS.WritableStream;
  /** Where the report goes, for messages ("standard output" or the -o path). */
  name: string;
  /** After the sink ended: puts the whole report in place (rename). */
  commit(): Promise<void>;
  /** On every other path: removes the temporary file (synchronous: also used while exiting). */
  discard(): void;
}

const STDOUT: ReportFile = { stream: process.stdout, name: "standard output", commit: async () => {}, discard: () => {} };

/**
 * Opens where the report goes. A regular file (or a new one) is written as `.NAME.ring3-PID-RAND.tmp`
 * in the same folder, so the rename that commits it never crosses file systems; a device or a
 * FIFO (-o /dev/null, a named pipe) is written directly, since it cannot be replaced.
 */
export async function openReport(output: string | undefined): Promise<ReportFile> {
  if (output === undefined || output === "-") return STDOUT;
  let target = output;
  let mode = 0o666;
  try {
    // A symbolic link stays a link: the report replaces the file it points to.
    target = fs.realpathSync(output);
  } catch {
    // Not there yet (or a dangling link): created as named.
  }
  let direct = false;
  try {
    const st = fs.statSync(target);
    if (!st.isFile()) direct = true;
    else mode = st.mode & 0o777;
  } catch {
    // A new file.
  }
  if (direct) {
    const stream = await openStream(output, "w", 0o666).catch((err: Error) => {
      throw new UsageError(`--output ${output}: ${err.message}`);
    });
    return { stream, name: output, commit: async () => {}, discard: () => {} };
  }

  const temp = path.join(path.dirname(target), `.${path.basename(target)}.ring3-${process.pid}-${crypto.randomBytes(4).toString("hex")}.tmp`);
  let stream: fs.WriteStream;
  try {
    stream = await openStream(temp, "wx", mode);
  } catch (err) {
    throw new UsageError(`--output ${output}: ${(err as Error).message}`);
  }
  let done = false;
  const discard = (): void => {
    if (done) return;
    done = true;
    process.off("exit", discard);
    stream.destroy();
    try {
      fs.unlinkSync(temp);
    } catch {
      // Already gone.
    }
  };
  // The last resort for a path that never reaches commit() or discard(): an exception, process.exit().
  process.once("exit", discard);
  return {
    stream,
    name: output,
    discard,
    async commit() {
      // Renaming an open file fails on Windows: wait until the descriptor is closed.
      if (!stream.closed) await new Promise<void>((resolve) => stream.once("close", () => resolve()));
      try {
        fs.renameSync(temp, target);
      } catch (err) {
        discard();
        throw new ReportWriteError(`cannot write the report to ${output}: ${(err as Error).message}`);
      }
      done = true;
      process.off("exit", discard);
    },
  };
}

function openStream(file: string, flags: string, mode: number): Promise<fs.WriteStream> {
  return new Promise((resolve, reject) => {
    const s = fs.createWriteStream(file, { flags, mode });
    s.once("open", () => resolve(s)).once("error", reject);
  });
}

/** Why a scan stopped before the walk ended. */
export type StopReason = { kind: "signal"; signal: StopSignal } | { kind: "write"; error: Error };

/**
 * The scan's stop switch: the first stop signal (or a failed write) stops the walk and the
 * workers; a second signal discards the temporary report and exits at once.
 */
export class Lifecycle {
  reason: StopReason | undefined;
  /** Resolves at the first stop. */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  private readonly handlers = new Map<StopSignal, () => void>();
  report: ReportFile | undefined;

  constructor(private readonly onStop: () => void) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  install(): void {
    for (const sig of STOP_SIGNALS) {
      const h = (): void => this.signal(sig);
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
  }

  remove(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }

  stop(reason: StopReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.resolveStopped();
    this.onStop();
  }

  /** The signal that stopped the scan, if one did. */
  get signalled(): StopSignal | undefined {
    return this.reason?.kind === "signal" ? this.reason.signal : undefined;
  }

  private signal(sig: StopSignal): void {
    if (this.reason === undefined) {
      process.stderr.write(`\nring3: ${sig}: stopping; the report covers only the files scanned so far (again to quit at once)\n`);
      this.stop({ kind: "signal", signal: sig });
      return;
    }
    this.report?.discard();
    process.stderr.write(`ring3: ${sig} again: quit without finishing the report\n`);
    process.exit(2);
  }
}

/** The message for a report that could not be written, by errno where it says more than libuv. */
export function writeErrorMessage(report: ReportFile, err: NodeJS.ErrnoException): string {
  const why =
    err.code === "EPIPE" ? "the reader closed the pipe (EPIPE)"
    : err.code === "ENOSPC" ? "no space left on the device (ENOSPC)"
    : err.code === "EDQUOT" ? "disk quota exceeded (EDQUOT)"
    : err.message;
  return `cannot write the report to ${report.name}: ${why}; scan stopped`;
}

/**
 * Ends the report: a stopped scan is marked interrupted (exit 2 unless something was detected:
 * detected wins, as with any incomplete scan), then the sink flushes and the file is put in place.
 * A write error is the message of ReportWriteError (exit 2); the temporary file is removed.
 */
export async function finishReport(life: Lifecycle, report: ReportFile, sink: ReportSink, summary: Summary, run: RunInfo): Promise<ExitCode> {
  const sig = life.signalled;
  if (sig !== undefined) {
    summary.interrupted = sig;
    if (summary.exitCode === 0) {
      summary.exitCode = 2;
      summary.status = "incomplete";
    }
  }
  try {
    await sink.end(summary, run);
    await report.commit();
  } catch (err) {
    report.discard();
    if (err instanceof ReportWriteError) throw err;
    throw new ReportWriteError(writeErrorMessage(report, err as NodeJS.ErrnoException));
  } finally {
    // Until here a second signal still quits at once.
    life.remove();
  }
  return summary.exitCode;
}
