// Rules YARA-X accepts that the fast path cannot parse or compile: instead of failing the whole
// rule set, each such rule is "deferred": it keeps its place, name and text, its condition is
// UNKNOWN on every file (ast.ts `deferred`), so YARA-X decides it on every file (one scan call per
// file: the cost the warning states). Only when YARA-X compiles the whole set without error; a set
// YARA-X rejects keeps the fast path's errors.
import type { Rule, SourceFile } from "./ast";
import { compileProgram, type Program } from "./eval";
import { includer } from "./includes";
import { tokenize, type LexError } from "./lexer";
import { parse } from "./parser";
import { compile, initYaraX, yaraxReady, type ExternalValue, type RuleSource } from "./yarax";

/** A rule left to YARA-X, and why. */
export interface DeferredRule {
  name: string;
  namespace: string;
  file: string;
  line: number;
  /** The fast path's first error on it. */
  reason: string;
}

interface Err {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A top-level rule of a text: where it is (from its first modifier to its last `}`), its name and modifiers. */
interface Chunk {
  start: number;
  end: number;
  line: number;
  name: string;
  head: string;
}

function chunks(text: string): Chunk[] {
  const lexErrors: LexError[] = [];
  const t = tokenize(text, lexErrors);
  const out: Chunk[] = [];
  const boundary = (i: number) => t.kinds[i] === "rule" || t.kinds[i] === "import" || t.kinds[i] === "include" || t.kinds[i] === "eof";
  for (let i = 0; i < t.kinds.length; i++) {
    if (t.kinds[i] !== "rule" || t.kinds[i + 1] !== "ident") continue;
    let first = i;
    while (first > 0 && (t.kinds[first - 1] === "private" || t.kinds[first - 1] === "global")) first--;
    let j = i + 1;
    while (j < t.kinds.length && !boundary(j)) j++;
    // The rule ends at the last `}` before the next rule, import or include (or runs to it).
    let last = j - 1;
    while (last > i && t.kinds[last] !== "}") last--;
    // The next rule's modifiers belong to it.
    let end = last > i ? t.ends[last]! : t.starts[j] ?? text.length;
    if (last <= i) {
      let k = j;
      while (k - 1 > i && (t.kinds[k - 1] === "private" || t.kinds[k - 1] === "global")) k--;
      end = k < t.kinds.length ? t.starts[k]! : text.length;
    }
    const head = t.kinds.slice(first, i).join(" ");
    out.push({ start: t.starts[first]!, end, line: t.lines[first]! + 1, name: text.slice(t.starts[i + 1]!, t.ends[i + 1]!), head });
  }
  return out;
}

/** Identifiers in a rule's text: the earlier rules among them are what it depends on. */
function identifiers(text: string): string[] {
  const t = tokenize(text, []);
  const out = new Set<string>();
  for (let i = 0; i < t.kinds.length; i++) if (t.kinds[i] === "ident") out.add(text.slice(t.starts[i]!, t.ends[i]!));
  return [...out];
}

function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", at);
    if (nl < 0) return text.length;
    at = nl + 1;
  }
  return at + Math.max(0, column - 1);
}

/** YARA-X's WASM for this thread: instantiated here when nobody has yet (the compile thread). */
function ensureYaraX(): boolean {
  initYaraX();
  return yaraxReady();
}

/**
 * After the fast path failed on `sources` (errors `first`): when YARA-X compiles them, the rules
 * with errors become deferred and the rest compile. Undefined when YARA-X rejects the set too, or
 * when an error lies outside any rule (an import, an include): then `first` stand.
 */
export function deferFailing(
  sources: RuleSource[],
  defines: Record<string, ExternalValue>,
): { parsed: SourceFile[]; program: Program; deferred: DeferredRule[] } | undefined {
  if (!ensureYaraX()) return undefined;
  try {
    const checked = compile(sources, defines);
    checked.rules?.free();
    if (checked.errors.length > 0) return undefined;
  } catch {
    return undefined; // YARA-X's WASM trapped on the set: no better than the fast path's errors
  }

  // Working copies of every text (root files by name, included ones by absolute path).
  const texts = new Map<string, string>();
  for (const s of sources) {
    texts.set(s.name, s.text);
    for (const [k, v] of Object.entries(s.includes ?? {})) texts.set(k, v);
  }
  const deferred = new Map<string, DeferredRule & { text: string }>();
  const key = (file: string, name: string) => `${file}\u0000${name}`;

  /** Replaces the rule holding (file, line, column) by a placeholder of the same name; false when none holds it. */
  const deferAt = (e: Err, namespace: string): boolean => {
    const text = texts.get(e.file);
    if (text === undefined) return false;
    const at = offsetOf(text, e.line, e.column);
    const c = chunks(text).find((x) => x.start <= at && at <= x.end);
    if (!c || deferred.has(key(e.file, c.name))) return false;
    const body = text.slice(c.start, c.end);
    const placeholder = `${c.head ? c.head + " " : ""}rule ${c.name} { condition: true }`;
    texts.set(e.file, text.slice(0, c.start) + placeholder + "\n".repeat(body.split("\n").length - 1) + text.slice(c.end));
    deferred.set(key(e.file, c.name), { name: c.name, namespace, file: e.file, line: c.line, reason: e.message, text: body });
    return true;
  };

  const nsOf = (file: string): string => sources.find((s) => s.name === file || (s.includes && file in s.includes))?.namespace ?? "default";

  for (let round = 0; round < 10_000; round++) {
    // Parse with the placeholders so far.
    const parsed: SourceFile[] = [];
    const errors: Err[] = [];
    for (const s of sources) {
      const includes = s.includes ? Object.fromEntries(Object.keys(s.includes).map((k) => [k, texts.get(k)!])) : undefined;
      const src: RuleSource = { ...s, text: texts.get(s.name)!, ...(includes ? { includes } : {}) };
      const out = parse(src.text, { file: s.name, namespace: s.namespace, include: includer(src) });
      errors.push(...out.errors);
      if (out.source) parsed.push(out.source);
    }
    if (errors.length > 0) {
      let moved = false;
      for (const e of errors) moved = deferAt(e, nsOf(e.file)) || moved;
      if (!moved) return undefined;
      continue;
    }
    // Placeholders get their rule's text back and a condition YARA-X decides.
    const all: Rule[] = parsed.flatMap((s) => s.rules);
    for (const r of all) {
      const d = deferred.get(key(r.file, r.name));
      if (!d) continue;
      makeDeferred(r, d.text);
    }
    const compiled = compileProgram(parsed, { externals: defines });
    if (compiled.program && compiled.errors.length === 0) {
      return { parsed, program: compiled.program, deferred: [...deferred.values()].map(({ text: _t, ...d }) => d) };
    }
    // Compile errors: the rules that hold them are deferred too (in their AST: no reparse needed).
    let moved = false;
    for (const e of compiled.errors) {
      const r = all.find((x) => x.file === e.file && e.line >= x.pos.line && e.line <= x.pos.line + x.text.split("\n").length - 1);
      if (!r || deferred.has(key(r.file, r.name))) continue;
      deferred.set(key(r.file, r.name), { name: r.name, namespace: r.namespace, file: r.file, line: r.pos.line, reason: e.message, text: r.text });
      moved = true;
    }
    if (!moved) return undefined;
  }
  return undefined;
}

/** The rule as YARA-X alone decides it: no strings for the fast path, a condition always UNKNOWN. */
export function makeDeferred(r: Rule, text: string): void {
  r.text = text;
  r.strings = [];
  r.meta = [];
  r.condition = { type: "deferred", refs: identifiers(text), pos: r.pos };
}

/** The warning for each deferred rule: which rule, why, and what it costs. */
export function deferredWarnings(list: DeferredRule[]): string[] {
  return list.map(
    (d) =>
      `ring3: warning: ${d.file}:${d.line}: rule ${d.namespace}:${d.name} is left to YARA-X on every file (the fast path: ${d.reason}); ` +
      `this costs one YARA-X scan per file`,
  );
}

/** A deferred rule's tree, for an image's rule (its text is not parsed). */
export function deferredRule(r: { name: string; namespace: string; file: string; pos: Rule["pos"]; text: string; private: boolean; global: boolean; tags: string[] }): Rule {
  return { name: r.name, namespace: r.namespace, file: r.file, pos: r.pos, text: r.text, private: r.private, global: r.global, tags: r.tags, meta: [], strings: [], condition: { type: "deferred", refs: [], pos: r.pos } };
}
