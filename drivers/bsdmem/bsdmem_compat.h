/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels bsdmem supports (6.1, 6.12 and 7.x),
 * kept in one place so the rest of the driver reads the same on all.
 */
#ifndef _BSDMEM_COMPAT_H
#define _BSDMEM_COMPAT_H

#include <linux/io.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/spinlock.h>
#include <asm/memtype.h>
#include <asm/msr.h>

/*
 * Unaccepted memory (TDX/SNP guests) has a page type since 6.5; the
 * Makefile looks for it in the kernel's headers. The kernel marks only
 * the first page of each unaccepted MAX_ORDER block; the rest of the
 * block is untouchable as well (a #VE or #VC kills the guest).
 */
static inline bool bsdmem_page_unaccepted(struct page *page)
{
#if defined(BSDMEM_HAVE_PAGE_UNACCEPTED) && IS_ENABLED(CONFIG_UNACCEPTED_MEMORY)
	unsigned long first = ALIGN_DOWN(page_to_pfn(page), MAX_ORDER_NR_PAGES);
	struct page *head = pfn_to_online_page(first);

	return PageUnaccepted(page) || (head && PageUnaccepted(head));
#else
	return false;
#endif
}

/*
 * The largest order of a free buddy block: MAX_ORDER - 1 on 6.1, where
 * MAX_ORDER counted orders; MAX_PAGE_ORDER since 6.8 (and MAX_ORDER was
 * inclusive in between). MAX_ORDER_NR_PAGES means the same on all.
 */
#define BSDMEM_MAX_PAGE_ORDER	ilog2(MAX_ORDER_NR_PAGES)

/*
 * Kernel virtual addresses have bit 63 set, so file offsets must be
 * unsigned: a file_operations flag since 6.12, an f_mode bit before.
 */
#ifdef FOP_UNSIGNED_OFFSET
#define BSDMEM_FOP_FLAGS	.fop_flags = FOP_UNSIGNED_OFFSET,
static inline void bsdmem_file_unsigned_offset(struct file *file) { }
#else
#define BSDMEM_FOP_FLAGS
static inline void bsdmem_file_unsigned_offset(struct file *file)
{
	file->f_mode |= FMODE_UNSIGNED_OFFSET;
}
#endif

/* vm_flags became read-only with accessors in 6.3. */
static inline void bsdmem_vma_deny_write(struct vm_area_struct *vma)
{
#ifdef BSDMEM_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, VM_MAYWRITE);
#else
	vma->vm_flags &= ~VM_MAYWRITE;
#endif
}

/* A VMA whose pages are inserted by pfn at fault time. */
static inline void bsdmem_vma_set_pfnmap(struct vm_area_struct *vma)
{
#ifdef BSDMEM_HAVE_VM_FLAGS_CLEAR
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
#endif
}

/*
 * The 64-bit MSR accessors were renamed from "l" to "q" in 6.16
 * (rdmsrl_safe() became rdmsrq_safe()), with the old names removed.
 */
static inline int bsdmem_rdmsr_safe(u32 msr, u64 *val)
{
#ifdef BSDMEM_HAVE_RDMSRQ_SAFE
	return rdmsrq_safe(msr, val);
#else
	return rdmsrl_safe(msr, val);
#endif
}

/*
 * May device memory at pfn be mapped uncached: does the kernel not hold
 * it write-back? pat_pfn_immune_to_uc_mtrr() answers, but 7.x exports it
 * to KVM only (EXPORT_SYMBOL_FOR_KVM; the Makefile reads Module.symvers).
 * There PAT is asked for a write-combining reservation of the page, which
 * is dropped at once: PAT hands back the type the page is held with, and
 * refuses a WC request on memory held write-back, quietly. The answers
 * differ for memory held write-through only, which the reservation takes.
 * For memory that is not RAM the reservation touches nothing but PAT's
 * own table; while it lives, another mapping of the page would be given
 * an uncached type, as during the uncached access that follows anyway.
 * Callers have seen the page is not RAM inside the hotplug window: PAT
 * would mark a RAM page WC.
 */
static inline bool bsdmem_pat_uncached_ok(unsigned long pfn)
{
#ifdef BSDMEM_HAVE_PAT_IMMUNE_EXPORT
	return pat_pfn_immune_to_uc_mtrr(pfn);
#else
	if (arch_io_reserve_memtype_wc(PFN_PHYS(pfn), PAGE_SIZE))
		return false;
	arch_io_free_memtype_wc(PFN_PHYS(pfn), PAGE_SIZE);
	return true;
#endif
}

/*
 * A page of a kmalloc() allocation too large for a slab: a page type of
 * the folio in 7.x, whose pages are frozen at a count of zero, so that
 * only the type tells them from free pages.
 */
static inline bool bsdmem_page_large_kmalloc(struct page *page)
{
#ifdef BSDMEM_HAVE_LARGE_KMALLOC_TYPE
	return folio_test_large_kmalloc(page_folio(page));
#else
	return false;
#endif
}

/* paddr_vmcoreinfo_note() moved from crash_core.h to vmcore_info.h in 6.9. */
#ifdef BSDMEM_HAVE_VMCORE_INFO_H
#include <linux/vmcore_info.h>
#else
#include <linux/crash_core.h>
#endif

/*
 * Before 6.3, PREEMPT_RT's spin_unlock() did not tell sparse that it
 * releases what spin_trylock() told it was taken; say it after the unlock.
 * (Only sparse sees __release(); the compiler sees nothing.)
 */
#if IS_ENABLED(CONFIG_PREEMPT_RT) && !defined(BSDMEM_HAVE_RT_UNLOCK_RELEASES)
static inline void bsdmem_rt_unlocked(spinlock_t *lock) __releases(lock)
{
	__release(lock);
}
#else
static inline void bsdmem_rt_unlocked(spinlock_t *lock)
{
}
#endif

#endif /* _BSDMEM_COMPAT_H */
