# Octave — build, test and demo targets. Run `make help` for the list.

GO        ?= go
# Go 1.27.3 brings the portable simd package (GOEXPERIMENT=simd); the
# toolchain is fetched through the module proxy the first time.
GO127     := GOTOOLCHAIN=go1.27.3
SIMD      := $(GO127) GOEXPERIMENT=simd
WASMPATH   = $(shell $(GO) env GOROOT)/lib/wasm
WASMPATH127 = $(shell $(GO127) $(GO) env GOROOT)/lib/wasm
# Packages whose tests also run as GOOS=js GOARCH=wasm under Node.
WASM_PKGS ?= ./octcore/... ./wasm/...

.PHONY: help help-check deps test test-native test-simd test-wasm test-wasm-simd vet bench fmt wasm test-js demo gallery test-web wasm-if-needed

# One line per target; make vet checks that every target is listed.
help:
	@echo "Run:"
	@echo "  make demo              build the wasm if stale and serve the demo page (PORT=8080)"
	@echo "  make worker-dev        the Cloudflare Worker in wrangler dev at 127.0.0.1:8787"
	@echo "Test:"
	@echo "  make test              every test below, after make deps and make vet"
	@echo "  make deps              install the Debian packages the tests need (as root), else print the command"
	@echo "  make vet               go vet (native, SIMD and both wasm builds) and gofmt"
	@echo "  make help-check        check that make help lists every target (part of make vet)"
	@echo "  make test-native       go test ./... (scalar kernels)"
	@echo "  make test-simd         go test ./... with Go 1.27.3 and GOEXPERIMENT=simd"
	@echo "  make test-wasm         octcore and wasm tests as GOOS=js GOARCH=wasm under Node (scalar)"
	@echo "  make test-wasm-simd    the same with the SIMD128 kernels"
	@echo "  make test-js           node:test tests of web/octave.js against both wasm builds"
	@echo "  make test-web          the demo page in headless Chromium"
	@echo "  make test-apps         the npm package packed and built in fixture apps (Vite, webpack, esbuild, CDN, Node, tsc)"
	@echo "  make test-worker       the built Worker in wrangler dev, checked over HTTP"
	@echo "  make bench-check       every bench engine's output agrees with Octave (no timing)"
	@echo "Build:"
	@echo "  make wasm              web/dist/: the SIMD and scalar wasm, wasm_exec.js, .br and .gz"
	@echo "  make wasm-if-needed    make wasm when a binary is missing or older than its sources"
	@echo "  make worker            the Cloudflare Worker in worker/build/ (models embedded), with its size"
	@echo "  make npm-deps          npm ci when wrangler is not installed"
	@echo "  make apps-deps         npm ci in web/test/apps/ when its lock file changed"
	@echo "  make fmt               gofmt -w the Go sources"
	@echo "  make gallery           regenerate the demo page's test images (web/gallery/)"
	@echo "Models:"
	@echo "  make models            the shipped models: seed 1 of the 20-epoch runs (trains missing runs)"
	@echo "  make models-runs       the 20-epoch runs over alpha and seeds (models/runs/, resumable)"
	@echo "  make models-chart      the model card, models/runs.json and the chart from the model files"
	@echo "  make models-throughput training throughput, Go against PyTorch (models/bench/throughput.txt)"
	@echo "Measure:"
	@echo "  make bench             Octave against TensorFlow.js, ONNX Runtime Web, PyTorch CPU (bench/RESULTS.md)"
	@echo "  make bench-smoke       the bench on the mini networks, 2 timed runs, outputs checked"
	@echo "  make bench-go          the Go benchmarks of octcore"
	@echo "  make verify-pytorch    import the five d-li14/octconv.pytorch architectures at 224x224, compare with PyTorch"
	@echo "  make bench-deps        npm ci in bench/ when its lock file changed"
	@echo "  make bench-tool        build the bench's native tool (bench/work/octave-bench)"
	@echo "  make load-test         500 classify requests against octave serve and the Worker"
	@echo "  make hostile-rss       issue 18's memory attacks on octave serve: peak RSS and statuses"
	@echo "  make bench-memory      octave.js wasm memory around a 3000x3000 image and its restart time (Node, Chromium)"
	@echo "  make help              this list"

# Fails when a target of this Makefile is missing from make help.
help-check:
	@listed="$$($(MAKE) -s help)"; bad=""; \
	for t in $$(grep -E '^[a-zA-Z][a-zA-Z0-9_-]*:([^=]|$$)' Makefile | cut -d: -f1); do \
		echo "$$listed" | grep -qE "^  make $$t( |$$)" || bad="$$bad $$t"; \
	done; \
	if [ -n "$$bad" ]; then echo "make help does not list:$$bad (add a line to the help target)" >&2; exit 1; fi

# The Debian packages that make test needs: chromium (test-web), the
# Fashion-MNIST data set (dataset tests, eval), PyTorch with its BLAS (the
# PyTorch reference tests, run with /usr/bin/python3).
SYSTEM_PKGS ?= chromium dataset-fashion-mnist python3-torch libopenblas0-pthread

# Installs the missing SYSTEM_PKGS when run as root; otherwise fails at once
# and prints the one command that installs them.
deps:
	@missing=""; for p in $(SYSTEM_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "make deps: installing the Debian packages$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
		echo "make test needs the Debian packages$$missing, which are not installed. Install them with:" >&2; \
		echo "  sudo apt-get install -y$$missing" >&2; \
		exit 1; \
	fi

test: deps vet test-native test-simd test-wasm test-wasm-simd wasm test-js test-web test-apps test-worker bench-check

vet: help-check
	$(GO) vet ./...
	$(SIMD) $(GO) vet ./octcore/... ./wasm/...
	GOOS=js GOARCH=wasm $(SIMD) $(GO) vet ./octcore/... ./wasm/...
	GOOS=js GOARCH=wasm $(GO) vet ./octcore/... ./wasm/...
	@test -z "$$(gofmt -l octcore cmd wasm worker server internal 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l octcore cmd wasm worker server internal; exit 1; }

test-native:
	$(GO) test ./...

test-simd:
	$(SIMD) $(GO) test ./...

test-wasm:
	PATH="$(WASMPATH):$$PATH" GOOS=js GOARCH=wasm $(GO) test $(WASM_PKGS)

test-wasm-simd:
	PATH="$(WASMPATH127):$$PATH" $(SIMD) GOOS=js GOARCH=wasm $(GO) test $(WASM_PKGS)

# The WebAssembly library: web/dist/octave.wasm (SIMD), octave-nosimd.wasm,
# wasm_exec.js, each with .gz and .br siblings (prints their sizes), and the
# two models the npm package ships.
wasm:
	$(GO) run ./cmd/buildwasm -out web/dist

# node:test tests of web/octave.js against both wasm builds (needs `make wasm`).
test-js: wasm
	node --test web/test/octave.test.js

# The Go benchmarks of octcore.
bench-go:
	$(SIMD) $(GO) test -run '^$$' -bench . -benchtime 3x ./octcore/

fmt:
	gofmt -w octcore cmd wasm worker server internal

# ---- demo page ----
PORT ?= 8080

# Rebuilds the wasm (make wasm) when a binary is missing or older than the Go
# sources it is built from.
wasm-if-needed:
	@if [ ! -f web/dist/octave.wasm ] || [ ! -f web/dist/octave-nosimd.wasm ] || [ ! -f web/dist/wasm_exec.js ] || \
	   [ ! -f web/dist/fashion-oct-a500.safetensors ] || [ ! -f web/dist/mnist-oct-a500.safetensors ] || \
	   [ -n "$$(find wasm octcore go.mod go.sum -newer web/dist/octave.wasm \( -name '*.go' -o -name '*.s' -o -name 'go.*' \) 2>/dev/null | head -1)" ]; then \
		$(MAKE) wasm; \
	fi

demo: wasm-if-needed
	$(GO) run ./cmd/demo -addr 127.0.0.1:$(PORT)

# Regenerates the test-image gallery of the demo page (committed).
gallery:
	$(GO) run ./cmd/gallery -out web/gallery

# The npm package in fixture apps (web/test/apps/: Vite, webpack 5, esbuild,
# another origin, Node ESM, TypeScript): npm pack, installed and built offline
# from the apps' package-lock.json, run in headless Chromium.
.PHONY: test-apps apps-deps
apps-deps:
	@if [ ! -f web/test/apps/node_modules/.package-lock.json ] || [ web/test/apps/package-lock.json -nt web/test/apps/node_modules/.package-lock.json ]; then \
		cd web/test/apps && npm ci --no-audit --no-fund; \
	fi

test-apps: wasm-if-needed apps-deps
	@test -d node_modules/playwright-core || npm ci --no-audit --no-fund
	node --test web/test/apps.test.mjs

# Browser tests of the demo page: playwright-core driving Debian's chromium.
test-web: wasm-if-needed
	@test -d node_modules/playwright-core || npm ci --no-audit --no-fund
	node --test web/test/page*.test.mjs

# ---- Trained models ------------------------------------------------------
# The shipped files are seed MODEL_SEED of the 20-epoch runs below: `make models`
# copies models/runs/NAME-aMMM-sSEED-eEPOCHS.safetensors to
# models/weights/NAME-aMMM.safetensors, training the run first (make models-runs,
# resumable) when it is missing, then regenerates the model card.
# Run it in the background: nohup make models > models/train.log 2>&1 &
MODEL_EPOCHS ?= 20
MODEL_SEED   ?= 1
# set:alpha in thousandths (the file name):alpha (the flag value).
MODEL_RUNS   ?= fashion:500:0.5 mnist:500:0.5 fashion:0:0 fashion:250:0.25 fashion:750:0.75 fashion:125:0.125
MODEL_BIN    := models/checkpoints/octave

.PHONY: models models-runs models-chart models-throughput

# The 20-epoch recipe of issue 16: every alpha and seed the card's
# accuracy-against-alpha table reports, into models/runs/NAME-aMMM-sS-eEPOCHS
# (.safetensors and the per-epoch .log), skipping finished files and resuming
# from models/checkpoints/. Each run's time is its train_seconds in
# models/runs.json (28-37 min here on a shared 2-core machine).
# Run it in the background: nohup make models-runs > models/runs.log 2>&1 &
RUN_EPOCHS ?= 20
RUN_FLAGS ?= --width 1 --epochs $(RUN_EPOCHS) --batch 128 --lr 0.1 --wd 5e-4 --workers 2
RUN_LIST  ?= fashion:0:0:1 fashion:500:0.5:1 fashion:500:0.5:2 fashion:0:0:2 fashion:500:0.5:3 \
             fashion:0:0:3 fashion:250:0.25:1 fashion:125:0.125:1 fashion:750:0.75:1 mnist:500:0.5:1 \
             fashion:250:0.25:2 fashion:250:0.25:3 fashion:125:0.125:2 fashion:125:0.125:3 \
             fashion:750:0.75:2 fashion:750:0.75:3
models-runs:
	@test -d /usr/share/datasets/fashion-mnist || apt-get install -y dataset-fashion-mnist || sudo apt-get install -y dataset-fashion-mnist
	@mkdir -p models/checkpoints models/runs
	$(SIMD) $(GO) build -o $(MODEL_BIN) ./cmd/octave
	@for run in $(RUN_LIST); do \
		set=$${run%%:*}; rest=$${run#*:}; milli=$${rest%%:*}; rest=$${rest#*:}; alpha=$${rest%%:*}; seed=$${rest#*:}; \
		ds=$$set; [ $$set = fashion ] && ds=fashion-mnist; \
		out=models/runs/$$set-oct-a$$(printf %03d $$milli)-s$$seed-e$(RUN_EPOCHS); \
		if [ -f $$out.safetensors ]; then echo "== $$out.safetensors exists, skipping"; continue; fi; \
		echo "== training $$out.safetensors"; \
		{ $(MODEL_BIN) train --dataset $$ds --alpha $$alpha $(RUN_FLAGS) --seed $$seed --out $$out.safetensors --resume 2>&1; echo "exit $$?"; } | tee $$out.full.log; \
		tail -n 1 $$out.full.log | grep -qx 'exit 0' || { echo "training $$out failed: see $$out.full.log"; exit 1; }; \
		tr '\r' '\n' < $$out.full.log | grep -E '^(epoch [0-9]+/[0-9]+:|test acc)' > $$out.log; rm -f $$out.full.log; \
	done
	$(GO) run ./models/card

models:
	@$(MAKE) --no-print-directory models-runs RUN_EPOCHS=$(MODEL_EPOCHS) RUN_LIST="$(foreach r,$(MODEL_RUNS),$(r):$(MODEL_SEED))"
	@mkdir -p models/weights
	@for run in $(MODEL_RUNS); do \
		set=$${run%%:*}; rest=$${run#*:}; milli=$${rest%%:*}; \
		name=$$set-oct-a$$(printf %03d $$milli); \
		src=models/runs/$$name-s$(MODEL_SEED)-e$(MODEL_EPOCHS).safetensors; out=models/weights/$$name.safetensors; \
		if cmp -s $$src $$out; then echo "== $$out is $$src"; else cp $$src $$out && echo "== $$out <- $$src"; fi; \
	done
	$(GO) run ./models/card

# Model card and accuracy chart from the shipped files' metadata.
# Training throughput, Go (one and two workers) against single-thread PyTorch
# (Debian's python3-torch), written to models/bench/throughput.txt for the card.
models-throughput:
	{ echo "# written by make models-throughput on $$(date -u +%Y-%m-%dT%H:%MZ), load average $$(cut -d' ' -f1-3 /proc/loadavg), $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || echo no AVX-512)"; \
	  $(SIMD) $(GO) test -run '^$$' -bench TrainStep -benchtime 3x ./octcore/train/ | grep Bench; \
	  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 models/bench/torch_train_bench.py --threads 1; } > models/bench/throughput.txt

models-chart:
	$(GO) run ./models/card

# ---- Bench harness (issue 8) ------------------------------------------------
# Octave (wasm SIMD, wasm scalar, native) against TensorFlow.js (wasm, cpu) and
# ONNX Runtime Web on the same networks and weights, one thread, in Node and
# headless Chromium: writes bench/results.json, bench/RESULTS.md and
# bench/results.png. Its npm dependencies live in bench/package.json.
# For the final numbers, pause other CPU work (see bench/README.md).
BENCH_TOOL := bench/work/octave-bench
BENCH_FLAGS ?=

.PHONY: bench bench-smoke bench-check bench-deps bench-tool bench-go

bench-deps:
	@if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then \
		cd bench && npm ci --no-audit --no-fund; \
	fi

bench-tool:
	@mkdir -p bench/work
	$(SIMD) $(GO) build -o $(BENCH_TOOL) ./bench/tool

bench: wasm-if-needed bench-deps bench-tool
	node bench/bench.mjs --tool $(BENCH_TOOL) $(BENCH_FLAGS)

# Mini networks only, 2 timed runs: checks that every engine's output agrees
# with Octave native (no timing is asserted); writes to bench/work/smoke/.
bench-smoke: wasm-if-needed bench-deps bench-tool
	node bench/bench.mjs --tool $(BENCH_TOOL) --smoke --check $(BENCH_FLAGS)

# Correctness only, in Node (part of make test): the timing loop's own tests
# (bench/lib/engines.test.mjs, a fake engine) and the report's first-load section
# (bench/report.test.mjs), then every engine's output on the
# mini network (alpha 0 and 0.5, and 0.5 at an odd 27x25 input) agrees with
# Octave native; one timed run, no timing asserted.
bench-check: wasm-if-needed bench-deps bench-tool
	node --test bench/lib/engines.test.mjs bench/report.test.mjs
	node bench/bench.mjs --tool $(BENCH_TOOL) --smoke --check --runtimes node --runs 1 --warm-ms 0 --cases mini-a000,mini-a500,mini-a500-27x25

# ---- Edge server (issue 7) ---------------------------------------------------
# `make worker` builds the Cloudflare Worker into worker/build/ (app.wasm with the
# models embedded, worker.mjs, wasm_exec.js, the page under public/) and prints
# its compressed size against Cloudflare's limits. WORKER_FLAGS=-simd=false builds
# the scalar engine with the local toolchain.
WORKER_FLAGS ?=
# wrangler never reaches the network: no telemetry, error reports, update
# banner or Request.cf download; no login is needed for dev.
WRANGLER_ENV := WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true CLOUDFLARE_CF_FETCH_ENABLED=false
WRANGLER     := node_modules/.bin/wrangler

.PHONY: worker worker-dev test-worker load-test npm-deps

npm-deps:
	@test -x $(WRANGLER) || npm ci --no-audit --no-fund

worker: wasm-if-needed
	$(GO) run ./worker/cmd/buildworker -go $(GO) $(WORKER_FLAGS)

# The worker in wrangler dev (workerd, local mode) at 127.0.0.1:8787.
worker-dev: worker npm-deps
	cd worker && $(WRANGLER_ENV) ../$(WRANGLER) dev --ip 127.0.0.1 --port 8787 --show-interactive-dev-session=false

# The built worker in wrangler dev, checked over HTTP (worker/worker_test.go).
test-worker: worker npm-deps
	OCTAVE_WORKER_E2E=1 $(GO) test -count=1 -v -run '^TestWorker$$' ./worker/

# 500 classify requests at concurrency 8 against `octave serve` and the worker
# in wrangler dev, on loopback; numbers in docs/DEPLOY.md. Not part of `make test`.
LOAD_FLAGS ?= -n 500 -c 8 -timeout 3m
load-test: worker npm-deps
	@mkdir -p build
	$(GO) build -o build/octave ./cmd/octave
	$(GO) run ./worker/cmd/loadtest $(LOAD_FLAGS) -- build/octave serve --addr 127.0.0.1:0 --quiet --models worker/models
	$(GO) run ./worker/cmd/loadtest $(LOAD_FLAGS) -dir worker -wrangler -- ../$(WRANGLER) dev --ip 127.0.0.1 --port 0 --inspector-port 0 --show-interactive-dev-session=false

# Issue 18's memory attacks (tiny image bombs at concurrency 16, a mixed load of
# 2,000 requests) against `octave serve` on loopback, a fresh server for each:
# prints each run's peak RSS (VmHWM) and statuses, fails over HOSTILE_BOUND MB
# or on any 5xx or dropped connection. Not part of `make test`.
HOSTILE_BOUND ?= 512
HOSTILE_FLAGS ?=
.PHONY: hostile-rss
# octave.js's wasm memory before, at the peak of and after a 3000x3000 image,
# and the restart that releases it (docs/API.md, "Memory"); prints, asserts nothing.
.PHONY: bench-memory
bench-memory: wasm-if-needed
	node bench/memory.mjs

hostile-rss:
	@mkdir -p build
	$(GO) build -o build/octave ./cmd/octave
	$(GO) build -o build/hostilerss ./cmd/hostilerss
	nice -n 10 build/hostilerss -bound $(HOSTILE_BOUND) $(HOSTILE_FLAGS) -- build/octave serve --addr 127.0.0.1:0 --web "" --quiet --models models/weights

# octave import / octave run against PyTorch (Debian's python3-torch) for the
# five d-li14/octconv.pytorch architectures at full size: per architecture the
# import times and the logit differences (docs/IMPORT.md). make test runs the
# 64x64 version (cmd/octave TestImportAgainstPyTorch).
.PHONY: verify-pytorch
verify-pytorch:
	@mkdir -p build
	$(GO) build -o build/octave ./cmd/octave
	/usr/bin/python3 tools/pytorch/verify.py --octave build/octave
