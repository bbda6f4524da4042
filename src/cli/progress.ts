// A progress bar on stderr for long interactive scans: files, bytes, rate and detections. Only
// when stderr is a terminal and not in CI, so pipes and logs never get control codes.
import { SingleBar } from "cli-progress";
import type { ScanResult } from "../types";

export class Progress {
  private readonly bar: SingleBar;
  private total = 0;
  private done = 0;
  private bytes = 0;
  private detections = 0;
  private readonly t0 = Date.now();

  private constructor() {
    this.bar = new SingleBar(
      {
        stream: process.stderr,
        format: "{bar} {value}/{total} files | {mb} MB | {rate} MB/s | {detections} detected",
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      },
      { format: "", barCompleteChar: "#", barIncompleteChar: "-" },
    );
    this.bar.start(0, 0, this.payload());
  }

  static maybe(): Progress | undefined {
    if (!process.stderr.isTTY || process.env.CI) return undefined;
    return new Progress();
  }

  private payload() {
    const secs = Math.max((Date.now() - this.t0) / 1000, 0.001);
    return { mb: (this.bytes / 1e6).toFixed(1), rate: (this.bytes / 1e6 / secs).toFixed(1), detections: this.detections };
  }

  found(): void {
    this.total++;
    this.bar.setTotal(this.total);
  }

  result(r: ScanResult): void {
    if (r.size !== null) this.bytes += r.size;
    if (r.verdict === "detected") this.detections++;
    this.done++;
    this.bar.update(this.done, this.payload());
  }

  stop(): void {
    this.bar.stop();
  }
}
