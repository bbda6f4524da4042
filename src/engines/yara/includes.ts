// YARA `include` directives for rule files read from disk (--rules, `rules compile`): the files a
// source includes, directly or not, are read once here, where the file system is, and travel with
// the source (RuleSource.includes) to wherever it is parsed: the compile thread, the image (each
// rule keeps its own text, so a compiled rule file needs no source file), and YARA-X, whose WASM
// build has no file system and gets the text with every include expanded in place.
import * as fs from "node:fs";
import * as path from "node:path";
import { tokenize, type LexError } from "./lexer";
import { MAX_INCLUDE_DEPTH } from "./parser";
import type { RuleSource } from "./yarax";

/** Where `include "<name>"` in the file `from` points: relative to that file's folder. */
export function includePath(name: string, from: string): string {
  return path.resolve(path.dirname(from), name);
}

const MAY_INCLUDE = /\binclude\s*(?:"|\/[/*])/;

/** The `include "<name>"` directives of a text: the name and where the directive starts. */
function directives(text: string): { name: string; start: number; end: number }[] {
  // Most rule files include nothing: without the word followed by a string (or a comment, which
  // may stand between the two tokens), no directive, and no tokenizing of every file before the
  // compile starts.
  if (!MAY_INCLUDE.test(text)) return [];
  const errors: LexError[] = [];
  const t = tokenize(text, errors);
  const out: { name: string; start: number; end: number }[] = [];
  for (let i = 0; i + 1 < t.kinds.length; i++) {
    if (t.kinds[i] !== "include" || t.kinds[i + 1] !== "string") continue;
    out.push({ name: text.slice(t.starts[i + 1]! + 1, t.ends[i + 1]! - 1), start: t.starts[i]!, end: t.ends[i + 1]! });
  }
  return out;
}

/**
 * The source with the text of every file it includes, read from disk (by absolute path). A file
 * that cannot be read is left out: the parser then reports `cannot include` at the directive,
 * as it reports cycles and nesting deeper than MAX_INCLUDE_DEPTH.
 */
export function readIncludes(src: RuleSource): RuleSource {
  const includes: Record<string, string> = {};
  const visit = (file: string, text: string, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    for (const d of directives(text)) {
      const p = includePath(d.name, file);
      if (p in includes) continue;
      let body: string;
      try {
        if (!fs.statSync(p).isFile()) continue;
        body = fs.readFileSync(p, "utf8");
      } catch {
        continue;
      }
      includes[p] = body;
      visit(p, body, depth + 1);
    }
  };
  visit(path.resolve(src.name), src.text, 1);
  return Object.keys(includes).length > 0 ? { ...src, includes } : src;
}

/** The parser's include callback for a source (none when it includes nothing). */
export function includer(src: RuleSource): ((name: string, from: string) => { file: string; text: string } | undefined) | undefined {
  const files = src.includes;
  if (!files) return undefined;
  const root = path.resolve(src.name);
  return (name, from) => {
    const file = includePath(name, path.resolve(from));
    // The including file itself under the name the parser knows it by, so that it sees the cycle.
    if (file === root) return { file: src.name, text: src.text };
    const text = files[file];
    return text === undefined ? undefined : { file, text };
  };
}

/**
 * The source's text with each include directive replaced by the included text (for YARA-X). An
 * include that cannot be expanded (missing, a cycle, too deep) is left as it is, for YARA-X to
 * reject; ring3's parser has reported it first, naming the file and line.
 */
export function expandIncludes(src: RuleSource): RuleSource {
  const files = src.includes;
  if (!files) return src;
  const expand = (file: string, text: string, stack: string[]): string => {
    let out = "";
    let at = 0;
    for (const d of directives(text)) {
      const p = includePath(d.name, file);
      const body = files[p];
      if (body === undefined || stack.includes(p) || stack.length > MAX_INCLUDE_DEPTH) continue;
      out += text.slice(at, d.start) + "\n" + expand(p, body, [...stack, p]) + "\n";
      at = d.end;
    }
    return out + text.slice(at);
  };
  const root = path.resolve(src.name);
  return { name: src.name, namespace: src.namespace, text: expand(root, src.text, [root]) };
}

/** Every text of a source: its own and its included files' (rule counts, external variables). */
export function allTexts(src: RuleSource): string[] {
  return src.includes ? [src.text, ...Object.values(src.includes)] : [src.text];
}
