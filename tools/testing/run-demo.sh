#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the newest stock kernel in QEMU, load bsdmem, show it.
set -euo pipefail

top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
kver=$("$top/tools/testing/scripts/kernels.sh" | tail -n 1)
out=$build/demo

echo "Booting Debian's stock $kver in QEMU (TCG) with bsdmem..."
if ! "$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-demo.sh" \
	-b "$build/tools/bin" -M zstd_compress -o "$out" -t 300; then
	cat "$out/results.log"
	exit 1
fi
grep -v '^@@' "$out/results.log"
grep -q 'bsdmem demo: it works' "$out/results.log"
