// `ring3 scan`: wires the stages (ripgrep's core habit: the binary only wires them).
// plan (config, signatures) -> walk -> pool of workers -> summary + sink -> exit code.
import * as fs from "node:fs";
import { BATCH, Pool, type FileOutcome } from "../pool/pool";
import type { ScanTask } from "../pool/protocol";
import { createSink } from "../report/sink";
import { verdictOfResult } from "../scan";
import { Summarizer } from "../report/summary";
import type { ExitCode, RunInfo, ScanResult } from "../types";
import { getAsset, inSea } from "../util/assets";
import { shared } from "../util/shared";
import { makeFilters } from "../walk/filters";
import { walk } from "../walk/walk";
import { finishReport, Lifecycle, openReport } from "./lifecycle";
import { type ScanConfig } from "./options";
import { Progress } from "./progress";
import { loadSignatures } from "./signatures";
import { formatStats } from "./stats";
import { makeSuppressor } from "./suppress";
import { openCache, type Stamp } from "../cache";
import { Baseline } from "./baseline";
import { fileInShard, resultInShard, shardText } from "./shard";
import { VERSION } from "./version";

/** Reads --paths-from: newline- or NUL-separated, CRLF and a UTF-8 BOM tolerated; paths kept as bytes. */
export function parsePathList(data: Buffer): Buffer[] {
  let b = data;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const sep = b.includes(0) ? 0 : 0x0a;
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i < b.length && b[i] !== sep) continue;
    let end = i;
    if (sep === 0x0a && end > start && b[end - 1] === 0x0d) end--;
    if (end > start) out.push(b.subarray(start, end));
    start = i + 1;
  }
  return out;
}

/**
 * 7z-wasm's WASM: an asset of the single executable, else the npm package's file (running from
 * the sources). Null when neither is there: those formats then come back archive-unsupported.
 */
function sevenZipWasm(): Uint8Array | null {
  try {
    return getAsset("7zz.wasm");
  } catch {
    try {
      return fs.readFileSync(require.resolve("7z-wasm/7zz.wasm"));
    } catch {
      return null;
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export async function runScan(cfg: ScanConfig): Promise<ExitCode> {
  const started = performance.now();
  const startIso = new Date().toISOString();
  // Signals and write errors stop the walk and the workers; the report still ends validly
  // (src/cli/lifecycle.ts). A signal while the rules compile stops the scan before its first file.
  let stopWorkers: (() => void) | undefined;
  const life = new Lifecycle(() => stopWorkers?.());
  life.install();

  // Plan: everything that can fail on bad input fails here, before any file is touched.
  const sigs = await loadSignatures(cfg);
  const suppress = makeSuppressor(cfg);
  const baseline = cfg.baseline !== undefined ? Baseline.load(cfg.baseline, cfg.updateBaseline) : undefined;
  let targets: (string | Buffer)[] = cfg.targets;
  if (cfg.pathsFrom !== undefined) {
    const list = cfg.pathsFrom === "-" ? await readAll(process.stdin) : fs.readFileSync(cfg.pathsFrom);
    targets = [...targets, ...parsePathList(list)];
  }
  // Bytes, not a compiled Module: most scans never call YARA-X, and compiling its 5.8 MB here cost
  // ~0.5 s at every start. A worker compiles them when it first needs YARA-X; in the single
  // executable it reads them from its own asset then (two 5.8 MB copies less at every start).
  const pool = new Pool({
    size: cfg.workers,
    // YARA-X's WASM build does not honour its own scan timeout (measured), so this is the bound.
    hardTimeoutMs: cfg.timeoutPerFile * 1000,
    start: () => {
      // Copied into shared memory here, when a worker first needs it: an empty folder or a rescan
      // answered from the cache never pays the 18.5 MB copy of the default program. The plain copy
      // is let go, or it would stay beside the workers' one for the whole scan.
      const program = sigs.program ? shared(sigs.program) : null;
      sigs.program = null;
      return {
        source: getAsset("worker.js").toString("utf8"),
        init: {
          wasm: inSea() ? null : shared(getAsset("yara_x_js_bg.wasm")),
          program,
          yara: sigs.yara,
          engine: cfg.engine,
          stats: cfg.stats,
          defines: sigs.defines,
          perFileExternals: sigs.perFileExternals,
          hashDb: sigs.hashDb ? sigs.hashDb.toShared() : null,
          maxFilesize: cfg.maxFilesize,
          timeoutMs: cfg.timeoutPerFile * 1000,
          hashClean: cfg.all,
          archives: cfg.archives,
          sevenZipWasm: cfg.archives ? sevenZipWasm() : null,
          // issue 12: YARA-X's trap marks, per rule of the sources (indexes past the end are never marked).
          ...(cfg.engine === "yara-x" ? { trapMemo: new SharedArrayBuffer(4 * (sigs.info.yaraRules + 1024)) } : {}),
        },
      };
    },
  });
  // The workers start when the walk finds the first file (an empty folder costs no worker
  // start-up). YARA-X alone compiles its rules in the workers: start them at once then, so that a
  // compile error comes before any report.
  stopWorkers = () => void pool.close();
  let starting: Promise<void> | undefined;
  const start = () => (starting ??= pool.start()); // throws RuleCompileError with every diagnostic (--engine yara-x)
  if (cfg.engine === "yara-x") await start();

  // A path that throws past here leaves no temporary file: see openReport.
  const report = await openReport(cfg.output).catch(async (err: unknown) => {
    life.remove();
    await pool.close();
    throw err;
  });
  life.report = report;
  const out = report.stream;
  const color = cfg.format === "text" && out === process.stdout && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const sink = createSink(cfg.format, out, { all: cfg.all, color, onError: (error) => life.stop({ kind: "write", error }) });
  const run: RunInfo = {
    tool: { name: "ring3", version: VERSION },
    signatures: sigs.info,
    scan: {
      roots: targets.map((t) => (typeof t === "string" ? t : t.toString("utf8"))),
      cwd: process.cwd(),
      options: {
        include: cfg.include,
        exclude: cfg.exclude,
        allow: cfg.allow,
        excludeRules: cfg.excludeRules,
        excludeTags: cfg.excludeTags,
        maxFilesize: cfg.maxFilesize,
        followSymlinks: cfg.followSymlinks,
        oneFileSystem: cfg.oneFileSystem,
        workers: cfg.workers,
        timeoutPerFile: cfg.timeoutPerFile,
        defines: cfg.defines,
        all: cfg.all,
        engine: cfg.engine,
        archives: cfg.archives,
        // issue 14: which share of the files this report covers
        ...(cfg.shard !== undefined ? { shard: shardText(cfg.shard) } : {}),
        ...(cfg.baseline !== undefined ? { baseline: cfg.baseline } : {}),
      },
      start: startIso,
    },
  };
  const warn = (s: string): void => void process.stderr.write(`ring3: warning: ${s}\n`);
  const cache = cfg.cache !== undefined ? openCache(cfg.cache, VERSION, sigs, run, warn) : undefined;
  sink.begin(run);
  if (cfg.updateBaseline) baseline?.startUpdate(run);
  const summarizer = new Summarizer(started, { baseline: baseline !== undefined, cache: cache !== undefined });
  // issue 14: each result, once suppression is applied, is marked against the baseline.
  const settle = (r: ScanResult): ScanResult => (baseline ? baseline.settle(r) : r);
  const progress = cfg.progress === "auto" ? Progress.maybe() : undefined;

  const emit = (found: ScanResult) => {
    const r = settle(suppress ? suppress(found) : found);
    summarizer.add(r);
    sink.result(r);
    progress?.result(r);
  };
  // A file, then the members found inside it (progress counts files only). Suppression applies
  // to each; the file's verdict then counts the members still detected (verdictOfResult).
  const emitFile = (o: FileOutcome) => {
    if (life.reason !== undefined) return; // an answer that raced the stop: the report no longer takes results
    if (o.members.length === 0) return emit(o.result);
    const members = (suppress ? o.members.map(suppress) : o.members).map(settle);
    let file = suppress ? suppress(o.result) : o.result;
    const detected = members.filter((m) => m.verdict === "detected").length;
    if (file.container !== undefined && file.container.detected !== detected) {
      file = { ...file, container: { ...file.container, detected } };
      file.verdict = verdictOfResult(file);
    }
    file = settle(file);
    summarizer.add(file);
    sink.result(file);
    progress?.result(file);
    for (const m of members) {
      summarizer.add(m);
      sink.result(m);
    }
  };

  // The walk runs ahead of the workers by a bounded queue: enough for every worker to hold two
  // batches and one more to be ready, never the whole tree in memory.
  const limit = cfg.workers * BATCH * 3;
  let inFlight = 0;
  let room: (() => void) | undefined;
  let finished: (() => void) | undefined;
  const submit = async (task: ScanTask, stamp?: Stamp) => {
    await start();
    inFlight++;
    void pool.scan(task).then((o) => {
      cache?.store(stamp, o);
      emitFile(o);
      inFlight--;
      if (inFlight < limit && room) (room(), (room = undefined));
      if (inFlight === 0 && finished) finished();
    });
    progress?.found();
    if (inFlight >= limit) await Promise.race([new Promise<void>((resolve) => (room = resolve)), life.stopped]);
  };

  const filters = makeFilters(cfg.include, cfg.exclude);
  const roots = targets.filter((t) => !(typeof t === "string" && t === "-"));
  if (targets.some((t) => t === "-")) await submit({ path: null, root: "-", follow: false });
  for await (const item of walk(roots, { filters, followSymlinks: cfg.followSymlinks, oneFileSystem: cfg.oneFileSystem })) {
    if (life.reason !== undefined) break;
    if (item.kind === "result") {
      if (!resultInShard(cfg.shard, item.result)) continue;
      progress?.found();
      emit(item.result);
    }
    else if (fileInShard(cfg.shard, item.path, item.root)) {
      // issue 14: an unchanged file's cached result costs one stat, no open and no worker.
      const hit = cache?.lookup(item.path, item.root);
      if (hit !== undefined && "outcome" in hit) {
        progress?.found();
        emitFile(hit.outcome);
      } else await submit({ path: item.path, root: item.root, follow: item.follow, ...(item.within ? { within: item.within } : {}) }, hit?.stamp);
    }
  }
  progress?.walkDone(); // issue 14: the total is known now, and with it the ETA
  // Stopped: the workers are gone and the files they held are not results (never called clean).
  if (inFlight > 0) await Promise.race([new Promise<void>((resolve) => (finished = resolve)), life.stopped]);
  await pool.close();
  if (life.reason === undefined && cfg.shard === undefined) cache?.prune(roots);
  cache?.save(warn);
  if (cfg.stats && cache) process.stderr.write(`ring3 cache: ${cache.counts.hits} file(s) from the cache, ${cache.counts.misses} scanned, ${cache.counts.stored} stored; ${cache.size} entries\n`);
  if (cfg.stats) process.stderr.write(`ring3 rules: ${sigs.programNote}\n` + formatStats(pool.stats, cfg.engine));
  progress?.stop();

  const summary = summarizer.summary();
  run.scan.end = new Date().toISOString();
  const code = await finishReport(life, report, sink, summary, run);
  await baseline?.finishUpdate(summary, run, life.reason === undefined);
  return code;
}
