#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the debug tier's strict boot: bsdmem is built in and was
# given bsdmem.strict_devmem=1 on the command line; compare it with the
# kernel's own strict /dev/mem, then ask kmemleak.
. /guest-lib.sh

kmemleak_start

suite dev_test.strict
/tests/dev_test -r strict_devmem
for t in strict_test strict_test_32; do
	suite "$t"
	/tests/$t
done

kmemleak_check
