// The json format: one document for the whole run. Results are streamed into it as they arrive,
// one per line, so memory stays flat with --all over millions of files; that is why "results"
// precedes "scan" and "summary", which are only known at the end (key order carries no meaning).
import type { RunInfo, ScanResult, Summary } from "../types";
import {
  REPORT_SCHEMA_URI,
  asciiJson,
  endTime,
  isShown,
  resultDocument,
  scanDocument,
  signaturesDocument,
  summaryDocument,
  toolDocument,
} from "./document";
import type { Output } from "./output";
import type { ReportSink, SinkOptions } from "./sink";

export function jsonSink(out: Output, opts: SinkOptions): ReportSink {
  let count = 0;
  return {
    begin(run: RunInfo): void {
      out.write(
        "{\n" +
          `  "$schema": ${asciiJson(REPORT_SCHEMA_URI)},\n` +
          `  "tool": ${asciiJson(toolDocument(run))},\n` +
          `  "signatures": ${asciiJson(signaturesDocument(run))},\n` +
          `  "results": [`,
      );
    },
    result(r: ScanResult): void {
      if (!isShown(r, opts.all)) return;
      out.write((count === 0 ? "\n    " : ",\n    ") + asciiJson(resultDocument(r)));
      count += 1;
    },
    end(summary: Summary, run: RunInfo): Promise<void> {
      return out.finish(
        (count === 0 ? "],\n" : "\n  ],\n") +
          `  "scan": ${asciiJson(scanDocument(run, endTime(run)))},\n` +
          `  "summary": ${asciiJson(summaryDocument(summary))}\n` +
          "}\n",
      );
    },
    ready: () => out.ready(),
  };
}
