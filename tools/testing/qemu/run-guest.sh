#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a stock Debian kernel under QEMU (TCG only: KVM hangs on our build
# machines) with a busybox initramfs holding bsdmem.ko, the stock modules
# it needs and static test programs, run a guest script, and collect what
# it prints over a second serial port.
#
#   run-guest.sh -k KVER -m MODULE.ko -s GUEST_SCRIPT -o OUTDIR
#                [-b BINDIR]... [-M stock_module]... [-t TIMEOUT]
#                [-a "extra kernel args"] [-d DISK_IMAGE] [-K BZIMAGE]
#                [-c QEMU_CPU_MODEL] [-D] [-C KERNEL_CONFIG] [-r NODE_MIB]
#                [-p NCPUS] [-Q]
#
# -K boots a kernel of our own (bsdmem built in, so no -m) instead of
# /boot/vmlinuz-KVER; give its release as KVER and its .config as -C.
#
# A stock kernel not installed on the host (no /boot/vmlinuz-KVER) is
# taken from the cache, as fetch-kernel.sh left it: its image, config
# and modules under $BSDMEM_CACHE/kernels/KVER/root.
#
# -C is the kernel's config, found in the guest as /boot/config-KVER
# (default: the host's /boot/config-KVER, when there is one).
#
# -p sets the number of vCPUs (default 2).
#
# -D adds a hot-pluggable 1 GiB DIMM on node 1 (pc-dimm, present from
# boot, so ACPI adds its memory blocks; the guest onlines them): the
# memory hotplug tests offline and online it.
#
# -r is the size of each of the two NUMA nodes in MiB (default 1024, a
# multiple of the 128 MiB memory block): less RAM, smaller whole-RAM dumps.
#
# -Q lets the guest script have QEMU dump the guest (the reference the
# level run-debugging.sh compares bsdmem's dumps with): a line
# "@@QEMU-DUMP NAME" of the script has QEMU write an ELF dump of all guest
# memory to OUTDIR/NAME (dump-guest-memory over QMP, by qemu-dump.py; the
# guest is stopped meanwhile), then one byte goes to the guest's
# /dev/ttyS2: "Y" when the dump was written, "N" otherwise. The script
# opens /dev/ttyS2 (raw, no echo) before it asks, and reads the byte.
# -Q also adds a vmcoreinfo device: load the guest's qemu_fw_cfg (-M
# qemu_fw_cfg) for QEMU's dump to have a VMCOREINFO note.
#
# OUTDIR/console.log gets the kernel console, OUTDIR/results.log the
# script's output. Exit status: 0 when the guest finished its script and
# the kernel reported no oops, BUG, WARN or panic; 1 otherwise (the reason
# is printed and written to OUTDIR/verdict).
set -euo pipefail

kver="" module="" script="" out="" timeout=600 append="" disk="" kimage=""
kconfig=""
cpu=qemu64 node=1024 hotplug="" ncpus=2
bindirs=() stock=() dimm=() qdump=0
while getopts "k:m:s:o:b:M:t:a:d:K:c:C:Dr:p:Q" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	m) module=$OPTARG ;;
	s) script=$OPTARG ;;
	o) out=$OPTARG ;;
	b) bindirs+=("$OPTARG") ;;
	M) stock+=("$OPTARG") ;;
	t) timeout=$OPTARG ;;
	a) append=$OPTARG ;;
	d) disk=$OPTARG ;;
	K) kimage=$OPTARG ;;
	c) cpu=$OPTARG ;;
	C) kconfig=$OPTARG ;;
	D) hotplug=1 ;;
	r) node=$OPTARG ;;
	p) ncpus=$OPTARG ;;
	Q) qdump=1 ;;
	*) echo "usage: see the header of $0" >&2; exit 2 ;;
	esac
done
case $node in
''|*[!0-9]*) echo "run-guest: -r takes MiB" >&2; exit 2 ;;
esac
case $ncpus in
''|0|*[!0-9]*) echo "run-guest: -p takes a number of vCPUs" >&2; exit 2 ;;
esac
mem=(-m "$((2 * node))M")
if [ -n "$hotplug" ]; then
	mem=(-m "$((2 * node))M,slots=2,maxmem=$((2 * node + 2048))M")
	dimm=(-object "memory-backend-ram,id=dimm1,size=1G"
	      -device "pc-dimm,id=d1,memdev=dimm1,node=1")
fi
[ -n "$kver" ] && { [ -n "$module" ] || [ -n "$kimage" ]; } &&
	[ -n "$script" ] && [ -n "$out" ] ||
	{ echo "run-guest: -k, -m (or -K), -s and -o are required" >&2; exit 2; }
# kroot: where the stock modules are, "" for the host's /lib/modules
kroot=""
if [ -z "$kimage" ] && [ ! -e "/boot/vmlinuz-$kver" ]; then
	kroot="${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}/kernels/$kver/root"
	if [ ! -f "$kroot/boot/vmlinuz-$kver" ]; then
		echo "run-guest: no /boot/vmlinuz-$kver nor $kroot:" \
			"tools/testing/scripts/fetch-kernel.sh $kver fetches it" >&2
		exit 2
	fi
	kimage=$kroot/boot/vmlinuz-$kver
	kconfig=${kconfig:-$kroot/boot/config-$kver}
fi
kimage=${kimage:-/boot/vmlinuz-$kver}
kconfig=${kconfig:-/boot/config-$kver}

here=$(dirname "$(realpath "$0")")
mkdir -p "$out"
out=$(realpath "$out")
root=$(mktemp -d "$out/initramfs.XXXXXX")
sockdir="" watcher=""
trap 'rm -rf "$root" ${sockdir:+"$sockdir"}' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt,lib/modules/stock,tests}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init"
cp "$script" "$root/guest.sh"
cp "$here/guest-lib.sh" "$root/guest-lib.sh"
[ -n "$module" ] && cp "$module" "$root/lib/modules/bsdmem.ko"
for d in "${bindirs[@]}"; do
	cp -a "$d"/. "$root/tests/"
done

# Real /dev/mem clients (Debian's dmidecode package) are dynamically
# linked: they come with their libraries and the loader, at the host's
# paths. The stock kernel's config comes too, so that a test can check
# what the kernel was built with instead of assuming it.
for exe in /usr/sbin/dmidecode /usr/sbin/biosdecode; do
	[ -x "$exe" ] || continue
	for f in "$exe" $(ldd "$exe" | grep -o '/[^ ]*'); do
		cp --parents -L "$f" "$root/"
	done
done
if [ -f "$kconfig" ]; then
	mkdir -p "$root/boot"
	cp "$kconfig" "$root/boot/config-$kver"
fi

# Stock modules in load order, decompressed (busybox insmod takes plain .ko).
: > "$root/lib/modules/stock.order"
for m in "${stock[@]}"; do
	while read -r cmd path _; do
		[ "$cmd" = insmod ] || continue
		name=$(basename "${path%.*}")
		grep -qx "$name" "$root/lib/modules/stock.order" && continue
		case $path in
		*.xz) xz -dc "$path" > "$root/lib/modules/stock/$name" ;;
		*.zst) zstd -qdc "$path" > "$root/lib/modules/stock/$name" ;;
		*) cp "$path" "$root/lib/modules/stock/$name" ;;
		esac
		echo "$name" >> "$root/lib/modules/stock.order"
	done < <(modprobe ${kroot:+-d "$kroot"} -S "$kver" --show-depends "$m")
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.gz"

console="$out/console.log" results="$out/results.log"
: > "$console"
: > "$results"
disk_args=()
[ -n "$disk" ] && disk_args=(-drive "file=$disk,if=virtio,format=raw")
# QEMU dumps (-Q): QMP and the answer port on sockets of a short path
# (sun_path has 108 bytes), the watcher beside QEMU.
qdump_args=()
if [ $qdump = 1 ]; then
	sockdir=$(mktemp -d /tmp/bsdmem-qemu.XXXXXX)
	qdump_args=(-device vmcoreinfo
		    -qmp "unix:$sockdir/qmp,server=on,wait=off"
		    -chardev "socket,id=dumpctl,path=$sockdir/ctl,server=on,wait=off"
		    -serial chardev:dumpctl)
	python3 "$here/qemu-dump.py" "$results" "$sockdir/qmp" \
		"$sockdir/ctl" "$out" 2>"$out/qemu-dump.log" &
	watcher=$!
fi

set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu "$cpu" -smp "$ncpus" "${mem[@]}" \
	-object "memory-backend-ram,id=m0,size=${node}M" -numa node,nodeid=0,memdev=m0 \
	-object "memory-backend-ram,id=m1,size=${node}M" -numa node,nodeid=1,memdev=m1 \
	-kernel "$kimage" -initrd "$out/initrd.gz" \
	-append "console=ttyS0 oops=panic panic=-1 panic_on_warn=1 secretmem.enable=1 $append" \
	-display none -monitor none -no-reboot \
	-serial "file:$console" -serial "file:$results" \
	"${qdump_args[@]}" "${disk_args[@]}" "${dimm[@]}" \
	</dev/null >"$out/qemu.log" 2>&1
qrc=$?
# the watcher ends with QEMU; one that never got to QEMU does not
if [ -n "$watcher" ]; then
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
fi
set -e

verdict=""
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	verdict="timeout after ${timeout}s"
elif [ $qrc -ne 0 ]; then
	verdict="qemu exited with $qrc: $(head -c 300 "$out/qemu.log")"
fi
# one pattern for every level that judges a console (console-bad.ere)
bad=$(grep -E -m 3 -f "$here/console-bad.ere" "$console" || true)
[ -n "$bad" ] && verdict="${verdict:+$verdict; }kernel reported: $(echo "$bad" | tr '\n' '|')"
grep -q '^@@GUEST-DONE' "$results" || verdict="${verdict:+$verdict; }guest script did not finish"
echo "${verdict:-ok}" > "$out/verdict"
if [ -n "$verdict" ]; then
	echo "run-guest[$kver]: FAIL: $verdict" >&2
	exit 1
fi
exit 0
