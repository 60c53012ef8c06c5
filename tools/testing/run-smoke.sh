#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The smoke level for one kernel: a short guest that loads bsdmem, reads
# and maps through the devices, makes each ioctl of the ABI once (selftests
# chosen by name, MEMRANGE_GET through compat too), writes one plain dump
# onto a virtio disk, and unloads; on the host vmcore-dmesg must find the
# guest's marker in that dump. Cheap enough for every flavour kernel
# (cloud, rt), where the full selftests are not run.
#
#   run-smoke.sh KVER
#
# TAP lines "ok - smoke.KVER.NAME", then "RESULT smoke.KVER pass fail skip";
# exit status 1 when anything failed. A step the guest never reported (it
# hung, panicked or did not boot) is "not ok", never left out.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
out=${BSDMEM_RESULTS:-$build/results}/smoke-$kver
lvl="smoke.$kver"
ko="$build/$kver/drivers/bsdmem/bsdmem.ko"
tests="$build/tools/tests"
pass=0 fail=0 skip=0
# the guest's steps (guest-smoke.sh), in order
steps="insmod device_nodes kmem_read mem_mmap memrange_get
       memrange_get_compat32 memrange_set mem_extract_paddr mem_kerneldump
       rmmod"

ok() { echo "ok - $lvl.$1"; pass=$((pass + 1)); }
nok() { echo "not ok - $lvl.$1"; [ $# -gt 1 ] && echo "# $2"; fail=$((fail + 1)); }
skp() { echo "ok - $lvl.$1 # SKIP $2"; skip=$((skip + 1)); }
finish() { echo "RESULT $lvl $pass $fail $skip"; [ $fail -eq 0 ]; exit $?; }

mkdir -p "$out"
rm -f "$out"/core* "$out/index"
for f in "$ko" "$tests/dump-to-disk" "$tests/dev_test" "$tests/range_test_32"; do
	if [ ! -f "$f" ]; then
		nok prerequisites "no $f: build-module.sh $kver and make tools"
		finish
	fi
done
# installed, or fetched into the cache (fetch-kernel.sh): run-guest.sh
# boots either
cached=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}/kernels/$kver/root/boot/vmlinuz-$kver
if [ ! -f "/boot/vmlinuz-$kver" ] && [ ! -f "$cached" ]; then
	nok prerequisites "no /boot/vmlinuz-$kver (install-deps.sh) nor $cached (fetch-kernel.sh)"
	finish
fi

disk="$out/disk.img"
truncate -s 0 "$disk"
truncate -s 1G "$disk"
"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -m "$ko" \
	-s "$top/tools/testing/qemu/guest-smoke.sh" -b "$tests" \
	-b "$build/tools/bin" \
	-M virtio_pci -M virtio_blk -M zstd_compress \
	-d "$disk" -o "$out/guest" -t 900
verdict=$(cat "$out/guest/verdict" 2>/dev/null || echo "no verdict")

# The guest's steps, with their details; then the ones it never reported.
results="$out/guest/results.log"
tr -d '\r' 2>/dev/null < "$results" > "$out/results.txt"
seen=" "
while IFS= read -r line; do
	case $line in
	"# "*) echo "$line" ;;
	"@@T ok "*) name=${line#@@T ok }; ok "$name"; seen="$seen$name " ;;
	"@@T not ok "*) name=${line#@@T not ok }; nok "$name"; seen="$seen$name " ;;
	"@@T skip "*)
		name=${line#@@T skip }
		skp "${name%% *}" "${name#* }"
		seen="$seen${name%% *} " ;;
	esac
done < "$out/results.txt"
for s in $steps; do
	case $seen in
	*" $s "*) ;;
	*) nok "$s" "not reported by the guest: $verdict" ;;
	esac
done
# Oops, BUG (sleeping in atomic context included), WARN, panic, lockdep.
if [ "$verdict" = ok ]; then
	ok guest_console_clean
else
	nok guest_console_clean "$verdict"
	grep -E -m 5 -A 3 -f "$top/tools/testing/qemu/console-bad.ere" \
		"$out/guest/console.log" 2>/dev/null | sed 's/^/# /'
fi

# The dump, read on the host.
marker=$(sed -n 's/^@@MARKER //p' "$out/results.txt")
head -c 4096 "$disk" | tr -d '\0' > "$out/index"
read -r name off len < <(grep '^core ' "$out/index") || true
if [ "${name:-}" != core ] || [ -z "$marker" ]; then
	nok dump_vmcore_dmesg "no dump on the disk (index: $(tr '\n' ' ' < "$out/index"))"
	finish
fi
dd if="$disk" of="$out/core" bs=1M iflag=skip_bytes,count_bytes \
	skip="$off" count="$len" status=none
if vmcore-dmesg "$out/core" > "$out/core.dmesg" 2>&1 &&
   grep -qF "$marker" "$out/core.dmesg"; then
	ok dump_vmcore_dmesg
	rm -f "$disk" "$out/core"
else
	nok dump_vmcore_dmesg "the marker is not in vmcore-dmesg's log: see $out/core.dmesg"
fi
finish
