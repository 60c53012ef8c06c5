#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the selftest level: every suite as TAP (64-bit, then 32-bit
# through compat_ioctl), the module reloaded with strict_devmem=1, and
# unloading with live memory ranges.
suite() { echo "@@SUITE $1"; }

suite module.load
echo "1..1"
if insmod /lib/modules/bsdmem.ko; then
	echo "ok 1 insmod"
else
	echo "not ok 1 insmod"
	exit 1
fi

for t in dev_test ioctl_test extract_test range_test dump_test kdump_test mmap_test \
	 dev_test_32 ioctl_test_32 extract_test_32 range_test_32 dump_test_32 \
	 kdump_test_32; do
	suite "$t"
	/tests/$t
done

# Bounded, seeded fuzzing (64-bit, then 32-bit through compat) and stress.
export BSDMEM_FUZZ_COUNT=${BSDMEM_FUZZ_COUNT:-20000} BSDMEM_FUZZ_SECS=${BSDMEM_FUZZ_SECS:-15}
for t in fuzz_test fuzz_test_32 stress_test; do
	suite "$t"
	/tests/$t
done

# Real /dev/mem clients: dmidecode and biosdecode (Debian's packages).
suite clients_test
/tests/clients_test

suite dev_test.strict
rmmod bsdmem && insmod /lib/modules/bsdmem.ko strict_devmem=1 &&
	/tests/dev_test -r strict_devmem
# Strict, compared with the kernel's own strict /dev/mem.
for t in strict_test strict_test_32; do
	suite "$t"
	/tests/$t
done

suite rmmod.setup
rmmod bsdmem && insmod /lib/modules/bsdmem.ko && /tests/rmmod_test -r setup

suite module.unload
echo "1..2"
if rmmod bsdmem; then echo "ok 1 rmmod_with_live_ranges"; else echo "not ok 1 rmmod_with_live_ranges"; fi
if [ ! -e /dev/bsdmem ] && [ ! -e /dev/bsdkmem ] &&
   ! grep -q '^bsdmem ' /proc/modules; then
	echo "ok 2 devices_gone_after_unload"
else
	echo "not ok 2 devices_gone_after_unload"
fi

suite rmmod.verify
/tests/rmmod_test -r verify

# Poisoned pages are lost to the guest for good: after every other suite,
# before lockdown closes the devices.
suite poison_test
insmod /lib/modules/bsdmem.ko && /tests/poison_test
rmmod bsdmem

# Last: raising lockdown cannot be undone.
suite lockdown.runtime
insmod /lib/modules/bsdmem.ko && /tests/lockdown_test -r runtime
