# The controller: informers, the reconcile loop, `run`, and its
# tests against a real kube-apiserver (built and cached by
# scripts/setup.d/50-kube-apiserver.sh; `make setup` runs it).

.PHONY: test-controller bench-controller

CONTROLLER_PKGS := ./internal/k8swatch/... ./internal/reconciler/... ./internal/controller/... ./test/kubeapi/... ./test/deploy/... ./test/memfabric/... ./cmd/fabric-reconciler/...

# The controller's tests alone (they are also part of `make unit`).
test-controller: setup
	$(GO) test -count=1 $(CONTROLLER_PKGS)

bench-areas: bench-controller

# Time from a Service status patch to the fabric's write, p50/p99 over 200
# changes, with the default debounce (200 ms) and a short one.
bench-controller: setup
	$(GO) test -run '^$$' -bench '^BenchmarkStatusPatchToApply$$' -benchtime 1x -timeout 30m ./internal/controller/
