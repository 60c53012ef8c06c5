// SPDX-License-Identifier: GPL-2.0
/*
 * strict_devmem=1: what Linux's /dev/mem allows when built with
 * CONFIG_STRICT_DEVMEM and CONFIG_IO_STRICT_DEVMEM, decided the way x86's
 * devmem_is_allowed() decides it, so that the two devices agree page for
 * page. Neither devmem_is_allowed() nor iomem_is_exclusive() is exported,
 * so the questions they ask of the resource tree are asked here through
 * the exported walkers.
 *
 * Linux ignores IO_STRICT when booted with iomem=relaxed; bsdmem cannot
 * see that flag and stays strict.
 */
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include "bsdmem.h"

/*
 * The decision itself, from what the resource tree says about the page:
 * RAM (any part of the page) is refused, except that the first megabyte
 * reads as zeros, because real-mode firmware pokes at it and tools probe
 * it; busy (IO_STRICT) or exclusive resources are refused above the first
 * megabyte, which is where firmware tables live and is always allowed.
 */
int bsdmem_strict_decide(unsigned long pfn, bool ram, bool exclusive)
{
	bool low = pfn < BSDMEM_STRICT_LOW_PFNS;

	if (ram)
		return low ? BSDMEM_STRICT_ZERO : BSDMEM_STRICT_REFUSE;
	if (exclusive && !low)
		return BSDMEM_STRICT_REFUSE;
	return BSDMEM_STRICT_ALLOW;
}

static int bsdmem_strict_found(struct resource *res, void *arg)
{
	return 1;
}

/*
 * Does [start, end] (inclusive) touch RAM? Any part of a page counts,
 * as in devmem_is_allowed(); region_intersects() walks the resources,
 * not the pages.
 */
static bool bsdmem_strict_touches_ram(u64 start, u64 end)
{
	return region_intersects(start, end - start + 1, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

/*
 * iomem_is_exclusive() with IO_STRICT_DEVMEM, for a whole range: a busy
 * resource at any depth (a driver's claim nests inside the BAR, inside
 * the bridge window), or driver-managed RAM marked exclusive even when
 * not busy. Each walk stops at the first match.
 */
static bool bsdmem_strict_touches_exclusive(u64 start, u64 end)
{
	if (walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_BUSY, start, end,
				NULL, bsdmem_strict_found) == 1)
		return true;
	return walk_iomem_res_desc(IORES_DESC_NONE,
				   IORESOURCE_SYSTEM_RAM | IORESOURCE_EXCLUSIVE,
				   start, end, NULL, bsdmem_strict_found) == 1;
}

/*
 * Linux's devmem_is_allowed() for one page: BSDMEM_STRICT_REFUSE (0),
 * BSDMEM_STRICT_ALLOW (1), or BSDMEM_STRICT_ZERO (2: reads see zeros,
 * writes are dropped, mappings see the page).
 */
int bsdmem_strict_pfn_allowed(unsigned long pfn)
{
	u64 start = PFN_PHYS(pfn), end = start + PAGE_SIZE - 1;
	bool ram = bsdmem_strict_touches_ram(start, end);

	/* Exclusivity matters only for non-RAM, and only above 1 MiB. */
	return bsdmem_strict_decide(pfn, ram, !ram &&
				    pfn >= BSDMEM_STRICT_LOW_PFNS &&
				    bsdmem_strict_touches_exclusive(start, end));
}

/*
 * Is every page of [phys, phys + len) allowed (a non-zero answer), as
 * mmap of /dev/mem asks? Pages in the first megabyte always are; above
 * it, a page is refused exactly when it touches RAM or an exclusive
 * resource, so the range is allowed when its part above 1 MiB, widened
 * to whole pages, touches neither. Two or three walks of the resource
 * tree, whatever the length.
 */
bool bsdmem_strict_range_allowed(u64 phys, u64 len)
{
	u64 low_end = (u64)BSDMEM_STRICT_LOW_PFNS << PAGE_SHIFT;
	u64 start, last;

	if (!len)
		return true;
	if (phys + len - 1 < phys)
		return false;
	last = (phys + len - 1) | ~PAGE_MASK;
	start = max(phys & PAGE_MASK, low_end);
	if (start > last)
		return true;
	return !bsdmem_strict_touches_ram(start, last) &&
	       !bsdmem_strict_touches_exclusive(start, last);
}
