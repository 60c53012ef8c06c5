#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the boots with CPUs lacking MTRRs (and PAT).
echo "@@SUITE cpu.$(grep -q ' pat ' /proc/cpuinfo && echo pat || echo nopat)"
insmod /lib/modules/bsdmem.ko && /tests/cpu_test
