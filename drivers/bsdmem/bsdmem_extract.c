// SPDX-License-Identifier: GPL-2.0
/* MEM_EXTRACT_PADDR. Not implemented yet. */
#include <linux/errno.h>
#include "bsdmem.h"

int bsdmem_extract_paddr(void __user *arg)
{
	return -EOPNOTSUPP;
}
