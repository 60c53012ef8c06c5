#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the differential reader check (run-readers.sh): with the
# hot-plugged DIMM online (run-guest.sh -D, memhp_default_state=offline),
# a whole-RAM dump and a minidump, back to back, on a quiet guest: the
# host walks the kernel's structures in the first and reads every page
# the walk touched in the second.
mem=/sys/devices/system/memory
insmod /lib/modules/bsdmem.ko || exit 1
# Online the DIMM's blocks (bound to its ACPI device, PNP0C80) movable:
# their struct pages are a high-order allocation of node 1.
n=0
for b in $mem/memory*; do
	case $(readlink "$b/firmware_node" 2>/dev/null) in
	*PNP0C80*) ;;
	*) continue ;;
	esac
	[ "$(cat "$b/state")" = online ] || echo online_movable > "$b/state"
	[ "$(cat "$b/state")" = online ] && n=$((n + 1))
done
echo "@@DIMM_BLOCKS $n"
echo "@@RELEASE $(uname -r)"
grep -qw pti /proc/cpuinfo && echo "@@PTI on"
# Let the boot's deferred work finish; then nothing runs but the dumps.
sync
sleep 2
/tests/dump-to-disk /dev/vda whole.zst core.zst
