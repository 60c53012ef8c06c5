// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages a live minidump holds, decided in one pass over RAM before
 * any data is written (so the headers can go first and the output stays
 * sequential): the kernel's own memory, not free pages, user pages or the
 * page cache. Offline, poisoned, unaccepted and
 * direct-map-less (secretmem) pages are never read.
 *
 * Free memory is recognised by what the allocator says of it, never by a
 * reference count of zero: the tail pages of a high-order allocation that
 * is not compound (the struct pages of hot-added memory, PTI's user PGD,
 * __get_free_pages() buffers) have a count of zero as well.
 */
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/page-flags.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
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

/*
 * Is the direct-map address of pfn present? Secretmem pages are not.
 * Asked before every copy: the fast copy (copy_mc_to_kernel()) is safe
 * against machine checks, and a page must not reach it unmapped.
 */
static bool bsdmem_pfn_mapped(unsigned long pfn)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)pfn_to_kaddr(pfn), &level);

	return pte && (pte_flags(*pte) & _PAGE_PRESENT);
}

/*
 * The same question while planning, one walk per direct-map leaf: the
 * answer for a 2 MiB or 1 GiB mapping holds for every page frame in it. A leaf split meanwhile only
 * matters to the write, which asks again for each page.
 */
struct bsdmem_plan_leaf {
	unsigned long	start;		/* page frames [start, end) */
	unsigned long	end;
	bool		present;
};

static bool bsdmem_plan_mapped(struct bsdmem_plan_leaf *leaf,
			       unsigned long pfn)
{
	unsigned int level;
	unsigned long n;
	pte_t *pte;

	if (pfn >= leaf->start && pfn < leaf->end)
		return leaf->present;
	pte = lookup_address((unsigned long)pfn_to_kaddr(pfn), &level);
	/*
	 * An entry the walk returned covers its level's size. A walk that
	 * found no entry names the level above the empty one: that says
	 * nothing of the rest of its range, so only this page is decided.
	 */
	n = pte ? page_level_size(level) >> PAGE_SHIFT : 1;
	leaf->start = round_down(pfn, n);
	leaf->end = leaf->start + n;
	leaf->present = pte && (pte_flags(*pte) & _PAGE_PRESENT);
	return leaf->present;
}

/*
 * The page frames of the free buddy block that starts at pfn, 0 if page
 * is not a buddy page. Read without the zone lock, so a block being split
 * or merged can show any order: only one the allocator can have, on a
 * boundary of its size, skips more than this page.
 */
static unsigned long bsdmem_buddy_block(struct page *page, unsigned long pfn)
{
	unsigned long order;

	if (!PageBuddy(page))
		return 0;
	order = READ_ONCE(page_private(page));
	if (order > BSDMEM_MAX_PAGE_ORDER || !IS_ALIGNED(pfn, 1UL << order))
		return 1;
	return 1UL << order;
}

/*
 * Kernel-owned: reserved, slab, page tables, or allocated without an owner.
 * Slab is asked of the folio: PageSlab() of a tail page is false since it
 * reads the page's own type (7.x), and slab pages hold no reference there,
 * so the tail pages of a multi-page slab (task_structs) were left out.
 * A page without a reference is free only inside a buddy block (whose
 * head the walk did not see: it skips whole blocks from their head) or on
 * a per-CPU list, which bsdmem_plan_drop_pcp() takes out afterwards.
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
	if (PageLRU(head) || READ_ONCE(head->mapping))	/* user, page cache */
		return false;
	if (PageHuge(page))	/* the hugetlb pool: user memory, or free */
		return false;
	if (!page_ref_count(page) && is_free_buddy_page(page))
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
 * Decide pfn; returns how many page frames were decided, a whole free
 * buddy block at once. All-zero kernel pages stay in: crash reads some of
 * them (the sparse memory section roots) as it starts and gives up on a
 * missing one.
 */
static unsigned long bsdmem_plan_pfn(struct bsdmem_dump *d,
				     struct bsdmem_plan_leaf *leaf,
				     unsigned long pfn)
{
	struct page *page;
	unsigned long n;
	bool want;

	if (test_bit(pfn, d->bitmap) || bsdmem_page_changing(pfn))
		return 1;
	page = pfn_to_online_page(pfn);
	if (!page)
		return 1;
	if (d->whole_ram) {
		want = bsdmem_page_readable(page);
	} else {
		n = bsdmem_buddy_block(page, pfn);
		if (n)
			return n;
		want = bsdmem_page_is_kernel(page);
	}
	/* the page-table walk last: it is the dear part of the test */
	if (want && bsdmem_plan_mapped(leaf, pfn))
		__set_bit(pfn, d->bitmap);
	return 1;
}

static int bsdmem_plan_ram(struct resource *res, void *arg)
{
	struct bsdmem_dump *d = arg;
	unsigned long pfn = PFN_UP(res->start);
	unsigned long end = min(PFN_DOWN(res->end + 1), d->nbits);
	struct bsdmem_plan_leaf leaf = { 0 };
	unsigned long next;

	/* struct pages are read with the hotplug window held, in batches */
	bsdmem_page_access_begin();
	for (; pfn < end; pfn = next) {
		next = pfn + bsdmem_plan_pfn(d, &leaf, pfn);
		if ((next >> 10) == (pfn >> 10))
			continue;
		/* the window is dropped: the mappings may change meanwhile */
		leaf.end = 0;
		bsdmem_page_access_end();
		if (bsdmem_dump_aborted(d))
			return -EINTR;
		cond_resched();
		bsdmem_page_access_begin();
	}
	bsdmem_page_access_end();
	return 0;
}

/*
 * The order of the pages on per-CPU list pindex, as the allocator's
 * pindex_to_order() has it on 6.1, 6.12 and 7.x alike: MIGRATE_PCPTYPES
 * lists for each order up to PAGE_ALLOC_COSTLY_ORDER, then the lists of
 * PMD-sized pages.
 */
static unsigned int bsdmem_pcp_order(unsigned int pindex)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return HPAGE_PMD_ORDER;
#endif
	return pindex / MIGRATE_PCPTYPES;
}

/*
 * Take the blocks on one per-CPU list out of the plan. The lists hold
 * count pages in all (a block counts 1 << order): a longer walk would be
 * a corrupt list, and stops.
 */
static void bsdmem_plan_drop_pcp_list(struct bsdmem_dump *d,
				      struct list_head *list,
				      unsigned int order, int *budget)
{
	unsigned long pfn, n = 1UL << order;
	struct page *page;

	list_for_each_entry(page, list, pcp_list) {
		if (--*budget < 0)
			return;
		pfn = page_to_pfn(page);
		if (IS_ALIGNED(pfn, n) && pfn + n <= d->nbits)
			bitmap_clear(d->bitmap, pfn, n);
	}
}

/*
 * A CPU's lists are read under their lock, taken as the allocator takes
 * it (a trylock; other CPUs' lists are drained under it as well), with
 * interrupts off for the short walk, but on PREEMPT_RT, where the lock
 * sleeps and spin_trylock_irqsave() leaves interrupts on. Busy lists keep
 * their pages in. (spin_trylock() straight in the condition, so that
 * sparse follows the lock on RT too.)
 */
static void bsdmem_plan_drop_pcp_cpu(struct bsdmem_dump *d,
				     struct per_cpu_pages *pcp)
{
	unsigned long flags = 0;
	unsigned int i;
	int budget;

	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		local_irq_save(flags);
	if (spin_trylock(&pcp->lock)) {
		budget = READ_ONCE(pcp->count);
		for (i = 0; i < NR_PCP_LISTS && budget > 0; i++)
			bsdmem_plan_drop_pcp_list(d, &pcp->lists[i],
						  bsdmem_pcp_order(i),
						  &budget);
		spin_unlock(&pcp->lock);
		bsdmem_rt_unlocked(&pcp->lock);
	}
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		local_irq_restore(flags);
}

/*
 * Pages on the per-CPU free lists have no reference and no buddy mark:
 * only the lists tell them from an allocation's tail pages. Offlining a
 * zone's last block frees the zone's lists (zone_pcp_reset()) between
 * MEM_GOING_OFFLINE and MEM_OFFLINE, while bsdmem_hotplug.c has the
 * block marked changing, and the mark cannot be set while we hold the
 * window: the lists are read with the window held and no block changing,
 * or not at all (their pages then stay in the dump).
 */
static void bsdmem_plan_drop_pcp(struct bsdmem_dump *d)
{
	struct per_cpu_pages __percpu *pcps;
	struct zone *zone;
	int nid, cpu;

	bsdmem_page_access_begin();
	if (bsdmem_page_any_changing())
		goto out;
	for_each_online_node(nid) {
		for (zone = NODE_DATA(nid)->node_zones;
		     zone < NODE_DATA(nid)->node_zones + MAX_NR_ZONES; zone++) {
			pcps = READ_ONCE(zone->per_cpu_pageset);
			if (!populated_zone(zone) || !pcps)
				continue;
			for_each_possible_cpu(cpu)
				bsdmem_plan_drop_pcp_cpu(d, per_cpu_ptr(pcps, cpu));
		}
	}
out:
	bsdmem_page_access_end();
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
	bsdmem_out_exclude(d->out, bsdmem_exclude_range, d);
	if (d->stream)
		bsdmem_stream_exclude(d->stream, bsdmem_exclude_range, d);
	if (d->kd)
		bsdmem_kdump_exclude(d->kd, d, bsdmem_exclude_range, d);
}

/*
 * Runs of pages become segments; merge holes until they fit e_phnum. The
 * kernel image's page frames are then carved out: the image segment holds
 * them, and a merged hole across them (zeros) would claim them again.
 */
static void bsdmem_plan_merge(struct bsdmem_dump *d)
{
	u64 kpfn = PHYS_PFN(d->kimage_paddr), kpages = d->kimage_len >> PAGE_SHIFT;
	unsigned long max_hole = 0;
	unsigned int n;

	for (;;) {
		n = bsdmem_plan_segments(d->bitmap, d->nbits, max_hole,
					 d->segs, BSDMEM_MAX_SEGS);
		if (n <= BSDMEM_MAX_SEGS)
			n = bsdmem_plan_carve(d->segs, n, BSDMEM_MAX_SEGS,
					      kpfn, kpages);
		if (n <= BSDMEM_MAX_SEGS)
			break;
		max_hole = max_hole * 2 + 1;
	}
	d->nsegs = n;
}

int bsdmem_dump_plan(struct bsdmem_dump *d)
{
	unsigned int i;
	int ret;

	/* read once: the whole plan follows one setting */
	d->whole_ram = READ_ONCE(bsdmem_dump_whole_ram);
	ret = walk_iomem_res_desc(IORES_DESC_NONE,
				  IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0,
				  -1, d, bsdmem_plan_ram);
	if (ret < 0)
		return ret;
	if (!d->whole_ram)
		bsdmem_plan_drop_pcp(d);
	bsdmem_plan_exclude_self(d);
	bsdmem_plan_merge(d);
	d->seg_pages = 0;
	for (i = 0; i < d->nsegs; i++)
		d->seg_pages += d->segs[i].npages;
	return 0;
}
