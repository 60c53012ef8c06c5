#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The selftest level for one stock kernel: boot it in QEMU with bsdmem and
# the static test programs, then summarise the guest's TAP.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
out=${BSDMEM_RESULTS:-$build/results}/guest-selftests-$kver

"$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-selftests.sh" \
	-b "$build/tools/tests" -b "$build/tools/bin" -M zstd_compress \
	-o "$out" -t 900
"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
	"$out/results.log" "$out/verdict"
