# The NX-OS driver (internal/drivers/nxos): docs/nxos.md.
#   make test-nxos     the driver's tests, the emulator's, and the NX-OS end-to-end tests
#   make bench-nxos    sync of the haystack example against two emulated leaves, per commit mode
#   make nxos-leaves   leaf201/leaf202 emulators on 127.0.0.1:2211/2212 for
#                      examples/haystack/fabric-nxos.yaml (Ctrl-C stops them)
NXOS_RUN ?= test/nxossim/run

.PHONY: test-nxos bench-nxos fuzz-nxos nxos-leaves

test-nxos:
	$(GO) test -count=1 ./internal/drivers/nxos/... ./test/nxossim/...
	$(GO) test -count=1 -run 'NXOS' ./cmd/fabric-reconciler/

bench-areas: bench-nxos

bench-nxos:
	$(GO) test -run '^$$' -bench 'NXOSSync' -benchtime 20x ./cmd/fabric-reconciler/

fuzz: fuzz-nxos

# Short fuzz run of the NX-OS configuration parser, observe, the
# leftover-checkpoint comparison and the line planner.
fuzz-nxos:
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/drivers/nxos/

# The emulators keep their host keys in $(NXOS_RUN) and write them to
# $(NXOS_RUN)/known_hosts, which the example's ssh.knownHostsFile names.
# Add SESSIONS=1 to play switches whose configuration sessions take BGP
# lines (for nxos.commitMode: session).
nxos-leaves:
	@mkdir -p $(NXOS_RUN)
	$(GO) build -o $(NXOS_RUN)/nxossim ./test/nxossim/cmd/nxossim
	@rm -f $(NXOS_RUN)/known_hosts
	@extra=$$([ -n "$(SESSIONS)" ] && echo --session-all-features); \
	$(NXOS_RUN)/nxossim --listen 127.0.0.1:2211 --hostname leaf201 --username admin \
	  --password-file examples/haystack/secrets/nxos-password --config test/nxossim/demo/leaf201.cfg \
	  --host-key $(NXOS_RUN)/leaf201_host_key --known-hosts $(NXOS_RUN)/known_hosts $$extra & p1=$$!; \
	sleep 1; \
	$(NXOS_RUN)/nxossim --listen 127.0.0.1:2212 --hostname leaf202 --username admin \
	  --password-file examples/haystack/secrets/nxos-password --config test/nxossim/demo/leaf202.cfg \
	  --host-key $(NXOS_RUN)/leaf202_host_key --known-hosts $(NXOS_RUN)/known_hosts $$extra & p2=$$!; \
	trap 'kill $$p1 $$p2' INT TERM; \
	echo "nxos-leaves: try: go run ./cmd/fabric-reconciler sync --config examples/haystack/fabric-nxos.yaml --cluster-state examples/haystack/cluster"; \
	wait
