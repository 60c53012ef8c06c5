#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the memory hotplug boot (run-guest.sh -D, kernel argument
# memhp_default_state=offline): ACPI adds the DIMM's memory blocks offline.
# Online them movable, so that user pages can live there and the blocks
# can go offline again, then run hotplug_test.
suite() { echo "@@SUITE $1"; }
mem=/sys/devices/system/memory

suite hotplug.setup
echo "1..2"
# stock kernels load the module; the debug kernel has bsdmem built in
[ -e /lib/modules/bsdmem.ko ] && insmod /lib/modules/bsdmem.ko
if [ -c /dev/bsdmem ]; then
	echo "ok 1 module_loaded"
else
	echo "not ok 1 module_loaded"
fi

# The DIMM's blocks are the ones bound to its ACPI device (PNP0C80).
n=0 bad=0
for b in $mem/memory*; do
	case $(readlink "$b/firmware_node" 2>/dev/null) in
	*PNP0C80*) ;;
	*) continue ;;
	esac
	n=$((n + 1))
	[ "$(cat "$b/state")" = online ] || echo online_movable > "$b/state"
	state=$(cat "$b/state") zones=$(cat "$b/valid_zones")
	if [ "$state" != online ] || [ "$zones" != Movable ]; then
		echo "# ${b##*/}: $state, zones $zones"
		bad=$((bad + 1))
	fi
done
echo "# $n DIMM memory blocks of $(cat $mem/block_size_bytes 2>/dev/null) bytes (hex)"
if [ $n -eq 0 ]; then
	echo "# no DIMM memory blocks: run-guest.sh -D, CONFIG_ACPI_HOTPLUG_MEMORY?"
	echo "not ok 2 dimm_blocks_online_movable"
elif [ $bad -ne 0 ]; then
	echo "not ok 2 dimm_blocks_online_movable"
else
	echo "ok 2 dimm_blocks_online_movable"
fi

suite hotplug_test
/tests/hotplug_test
