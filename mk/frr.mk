# The FRR driver's lab: two FRR leaves and Calico-style BIRD nodes
# in network namespaces; docs/frr.md. Needs root. The lab's tests run in
# `make unit` (go test ./...); these targets are for working by hand.
.PHONY: lab-up lab-down lab-status lab-reset bench-frr

lab-up:
	test/lab/lab.sh up

lab-down:
	test/lab/lab.sh down

lab-status:
	test/lab/lab.sh status

lab-reset:
	test/lab/lab.sh reset

# Median duration of `fabric-reconciler sync` on the lab (RUNS=7 by default).
bench-areas: bench-frr

bench-frr: build
	test/lab/bench-sync.sh ./$(BIN)

# Short fuzz runs of the FRR running-config parser (with observe and the
# line planner behind it) and of the CLI grammar.
fuzz: fuzz-frr

.PHONY: fuzz-frr
fuzz-frr:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRunningConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/drivers/frr/
	$(GO) test -run '^$$' -fuzz '^FuzzGrammar$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/drivers/cli/
