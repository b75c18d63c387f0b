# The fault table (docs/faults.md): every fault
# and partial input against a converged haystack fabric on the APIC
# emulator, two emulated NX-OS leaves and the FRR lab (root), with what the
# faulted run did, how long the next normal sync took to converge, and how
# many objects the cluster does not own were created, modified or deleted.
#   make test-faults   run the rows and print the table (bin/faults/fault-table.md)
# `make test` runs it after `unit`, which skips TestFaultTable.
FAULTS_OUT ?= $(CURDIR)/bin/faults

.PHONY: test-faults

test-faults: setup
	@rm -rf $(FAULTS_OUT) && mkdir -p $(FAULTS_OUT)
	@status=0; \
	$(GO) test -count=1 -json -run '^TestFaultTable$$' -parallel 8 -timeout 10m -artifacts -outputdir $(FAULTS_OUT) \
	  ./cmd/fabric-reconciler/ > $(FAULTS_OUT)/go-test.json; \
	$(GO) run ./test/testsummary < $(FAULTS_OUT)/go-test.json || status=$$?; \
	table=$$(find $(FAULTS_OUT)/_artifacts -name fault-table.md 2>/dev/null | head -n1); \
	if [ -n "$$table" ]; then cp "$$table" $(FAULTS_OUT)/fault-table.md; echo; cat $(FAULTS_OUT)/fault-table.md; \
	else echo "test-faults: no table was written" >&2; status=1; fi; \
	exit $$status
