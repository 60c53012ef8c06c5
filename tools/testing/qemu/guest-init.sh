#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test guest: mount, load the stock modules, run /guest.sh
# with its output on the second serial port, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/tests
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
for m in $(cat /lib/modules/stock.order); do
	insmod "/lib/modules/stock/$m" || echo "init: insmod $m failed" >/dev/ttyS1
done
stty -F /dev/ttyS1 raw -echo 2>/dev/null
cd /tmp
sh /guest.sh >/dev/ttyS1 2>&1
echo "@@GUEST-DONE $?" >/dev/ttyS1
sync
poweroff -f
