// SPDX-License-Identifier: GPL-2.0
/*
 * MEMRANGE_GET and MEMRANGE_SET. Not implemented yet on Linux: the spec's
 * "not supported on this architecture" answer until the PAT backend lands.
 */
#include <linux/errno.h>
#include "bsdmem.h"

int bsdmem_memrange_get(struct bsdmem_range_req *req)
{
	return -EOPNOTSUPP;
}

int bsdmem_memrange_set(struct bsdmem_range_req *req)
{
	return -EOPNOTSUPP;
}
