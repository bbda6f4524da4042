// The report stage: a Summarizer that folds results into the Summary and exit code, and one sink
// per output format (text, json, ndjson, sarif) over the same stream of results.
export { Summarizer, exitCodeFor, statusOf } from "./summary";
export { createSink, FORMATS, type Format, type ReportSink, type SinkOptions } from "./sink";
export { REPORT_SCHEMA_URI, isShown, type ReportedResult } from "./document";
export { REASON_CODES, REASON_DESCRIPTIONS } from "./reasons";
export { SARIF_SCHEMA_URI, ruleIdOf, fingerprintOf } from "./sarif";
