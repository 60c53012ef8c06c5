#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The selftest level for one stock kernel: boot it in QEMU with bsdmem and
# the static test programs, then summarise the guest's TAP.
#
# The QEMU timeouts are backstops for a guest that hangs as a whole: a
# test that stops making progress is stopped by the test harness itself.
# They leave room for a busy 2-core machine, several times a normal run.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
out=${BSDMEM_RESULTS:-$build/results}/guest-selftests-$kver

# A small virtio disk, so that a PCI BAR is claimed by a driver (busy):
# strict_test compares /dev/mem and /dev/bsdmem on it.
mkdir -p "$out"
truncate -s 1M "$out/disk.img"
"$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-selftests.sh" \
	-b "$build/tools/tests" -b "$build/tools/bin" -M zstd_compress \
	-M virtio_pci -M virtio_blk -d "$out/disk.img" \
	-o "$out" -t 3600
"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
	"$out/results.log" "$out/verdict"
main_rc=$?

# Booted locked down: the devices refuse to open.
rc=0
for mode in integrity confidentiality; do
	lout=${BSDMEM_RESULTS:-$build/results}/guest-lockdown-$mode-$kver
	"$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
		-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
		-s "$top/tools/testing/qemu/guest-lockdown.sh" \
		-b "$build/tools/tests" -M zstd_compress -a "lockdown=$mode" \
		-o "$lout" -t 1200
	"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
		"$lout/results.log" "$lout/verdict" || rc=1
done
# CPUs without MTRRs, with and without PAT: ENXIO and EOPNOTSUPP.
for cpu in qemu64,-mtrr qemu64,-mtrr,-pat; do
	cout=${BSDMEM_RESULTS:-$build/results}/guest-cpu-${cpu//,/_}-$kver
	"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -c "$cpu" \
		-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
		-s "$top/tools/testing/qemu/guest-cpu.sh" \
		-b "$build/tools/tests" -M zstd_compress -o "$cout" -t 1200
	"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
		"$cout/results.log" "$cout/verdict" || rc=1
done
# QEMU's max CPU: 5-level paging and machine-check-safe copies.
mout=${BSDMEM_RESULTS:-$build/results}/guest-cpu-max-$kver
"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -c max \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-cpu-max.sh" \
	-b "$build/tools/tests" -M zstd_compress -o "$mout" -t 3600
"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
	"$mout/results.log" "$mout/verdict" || rc=1
# Memory hotplug: a DIMM whose blocks go offline and online under pinned
# ranges, mappings, reads and dumps. An offline that hangs is bounded by
# the test (300 s), hence the generous guest timeout.
hout=${BSDMEM_RESULTS:-$build/results}/guest-hotplug-$kver
"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -D \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-hotplug.sh" \
	-b "$build/tools/tests" -M zstd_compress \
	-a memhp_default_state=offline -o "$hout" -t 3600
"$top/tools/testing/scripts/tap-summary.py" "selftests.$kver" \
	"$hout/results.log" "$hout/verdict" || rc=1
[ $main_rc -eq 0 ] && exit $rc
exit 1
