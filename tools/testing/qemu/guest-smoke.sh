#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the smoke level: load the module, read and map through the
# devices, each ioctl of the ABI once (selftests chosen by name), one plain
# dump onto the virtio disk for the host to read, unload.
#
# Each step prints "@@T ok NAME", "@@T not ok NAME" or "@@T skip NAME why",
# with its details as "# " lines; run-smoke.sh turns them into TAP and
# reports every step that the guest never reported.

res() { echo "@@T $*"; }

# sel NAME PROG TEST: the selftest TEST of /tests/PROG (the harness's -r
# filter). It passes only if a test ran and none failed: a filter that
# matches nothing is a failure, and one whose tests all skipped a skip.
sel() {
	name=$1 prog=$2 filter=$3
	out=$(/tests/"$prog" -r "$filter" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	n=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
	nok=$(echo "$out" | grep -c '^ok ')
	skips=$(echo "$out" | grep '^ok .* # SKIP')
	if [ $rc -ne 0 ] || [ -z "$n" ] || [ "$n" -lt 1 ] ||
	   [ "$nok" -ne "$n" ]; then
		res "not ok $name"
	elif [ "$(echo "$skips" | grep -c .)" -eq "$n" ]; then
		res "skip $name $(echo "$skips" | sed -n '1s/.* # SKIP //p')"
	else
		res "ok $name"
	fi
}

echo "@@RELEASE $(uname -r)"
if insmod /lib/modules/bsdmem.ko; then
	res "ok insmod"
else
	res "not ok insmod"
	exit 1
fi

sel device_nodes dev_test device_nodes_are_0640_char_devices
sel kmem_read dev_test kmem_reads_linux_banner
sel mem_mmap dev_test mmap_own_page_shared
sel memrange_get range_test get_fill_mode_copies_min_of_request_and_total
sel memrange_get_compat32 range_test_32 get_fill_mode_copies_min_of_request_and_total
sel memrange_set range_test uncached_own_locked_page_and_back
sel mem_extract_paddr extract_test mapped_anon_page_matches_pagemap

# MEM_KERNELDUMP: one uncompressed dump, with a marker in the log that the
# host looks for in it.
marker="BSDMEM-SMOKE-$(cat /proc/sys/kernel/random/uuid)"
echo "$marker" > /dev/kmsg
echo "@@MARKER $marker"
out=$(/tests/dump-to-disk /dev/vda core 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc -eq 0 ] && echo "$out" | grep -q '^dumped core: [1-9]'; then
	res "ok mem_kerneldump"
else
	res "not ok mem_kerneldump"
fi

# livedump(8) -k -z: a kdump-compressed dump, numbered from bounds, as
# livecore.0.kdump (the format's signature first) in the directory
mkdir -p /tmp/crash
if /tests/livedump -q -k -z /tmp/crash &&
   [ "$(head -c 8 /tmp/crash/livecore.0.kdump)" = "KDUMP   " ] &&
   [ "$(cat /tmp/crash/bounds)" = 1 ]; then
	res "ok livedump_kdump"
else
	res "not ok livedump_kdump"
fi
rm -rf /tmp/crash

if rmmod bsdmem && [ ! -e /dev/bsdmem ] && [ ! -e /dev/bsdkmem ] &&
   ! grep -q '^bsdmem ' /proc/modules; then
	res "ok rmmod"
else
	res "not ok rmmod"
fi
