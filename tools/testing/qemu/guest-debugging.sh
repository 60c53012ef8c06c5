#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the "debug a stuck system" level (run-debugging.sh, run
# with run-guest.sh -Q): leave tasks blocked in known kernel functions,
# log a unique marker, have QEMU dump the guest (the reference), then
# take bsdmem's dump of the same state onto the virtio disk. Prints for
# the host:
#   @@TASK PID LABEL FUNCTION...  a blocked task and the functions its
#                                 kernel stack must show (A|B: either)
#   @@MARKER, @@RELEASE, @@CPUS   the log marker, uname -r, online CPUs
insmod /lib/modules/bsdmem.ko || exit 1
if [ ! -d /sys/firmware/qemu_fw_cfg ]; then
	echo "no /sys/firmware/qemu_fw_cfg: QEMU's dump would have no VMCOREINFO (-M qemu_fw_cfg)"
	exit 1
fi

sleeping() {
	set -- $(cat "/proc/$1/stat")
	[ "$3" = S ]
}

# report PID LABEL FUNCTION...: once the task sleeps, the functions its
# kernel stack must show: those given (A|B: either) and its wchan, where
# the live kernel says it sleeps. The host's time limit bounds a task
# that never sleeps.
report() {
	until sleeping "$1"; do
		sleep 0.1
	done
	echo "@@TASK $* $(cat "/proc/$1/wchan")"
}

# clock_nanosleep(2)
sleep 1000000 &
report $! nanosleep do_nanosleep hrtimer_nanosleep
# open(2) of a FIFO that has no writer
mkfifo /tmp/fifo
cat /tmp/fifo >/dev/null &
report $! fifo_open wait_for_partner fifo_open
# read(2) of an empty pipe whose writer sleeps (anon_pipe_read from 6.15)
sleep 1000000 | cat >/dev/null &
report $! pipe_read "pipe_read|anon_pipe_read" vfs_read

marker="BSDMEM-DEBUG-$(cat /proc/sys/kernel/random/uuid)"
echo "$marker" > /dev/kmsg
echo "@@MARKER $marker"
echo "@@RELEASE $(uname -r)"
echo "@@CPUS $(grep -c '^processor' /proc/cpuinfo)"

# QEMU's dump first. The answer port is opened before asking, so that
# no answer comes before anyone reads it.
exec 3<>/dev/ttyS2
stty -F /dev/ttyS2 raw -echo
echo "@@QEMU-DUMP qemu-core"
answer=$(dd bs=1 count=1 <&3 2>/dev/null)
exec 3<&-
echo "@@QEMU-DUMP-ANSWER $answer"

# ours, of the same tasks and modules, whatever QEMU said: the ELF core,
# then the kdump-compressed format (uncompressed pages: like the core,
# written by the dumping thread alone, no workers moving between CPUs)
/tests/dump-to-disk /dev/vda core kdump
