#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the debug tier's strict boot: bsdmem is built in and was
# given bsdmem.strict_devmem=1 on the command line; compare it with the
# kernel's own strict /dev/mem, then ask kmemleak.
suite() { echo "@@SUITE $1"; }
kml=/sys/kernel/debug/kmemleak

echo scan > $kml 2>/dev/null
echo clear > $kml 2>/dev/null

suite dev_test.strict
/tests/dev_test -r strict_devmem
for t in strict_test strict_test_32; do
	suite "$t"
	/tests/$t
done

suite kmemleak
echo "1..1"
if [ ! -e $kml ]; then
	echo "not ok 1 no_kmemleak_reports # no $kml"
else
	sleep 6
	echo scan > $kml
	echo scan > $kml
	if [ -s $kml ]; then
		sed 's/^/# /' $kml | head -60
		echo "not ok 1 no_kmemleak_reports"
	else
		echo "ok 1 no_kmemleak_reports"
	fi
fi
