#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench's scaling run: zstd dumps with 1 worker and
# with one per CPU ("BENCH scaling ..." and "BENCH ratio ..." lines).
insmod /lib/modules/bsdmem.ko || exit 1
/tests/dump-bench -s
