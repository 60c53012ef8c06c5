#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the lockdown boots (lockdown=integrity / confidentiality).
echo "@@SUITE lockdown.boot.$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null || echo unknown)"
insmod /lib/modules/bsdmem.ko && /tests/lockdown_test -r boot
