// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages a live minidump holds, decided in one pass over RAM before
 * any data is written (so the headers can go first and the output stays
 * sequential): the kernel's own memory, not free pages, user pages or the
 * page cache. Offline, poisoned, unaccepted and
 * direct-map-less (secretmem) pages are never read.
 */
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/page-flags.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"
#include "bsdmem_dump.h"
#include "bsdmem_dump_int.h"

/*
 * For benchmarks and debugging: every readable RAM page, user and free
 * ones included, to compare a minidump with a whole-RAM dump.
 */
static bool bsdmem_dump_whole_ram;
module_param_named(dump_whole_ram, bsdmem_dump_whole_ram, bool, 0644);
MODULE_PARM_DESC(dump_whole_ram,
		 "Dump every readable RAM page, not just the kernel's (default: off)");

static bool bsdmem_page_readable(struct page *page)
{
	return !bsdmem_page_poisoned(page) && !PageOffline(page) &&
	       !bsdmem_page_unaccepted(page);
}

/* Is the direct-map address of pfn present? Secretmem pages are not. */
static bool bsdmem_pfn_mapped(unsigned long pfn)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)pfn_to_kaddr(pfn), &level);

	return pte && (pte_flags(*pte) & _PAGE_PRESENT);
}

/*
 * Kernel-owned: reserved, slab, page tables, or allocated without an owner.
 * Slab is asked of the folio: PageSlab() of a tail page is false since it
 * reads the page's own type (7.x), and slab pages hold no reference there,
 * so the tail pages of a multi-page slab (task_structs) were left out.
 */
static bool bsdmem_page_is_kernel(struct page *page)
{
	struct page *head;

	if (!bsdmem_page_readable(page))
		return false;
	if (PageReserved(page) || PageTable(page) ||
	    folio_test_slab(page_folio(page)) ||
	    bsdmem_page_large_kmalloc(page))
		return true;
	head = compound_head(page);
	if (!page_ref_count(head))		/* free (buddy, pcp lists) */
		return false;
	if (PageLRU(head) || READ_ONCE(head->mapping))	/* user, page cache */
		return false;
	return true;
}

/*
 * Copy a page through the direct map; false if it may not be read (it
 * went offline, was poisoned or left the direct map since the plan) or
 * faulted.
 */
bool bsdmem_dump_read_pfn(unsigned long pfn, void *buf)
{
	bool ok;

	bsdmem_page_access_begin();
	ok = !bsdmem_ram_page_usable(pfn) && bsdmem_pfn_mapped(pfn) &&
	     !bsdmem_copy_ram(buf, pfn_to_kaddr(pfn), PAGE_SIZE);
	bsdmem_page_access_end();
	return ok;
}

/*
 * All-zero kernel pages stay in: crash reads some of them (the sparse
 * memory section roots) as it starts and gives up on a missing one.
 */
static bool bsdmem_page_worth_having(unsigned long pfn)
{
	struct page *page;
	bool want;

	if (bsdmem_page_changing(pfn))
		return false;
	page = pfn_to_online_page(pfn);
	if (!page)
		return false;
	want = READ_ONCE(bsdmem_dump_whole_ram) ? bsdmem_page_readable(page) :
						  bsdmem_page_is_kernel(page);
	/* the page-table walk last: it is the dear part of the test */
	return want && bsdmem_pfn_mapped(pfn);
}

static int bsdmem_plan_ram(struct resource *res, void *arg)
{
	struct bsdmem_dump *d = arg;
	unsigned long pfn = PFN_UP(res->start);
	unsigned long end = PFN_DOWN(res->end + 1);

	/* struct pages are read with the hotplug window held, in batches */
	bsdmem_page_access_begin();
	for (; pfn < end && pfn < d->nbits; pfn++) {
		if (test_bit(pfn, d->bitmap))
			continue;
		if (bsdmem_page_worth_having(pfn))
			__set_bit(pfn, d->bitmap);
		if (!(pfn & 1023)) {
			bsdmem_page_access_end();
			if (bsdmem_dump_aborted(d))
				return -EINTR;
			cond_resched();
			bsdmem_page_access_begin();
		}
	}
	bsdmem_page_access_end();
	return 0;
}

static int bsdmem_ram_end(struct resource *res, void *arg)
{
	unsigned long *end = arg;

	*end = max(*end, PFN_DOWN(res->end + 1));
	return 0;
}

/* One past the highest RAM page frame. */
unsigned long bsdmem_dump_max_pfn(void)
{
	unsigned long end = 0;

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, -1,
			    &end, bsdmem_ram_end);
	return end;
}

static void bsdmem_exclude_range(const void *addr, size_t len, void *arg)
{
	struct bsdmem_dump *d = arg;
	const u8 *p = PTR_ALIGN_DOWN(addr, PAGE_SIZE);
	unsigned long pfn;

	for (; p < (const u8 *)addr + len; p += PAGE_SIZE) {
		pfn = is_vmalloc_addr(p) ? vmalloc_to_pfn(p) :
					   PHYS_PFN(__pa(p));
		if (pfn < d->nbits)
			__clear_bit(pfn, d->bitmap);
	}
}

/* The dump's own buffers hold nothing worth having. */
static void bsdmem_plan_exclude_self(struct bsdmem_dump *d)
{
	bsdmem_exclude_range(d->bitmap, BITS_TO_LONGS(d->nbits) * sizeof(long), d);
	bsdmem_exclude_range(d->segs, BSDMEM_MAX_SEGS * sizeof(*d->segs), d);
	bsdmem_exclude_range(d->page, PAGE_SIZE, d);
	bsdmem_stream_exclude(d->stream, bsdmem_exclude_range, d);
}

/* Runs of pages become segments; merge holes until they fit e_phnum. */
static void bsdmem_plan_merge(struct bsdmem_dump *d)
{
	unsigned long max_hole = 0;
	unsigned int n;

	while ((n = bsdmem_plan_segments(d->bitmap, d->nbits, max_hole,
					 d->segs, BSDMEM_MAX_SEGS)) >
	       BSDMEM_MAX_SEGS)
		max_hole = max_hole * 2 + 1;
	d->nsegs = n;
}

int bsdmem_dump_plan(struct bsdmem_dump *d)
{
	unsigned int i;
	int ret;

	ret = walk_iomem_res_desc(IORES_DESC_NONE,
				  IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0,
				  -1, d, bsdmem_plan_ram);
	if (ret < 0)
		return ret;
	bsdmem_plan_exclude_self(d);
	bsdmem_plan_merge(d);
	d->seg_pages = 0;
	for (i = 0; i < d->nsegs; i++)
		d->seg_pages += d->segs[i].npages;
	return 0;
}
