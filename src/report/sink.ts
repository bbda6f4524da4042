// Picks a format's sink and wires it to its output stream. Every format is a small Sink over the
// same stream of results; adding one means a file and a case below, nothing elsewhere.
import type { Sink } from "../types";
import { jsonSink } from "./json";
import { ndjsonSink } from "./ndjson";
import { Output, shouldClose } from "./output";
import { sarifSink } from "./sarif";
import { textSink } from "./text";

export type Format = "text" | "json" | "ndjson" | "sarif";
export const FORMATS: readonly Format[] = ["text", "json", "ndjson", "sarif"];

export interface SinkOptions {
  /** Show clean results too (and, in text, policy skips). */
  all: boolean;
  /** ANSI colour in text output; the other formats ignore it. */
  color: boolean;
  /** End the stream in end(). Default: yes, unless it is process.stdout or process.stderr. */
  close?: boolean;
  /** Called once, at the first write error (disk full, EPIPE); end() then rejects with it. */
  onError?: (e: Error) => void;
}

export interface ReportSink extends Sink {
  /**
   * Resolves when the output stream can take more. result() never blocks; a producer that
   * awaits ready() between results keeps memory bounded when the reader is slow.
   */
  ready(): Promise<void>;
}

export function createSink(
  format: Format,
  out: NodeJS.WritableStream,
  opts: SinkOptions,
): ReportSink {
  const output = new Output(out, opts.close ?? shouldClose(out), opts.onError);
  switch (format) {
    case "text":
      return textSink(output, opts);
    case "json":
      return jsonSink(output, opts);
    case "ndjson":
      return ndjsonSink(output, opts);
    case "sarif":
      return sarifSink(output, opts);
    default: {
      const never: never = format;
      throw new Error(`unknown report format ${String(never)}`);
    }
  }
}
