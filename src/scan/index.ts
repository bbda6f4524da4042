// The per-file scan stage: a file (or bytes) plus the options in, its result and its members'
// results out. src/pool runs it in worker threads; nothing here knows about threads or messages.
export { FileStage, CHUNK, type FileInput } from "./file";
export { EngineTrap, inspectFile, type Engines, type Inspected, type ReadPass, type TopLevel } from "./inspect";
export { matchFile, overReason, sizePlan, type FileMatch, type MatchOutcome, type SizePlan } from "./match";
export { FileSource, bufferSource } from "./source";
export { reasonKind, verdictOf, verdictOfResult, type ReasonKind } from "./verdict";
