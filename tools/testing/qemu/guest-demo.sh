#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make demo.
echo "guest kernel: $(uname -r)"
insmod /lib/modules/bsdmem.ko || exit 1
echo "bsdmem loaded:"
ls -l /dev/bsdmem /dev/bsdkmem
/tests/bsdmem-demo
