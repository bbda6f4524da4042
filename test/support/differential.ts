// Differential testing of the YARA fast path: the same rules and files through `--engine auto`
// (parser, matcher, three-valued evaluator, YARA-X only for what stays unknown) and through
// `--engine yara-x` (every rule in YARA-X, the oracle). Both must report the same rules per file
// and the same string offsets. Used by test/unit/yara-differential.test.ts (a fast subset in
// `make test`) and scripts/conformance.mjs (`make conformance`: all of signature-base).
import * as fs from "node:fs";
import * as path from "node:path";
import type { HexToken, StringDecl } from "../../src/engines/yara/ast";
import { createEngine, type YaraEngine } from "../../src/engines/yara/engine";
import { parse } from "../../src/engines/yara/parser";
import { FILE_EXTERNALS, initYaraX, type FileExternals, type RuleSource } from "../../src/engines/yara/yarax";
import type { Finding } from "../../src/types";

export const ROOT = path.resolve(__dirname, "../..");
export const SIGBASE = path.resolve(ROOT, "../shared/rulesets/signature-base/yara");

export function initEngines(): void {
  initYaraX(fs.readFileSync(path.join(ROOT, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")));
}

/** signature-base's rule files, sorted; fails loudly when ../shared is not beside the checkout. */
export function sigbaseFiles(): string[] {
  if (!fs.existsSync(SIGBASE)) throw new Error(`signature-base not found at ${SIGBASE}: the differential tests need ../shared beside the checkout`);
  return fs
    .readdirSync(SIGBASE)
    .filter((f) => /\.yara?$/.test(f))
    .sort()
    .map((f) => path.join(SIGBASE, f));
}

export function sources(files: string[], namespace = "default"): RuleSource[] {
  return files.map((f) => ({ name: f, text: fs.readFileSync(f, "utf8"), namespace }));
}

export function engines(srcs: RuleSource[]): { auto: YaraEngine; oracle: YaraEngine } {
  const defines: Record<string, string> = {};
  for (const k of FILE_EXTERNALS) defines[k] = "";
  const common = { sources: srcs, defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0 };
  const a = createEngine({ ...common, mode: "auto" });
  if (!a.engine) throw new Error(`auto engine: ${a.errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join("\n")}`);
  const o = createEngine({ ...common, mode: "yara-x" });
  if (!o.engine) throw new Error(`yara-x engine: ${o.errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join("\n")}`);
  return { auto: a.engine, oracle: o.engine };
}

export function externalsFor(name: string): FileExternals {
  const base = path.basename(name);
  const extension = path.extname(base).toLowerCase();
  return { filename: base, filepath: `/scan/${base}`, extension, filetype: "", owner: "root" };
}

/** A finding reduced to what both engines must agree on: the rule and every string offset. */
export function signature(f: Finding): string {
  const strings = (f.strings ?? []).map((s) => `${s.id}@${s.offset}+${s.length}`).sort();
  return `${f.namespace}:${f.rule}${strings.length ? ` [${strings.join(" ")}]` : ""}`;
}

export interface Disagreement {
  file: string;
  auto: string[];
  oracle: string[];
}

export function compare(e: { auto: YaraEngine; oracle: YaraEngine }, name: string, data: Uint8Array): Disagreement | undefined {
  const ext = externalsFor(name);
  const a = e.auto.scan(data, ext).map(signature).sort();
  const o = e.oracle.scan(data, ext).map(signature).sort();
  if (a.join("\n") === o.join("\n")) return undefined;
  return { file: name, auto: a.filter((x) => !o.includes(x)), oracle: o.filter((x) => !a.includes(x)) };
}

/**
 * Files made to hit rules, from the rules' own strings: for each rule, its text and hex strings
 * rendered as bytes a match would contain (modifiers applied, wildcards filled, the shortest jump),
 * separated by filler, once as they are and once after an "MZ" header.
 */
export function filesFromRules(srcs: RuleSource[], perRule = 2): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  for (const s of srcs) {
    const parsed = parse(s.text, { file: s.name, namespace: s.namespace });
    if (!parsed.source) continue;
    for (const rule of parsed.source.rules) {
      const parts = rule.strings.map(render).filter((b): b is Uint8Array => b !== undefined);
      if (parts.length === 0) continue;
      const body = join(parts, Buffer.from("\n filler \n"));
      out.push({ name: `${rule.name}.bin`, data: body });
      if (perRule > 1) out.push({ name: `${rule.name}.exe`, data: Buffer.concat([Buffer.from("MZ\x90\x00"), Buffer.alloc(60), body]) });
    }
  }
  return out;
}

function join(parts: Uint8Array[], sep: Uint8Array): Uint8Array {
  const list: Uint8Array[] = [];
  for (const p of parts) list.push(p, sep);
  return Buffer.concat(list);
}

function render(d: StringDecl): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (d.kind === "text") bytes = d.value;
  else if (d.kind === "hex") bytes = Uint8Array.from(hexBytes(d.tokens));
  else return literalOfRegex(d.source);
  const m = d.modifiers;
  if (m.base64 || m.base64wide) {
    const b64 = Buffer.from(Buffer.from(bytes).toString("base64"));
    bytes = m.base64wide && !m.base64 ? widen(b64) : b64;
    return bytes;
  }
  if (m.xor) {
    const key = m.xor.min === 0 && m.xor.max > 0 ? 1 : m.xor.min;
    bytes = Uint8Array.from(m.wide && !m.ascii ? widen(bytes) : bytes, (b) => b ^ key);
    return bytes;
  }
  if (m.wide && !m.ascii) bytes = widen(bytes);
  return bytes;
}

function widen(b: Uint8Array): Uint8Array {
  const w = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) w[i * 2] = b[i]!;
  return w;
}

function hexBytes(tokens: HexToken[]): number[] {
  const out: number[] = [];
  for (const t of tokens) {
    if (t.type === "byte") out.push(t.not ? (t.value ^ 0xff) & 0xff : t.value & t.mask);
    else if (t.type === "jump") for (let i = 0; i < t.min; i++) out.push(0x41);
    else out.push(...hexBytes(t.alternatives[0] ?? []));
  }
  return out;
}

/** The literal text of a simple regex (escapes of punctuation undone), or nothing for others. */
function literalOfRegex(src: string): Uint8Array | undefined {
  const s = src.replace(/^\^/, "").replace(/\$$/, "");
  if (/[[\](){}|*+?.]/.test(s.replace(/\\./g, ""))) return undefined;
  if (/\\[a-zA-Z0-9]/.test(s)) return undefined;
  return Buffer.from(s.replace(/\\(.)/g, "$1"), "latin1");
}
