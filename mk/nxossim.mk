# test/nxossim: the NX-OS switch emulator (docs/nxossim.md).
.PHONY: test-nxossim bench-nxossim nxossim-demo

NXOSSIM_PASSWORD_FILE ?= $(CACHE_DIR)/nxossim-password

# The emulator's tests also run in `make unit`; this target runs only them.
test-nxossim:
	$(GO) test -count=1 ./test/nxossim/...

bench-nxossim:
	$(GO) test -run '^$$' -bench . -benchmem ./test/nxossim/

bench-areas: bench-nxossim

# An emulated leaf201 on 127.0.0.1:2222 for demos. The password is generated
# into NXOSSIM_PASSWORD_FILE (mode 600) unless the file exists.
nxossim-demo:
	@mkdir -p $(dir $(NXOSSIM_PASSWORD_FILE))
	@[ -s $(NXOSSIM_PASSWORD_FILE) ] || (umask 077; head -c 18 /dev/urandom | base64 > $(NXOSSIM_PASSWORD_FILE))
	@echo "nxossim: log in with: ssh -p 2222 admin@127.0.0.1 (password in $(NXOSSIM_PASSWORD_FILE))"
	$(GO) run ./test/nxossim/cmd/nxossim --listen 127.0.0.1:2222 --username admin \
	  --password-file $(NXOSSIM_PASSWORD_FILE) --hostname leaf201 --config test/nxossim/demo/leaf201.cfg
