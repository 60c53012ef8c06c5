# SPDX-License-Identifier: GPL-2.0
#
# bsdmem top level.
#   make demo    install what is missing, build, boot a stock kernel in QEMU
#                with bsdmem loaded and show it working
#   make check   install what is missing and run every test level
#   make bench   benchmarks in QEMU; table printed and written to build/bench.txt
#   make         build the module for every stock kernel, and the tools
#
# The module alone, for the running kernel (what DKMS does):
#   make -C /lib/modules/$(uname -r)/build M=$PWD/drivers/bsdmem

BUILD ?= $(CURDIR)/build
KVERS ?= $(shell tools/testing/scripts/kernels.sh 2>/dev/null)
export BUILD

all: modules tools

deps:
	@tools/testing/scripts/install-deps.sh

deps-demo:
	@NEED_KUNIT=0 NEED_DBG=0 NEED_FLAVOURS=0 tools/testing/scripts/install-deps.sh

# One build tree per kernel, so 6.1 and 6.12 objects never mix. Warnings
# (W=1, sparse C=2) fail the build.
modules:
	@test -n "$(KVERS)" || { echo "no stock kernel installed: run 'make deps'"; exit 1; }
	@for k in $(KVERS); do tools/testing/scripts/build-module.sh $$k || exit 1; done

tools:
	@$(MAKE) -s -C tools OUT=$(BUILD)/tools

check: deps
	@tools/testing/run-check.sh

demo: deps-demo modules tools
	@tools/testing/run-demo.sh

bench: deps-demo modules tools
	@tools/testing/run-bench.sh

lint:
	@tools/testing/scripts/checkpatch.sh

clean:
	rm -rf $(BUILD)
	$(MAKE) -s -C tools clean OUT=$(BUILD)/tools

.PHONY: all deps deps-demo modules tools check demo bench lint clean
