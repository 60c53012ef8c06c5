#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the reader checks: log a unique marker, then dump the
# kernel (none, gzip, zstd) onto the virtio disk for the host to read.
# The plain dump is taken while the spinner module keeps CPU 1 spinning
# with interrupts disabled (until the dump's NMI, then busy until the dump
# is written): the host finds that CPU's registers in spinner_spin(),
# whose address this prints from /proc/kallsyms.
insmod /lib/modules/bsdmem.ko || exit 1
insmod /tests/spinner.ko cpu=1 || exit 1
marker="BSDMEM-MARKER-$(cat /proc/sys/kernel/random/uuid)"
echo "$marker" > /dev/kmsg
echo "@@MARKER $marker"
echo "@@RELEASE $(uname -r)"
echo "@@NCPU $(grep -c '^processor' /proc/cpuinfo)"
echo "@@SPINNER_CPU 1"
echo "@@SPINNER_PID $(cat /sys/module/spinner/parameters/pid)"
echo "@@SPINNER_SYM $(awk '$3 == "spinner_spin" && $4 == "[spinner]" { print $1 }' /proc/kallsyms)"
/tests/dump-to-disk -S /dev/vda
rc=$?
# released by dump-to-disk once the plain dump is written; again if it failed
echo 0 > /sys/module/spinner/parameters/spin
echo "@@SPIN $(cat /sys/module/spinner/parameters/spin)"
exit $rc
