#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench: every benchmark prints "BENCH group metric value".
insmod /lib/modules/bsdmem.ko || exit 1
/tests/devmem-bench 256
/tests/extract-bench
MDF_DIR=/tests /tests/dump-bench
