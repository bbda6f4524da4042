// Shared by the dotnet module tests: the conditions that check ring3's value of every field of an
// assembly (lists sampled) against YARA-X.
import { type ArrayValue, type StructValue, type Value } from "../../src/engines/yara/contracts";
import { disagreements, type Case } from "./yara-module-oracle";

const SCALARS = [
  "is_dotnet", "module_name", "version", "number_of_streams", "number_of_guids", "number_of_resources", "number_of_generic_parameters",
  "number_of_classes", "number_of_assembly_refs", "number_of_modulerefs", "number_of_user_strings", "number_of_constants",
  "number_of_field_offsets", "typelib",
];
const VERSION = ["major", "minor", "build_number", "revision_number"];
const CLASS = ["fullname", "name", "namespace", "visibility", "type", "abstract", "sealed", "number_of_base_types", "number_of_generic_parameters", "number_of_methods"];
const METHOD = ["name", "visibility", "abstract", "static", "virtual", "final", "return_type", "number_of_generic_parameters", "number_of_parameters"];

const len = (a: Value): number => {
  const n = (a as ArrayValue).length();
  if (typeof n !== "number") throw new Error(`a list of length ${String(n)}`);
  return n;
};

/** Indexes 0..n-1 when n <= max, else `max` of them spread over the list (first and last included). */
function sample(n: number, max: number): number[] {
  if (n <= max) return [...Array(n).keys()];
  if (max < 2) return [0];
  return [...new Set([...Array(max).keys()].map((i) => Math.round((i * (n - 1)) / (max - 1))))];
}

/** The cases for one file: the expressions and ring3's values, the lists sampled, one past each end. */
export function dotnetCases(r: StructValue, limits = { classes: 40, methods: 6, items: 60 }): Case[] {
  const out: Case[] = [];
  const add = (expr: string, v: Value) => out.push({ expr: `dotnet.${expr}`, value: v });
  for (const f of SCALARS) add(f, r.field(f));
  const list = (name: string, max: number, each: (expr: string, item: Value) => void) => {
    const a = r.field(name) as ArrayValue;
    const n = len(a);
    // An empty list is a list, not undefined: `not` of a `for any` over it holds.
    out.push({ expr: `(not (for any x in dotnet.${name} : (true)))`, value: n === 0 });
    for (const i of sample(n, max)) each(`${name}[${i}]`, a.at(i));
    each(`${name}[${n}]`, undefined);
  };
  const scalar = (expr: string, v: Value) => add(expr, v);
  const version = (expr: string, v: StructValue | undefined) => {
    for (const f of VERSION) add(`${expr}.version.${f}`, v === undefined ? undefined : (v.field("version") as StructValue).field(f));
  };
  list("streams", 300, (e, s) => {
    for (const f of ["name", "offset", "size"]) add(`${e}.${f}`, s === undefined ? undefined : (s as StructValue).field(f));
  });
  list("guids", 20, scalar);
  list("constants", limits.items, scalar);
  list("user_strings", limits.items, scalar);
  list("field_offsets", limits.items, scalar);
  list("modulerefs", limits.items, scalar);
  const asm = r.field("assembly") as StructValue;
  add("assembly.name", asm.field("name"));
  add("assembly.culture", asm.field("culture"));
  version("assembly", asm);
  list("assembly_refs", limits.items, (e, a) => {
    for (const f of ["name", "public_key_or_token"]) add(`${e}.${f}`, a === undefined ? undefined : (a as StructValue).field(f));
    version(e, a as StructValue | undefined);
  });
  list("resources", limits.items, (e, s) => {
    for (const f of ["offset", "length", "name"]) add(`${e}.${f}`, s === undefined ? undefined : (s as StructValue).field(f));
  });
  list("classes", limits.classes, (e, c) => {
    if (c === undefined) return add(`${e}.name`, undefined);
    const k = c as StructValue;
    for (const f of CLASS) add(`${e}.${f}`, k.field(f));
    for (const l of ["base_types", "generic_parameters"]) {
      const a = k.field(l) as ArrayValue;
      for (let i = 0; i <= len(a); i++) add(`${e}.${l}[${i}]`, a.at(i));
    }
    const methods = k.field("methods") as ArrayValue;
    for (const i of sample(len(methods), limits.methods)) {
      const m = methods.at(i) as StructValue;
      for (const f of METHOD) add(`${e}.methods[${i}].${f}`, m.field(f));
      const g = m.field("generic_parameters") as ArrayValue;
      for (let j = 0; j <= len(g); j++) add(`${e}.methods[${i}].generic_parameters[${j}]`, g.at(j));
      const p = m.field("parameters") as ArrayValue;
      for (let j = 0; j <= len(p); j++) {
        const q = p.at(j) as StructValue | undefined;
        add(`${e}.methods[${i}].parameters[${j}].name`, q?.field("name"));
        add(`${e}.methods[${i}].parameters[${j}].type`, q?.field("type"));
      }
    }
  });
  return out;
}

/** Checks the cases in batches (one compiled rule set each) and returns the disagreements. */
export function checkDotnet(data: Uint8Array, cases: Case[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < cases.length; i += 1500) bad.push(...disagreements(["dotnet"], cases.slice(i, i + 1500), data));
  return bad;
}
