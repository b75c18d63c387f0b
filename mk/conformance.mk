# The driver conformance suite: docs/conformance.md.
#   make conformance   the suite's own tests, then its table against ACI (APIC emulator),
#                      NX-OS (emulator) and FRR (the network-namespace lab; needs root)
.PHONY: conformance

conformance:
	$(GO) test -count=1 ./internal/drivers/conformance/
	$(GO) test -count=1 -run '^TestConformance$$' ./internal/drivers/aci/ ./internal/drivers/nxos/ ./internal/drivers/frr/
