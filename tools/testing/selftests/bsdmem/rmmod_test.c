// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading bsdmem with live ranges: run with -r setup, rmmod bsdmem, then
 * run with -r verify. The pinned page's physical address is passed on in
 * /tmp/bsdmem-rmmod.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define STATE	"/tmp/bsdmem-rmmod"

TEST(setup_live_ranges)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint64_t len, bar = vga_bar0(&len);
	uint8_t *p;
	uint64_t pa;
	FILE *f = fopen(STATE, "w");

	/* munmap must drop every reference but the range's */
	ASSERT_EQ(stay_on_this_cpu(), 0);
	p = locked_page(7);
	pa = virt_to_phys_pagemap(p);
	ASSERT_NE(bar, 0);
	ASSERT_NE(pa, 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, 1 << 20,
			    MDF_WRITECOMBINE, "rmmod"), 0);
	/* uncached RAM: pinned write-back, let go, then made uncached */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEBACK, "rmmod"), 0);
	ASSERT_EQ(munmap(p, PAGE_SZ), 0);
	ASSERT_EQ(drain_page_batches(), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_UNCACHEABLE, "rmmod"), 0);
	ASSERT_EQ(ram_memtype(pa), MT_UC_MINUS);
	ASSERT_EQ(pat_has("write-combining", bar, bar + (1 << 20)), 1);
	/* the module keeps the page when we exit: refcount stays above 0 */
	fprintf(f, "%llu %llu\n", (unsigned long long)bar,
		(unsigned long long)pa);
	fclose(f);
}

TEST(verify_everything_released)
{
	unsigned long long bar = 0, pa = 0;
	FILE *f = fopen(STATE, "r");

	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fscanf(f, "%llu %llu", &bar, &pa), 2);
	fclose(f);
	ASSERT_EQ(pat_mentions(bar), 0);
	/*
	 * Written back to WB and unpinned: the owner is gone, so the page
	 * went back to the allocator (with a non-WB memtype that would have
	 * been a "Bad page state" BUG, which fails the run).
	 */
	ASSERT_EQ(ram_memtype(pa), MT_WB);
}
