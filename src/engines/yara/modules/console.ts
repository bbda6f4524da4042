// The `console` module: log() and hex() are true whenever their arguments are defined. YARA-X hands
// the message to its console callback; ring3 prints nothing (a scanner's output is its report, and
// workers must not write to the terminal), so only the truth value is reproduced.
import { UNKNOWN, type ModuleFactory, type StructValue, type Value } from "../contracts";
import { func, isFloat, isInt, isStr, struct } from "./util";

/** log(string | int | float) and log(message: string, string | int | float). */
function logArgs(a: Value[]): boolean {
  const value = (v: Value): boolean => isStr(v) || isInt(v) || isFloat(v);
  return (a.length === 1 && value(a[0])) || (a.length === 2 && isStr(a[0]) && value(a[1]));
}

/** hex(int) and hex(message: string, int). */
function hexArgs(a: Value[]): boolean {
  return (a.length === 1 && isInt(a[0])) || (a.length === 2 && isStr(a[0]) && isInt(a[1]));
}

const CONSOLE: StructValue = struct({
  log: func((a) => (logArgs(a) ? true : UNKNOWN)),
  hex: func((a) => (hexArgs(a) ? true : UNKNOWN)),
});

export const console: ModuleFactory = { name: "console", load: () => CONSOLE };
