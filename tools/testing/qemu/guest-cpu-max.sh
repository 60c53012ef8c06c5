#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the boot with QEMU's "max" CPU: 5-level paging (LA57),
# so kernel addresses, page-table walks and dumps see the wide layout, and
# fast string moves (ERMS), so RAM is read with copy_mc_to_kernel().
suite() { echo "@@SUITE $1"; }

suite cpu_max.features
echo "1..2"
if grep -qw la57 /proc/cpuinfo; then echo "ok 1 la57"; else echo "not ok 1 la57"; fi
if grep -qw erms /proc/cpuinfo; then echo "ok 2 erms"; else echo "not ok 2 erms"; fi

insmod /lib/modules/bsdmem.ko || exit 1
for t in dev_test mmap_test extract_test dump_test; do
	suite "cpu_max.$t"
	/tests/$t
done
