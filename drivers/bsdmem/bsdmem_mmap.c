// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of /dev/bsdmem, page by page at fault time.
 *
 * mmap() itself only checks the request and records what the range table
 * says about it, so its cost does not grow with the size of the mapping.
 * Each page is decided when it is first touched, by the rules read(2) and
 * write(2) follow:
 *  - a RAM page must be usable (online, not poisoned, not going offline);
 *    a reference on its folio is taken and held until the mapping is
 *    gone, so the page cannot be freed and reused (as a page table, as
 *    secretmem, ...) while a process can still reach it. A page nobody
 *    holds (free) cannot be mapped: the fault is SIGBUS;
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
 * memory block whose pages are held cannot be taken offline.
 */
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>
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
	struct xarray		held;		/* pfn -> page with a folio ref */
	struct bsdmem_range_user user;		/* keeps the ranges as they are */
};

static DEFINE_MUTEX(bsdmem_maps_lock);
static LIST_HEAD(bsdmem_maps);

/* Does a mapping hold a reference on a page of [start, end)? */
bool bsdmem_maps_hold(unsigned long start, unsigned long end)
{
	struct bsdmem_map *m;
	unsigned long pfn;
	bool found = false;

	mutex_lock(&bsdmem_maps_lock);
	list_for_each_entry(m, &bsdmem_maps, node) {
		pfn = start;
		if (xa_find(&m->held, &pfn, end - 1, XA_PRESENT))
			found = true;
	}
	mutex_unlock(&bsdmem_maps_lock);
	return found;
}

static void bsdmem_map_release(struct kref *ref)
{
	struct bsdmem_map *m = container_of(ref, struct bsdmem_map, ref);
	struct page *page;
	unsigned long pfn;

	mutex_lock(&bsdmem_maps_lock);
	list_del(&m->node);
	mutex_unlock(&bsdmem_maps_lock);
	bsdmem_range_user_del(&m->user);
	xa_for_each(&m->held, pfn, page) {
		folio_put(page_folio(page));
		if (!(pfn & 1023))
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

/*
 * Take a reference on the folio holding page, unless it is free. The
 * page may change folios (split) meanwhile: then look again. A count of
 * zero is also what migration shows for an instant while it freezes a
 * page, so zero is believed only after a few looks.
 */
static struct folio *bsdmem_folio_try_get(struct page *page)
{
	struct folio *folio;
	int zero = 0;

	while (zero < 3) {
		folio = page_folio(page);
		if (!folio_try_get(folio)) {
			zero++;
			cond_resched();
			continue;
		}
		if (likely(page_folio(page) == folio))
			return folio;
		folio_put(folio);
	}
	return NULL;
}

/* Hold a reference on page for the life of the mapping. */
static int bsdmem_map_hold(struct bsdmem_map *m, unsigned long pfn,
			   struct page *page)
{
	struct folio *folio;
	int ret;

	if (xa_load(&m->held, pfn))
		return 0;
	folio = bsdmem_folio_try_get(page);
	if (!folio)
		return -EFAULT;
	ret = xa_insert(&m->held, pfn, page, GFP_KERNEL_ACCOUNT);
	if (ret) {
		folio_put(folio);
		/* somebody else's fault got there first */
		return ret == -EBUSY ? 0 : ret;
	}
	return 0;
}

/*
 * A RAM page for a mapping: usable, present in the direct map, and held.
 * *writable says whether the kernel lets it be written.
 */
static int bsdmem_fault_ram(struct bsdmem_map *m, unsigned long pfn,
			    bool *writable)
{
	unsigned long va = (unsigned long)pfn_to_kaddr(pfn);
	u64 phys;
	int ret;

	bsdmem_page_access_begin();
	ret = bsdmem_ram_page_usable(pfn);
	if (!ret)
		ret = bsdmem_kmap_present(va, false, &phys);
	if (!ret) {
		*writable = !bsdmem_kmap_present(va, true, &phys);
		ret = bsdmem_map_hold(m, pfn, pfn_to_page(pfn));
	}
	bsdmem_page_access_end();
	return ret;
}

/* Device memory: O_SYNC cannot have uncached what the kernel holds cached. */
static int bsdmem_fault_io(struct bsdmem_map *m, unsigned long pfn)
{
	if (m->sync && pat_enabled() && !pat_pfn_immune_to_uc_mtrr(pfn))
		return -EINVAL;
	return 0;
}

static vm_fault_t bsdmem_vma_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct bsdmem_map *m = vma->vm_private_data;
	unsigned long pfn = vmf->pgoff;
	bool ram = page_is_ram(pfn), writable = !ram;
	pgprot_t prot;
	int ret;

	if (bsdmem_lockdown_check() || pfn < m->start_pfn || pfn >= m->end_pfn)
		return VM_FAULT_SIGBUS;
	if (bsdmem_strict_devmem && !bsdmem_strict_pfn_allowed(pfn))
		return VM_FAULT_SIGBUS;
	ret = ram ? bsdmem_fault_ram(m, pfn, &writable) :
		    bsdmem_fault_io(m, pfn);
	if (ret == -ENOMEM)
		return VM_FAULT_OOM;
	if (ret)
		return VM_FAULT_SIGBUS;

	/*
	 * Read-only pages get a read-only entry; a store then comes back
	 * through pfn_mkwrite, which refuses it.
	 */
	if (m->read_only || !writable)
		prot = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
	else
		prot = vm_get_page_prot(vma->vm_flags);
	if (!ram)
		prot = pgprot_noncached(prot);	/* PAT substitutes what it holds */
	return vmf_insert_pfn_prot(vma, vmf->address, pfn, prot);
}

/* A store to a page mapped read-only: allowed only where write(2) is. */
static vm_fault_t bsdmem_vma_pfn_mkwrite(struct vm_fault *vmf)
{
	struct bsdmem_map *m = vmf->vma->vm_private_data;
	unsigned long pfn = vmf->pgoff;
	u64 phys;

	if (m->read_only)
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
