// ring3's command line (the contract scripts depend on): `scan`, `rules list`, `rules check`,
// `rules compile`, `--version`. Exit codes as ClamAV: 0 clean, 1 detected, 2 incomplete or a fatal error.
import { Command, CommanderError, Option } from "commander";
import { formatDiagnostic } from "../engines/yara/yarax";
import { RuleCompileError, WorkerStartError } from "../pool/pool";
import { bundledHashCount, BUNDLED_VERSION, bundledContentId, bundledYaraRules } from "../signatures/bundled";
import type { ExitCode } from "../types";
import { DEFAULT_LIMITS } from "../containers";
import { inSea } from "../util/assets";
import { collect, DEFAULT_TIMEOUT_PER_FILE, parseDefine, toConfig, UsageError } from "./options";
import { checkRules, compileRules, listBundled } from "./rules";
import { cacheClear, cacheInfo } from "../cache";
import { CONFIG_FILE, configHook } from "./config";
import { mergeReports, type MergeOptions } from "./report";
import { runScan } from "./scan";
import { VERSION } from "./version";
import { listOption } from "./packs"; // issue 10

function versionText(): string {
  const rules = bundledYaraRules();
  const hashes = bundledHashCount(); // issue 10: counted at build time
  return [
    `ring3 ${VERSION}`,
    `signatures ${BUNDLED_VERSION} (content ${bundledContentId()}): ${rules} YARA rule(s), ${hashes} hash signature(s)`,
    `node ${process.versions.node}${inSea() ? " (single executable)" : ""}`,
  ].join("\n");
}

/** 536870912 -> "512M" for the help text. */
function sizeText(n: number): string {
  for (const [unit, size] of [["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

function program(setExit: (c: ExitCode) => void): Command {
  const p = new Command("ring3")
    .description("A user-mode malware scanner: hash and YARA signatures, parallel workers, text/JSON/NDJSON/SARIF reports.")
    .version(versionText(), "-V, --version", "print the version and the signature set's version and content id")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  p.command("scan")
    .description("scan files and folders (no PATH: the current folder; '-': standard input)")
    .argument("[paths...]", "files or folders to scan; '-' scans bytes from standard input")
    .option("--paths-from <file>", "read paths from FILE ('-': standard input), newline- or NUL-separated")
    .addOption(new Option("-f, --format <format>", "report format").choices(["text", "json", "ndjson", "sarif"]).default("text"))
    .option("-o, --output <file>", "write the report to FILE instead of standard output")
    .option("--all", "also report clean files (json, ndjson, sarif: with their SHA-256)")
    .option("--rules <path>", "YARA rules: a .yar/.yara file, a folder of them, or a compiled rule file from `ring3 rules compile` (repeatable; all are merged into one program)", collect, [])
    .option("--no-bundled", "do not use the bundled signatures")
    // issue 10: bundled pack selection
    .option("--pack <name>", "use only these bundled packs (repeatable; `ring3 rules list` names them; default: the packs on by default)", collect, [])
    .addOption(listOption("--no-pack <name>", "noPack", "leave this bundled pack out (repeatable)"))
    .option("--hashes <file>", "hash list: ClamAV .hdb/.hsb or HASH;name lines (repeatable)", collect, [])
    .option("-d, --define <name=value>", "set a YARA external variable (repeatable)", parseDefine, {})
    .option("--include <glob>", "scan only files matching GLOB (repeatable; no slash: matches the base name)", collect, [])
    .option("--exclude <glob>", "skip files and folders matching GLOB (repeatable)", collect, [])
    .option("--allow <file>", "allowlist: SHA-256 per line, or ClamAV .sfp; findings on these files are suppressed (repeatable)", collect, [])
    .option("--exclude-rule <id>", "suppress findings of rules whose name or id matches ID or GLOB (repeatable)", collect, [])
    .option("--exclude-tag <tag>", "suppress findings of rules with this tag (repeatable)", collect, [])
    .option("--max-filesize <size>", "the largest file held whole in memory and opened as an archive; larger files, and plain files of 16 MiB or more, are streamed through the hashes and the matcher (conditions read them in place; partial only where YARA-X must decide on a file over 64 MiB, or for an archive over SIZE)", "128M")
    .option("--follow-symlinks", "follow symbolic links (loops are detected)")
    .option("--one-file-system", "do not enter other file systems")
    .option("-w, --workers <n>", "parallel workers (default: available parallelism)")
    .option("--timeout-per-file <seconds>", "give up on a file after SECONDS (0: never), its archive members included", String(DEFAULT_TIMEOUT_PER_FILE))
    .option("--no-archives", "do not look inside archives and compressed files (scan their bytes only)")
    .option("--archive-depth <n>", `open containers nested up to N deep (default ${DEFAULT_LIMITS.maxDepth}; deeper ones: partial)`)
    .option("--archive-max-members <n>", `members scanned per container (default ${DEFAULT_LIMITS.maxMembers})`)
    .option("--archive-max-size <size>", `bytes unpacked in all below one file (default ${sizeText(DEFAULT_LIMITS.maxTotalBytes)})`)
    .option("--archive-max-member-size <size>", `bytes unpacked of one member (default ${sizeText(DEFAULT_LIMITS.maxMemberSize)})`)
    .option("--archive-max-ratio <n>", `unpacked/packed ratio of one member, against zip bombs (default ${DEFAULT_LIMITS.maxRatio})`)
    .option("--archive-timeout <seconds>", `time spent unpacking one file (default ${DEFAULT_LIMITS.maxTimeMs / 1000}; at most 3/4 of --timeout-per-file)`)
    .option("--engine <name>", "YARA engine: auto (ring3's fast path; YARA-X only for rules it cannot decide) or yara-x (every rule in YARA-X)", "auto")
    .option("--stats", "print the YARA engine's counters and time per stage on standard error at the end")
    .option("--progress", "show a progress bar on a terminal (default)")
    .option("--no-progress", "never show a progress bar")
    // issue 14 (everyday use at scale)
    .option("--cache <file>", "keep complete results in FILE between runs; an unchanged file (path, device, inode, size, times) under the same signatures and options is not read again")
    .option("--baseline <report>", "findings already in this json, ndjson or SARIF report (same rule, same file SHA-256) are baselined: reported, but only new ones set the exit code")
    .option("--update-baseline", "write this run's findings to the --baseline file (json) for the next runs")
    .option("--shard <k/n>", "scan only share K of N of the files, by a hash of each path below its root (N jobs together scan every file once)")
    .option("--config <file>", `read scan options from FILE, a JSON object keyed by flag name ({"exclude": ["*.iso"], "max-filesize": "64M"}); default: ./${CONFIG_FILE} if there is one; flags override it`)
    .option("--print-config", "print the effective options (config file and flags) as JSON and exit without scanning")
    .hook("preAction", (_scan, action) => configHook(action))
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      setExit(await runScan(toConfig(paths, opts)));
    });

  const rules = p.command("rules").description("inspect signatures");
  rules
    .command("list")
    .description("list the bundled signatures: id, severity, description")
    .option("--json", "as JSON")
    .action((opts: { json?: boolean }) => setExit(listBundled(Boolean(opts.json))));
  rules
    .command("check")
    .description("compile YARA rule files and print errors as file:line:col: message")
    .argument("<paths...>", "rule files or folders")
    .option("-d, --define <name=value>", "set a YARA external variable (repeatable)", parseDefine, {})
    .action((paths: string[], opts: { define: Record<string, string> }) => setExit(checkRules(paths, opts.define)));
  rules
    .command("compile")
    .description("compile YARA rules into one compiled rule file that `scan --rules FILE` loads without parsing (same ring3 version only)")
    .argument("<rules...>", "rule files or folders (as --rules: namespace default), or compiled rule files")
    .requiredOption("-o, --output <file>", "write the compiled rule file to FILE")
    .option("-d, --define <name=value>", "set a YARA external variable (repeatable; a scan may change its value, not its type)", parseDefine, {})
    .action(async (paths: string[], opts: { define: Record<string, string>; output: string }) => setExit(await compileRules(paths, opts.define, opts.output)));
  // issue 14: joining the reports of shards, hosts and CI jobs
  const report = p.command("report").description("work with reports");
  report
    .command("merge")
    .description("merge json, ndjson or SARIF reports of one format into one report: results joined, summaries added, the exit code computed again (SARIF: one run per tool and category, rules de-duplicated, GitHub's limits kept)")
    .argument("<reports...>", "report files (their format is read from their content)")
    .requiredOption("-o, --output <file>", "write the merged report to FILE (whole, through a temporary file)")
    .addOption(new Option("-f, --format <format>", "output format (default: the reports' format; json and ndjson reports can become any format, SARIF only SARIF)").choices(["text", "json", "ndjson", "sarif"]))
    .option("--max-results <n>", "SARIF: results per run, the most severe kept (default and at most 25000, GitHub's limit)")
    .option("--max-gzip-size <size>", "SARIF: the log's gzip-compressed size at most (default 10M, GitHub's limit)")
    .action(async (files: string[], opts: MergeOptions) => setExit(await mergeReports(files, opts)));
  const cache = p.command("cache").description("inspect or remove a --cache file");
  cache
    .command("info")
    .description("what a cache file holds (exit 2 if it is damaged or not a ring3 cache)")
    .argument("<file>", "the --cache file")
    .action((file: string) => setExit(cacheInfo(file)));
  cache
    .command("clear")
    .description("remove a cache file (never a file that is not a ring3 cache)")
    .argument("<file>", "the --cache file")
    .action((file: string) => setExit(cacheClear(file)));
  return p;
}

async function main(): Promise<void> {
  // A reader that goes away (`ring3 rules list | head`) must not turn into an "Unhandled 'error'
  // event" crash: the output is cut short, and that is all.
  // Any other write error (a full disk) is said once, never thrown as a stack trace; a scan's
  // report sink sees the same error and ends the scan with its own message (exit 2).
  let stdoutFailed = false;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || stdoutFailed) return;
    stdoutFailed = true;
    if (process.argv[2] !== "scan") process.stderr.write(`ring3: cannot write to standard output: ${err.message}\n`);
  });
  let code: ExitCode = 0;
  try {
    await program((c) => (code = c)).parseAsync(process.argv);
  } catch (err) {
    code = 2;
    if (err instanceof CommanderError) {
      // --help and --version end here too, with their own (zero) exit code.
      if (err.exitCode === 0) code = 0;
    } else if (err instanceof RuleCompileError) {
      for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
      process.stderr.write(`ring3: ${err.message}; nothing scanned\n`);
    } else if ((err as NodeJS.ErrnoException).code === "EPIPE") {
      // The reader went away (`ring3 scan ... | head`): the report is cut short, say nothing more.
    } else if (err instanceof UsageError || err instanceof WorkerStartError) {
      process.stderr.write(`ring3: ${err.message}\n`);
    } else {
      process.stderr.write(`ring3: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  process.exitCode = stdoutFailed ? 2 : code;
}

void main();
