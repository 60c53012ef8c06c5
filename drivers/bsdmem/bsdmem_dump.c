// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_KERNELDUMP. Not implemented yet: "not supported on this
 * architecture" until the dump writer lands.
 */
#include <linux/errno.h>
#include "bsdmem.h"

int bsdmem_kerneldump(void __user *arg)
{
	return -EOPNOTSUPP;
}
