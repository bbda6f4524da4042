// The scan cache (--cache FILE) and `ring3 cache info|clear FILE`: see cache.ts for what is kept
// and why a lookup costs one stat.
import * as fs from "node:fs";
import type { LoadedSignatures } from "../cli/signatures";
import type { ExitCode, RunInfo } from "../types";
import { cacheContext, readCache, ScanCache } from "./cache";

export { ScanCache, type Stamp } from "./cache";

/** Opens the cache for this run: its context is the signatures' content and the run's options. */
export function openCache(file: string, version: string, sigs: LoadedSignatures, run: RunInfo, warn: (s: string) => void): ScanCache {
  const signatures = { program: sigs.program, yara: sigs.yara, hashDb: sigs.hashDb?.toShared() ?? null, defines: sigs.defines, perFileExternals: sigs.perFileExternals, info: sigs.info };
  return ScanCache.open(file, version, cacheContext(version, signatures, run.scan.options), warn);
}

/** `ring3 cache info FILE`: what the cache holds; exit 2 when it cannot be used. */
export function cacheInfo(file: string, out: (s: string) => void = (s) => void process.stdout.write(s)): ExitCode {
  const read = readCache(file);
  switch (read.kind) {
    case "missing":
      out(`${file}: no cache (missing or empty)\n`);
      return 0;
    case "foreign":
      out(`${file}: ${read.why}\n`);
      return 2;
    case "damaged":
      out(`${file}: damaged: ${read.why}; the next scan with --cache ignores it and writes a new one\n`);
      return 2;
    case "ok": {
      const h = read.header;
      let clean = 0;
      let detected = 0;
      let members = 0;
      for (const e of read.entries.values()) {
        if (e.result.verdict === "detected") detected += 1;
        else clean += 1;
        members += e.members.length;
      }
      out(
        [
          `${file}: ring3 cache, format ${h.format}, written by ring3 ${h.version} at ${h.written}`,
          `context:  ${h.context} (signatures and options; another context rescans everything)`,
          `files:    ${read.entries.size} (${clean} clean, ${detected} detected; ${members} member result(s))`,
          `size:     ${fs.statSync(file).size} bytes`,
        ].join("\n") + "\n",
      );
      return 0;
    }
    default: {
      const never: never = read;
      throw new Error(`unknown cache state ${String(never)}`);
    }
  }
}

/** `ring3 cache clear FILE`: removes a ring3 cache, never any other file. */
export function cacheClear(file: string, out: (s: string) => void = (s) => void process.stdout.write(s)): ExitCode {
  const read = readCache(file);
  if (read.kind === "missing") {
    fs.rmSync(file, { force: true });
    out(`${file}: no cache to clear\n`);
    return 0;
  }
  if (read.kind === "foreign") {
    process.stderr.write(`ring3: ${file}: ${read.why}; not removed\n`);
    return 2;
  }
  fs.rmSync(file);
  out(`${file}: cleared\n`);
  return 0;
}
