// The scan's config file: ring3.json in the working folder, or --config FILE. Its keys are the scan
// flags' long names ("max-filesize", "exclude", "no-bundled"), mapped through commander's own
// option list, so a flag added to `ring3 scan` works in the file with no edit here. Flags win.
// JSON because Node reads it with no dependency and it is the format of ring3's own reports.
import * as fs from "node:fs";
import { CommanderError, type Command, type Option } from "commander";
import { UsageError } from "./options";

export const CONFIG_FILE = "ring3.json";

/** Flags that are about the config itself, or help: never keys of the file. */
const NOT_KEYS = new Set(["config", "print-config", "help", "version"]);
/** Keys an editor or a person may add: a schema reference and a comment. */
const IGNORED_KEYS = new Set(["$schema", "$comment"]);

function keyOf(o: Option): string | undefined {
  const long = o.long?.replace(/^--/, "");
  return long === undefined || NOT_KEYS.has(long) ? undefined : long;
}

/** A repeatable option collects into an array or an object (--define) from its default. */
function isRepeatable(o: Option): boolean {
  return o.defaultValue !== null && typeof o.defaultValue === "object";
}

function fresh(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v !== null && typeof v === "object" ? { ...v } : v;
}

/** Reads the file that applies: --config FILE (must exist), else ./ring3.json when there is one. */
function readConfig(cmd: Command): { file: string; values: Record<string, unknown> } | undefined {
  const given = cmd.getOptionValue("config") as string | undefined;
  const file = given ?? (fs.existsSync(CONFIG_FILE) ? CONFIG_FILE : undefined);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text.replace(/^\ufeff/, ""));
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new UsageError(`${file}: must hold one JSON object of scan options, keyed by flag name ("max-filesize": "64M")`);
  }
  return { file, values: values as Record<string, unknown> };
}

/** One value of the file as the flag would have given it: a string, "NAME=VALUE" for an object's entries. */
function words(file: string, key: string, v: unknown, repeatable: boolean): string[] {
  const one = (x: unknown): string => {
    if (typeof x === "string") return x;
    if (typeof x === "number" && Number.isFinite(x)) return String(x);
    throw new UsageError(`${file}: "${key}" takes ${repeatable ? "a string or a list of strings" : "a string or a number"}, got ${JSON.stringify(x)}`);
  };
  if (Array.isArray(v)) {
    if (!repeatable) throw new UsageError(`${file}: "${key}" takes one value, not a list`);
    return v.map(one);
  }
  if (v !== null && typeof v === "object" && repeatable) return Object.entries(v).map(([k, x]) => `${k}=${one(x)}`);
  return [one(v)];
}

/**
 * Applies the config file to a parsed `scan` command: each key sets its option unless the command
 * line set it. An unknown key or a value of the wrong kind is a UsageError naming the key.
 */
export function applyConfig(cmd: Command): string | undefined {
  const config = readConfig(cmd);
  if (config === undefined) return undefined;
  const { file, values } = config;
  const byKey = new Map<string, Option>();
  for (const o of cmd.options) {
    const k = keyOf(o);
    if (k !== undefined) byKey.set(k, o);
  }
  for (const [key, v] of Object.entries(values)) {
    if (IGNORED_KEYS.has(key)) continue;
    const o = byKey.get(key);
    if (o === undefined) {
      const hint = NOT_KEYS.has(key) ? " (it cannot be set from a config file)" : " (not a `ring3 scan` flag: see ring3 scan --help)";
      throw new UsageError(`${file}: unknown key "${key}"${hint}`);
    }
    const attr = o.attributeName();
    // Flags win: whatever the command line set (either form of --x/--no-x) stays.
    if (cmd.getOptionValueSource(attr) === "cli") continue;
    // null: leave the option as it would be without the file (--print-config shows unset ones so).
    if (v === null) continue;
    let value: unknown;
    if (o.negate || o.isBoolean()) {
      if (typeof v !== "boolean") throw new UsageError(`${file}: "${key}" is a switch: true or false, got ${JSON.stringify(v)}`);
      value = o.negate ? !v : v;
    } else {
      const repeatable = isRepeatable(o);
      let acc: unknown = repeatable ? fresh(o.defaultValue) : undefined;
      for (const w of words(file, key, v, repeatable)) {
        if (o.argChoices !== undefined && !o.argChoices.includes(w)) {
          throw new UsageError(`${file}: "${key}" must be one of ${o.argChoices.join(", ")}, got "${w}"`);
        }
        try {
          acc = o.parseArg !== undefined ? o.parseArg(w, acc) : w;
        } catch (err) {
          if (err instanceof UsageError) throw new UsageError(`${file}: "${key}": ${err.message}`);
          throw new UsageError(`${file}: "${key}": ${(err as Error).message}`);
        }
      }
      value = acc;
    }
    cmd.setOptionValueWithSource(attr, value, "config");
  }
  return file;
}

/**
 * The effective options as a config file would hold them (flag names as keys, every scan flag,
 * null where unset), for --print-config. A --no-x flag whose --x exists is shown as "x".
 */
export function effectiveConfig(cmd: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const longs = new Set(cmd.options.map((o) => o.long));
  for (const o of cmd.options) {
    const key = keyOf(o);
    if (key === undefined) continue;
    const value = cmd.getOptionValue(o.attributeName()) as unknown;
    if (o.negate) {
      if (longs.has(`--${key.slice(3)}`)) continue;
      out[key] = value === false;
      continue;
    }
    if (o.isBoolean()) {
      // Unset: off, or on for a switch whose --no-x form exists (--progress: shown unless --no-progress).
      out[key] = value === undefined ? longs.has(`--no-${key}`) : value === true;
      continue;
    }
    if (value === undefined) {
      out[key] = null;
      continue;
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = Object.entries(value).map(([k, x]) => `${k}=${String(x)}`);
    } else out[key] = value;
  }
  return out;
}

/**
 * The `scan` command's hook before its action: apply the config file, and for --print-config print
 * the effective options and stop (exit 0) without scanning.
 */
export function configHook(cmd: Command): void {
  const file = applyConfig(cmd);
  if (cmd.getOptionValue("printConfig") === true) {
    process.stderr.write(file !== undefined ? `ring3: options from ${file}, flags override it\n` : "ring3: no config file (none given, no ./ring3.json)\n");
    process.stdout.write(JSON.stringify(effectiveConfig(cmd), null, 2) + "\n");
    throw new CommanderError(0, "ring3.printConfig", "");
  }
}
