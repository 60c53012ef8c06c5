#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug tier: the kernel run-kunit.sh builds from linux-source-6.12
# has bsdmem built in with KASAN, UBSAN, lockdep (PROVE_LOCKING),
# DEBUG_ATOMIC_SLEEP and kmemleak (drivers/bsdmem/.kunitconfig). Boot it
# again with the selftests, the fuzzer, stress and a dump of each kind;
# any sanitizer, lockdep, kmemleak, WARN or BUG report fails the level.
# Run after run-kunit.sh, which builds (and caches) the kernel.
#
#   run-debug-tier.sh [rt]
#
# rt boots the PREEMPT_RT kernel (no KASAN) run-kunit.sh builds with
# BSDMEM_KUNIT_VARIANT=rt (lockdep and DEBUG_ATOMIC_SLEEP with sleeping
# spinlocks, as on Debian's rt flavour), lines named debug-rt.*: the main
# boot and memory hotplug, the paths that take locks. Booting locked down
# or with strict_devmem=1 only refuses more, under the same locks.
#
# The QEMU timeouts are backstops for a guest that hangs as a whole, not a
# measure of how long a run may take: a test that stops making progress is
# stopped by the test harness itself. They leave room for this KASAN
# kernel under TCG on a busy 2-core machine, several times a normal run.
set -uo pipefail

top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
variant=${1:-}
case $variant in
'') level=debug ;;
rt) level=debug-rt ;;
*) echo "usage: $0 [rt]" >&2; exit 2 ;;
esac
out=${BSDMEM_RESULTS:-$build/results}/debug-tier${variant:+-$variant}
# The kernel run-kunit.sh built and booted in this run (its copy, made
# under its lock: the cached build tree is shared with other clones).
kbuild=${BSDMEM_RESULTS:-$build/results}/kunit${variant:+-$variant}-kernel
kimage=$kbuild/bzImage

if [ ! -f "$kimage" ]; then
	echo "not ok - $level.kernel_built # no $kimage: run-kunit.sh${variant:+ with BSDMEM_KUNIT_VARIANT=$variant} builds it"
	echo "RESULT $level 0 1 0"
	exit 1
fi
# The guest sees the kernel's own release and config (strict_test reads it).
kver=$(cat "$kbuild/kernel.release")
# RCU's stall report comes after 21 s by default, a figure for real
# hardware: under TCG, on a busy 2-core host, this KASAN and lockdep kernel
# has taken longer than that for a stop_machine() at boot (the TSC
# calibration), before bsdmem ran at all. Two minutes still reports a CPU
# that bsdmem would hold.
slow="rcupdate.rcu_cpu_stall_timeout=120"
guest() {
	"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -K "$kimage" \
		-C "$kbuild/.config" "$@"
}

guest -s "$top/tools/testing/qemu/guest-debug.sh" \
	-b "$build/tools/tests" -b "$build/tools/bin" \
	-a "kunit.enable=0 kmemleak=on $slow" -o "$out" -t 7200
"$top/tools/testing/scripts/tap-summary.py" "$level" "$out/results.log" \
	"$out/verdict"
rc=$?

# Memory hotplug: the guest needs ACPI memory hotplug to see the DIMM.
hout=$out-hotplug
if grep -qx 'CONFIG_ACPI_HOTPLUG_MEMORY=y' "$kbuild/.config"; then
	guest -D -s "$top/tools/testing/qemu/guest-hotplug.sh" \
		-b "$build/tools/tests" \
		-a "kunit.enable=0 memhp_default_state=offline $slow" -o "$hout" -t 7200
	"$top/tools/testing/scripts/tap-summary.py" "$level" "$hout/results.log" \
		"$hout/verdict" || rc=1
else
	echo "not ok - $level.hotplug.kernel_config # CONFIG_ACPI_HOTPLUG_MEMORY is not set in the debug kernel (drivers/bsdmem/.kunitconfig)"
	rc=1
fi
[ "$variant" = rt ] && exit $rc

# Booted locked down, the built-in driver itself must refuse.
for mode in integrity confidentiality; do
	lout=$out-lockdown-$mode
	guest -s "$top/tools/testing/qemu/guest-lockdown.sh" \
		-b "$build/tools/tests" -a "kunit.enable=0 lockdown=$mode $slow" \
		-o "$lout" -t 2400
	"$top/tools/testing/scripts/tap-summary.py" "$level" "$lout/results.log" \
		"$lout/verdict" || rc=1
done

# strict_devmem=1 is a parameter of the built-in driver: a boot of its own,
# compared with this kernel's STRICT_DEVMEM + IO_STRICT_DEVMEM /dev/mem.
# A small virtio disk, so that a PCI BAR is claimed by a driver (busy).
sout=$out-strict
mkdir -p "$sout"
truncate -s 1M "$sout/disk.img"
guest -s "$top/tools/testing/qemu/guest-strict.sh" -b "$build/tools/tests" \
	-d "$sout/disk.img" \
	-a "kunit.enable=0 kmemleak=on bsdmem.strict_devmem=1 $slow" -o "$sout" -t 7200
"$top/tools/testing/scripts/tap-summary.py" "$level" "$sout/results.log" \
	"$sout/verdict" || rc=1
exit $rc
