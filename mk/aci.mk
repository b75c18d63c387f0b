# ACI driver, APIC emulator and Ansible conformance.
#   make test-aci     the ACI tests (driver, emulator, Ansible playbooks, sync end to end)
#   make apicsim      run the APIC emulator on 127.0.0.1:8443 with the haystack baseline tenant
#   make bench-aci    driver vs aci-go-client typed helpers against the emulator
APICSIM_LISTEN ?= 127.0.0.1:8443

.PHONY: test-aci apicsim bench-aci

test-aci:
	$(GO) test -count=1 ./internal/drivers/aci/... ./test/apicsim/... ./test/ansible/...
	$(GO) test -count=1 -run 'ACI' ./cmd/fabric-reconciler/

apicsim:
	$(GO) run ./test/apicsim --listen $(APICSIM_LISTEN) --password-file examples/haystack/secrets/apic-password \
		--seed examples/haystack/apic-baseline.json

bench-aci:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/drivers/aci/

bench-areas: bench-aci
