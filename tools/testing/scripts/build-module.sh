#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build bsdmem.ko for one kernel in build/<kver>/, with W=1 and sparse;
# any warning fails. Prints a TAP line and keeps the log.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../../..")
build=${BUILD:-$top/build}
dir="$build/$kver"
log="$dir/build.log"

mkdir -p "$dir"
rsync -a --delete "$top/drivers" "$top/include" "$dir/"
# BTF for modules needs the kernel's vmlinux, which headers do not ship.
make -C "/lib/modules/$kver/build" M="$dir/drivers/bsdmem" W=1 C=2 \
	CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$log" 2>&1
rc=$?
warn=$(grep -E 'warning:|error:|Error ' "$log")
if [ $rc -ne 0 ] || [ -n "$warn" ] || [ ! -f "$dir/drivers/bsdmem/bsdmem.ko" ]; then
	sed 's/^/# /' "$log" | tail -40
	echo "not ok - build.$kver.module_w1_sparse_clean"
	exit 1
fi
echo "ok - build.$kver.module_w1_sparse_clean"
