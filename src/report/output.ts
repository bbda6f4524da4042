// The byte end of every sink: UTF-8 text (never a BOM) onto a writable stream, with backpressure
// made visible to the caller and an end that resolves only once everything is flushed. Streams
// the caller did not open for us (stdout, stderr) are flushed but never closed.
import type { Writable } from "node:stream";

export class Output {
  private failure: Error | undefined;
  private full = false;
  private finished = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly close: boolean,
    /** Told of the first write error at once, so a scan whose report cannot be written stops early. */
    private readonly onError?: (e: Error) => void,
  ) {
    // Without a listener an EPIPE (the reader went away) would crash the process; the error
    // is kept and surfaces from finish() instead.
    out.on("error", (e: Error) => {
      if (this.failure !== undefined) return;
      this.failure = e;
      this.onError?.(e);
    });
  }

  /** The first write error, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  write(text: string): void {
    if (this.failure !== undefined || this.finished || text.length === 0) return;
    if (!this.out.write(text, "utf8")) this.full = true;
  }

  /** Resolves when the stream has room again; a producer may await it between results. */
  ready(): Promise<void> {
    if (!this.full || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off("drain", done);
        this.out.off("error", done);
        this.full = false;
        resolve();
      };
      this.out.on("drain", done);
      this.out.on("error", done);
    });
  }

  /** Writes the last text and resolves once all of it has reached the stream's destination. */
  finish(text: string): Promise<void> {
    if (this.finished) return Promise.reject(new Error("output already finished"));
    this.finished = true;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.out.once("error", onError);
      const done = (e?: Error | null): void => {
        this.out.off("error", onError);
        if (e) reject(e);
        else if (this.failure !== undefined) reject(this.failure);
        else resolve();
      };
      if (this.close) {
        // end()'s callback fires on 'finish': every byte handed to the destination.
        (this.out as Writable).end(text, "utf8", () => done());
      } else {
        // Callbacks run in write order, so the last write's callback means all are flushed.
        this.out.write(text, "utf8", (e?: Error | null) => done(e));
      }
    });
  }
}

/** stdout and stderr belong to the process; any other stream was opened for the report. */
export function shouldClose(out: NodeJS.WritableStream): boolean {
  return out !== process.stdout && out !== process.stderr;
}
