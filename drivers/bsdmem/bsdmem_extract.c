// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_EXTRACT_PADDR: the caller's virtual address to physical address,
 * NUMA domain and state, without faulting anything in.
 *
 * The lookup reads the caller's page tables the way GUP-fast does: with
 * interrupts off (page-table pages are freed only after an IPI or an RCU
 * grace period, both of which wait for us) and every entry read once. One
 * walk covers pages with a struct page (anonymous, file, THP, hugetlb) and
 * PFN mappings without one (VM_PFNMAP/VM_IO, e.g. a mapping of
 * /dev/bsdmem), identically on 6.1 and 6.12, and never takes a page
 * reference or a fault. mmap_lock is held for reading so that the answer
 * "is there a VMA here" and the walk agree.
 */
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include "bsdmem.h"

/* Physical address of addr inside a present leaf entry of size leaf_size. */
u64 bsdmem_leaf_phys(unsigned long leaf_pfn, u64 leaf_size, u64 addr)
{
	return ((u64)leaf_pfn << PAGE_SHIFT) + (addr & (leaf_size - 1));
}

/* Walk one address; returns true with *phys set when a leaf is present. */
static bool bsdmem_walk_user(struct mm_struct *mm, unsigned long addr,
			     u64 *phys)
{
	pgd_t *pgdp, pgd;
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t *ptep, pte;

	pgdp = pgd_offset(mm, addr);
	pgd = READ_ONCE(*pgdp);
	if (pgd_none(pgd) || !pgd_present(pgd))
		return false;
	p4dp = p4d_offset_lockless(pgdp, pgd, addr);
	p4d = READ_ONCE(*p4dp);
	if (p4d_none(p4d) || !p4d_present(p4d))
		return false;
	pudp = pud_offset_lockless(p4dp, p4d, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud) || !pud_present(pud))
		return false;
	if (pud_leaf(pud)) {
		*phys = bsdmem_leaf_phys(pud_pfn(pud), PUD_SIZE, addr);
		return true;
	}
	pmdp = pmd_offset_lockless(pudp, pud, addr);
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		return false;
	if (pmd_leaf(pmd)) {
		*phys = bsdmem_leaf_phys(pmd_pfn(pmd), PMD_SIZE, addr);
		return true;
	}
	ptep = pte_offset_kernel(&pmd, addr);
	pte = ptep_get_lockless(ptep);
	if (!pte_present(pte))
		return false;
	*phys = bsdmem_leaf_phys(pte_pfn(pte), PAGE_SIZE, addr);
	return true;
}

/* NUMA node of a physical address; device memory without one counts as 0. */
static int bsdmem_phys_domain(u64 phys)
{
	struct page *page = pfn_to_online_page(PHYS_PFN(phys));

	return page ? page_to_nid(page) : 0;
}

/*
 * Fill me for the calling process. As on FreeBSD, an address outside any
 * mapping only gets its state; a mapped-but-absent page also gets
 * me_paddr 0; fields not set are echoed back unchanged.
 */
int bsdmem_extract_lookup(struct mm_struct *mm, struct mem_extract *me)
{
	unsigned long addr = (unsigned long)me->me_vaddr;
	unsigned long flags;
	bool present;
	u64 phys = 0;

	me->me_state = ME_STATE_INVALID;
	if (!mm || me->me_vaddr >= TASK_SIZE_MAX)
		return 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	if (!vma_lookup(mm, addr)) {
		mmap_read_unlock(mm);
		return 0;
	}
	local_irq_save(flags);
	present = bsdmem_walk_user(mm, addr, &phys);
	local_irq_restore(flags);
	mmap_read_unlock(mm);

	if (!present) {
		me->me_state = ME_STATE_VALID;
		me->me_paddr = 0;
		return 0;
	}
	me->me_state = ME_STATE_MAPPED;
	me->me_paddr = phys;
	me->me_domain = bsdmem_phys_domain(phys);
	return 0;
}

int bsdmem_extract_paddr(void __user *arg)
{
	struct mem_extract me;
	int ret;

	if (copy_from_user(&me, arg, sizeof(me)))
		return -EFAULT;
	ret = bsdmem_extract_lookup(current->mm, &me);
	if (ret)
		return ret;
	if (copy_to_user(arg, &me, sizeof(me)))
		return -EFAULT;
	return 0;
}
