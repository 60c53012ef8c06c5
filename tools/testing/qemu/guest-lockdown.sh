#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the lockdown boots (lockdown=integrity / confidentiality):
# the test itself tries to load the module.
mode=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null)
echo "@@SUITE lockdown.boot.${mode:-unknown}"
/tests/lockdown_test -r boot
