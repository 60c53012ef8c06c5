#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the reader checks: log a unique marker, then dump the
# kernel (none, gzip, zstd) onto the virtio disk for the host to read.
insmod /lib/modules/bsdmem.ko || exit 1
marker="BSDMEM-MARKER-$(cat /proc/sys/kernel/random/uuid)"
echo "$marker" > /dev/kmsg
echo "@@MARKER $marker"
echo "@@RELEASE $(uname -r)"
/tests/dump-to-disk /dev/vda
