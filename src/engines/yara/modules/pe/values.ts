// Small builders for the evaluator's Value model (contracts.ts): structs whose fields are computed
// on first read and then kept, arrays over a lazily built list, dicts over key/value byte pairs.
import { UNKNOWN, type ArrayValue, type DictValue, type FuncValue, type Unknown, type Value } from "../../contracts";
import { bytesEqual } from "./bytes";

export type Fields = Record<string, () => Value>;

/** Structs are the small modules' (a name that is not a field is UNKNOWN, never a guess). */
export { struct } from "../util";

/** An array whose items are built on first use: undefined = the array is undefined, UNKNOWN = not known. */
export function array(items: () => Value[] | undefined | Unknown): ArrayValue {
  let list: Value[] | undefined | Unknown | null = null;
  const load = () => (list === null ? (list = items()) : list);
  return {
    kind: "array",
    length() {
      const l = load();
      return l === undefined || l === UNKNOWN ? l : l.length;
    },
    at(i) {
      const l = load();
      if (l === UNKNOWN) return UNKNOWN;
      if (l === undefined || !Number.isInteger(i) || i < 0 || i >= l.length) return undefined;
      return l[i];
    },
  };
}

/** A dict of byte strings; later entries with an equal key replace earlier ones, as a map insert does. */
export function dict(pairs: () => [Uint8Array, Uint8Array][] | Unknown): DictValue {
  let merged: [Uint8Array, Value][] | Unknown | null = null;
  const load = () => {
    if (merged !== null) return merged;
    const p = pairs();
    if (p === UNKNOWN) return (merged = UNKNOWN);
    const out: [Uint8Array, Value][] = [];
    for (const [k, v] of p) {
      const at = out.findIndex(([x]) => bytesEqual(x, k));
      if (at >= 0) out[at] = [k, v];
      else out.push([k, v]);
    }
    return (merged = out);
  };
  return {
    kind: "dict",
    get(key) {
      const m = load();
      if (m === UNKNOWN) return UNKNOWN;
      return m.find(([k]) => bytesEqual(k, key))?.[1];
    },
    entries() {
      return load();
    },
  };
}

export function func(call: (args: Value[]) => Value): FuncValue {
  return { kind: "func", call };
}

/** A YARA integer from a JS number or bigint (64-bit signed, as YARA-X stores unsigned fields). */
export function int(v: number | bigint): bigint {
  return BigInt.asIntN(64, BigInt(v));
}
