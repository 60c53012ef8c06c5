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
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

static DECLARE_RWSEM(bsdmem_page_rwsem);
/* The block being offlined, [start, end) in page frames; empty if equal. */
static unsigned long bsdmem_offline_start, bsdmem_offline_end;

void bsdmem_page_access_begin(void)
{
	down_read(&bsdmem_page_rwsem);
}

void bsdmem_page_access_end(void)
{
	up_read(&bsdmem_page_rwsem);
}

/* Once this returns, no reader is inside [start, end) and none enters. */
void bsdmem_page_offline_mark(unsigned long start, unsigned long end)
{
	down_write(&bsdmem_page_rwsem);
	bsdmem_offline_start = start;
	bsdmem_offline_end = end;
	up_write(&bsdmem_page_rwsem);
}

void bsdmem_page_offline_clear(void)
{
	bsdmem_page_offline_mark(0, 0);
}

static bool bsdmem_pfn_going_offline(unsigned long pfn)
{
	return pfn >= bsdmem_offline_start && pfn < bsdmem_offline_end;
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

	if (bsdmem_pfn_going_offline(pfn))
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
