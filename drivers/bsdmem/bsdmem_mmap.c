// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of /dev/bsdmem, page by page at fault time.
 *
 * mmap() itself only checks the request and records what the range table
 * says about it, so its cost does not grow with the size of the mapping.
 * Each page is decided when it is first touched, by the rules read(2) and
 * write(2) follow:
 *  - a RAM page must be usable (online, not poisoned, not in a block
 *    going offline or online); a reference on its folio is taken and held
 *    until the mapping is gone, so the page cannot be freed and reused
 *    (as a page table, as secretmem, ...) while a process can still reach
 *    it. Only pages that are freed by their last reference can be held
 *    this way (bsdmem_page_hold()); reserved pages that are never freed
 *    (the first megabyte, the kernel image) are mapped without one. Free
 *    pages, other reserved memory and other kernel allocations cannot be
 *    mapped: the fault is SIGBUS, and read(2) still serves them;
 *  - a page the kernel maps read-only (kernel text and rodata), or one in
 *    an MDF_WRITEPROTECT range, is mapped read-only: a store raises SIGBUS
 *    as write(2) would return EFAULT or EACCES;
 *  - the cache type is the one the kernel holds for the page (PAT's
 *    memtype, applied by vmf_insert_pfn_prot()): write-back RAM and
 *    firmware tables, a memory range's own type, UC- for MMIO nobody
 *    claimed. O_SYNC asks for uncached memory, and a page the kernel holds
 *    write-back then refuses to map rather than alias.
 * A memory range cannot be added, changed or removed over live mappings
 * (EBUSY, FreeBSD's MDF_BUSY), so what mmap() recorded stays true; and a
 * memory block with a mapped page can neither go offline nor come online.
 */
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <asm/e820/types.h>
#include <asm/io.h>
#include <asm/memtype.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

/* One mmap() call, shared by the VMAs it is split or copied into. */
struct bsdmem_map {
	struct kref		ref;
	struct list_head	node;		/* on bsdmem_maps */
	unsigned long		start_pfn;	/* the pages it may reach */
	unsigned long		end_pfn;
	bool			read_only;	/* write-protected range */
	bool			sync;		/* O_SYNC: uncached */
	struct mutex		lock;		/* serialises recording in held */
	struct xarray		held;		/* pfn -> folio held, or value */
	struct bsdmem_range_user user;		/* keeps the ranges as they are */
};

static DEFINE_MUTEX(bsdmem_maps_lock);
static LIST_HEAD(bsdmem_maps);

/*
 * Held pages are not freed when their owner lets go, and nobody is
 * charged for them: one mapping of all RAM, touched once, would keep
 * every page freed afterwards. So at most this share of RAM (in percent)
 * is held by all mappings together; a fault beyond it is SIGBUS. What a
 * reference holds is the whole folio (a THP, a 1 GiB hugetlb page), so
 * each folio a mapping holds counts with all its pages, once.
 */
static unsigned int bsdmem_mmap_hold_pct = 25;
module_param_named(mmap_hold_pct, bsdmem_mmap_hold_pct, uint, 0644);
MODULE_PARM_DESC(mmap_hold_pct,
		 "Most RAM, in percent, that /dev/bsdmem mappings may hold (default: 25)");
static atomic_long_t bsdmem_held_pages;

static bool bsdmem_hold_charge(long pages)
{
	long max = totalram_pages() / 100 *
		   min(READ_ONCE(bsdmem_mmap_hold_pct), 100U);

	if (atomic_long_add_return(pages, &bsdmem_held_pages) <= max)
		return true;
	atomic_long_sub(pages, &bsdmem_held_pages);
	return false;
}

/*
 * Pages below the legacy ISA hole (0xa0000) are RAM or firmware data the
 * kernel maps write-back, but PAT tracks them as memory nobody reserved,
 * so a page table entry made for them would be uncached (UC-): a cache
 * alias of the direct map. Linux's /dev/mem reserves write-back for its
 * mapping; bsdmem holds one write-back reservation per such page, taken
 * at the first fault and kept until the module goes.
 */
#define BSDMEM_LOW_PAGES	PHYS_PFN(ISA_START_ADDRESS)
static void __iomem *bsdmem_low_wb[BSDMEM_LOW_PAGES];
static DEFINE_MUTEX(bsdmem_low_lock);

static int bsdmem_low_page_reserve_wb(unsigned long pfn)
{
	int ret = 0;

	if (pfn >= BSDMEM_LOW_PAGES || !pat_enabled())
		return 0;
	mutex_lock(&bsdmem_low_lock);
	if (!bsdmem_low_wb[pfn])
		bsdmem_low_wb[pfn] = ioremap_cache(PFN_PHYS(pfn), PAGE_SIZE);
	if (!bsdmem_low_wb[pfn])
		ret = -EINVAL;	/* held by somebody with another type */
	mutex_unlock(&bsdmem_low_lock);
	return ret;
}

void bsdmem_mmap_exit(void)
{
	unsigned long pfn;

	for (pfn = 0; pfn < BSDMEM_LOW_PAGES; pfn++) {
		if (bsdmem_low_wb[pfn])
			iounmap(bsdmem_low_wb[pfn]);
		bsdmem_low_wb[pfn] = NULL;
	}
}

/*
 * Does the entry at pfn keep a page of [start, end) in use? A held folio
 * reaches beyond its own page: a 1 GiB hugetlb page spans several memory
 * blocks, and none of them can be offlined while it is held.
 */
static bool bsdmem_entry_in(void *entry, unsigned long pfn,
			    unsigned long start, unsigned long end)
{
	unsigned long first = pfn, last = pfn;

	if (!xa_is_value(entry)) {
		first = folio_pfn(entry);
		last = first + folio_nr_pages(entry) - 1;
	}
	return first < end && last >= start;
}

/*
 * Has a mapping put a page of [start, end) into a page table? Memory
 * hotplug asks: such a block may neither go offline (the page is held)
 * nor come online (device space that a process maps would become RAM
 * under it, with the device's cache type).
 */
bool bsdmem_maps_hold(unsigned long start, unsigned long end)
{
	unsigned long from = start > BSDMEM_FOLIO_MAX_PAGES ?
			     start - BSDMEM_FOLIO_MAX_PAGES : 0;
	struct bsdmem_map *m;
	unsigned long pfn;
	bool found = false;
	void *entry;

	mutex_lock(&bsdmem_maps_lock);
	list_for_each_entry(m, &bsdmem_maps, node) {
		xa_for_each_range(&m->held, pfn, entry, from, end - 1) {
			if (bsdmem_entry_in(entry, pfn, start, end)) {
				found = true;
				break;
			}
			if (pfn < start)	/* skip to the block */
				cond_resched();
		}
	}
	mutex_unlock(&bsdmem_maps_lock);
	return found;
}

static void bsdmem_map_release(struct kref *ref)
{
	struct bsdmem_map *m = container_of(ref, struct bsdmem_map, ref);
	unsigned long pfn, n = 0;
	void *entry, *last = NULL;

	mutex_lock(&bsdmem_maps_lock);
	list_del(&m->node);
	mutex_unlock(&bsdmem_maps_lock);
	bsdmem_range_user_del(&m->user);
	/* a folio's pages are consecutive: it was charged at its first */
	xa_for_each(&m->held, pfn, entry) {
		if (!xa_is_value(entry)) {
			if (entry != last)
				atomic_long_sub(folio_nr_pages(entry),
						&bsdmem_held_pages);
			last = entry;
			folio_put(entry);
		}
		if (!(++n & 1023))
			cond_resched();
	}
	xa_destroy(&m->held);
	kfree(m);
}

static void bsdmem_vma_open(struct vm_area_struct *vma)
{
	struct bsdmem_map *m = vma->vm_private_data;

	kref_get(&m->ref);
}

static void bsdmem_vma_close(struct vm_area_struct *vma)
{
	struct bsdmem_map *m = vma->vm_private_data;

	kref_put(&m->ref, bsdmem_map_release);
}

/* Does the mapping hold folio already, through another of its pages? */
static bool bsdmem_map_has_folio(struct bsdmem_map *m, struct folio *folio)
{
	unsigned long pfn, first = folio_pfn(folio);
	void *entry;

	xa_for_each_range(&m->held, pfn, entry, first,
			  first + folio_nr_pages(folio) - 1)
		if (entry == folio)
			return true;
	return false;
}

/*
 * Remember that pfn is mapped: entry is the folio whose reference the
 * mapping now owns (it is dropped on failure), or a value entry for a
 * page mapped without one. A folio new to the mapping is charged to
 * mmap_hold_pct with all its pages.
 */
static int bsdmem_map_record(struct bsdmem_map *m, unsigned long pfn,
			     void *entry)
{
	long charge = 0;
	int ret = 0;

	mutex_lock(&m->lock);
	if (xa_load(&m->held, pfn))	/* another fault got there first */
		goto drop;
	if (!xa_is_value(entry) && !bsdmem_map_has_folio(m, entry)) {
		charge = folio_nr_pages(entry);
		if (!bsdmem_hold_charge(charge)) {
			ret = -ENOSPC;
			goto drop;
		}
	}
	ret = xa_insert(&m->held, pfn, entry, GFP_KERNEL_ACCOUNT);
	if (ret) {
		atomic_long_sub(charge, &bsdmem_held_pages);
		goto drop;
	}
	mutex_unlock(&m->lock);
	return 0;
drop:
	mutex_unlock(&m->lock);
	if (!xa_is_value(entry))
		folio_put(entry);
	return ret;
}

/*
 * A RAM page for a mapping: usable, present in the direct map, and held
 * (reserved pages that are never freed are mapped without a reference).
 * *writable says whether the kernel lets it be written.
 */
static int bsdmem_fault_ram(struct bsdmem_map *m, unsigned long pfn,
			    bool *writable)
{
	unsigned long va = (unsigned long)pfn_to_kaddr(pfn);
	struct folio *folio;
	u64 phys;
	int ret;

	ret = bsdmem_ram_page_usable(pfn);
	if (!ret)
		ret = bsdmem_kmap_present(va, false, &phys);
	if (ret)
		return ret;
	*writable = !bsdmem_kmap_present(va, true, &phys);
	if (xa_load(&m->held, pfn))
		return 0;
	if (PageReserved(pfn_to_page(pfn))) {
		if (!bsdmem_reserved_page_stays(pfn))
			return -EPERM;
		ret = bsdmem_low_page_reserve_wb(pfn);
		if (ret)
			return ret;
		return bsdmem_map_record(m, pfn, xa_mk_value(0));
	}
	/* every RAM page below 0xa0000 is reserved: none is mapped uncached */
	if (pfn < BSDMEM_LOW_PAGES)
		return -EPERM;
	folio = bsdmem_page_hold(pfn);
	if (IS_ERR(folio))
		return PTR_ERR(folio);
	return bsdmem_map_record(m, pfn, folio);
}

/*
 * Device memory: O_SYNC cannot have uncached what the kernel holds
 * cached. The legacy ISA range is not tracked by PAT (it always reports
 * write-back there and the MTRRs decide), so it is not refused.
 */
static int bsdmem_fault_io(struct bsdmem_map *m, unsigned long pfn)
{
	int ret;

	if (m->sync && pat_enabled() && pfn >= PHYS_PFN(SZ_1M) &&
	    !bsdmem_pat_uncached_ok(pfn))
		return -EINVAL;
	ret = bsdmem_low_page_reserve_wb(pfn);
	if (ret)
		return ret;
	return bsdmem_map_record(m, pfn, xa_mk_value(0));
}

/*
 * The protection of a new entry. Read-only pages get a read-only entry;
 * a store then comes back through pfn_mkwrite, which refuses it. With
 * PAT, vmf_insert_pfn_prot() replaces the cache bits with the type the
 * kernel holds; without it, device memory is write-back (the MTRRs
 * decide) unless O_SYNC asks for uncached, as for /dev/mem. Device
 * memory is never encrypted (SME/SEV).
 */
static pgprot_t bsdmem_fault_prot(struct vm_area_struct *vma,
				  struct bsdmem_map *m, bool ram, bool writable)
{
	pgprot_t prot;

	if (m->read_only || !writable)
		prot = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
	else
		prot = vm_get_page_prot(vma->vm_flags);
	if (ram)
		return prot;
	prot = pgprot_decrypted(prot);
	return m->sync ? pgprot_noncached(prot) : prot;
}

static vm_fault_t bsdmem_vma_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct bsdmem_map *m = vma->vm_private_data;
	unsigned long pfn = vmf->pgoff;
	bool ram = false, writable = true, uc = false;
	vm_fault_t vret = VM_FAULT_SIGBUS;
	int ret;

	if (bsdmem_lockdown_check() || pfn < m->start_pfn || pfn >= m->end_pfn)
		return VM_FAULT_SIGBUS;
	if (bsdmem_strict_devmem && !bsdmem_strict_pfn_allowed(pfn))
		return VM_FAULT_SIGBUS;

	/* decided and inserted with the hotplug window held */
	bsdmem_page_access_begin();
	if (bsdmem_page_changing(pfn)) {
		ret = -EFAULT;
	} else {
		ram = page_is_ram(pfn);
		/* asked and inserted with no other device access between */
		uc = !ram;
		if (uc)
			mutex_lock(&bsdmem_uc_lock);
		ret = ram ? bsdmem_fault_ram(m, pfn, &writable) :
			    bsdmem_fault_io(m, pfn);
	}
	if (!ret)
		vret = vmf_insert_pfn_prot(vma, vmf->address, pfn,
					   bsdmem_fault_prot(vma, m, ram,
							     writable));
	else if (ret == -ENOMEM)
		vret = VM_FAULT_OOM;
	if (uc)
		mutex_unlock(&bsdmem_uc_lock);
	bsdmem_page_access_end();
	return vret;
}

/* A store to a page mapped read-only: allowed only where write(2) is. */
static vm_fault_t bsdmem_vma_pfn_mkwrite(struct vm_fault *vmf)
{
	struct bsdmem_map *m = vmf->vma->vm_private_data;
	unsigned long pfn = vmf->pgoff;
	u64 phys;

	if (m->read_only || bsdmem_lockdown_check())
		return VM_FAULT_SIGBUS;
	if (bsdmem_strict_devmem && !bsdmem_strict_pfn_allowed(pfn))
		return VM_FAULT_SIGBUS;
	if (page_is_ram(pfn) &&
	    bsdmem_kmap_present((unsigned long)pfn_to_kaddr(pfn), true, &phys))
		return VM_FAULT_SIGBUS;
	return 0;
}

static const struct vm_operations_struct bsdmem_vm_ops = {
	.open		= bsdmem_vma_open,
	.close		= bsdmem_vma_close,
	.fault		= bsdmem_vma_fault,
	.pfn_mkwrite	= bsdmem_vma_pfn_mkwrite,
};

/*
 * Check an mmap() request and set the VMA up for faults. Private
 * mappings are refused, as FreeBSD refuses them for character devices:
 * a copy-on-write copy of physical memory is meaningless.
 */
int bsdmem_mmap_setup(struct file *file, struct vm_area_struct *vma)
{
	u64 size = vma->vm_end - vma->vm_start;
	u64 phys = (u64)vma->vm_pgoff << PAGE_SHIFT;
	struct bsdmem_map *m;
	bool read_only;
	int ret;

	/* (a read-only fd's shared mappings lose VM_SHARED, keep MAYSHARE) */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (phys >> PAGE_SHIFT != vma->vm_pgoff ||
	    !bsdmem_phys_range_ok(phys, size, bsdmem_phys_bits()))
		return -EINVAL;
	if (bsdmem_strict_devmem && !bsdmem_strict_range_allowed(phys, size))
		return -EPERM;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->user.base = phys;
	m->user.len = size;
	ret = bsdmem_range_user_add(&m->user, &read_only);
	if (!ret && read_only && (vma->vm_flags & VM_WRITE)) {
		bsdmem_range_user_del(&m->user);
		ret = -EACCES;
	}
	if (ret) {
		kfree(m);
		return ret;
	}
	kref_init(&m->ref);
	mutex_init(&m->lock);
	xa_init(&m->held);
	m->start_pfn = vma->vm_pgoff;
	m->end_pfn = vma->vm_pgoff + (size >> PAGE_SHIFT);
	m->read_only = read_only;
	m->sync = file->f_flags & O_DSYNC;
	mutex_lock(&bsdmem_maps_lock);
	list_add(&m->node, &bsdmem_maps);
	mutex_unlock(&bsdmem_maps_lock);

	if (read_only)
		bsdmem_vma_deny_write(vma);
	bsdmem_vma_set_pfnmap(vma);
	vma->vm_private_data = m;
	vma->vm_ops = &bsdmem_vm_ops;
	return 0;
}
