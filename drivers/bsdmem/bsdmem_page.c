// SPDX-License-Identifier: GPL-2.0
/*
 * May a RAM page be touched, and touching it safely.
 *
 * Every path that reads RAM (both devices, mmap faults and the dump)
 * asks here first. A page is refused when it is not online, is (or sits
 * in a huge page that is) hardware-poisoned, is offline or unaccepted, or
 * lies in a memory block that is being taken offline right now.
 *
 * The offline window: offlining a block runs under the memory hotplug
 * lock, which modules cannot take, so bsdmem_hotplug.c marks the block
 * here before the kernel starts migrating its pages, and clears it when
 * the offline finished or was cancelled. Readers hold bsdmem_page_rwsem
 * for reading across check and copy, so once the mark is set no reader is
 * still inside the block, and none enters it.
 *
 * The copy itself is machine-check safe where the CPU can recover from
 * one: copy_mc_to_kernel() returns what it could not copy instead of
 * panicking, and handles page faults as well.
 */
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/page.h>
#include <asm/pgtable_types.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

static DECLARE_RWSEM(bsdmem_page_rwsem);
/* The block going offline or online, [start, end) in page frames; empty if equal. */
static unsigned long bsdmem_changing_start, bsdmem_changing_end;

void bsdmem_page_access_begin(void)
{
	down_read(&bsdmem_page_rwsem);
}

void bsdmem_page_access_end(void)
{
	up_read(&bsdmem_page_rwsem);
}

/*
 * Once this returns, no reader is inside [start, end) and none enters,
 * until bsdmem_page_block_settled(). Used for blocks going offline and
 * for blocks coming online (where device space turns into RAM).
 */
void bsdmem_page_block_changing(unsigned long start, unsigned long end)
{
	down_write(&bsdmem_page_rwsem);
	bsdmem_changing_start = start;
	bsdmem_changing_end = end;
	up_write(&bsdmem_page_rwsem);
}

void bsdmem_page_block_settled(void)
{
	bsdmem_page_block_changing(0, 0);
}

/* Is any memory block going offline or online right now? */
bool bsdmem_page_any_changing(void)
{
	return bsdmem_changing_start != bsdmem_changing_end;
}

/* Is pfn in a memory block going offline or online right now? */
bool bsdmem_page_changing(unsigned long pfn)
{
	return pfn >= bsdmem_changing_start && pfn < bsdmem_changing_end;
}

/*
 * memory_failure() marks only the head of a hugetlb page, and a THP
 * whose split failed carries the news on its head as "has poisoned".
 * Any of them makes the whole huge page untouchable. The page may be
 * split or freed meanwhile; the answer is then conservative, never
 * wrong in the unsafe direction for the pages that stay poisoned.
 */
bool bsdmem_page_poisoned(struct page *page)
{
	struct folio *folio;

	if (PageHWPoison(page))
		return true;
	folio = page_folio(page);
	if (!folio_test_large(folio))
		return false;
	return folio_test_hwpoison(folio) || folio_test_has_hwpoisoned(folio);
}

/*
 * A RAM page that may be read now: 0, -EIO when poisoned, -EFAULT when
 * it is not there to read. Call between bsdmem_page_access_begin() and
 * _end() and keep the page's use inside them.
 */
int bsdmem_ram_page_usable(unsigned long pfn)
{
	struct page *page;

	if (bsdmem_page_changing(pfn))
		return -EFAULT;
	page = pfn_to_online_page(pfn);
	if (!page)
		return -EFAULT;
	if (bsdmem_page_poisoned(page))
		return -EIO;
	if (PageOffline(page) || bsdmem_page_unaccepted(page))
		return -EFAULT;
	return 0;
}

/*
 * Read len bytes of kernel memory: 0, -EIO after a machine check, or
 * -EFAULT after a page fault. KASAN kernels instrument copy_mc_to_kernel
 * as an ordinary access and would report every redzone a dump passes
 * over, so they keep the uninstrumented copy; so do CPUs without fast
 * string moves, whose copy_mc_to_kernel is a plain memcpy that a fault
 * would turn into an oops (and which cannot recover from #MC anyway).
 */
int bsdmem_copy_ram(void *dst, const void *src, size_t len)
{
	if (!IS_ENABLED(CONFIG_KASAN) && boot_cpu_has(X86_FEATURE_ERMS))
		return copy_mc_to_kernel(dst, src, len) ? -EIO : 0;
	return copy_from_kernel_nofault(dst, src, len) ? -EFAULT : 0;
}

/*
 * Take a reference on the folio holding page, unless it is free. The
 * page may change folios (split) meanwhile: then look again. A count of
 * zero is also what migration shows for an instant while it freezes a
 * page, so zero is believed only after a few looks; so is a folio that
 * keeps changing.
 */
static struct folio *bsdmem_folio_try_get(struct page *page)
{
	struct folio *folio;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		folio = page_folio(page);
		if (folio_try_get(folio)) {
			if (likely(page_folio(page) == folio))
				return folio;
			folio_put(folio);
		}
		cond_resched();
	}
	return NULL;
}

/*
 * May a reference on folio be held for long? Only where the page is
 * freed by dropping the last reference: user and page-cache memory,
 * hugetlb, slab and page tables. Other kernel allocations may be handed
 * back with free_contig_range() (CMA, virtio-mem, gigantic pages), which
 * warns about a page still in use, and reserved pages are returned with
 * free_reserved_page(), which resets the count and would free the page
 * under us.
 */
static bool bsdmem_folio_holdable(struct folio *folio, struct page *page)
{
	if (PageReserved(page))
		return false;
	if (folio_test_slab(folio) || folio_test_hugetlb(folio) ||
	    PageTable(page))
		return true;
	return folio_test_lru(folio) || READ_ONCE(folio->mapping);
}

/*
 * The same question asked of a page before any reference is taken, from
 * its flags as they are now: a speculative reference on a page that may
 * not be held is not harmless either. A CMA or gigantic page handed back
 * with free_contig_range() at that moment is reported as still in use
 * (WARN), and a reserved page freed with free_reserved_page() has its
 * count reset under the reference.
 */
static bool bsdmem_page_looks_holdable(struct page *page)
{
	if (PageReserved(page))
		return false;
	if (PageSlab(page) || PageHuge(page) || PageTable(page))
		return true;
	return PageLRU(page) || READ_ONCE(compound_head(page)->mapping);
}

/*
 * A long-lived reference on the RAM page at pfn, for a pinned range or a
 * mapping: the folio, or ERR_PTR(-EIO) when poisoned, (-EFAULT) when it
 * is not there to hold or not in the direct map, (-EPERM) when it is not
 * a page that may be held. The checks are made again once the reference
 * is taken, so a page freed and reused just before is not held as what
 * it was. Call between bsdmem_page_access_begin() and _end().
 */
struct folio *bsdmem_page_hold(unsigned long pfn)
{
	struct folio *folio;
	struct page *page;
	u64 phys;
	int ret;

	ret = bsdmem_ram_page_usable(pfn);
	if (ret)
		return ERR_PTR(ret);
	page = pfn_to_page(pfn);
	if (!bsdmem_page_looks_holdable(page))
		return ERR_PTR(-EPERM);
	folio = bsdmem_folio_try_get(page);
	if (!folio)
		return ERR_PTR(-EFAULT);
	ret = bsdmem_ram_page_usable(pfn);
	if (!ret && !bsdmem_folio_holdable(folio, page))
		ret = -EPERM;
	if (!ret)
		ret = bsdmem_kmap_present((unsigned long)pfn_to_kaddr(pfn), false,
					  &phys);
	if (ret) {
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}

/*
 * A reserved page that stays as it is while mapped: the first megabyte,
 * or the kernel image, _text to _end (not the rest of the image's 2 MiB
 * mapping, which holds memory reserved at boot). Other reserved memory
 * can be handed to the allocator at run time: boot-time vmemmap
 * (hugetlb's vmemmap optimisation), page tables of removed memory, the
 * crash kernel's reservation (kexec_crash_size).
 */
bool bsdmem_reserved_page_stays(unsigned long pfn)
{
	unsigned long off, va;
	u64 kphys;

	if (pfn < PHYS_PFN(SZ_1M))
		return true;
	/*
	 * __pa_symbol() backwards. phys_base is a difference, and wraps
	 * when KASLR moves the image further in virtual than in physical
	 * memory: the arithmetic must wrap with it.
	 */
	off = (unsigned long)PFN_PHYS(pfn) - phys_base;
	if (off >= KERNEL_IMAGE_SIZE)
		return false;
	va = __START_KERNEL_map + off;
	return bsdmem_kimage_contains(va) &&
	       !bsdmem_kmap_present(va, false, &kphys) &&
	       PHYS_PFN(kphys) == pfn;
}
