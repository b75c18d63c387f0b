# fabric-reconciler: the two commands a newcomer needs are
#   make demo   plan for the reference lab, offline (no cluster, no switch)
#   make test   install what the tests need, then run every test
# and contributors' quick loop is
#   make test-short   the tests that need neither root nor a built
#                     kube-apiserver (go test -short), and what they skipped
GO        ?= go
BIN       := bin/fabric-reconciler
# Built test binaries (kube-apiserver, ...) are cached here between runs.
CACHE_DIR ?= $(HOME)/.cache/fabric-reconciler
export CACHE_DIR
FUZZTIME  ?= 10s

.PHONY: all build image demo test test-short setup lint unit fuzz secret-scan bench bench-areas bench-core clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/fabric-reconciler

# image: the OCI image, FROM scratch, built by podman without a daemon and
# tagged with the version (scripts/version.sh); IMAGE=<registry>/<name> to
# name it for a registry. test/deploy TestImage builds and runs it in make test.
image:
	scripts/build-image.sh

demo: build
	./$(BIN) plan --offline --config examples/haystack/fabric.yaml --cluster-state examples/haystack/cluster

# test: everything CI runs. Tests that need root, network namespaces or a
# built kube-apiserver are part of it; setup installs and builds what they need.
# test-faults (mk/faults.mk) runs the fault table and prints it.
test: setup lint build unit test-faults fuzz secret-scan

# test-short: the quick loop, no setup, no root. The tests that need root
# (the FRR/BIRD lab) or a built kube-apiserver skip themselves under -short,
# saying what they need; testsummary prints go test's usual lines, then those
# skips. In `make test` they run, and fail if what they need is missing.
test-short:
	$(GO) test -short -json ./... | $(GO) run ./test/testsummary

setup:
	scripts/setup-test-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The fault table runs in test-faults, which prints it. go test -json keeps
# everything the tests logged, passing ones included, for secret-scan;
# testsummary prints what go test prints without -v and judges the run.
TEST_OUT ?= $(CURDIR)/bin/test
unit:
	@rm -rf $(TEST_OUT) && mkdir -p $(TEST_OUT)
	$(GO) test -count=1 -json -skip '^TestFaultTable$$' ./... | tee $(TEST_OUT)/unit.json | $(GO) run ./test/testsummary

# secret-scan: no test secret (test/secretscan/passwords.txt: BGP, APIC and
# SSH passwords) in anything the suite printed or logged.
secret-scan:
	$(GO) run ./test/secretscan $(TEST_OUT) $(FAULTS_OUT)

# Short fuzz runs of the YAML loader, its direct decoders and Translate
# (go test -fuzz runs one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./internal/k8swatch/
	$(GO) test -run '^$$' -fuzz '^FuzzSlimScan$$' -fuzztime $(FUZZTIME) ./internal/k8swatch/
	$(GO) test -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME) ./internal/reconciler/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/k8swatch/selector/

# bench: the project's benchmark report (bench/main.go): one Markdown report
# of scale, APIC economy, Ansible side by side, FRR lab, convergence and the
# controller against a real kube-apiserver, printed and written to
# bench/RESULTS.md. About 15-20 minutes on 2 cores once `make setup` has
# built kube-apiserver; the FRR rows need root. Not part of `make test`.
# BENCH_FLAGS passes flags, e.g. BENCH_FLAGS='-only scale,apic' or -quick.
BENCH_FLAGS ?=
bench: setup
	$(GO) run ./bench $(BENCH_FLAGS)

# bench-areas: every area's own go test benchmarks (mk/*.mk add theirs).
bench-areas: bench-core

bench-core:
	$(GO) test -run '^$$' -bench . -benchmem ./fabric/ ./internal/reconciler/

clean:
	rm -rf bin

# Each area (drivers, labs, emulators, the controller) adds its targets in
# mk/<area>.mk; `bench-areas` gains their benchmarks as prerequisites there.
include $(wildcard mk/*.mk)
