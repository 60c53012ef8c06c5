#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by guest scripts (run-guest.sh puts it at /guest-lib.sh).

suite() { echo "@@SUITE $1"; }

kml=/sys/kernel/debug/kmemleak

# Only leaks made after this count.
kmemleak_start() {
	echo scan > $kml 2>/dev/null
	echo clear > $kml 2>/dev/null
}

# One TAP suite: kmemleak reports objects unreferenced for 5 s, seen in
# two scans.
kmemleak_check() {
	suite kmemleak
	echo "1..1"
	if [ ! -e $kml ]; then
		echo "not ok 1 no_kmemleak_reports # no $kml"
		return
	fi
	sleep 6
	echo scan > $kml
	echo scan > $kml
	if [ -s $kml ]; then
		sed 's/^/# /' $kml | head -60
		echo "not ok 1 no_kmemleak_reports"
	else
		echo "ok 1 no_kmemleak_reports"
	fi
}
