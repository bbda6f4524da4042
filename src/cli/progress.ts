// A progress line on stderr for long interactive scans: files and bytes scanned, rate, detections,
// and a bar with an ETA only once the walk is complete (before that the total is unknown, and a bar
// against a growing total would sit near full). Only when stderr is a terminal and not in CI.
import type { ScanResult } from "../types";

/** Where the line goes: a terminal stream (its width when known). */
export interface ProgressOutput {
  write(s: string): unknown;
  columns?: number;
}

const BAR = 20;
const ERASE_RIGHT = "\x1b[K";

export class Progress {
  private found_ = 0;
  private done = 0;
  private bytes = 0;
  private detections = 0;
  private walked = false;
  private last = "";
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
    private readonly t0: number = now(),
    intervalMs = 200,
  ) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.draw(), intervalMs);
      this.timer.unref();
    }
  }

  static maybe(): Progress | undefined {
    if (!process.stderr.isTTY || process.env.CI) return undefined;
    return new Progress(process.stderr);
  }

  /** The walk handed one more file or result over. */
  found(): void {
    this.found_++;
  }

  /** The walk is over: the total is known from here on, and with it the bar and the ETA. */
  walkDone(): void {
    this.walked = true;
  }

  result(r: ScanResult): void {
    if (r.size !== null) this.bytes += r.size;
    if (r.verdict === "detected") this.detections++;
    this.done++;
  }

  /** The line as it stands (no control codes), cut to the terminal's width. */
  line(): string {
    const secs = Math.max((this.now() - this.t0) / 1000, 0.001);
    const rate = `${mb(this.bytes / secs)} MB/s, ${Math.round(this.done / secs)} files/s`;
    const parts: string[] = [];
    if (this.walked && this.found_ > 0) {
      const frac = Math.min(1, this.done / this.found_);
      const filled = Math.round(frac * BAR);
      parts.push(`[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${this.done}/${this.found_} files`);
    } else {
      parts.push(`${this.done} files scanned, ${this.found_} found so far (still walking)`);
    }
    parts.push(`${mb(this.bytes)} MB`, rate);
    if (this.walked && this.done > 0 && this.done < this.found_) {
      parts.push(`ETA ${duration(((this.found_ - this.done) * secs) / this.done)}`);
    }
    parts.push(`${this.detections} detected`);
    const text = parts.join(" | ");
    const width = this.out.columns;
    // One column short of the width: a full line would wrap on some terminals.
    return width !== undefined && width > 1 && text.length > width - 1 ? text.slice(0, width - 1) : text;
  }

  /** Redraws the line in place; the rest of the old line is erased, so a shorter line leaves nothing behind. */
  draw(): void {
    const text = this.line();
    if (text === this.last) return;
    this.last = text;
    this.out.write(`\r${text}${ERASE_RIGHT}`);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.last !== "") this.out.write(`\r${ERASE_RIGHT}`);
    this.last = "";
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
