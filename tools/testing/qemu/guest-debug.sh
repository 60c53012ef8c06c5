#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the debug tier: bsdmem is built into a kernel with KASAN,
# UBSAN, lockdep, DEBUG_ATOMIC_SLEEP and kmemleak. The host fails the run
# on any report in the console; kmemleak is asked here, after a scan.
. /guest-lib.sh

# only leaks made while the tests ran count
kmemleak_start

export BSDMEM_FUZZ_COUNT=${BSDMEM_FUZZ_COUNT:-5000} BSDMEM_FUZZ_SECS=${BSDMEM_FUZZ_SECS:-20}
for t in dev_test ioctl_test extract_test range_test dump_test kdump_test \
	 mmap_test clients_test \
	 dev_test_32 ioctl_test_32 extract_test_32 range_test_32 dump_test_32 \
	 fuzz_test fuzz_test_32 stress_test; do
	suite "$t"
	/tests/$t
done

# Poisoned pages are lost to the guest for good: after every other suite
# (before the leak check, which covers it; before lockdown, which closes
# the devices).
suite poison_test
/tests/poison_test

kmemleak_check

# Lockdep turns itself off after its first report, or when it runs out of
# room: then the run above proved nothing about locking.
suite lockdep
echo "1..1"
if grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats; then
	echo "ok 1 lockdep_still_on"
else
	echo "not ok 1 lockdep_still_on"
	sed 's/^/# /' /proc/lockdep_stats 2>&1 | grep -E 'debug_locks|max' | head -5
fi

# Last: raising lockdown cannot be undone.
suite lockdown.runtime
/tests/lockdown_test -r runtime
