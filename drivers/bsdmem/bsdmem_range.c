// SPDX-License-Identifier: GPL-2.0
/*
 * MEMRANGE_GET and MEMRANGE_SET through PAT.
 *
 * The stock kernels export no MTRR programming, and rewriting MTRRs behind
 * Linux's back is unsafe, so the firmware MTRRs are reported read-only and
 * new ranges are made with the page attribute table instead:
 *  - RAM: set_memory_uc/wc() on the direct map, every page pinned while
 *    the range lives and written back to WB when it goes;
 *  - device memory: a memtype reservation of the requested type (WC via
 *    arch_io_reserve_memtype_wc(), UC/WT/WB via a kernel mapping of that
 *    type held for the range's life), visible in pat_memtype_list;
 *  - /dev/bsdmem reads, writes and mmaps inside a range use its type, and
 *    MDF_WRITEPROTECT refuses writes and writable mappings.
 * A range is MDF_BUSY while a /dev/bsdmem mapping reaches into it, and
 * no range may be added, changed or removed over memory that is mapped
 * (EBUSY): the mapping would keep the old cache type beside the new one,
 * or keep writing through a write protection. Refusing, as FreeBSD does
 * for busy ranges, was chosen over revoking the mapping because a revoked
 * process would fault on memory it was entitled to.
 * Ranges outlive the file descriptor that made them, as on FreeBSD, and
 * are all released when the module unloads.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/memtype.h>
#include <asm/mtrr.h>
#include <asm/set_memory.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

/* Enough for every use we know of; documented in bsdmem.rst. */
#define BSDMEM_MAX_RANGES	64

struct bsdmem_range {
	bool		used;
	bool		ram;
	u64		base;
	u64		len;
	int		type;		/* one MDF_ cache-type bit */
	char		owner[8];
	struct page	**pages;	/* RAM: pinned for the range's life */
	unsigned long	held_start;	/* RAM: the pfns its folios span */
	unsigned long	held_end;
	void __iomem	*io;		/* device UC/WT/WB: holds the memtype */
};

static DEFINE_MUTEX(bsdmem_ranges_lock);
static struct bsdmem_range bsdmem_ranges[BSDMEM_MAX_RANGES];
static int bsdmem_nr_ranges;
/* mappings of /dev/bsdmem: struct bsdmem_range_user */
static LIST_HEAD(bsdmem_range_users);

/* Does a live mapping reach into [base, base + len)? */
static bool bsdmem_mapped(u64 base, u64 len)
{
	struct bsdmem_range_user *u;

	list_for_each_entry(u, &bsdmem_range_users, node)
		if (bsdmem_ranges_overlap(u->base, u->len, base, len))
			return true;
	return false;
}

static bool bsdmem_range_busy(const struct bsdmem_range *r)
{
	return bsdmem_mapped(r->base, r->len);
}

/* ---- firmware MTRRs ---- */

static void bsdmem_mtrr_read(struct bsdmem_mtrr_regs *r)
{
	static const u32 fixed_msrs[BSDMEM_MTRR_FIXED_MSRS] = {
		0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c,
		0x26d, 0x26e, 0x26f,
	};
	unsigned int i, vcnt;

	memset(r, 0, sizeof(*r));
	if (!boot_cpu_has(X86_FEATURE_MTRR) ||
	    bsdmem_rdmsr_safe(MSR_MTRRcap, &r->cap) ||
	    bsdmem_rdmsr_safe(MSR_MTRRdefType, &r->def_type))
		return;
	for (i = 0; i < BSDMEM_MTRR_FIXED_MSRS; i++)
		if (bsdmem_rdmsr_safe(fixed_msrs[i], &r->fixed[i]))
			return;
	vcnt = min_t(unsigned int, r->cap & 0xff, BSDMEM_MTRR_MAX_VAR);
	for (i = 0; i < vcnt; i++)
		if (bsdmem_rdmsr_safe(MTRRphysBase_MSR(i), &r->var_base[i]) ||
		    bsdmem_rdmsr_safe(MTRRphysMask_MSR(i), &r->var_mask[i]))
			return;
	r->present = true;
}

/* ---- MEMRANGE_GET ---- */

static void bsdmem_range_to_desc(const struct bsdmem_range *r,
				 struct mem_range_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->mr_base = r->base;
	d->mr_len = r->len;
	d->mr_flags = r->type | MDF_ACTIVE;
	if (bsdmem_range_busy(r))
		d->mr_flags |= MDF_BUSY;
	memcpy(d->mr_owner, r->owner, sizeof(d->mr_owner));
}

/* The whole table, firmware first; caller frees. Returns the count. */
static int bsdmem_table_build(struct mem_range_desc **table)
{
	struct bsdmem_mtrr_regs *regs;
	struct mem_range_desc *t;
	int i, n;

	regs = kmalloc(sizeof(*regs), GFP_KERNEL);
	if (!regs)
		return -ENOMEM;
	bsdmem_mtrr_read(regs);
	n = bsdmem_mtrr_decode(regs, bsdmem_phys_bits(), NULL);
	t = kcalloc(n + BSDMEM_MAX_RANGES, sizeof(*t), GFP_KERNEL);
	if (!t) {
		kfree(regs);
		return -ENOMEM;
	}
	bsdmem_mtrr_decode(regs, bsdmem_phys_bits(), t);
	kfree(regs);
	for (i = 0; i < BSDMEM_MAX_RANGES; i++)
		if (bsdmem_ranges[i].used)
			bsdmem_range_to_desc(&bsdmem_ranges[i], &t[n++]);
	*table = t;
	return n;
}

static bool bsdmem_ranges_supported(void)
{
	return boot_cpu_has(X86_FEATURE_MTRR) || pat_enabled();
}

int bsdmem_memrange_get(struct bsdmem_range_req *req)
{
	struct mem_range_desc *table = NULL;
	int total, n, ret = 0;

	if (!bsdmem_ranges_supported())
		return -EOPNOTSUPP;
	mutex_lock(&bsdmem_ranges_lock);
	total = bsdmem_table_build(&table);
	mutex_unlock(&bsdmem_ranges_lock);
	if (total < 0)
		return total;
	if (total == 0) {
		ret = -ENXIO;
		goto out;
	}
	if (req->arg[0] <= 0) {
		req->arg[0] = total;
		goto out;
	}
	n = min(req->arg[0], total);
	if (copy_to_user(req->desc, table, n * sizeof(*table))) {
		ret = -EFAULT;
		goto out;
	}
	req->arg[0] = n;
out:
	kfree(table);
	return ret;
}

/* ---- applying a cache type ---- */

/*
 * A change of cache attribute flushes every cache line it covers without
 * rescheduling: do it a gigabyte at a time. (RAM memtypes live in page
 * flags, so pieces set one way can be reset another.)
 */
#define BSDMEM_CPA_CHUNK	(SZ_1G >> PAGE_SHIFT)

static int bsdmem_ram_set_chunk(unsigned long va, unsigned long n, int type)
{
	switch (type) {
	case MDF_UNCACHEABLE:
		return set_memory_uc(va, n) ? -EINVAL : 0;
	case MDF_WRITECOMBINE:
		return set_memory_wc(va, n) ? -EINVAL : 0;
	}
	set_memory_wb(va, n);
	return 0;
}

/* Set [r) to type; on failure, what was set goes back to write-back. */
static int bsdmem_ram_set(struct bsdmem_range *r, int type)
{
	unsigned long va = (unsigned long)__va(r->base);
	unsigned long done = 0, n, total = r->len >> PAGE_SHIFT;
	int ret = 0;

	while (done < total) {
		n = min_t(unsigned long, total - done, BSDMEM_CPA_CHUNK);
		if (done && type != MDF_WRITEBACK && fatal_signal_pending(current))
			ret = -EINTR;
		else
			ret = bsdmem_ram_set_chunk(va + done * PAGE_SIZE, n, type);
		if (ret)
			break;
		done += n;
		cond_resched();
	}
	/* a chunk that failed half-way may be half changed: undo it too */
	if (ret && ret != -EINTR)
		done += n;
	for (; ret && done; done -= n) {
		n = done % BSDMEM_CPA_CHUNK ? : BSDMEM_CPA_CHUNK;
		set_memory_wb(va + (done - n) * PAGE_SIZE, n);
	}
	return ret;
}

/*
 * Only memory that nothing else reaches may change its cache type: the
 * direct map is the one mapping that set_memory_*() changes, so a page
 * that a process maps (or may map again: page cache, swap cache), or
 * that the kernel itself uses (slab, page tables, hugetlb), would be seen
 * with two cache types at once. What remains is anonymous memory whose
 * owner has let go of it while the range held it: pin it with a
 * write-back range, unmap it, then change the range's type.
 */
static bool bsdmem_ram_alone(struct bsdmem_range *r)
{
	unsigned long i, n = r->len >> PAGE_SHIFT;

	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(r->pages[i]);

		if (!folio_test_anon(folio) || folio_mapped(folio) ||
		    folio_test_swapcache(folio) || folio_test_hugetlb(folio))
			return false;
		/*
		 * Unmapped is not enough: a page being migrated shows no
		 * mappings and gets them back, KSM maps a stable page
		 * again, and a pinned page (io_uring, AF_XDP, a pipe
		 * after vmsplice) is still written by someone. Each of
		 * them holds a reference: the range's must be the only one.
		 */
		if (folio_test_large(folio) || folio_test_ksm(folio) ||
		    folio_ref_count(folio) != 1)
			return false;
		if (!(i & 1023))
			cond_resched();
	}
	return true;
}

static int bsdmem_ram_apply(struct bsdmem_range *r, int type)
{
	switch (type) {
	case MDF_UNCACHEABLE:
	case MDF_WRITECOMBINE:
		if (!bsdmem_ram_alone(r))
			return -EBUSY;
		return bsdmem_ram_set(r, type);
	case MDF_WRITEBACK:
	case MDF_WRITEPROTECT:
		return 0;
	}
	/* No exported way to make RAM write-through. */
	return -EINVAL;
}

static void bsdmem_ram_unapply(struct bsdmem_range *r, int type)
{
	if (type == MDF_UNCACHEABLE || type == MDF_WRITECOMBINE)
		bsdmem_ram_set(r, MDF_WRITEBACK);
}

static int bsdmem_io_apply(struct bsdmem_range *r, int type)
{
	switch (type) {
	case MDF_WRITECOMBINE:
		return arch_io_reserve_memtype_wc(r->base, r->len) ? -EINVAL : 0;
	case MDF_UNCACHEABLE:
		r->io = ioremap_uc(r->base, r->len);
		break;
	case MDF_WRITETHROUGH:
		r->io = ioremap_wt(r->base, r->len);
		break;
	case MDF_WRITEBACK:
		r->io = ioremap_cache(r->base, r->len);
		break;
	case MDF_WRITEPROTECT:
		return 0;
	}
	/* A NULL mapping means the memory type conflicts with another. */
	return r->io ? 0 : -EINVAL;
}

static void bsdmem_io_unapply(struct bsdmem_range *r, int type)
{
	if (type == MDF_WRITECOMBINE)
		arch_io_free_memtype_wc(r->base, r->len);
	if (r->io)
		iounmap(r->io);
	r->io = NULL;
}

/*
 * Device memory types are taken under bsdmem_uc_lock, as every other
 * device access of ours: a type asked of PAT meanwhile (7.x's probe)
 * would be handed to the range instead.
 */
static int bsdmem_range_apply(struct bsdmem_range *r, int type)
{
	int ret;

	if (r->ram)
		return bsdmem_ram_apply(r, type);
	mutex_lock(&bsdmem_uc_lock);
	ret = bsdmem_io_apply(r, type);
	mutex_unlock(&bsdmem_uc_lock);
	return ret;
}

static void bsdmem_range_unapply(struct bsdmem_range *r)
{
	if (r->ram) {
		bsdmem_ram_unapply(r, r->type);
		return;
	}
	mutex_lock(&bsdmem_uc_lock);
	bsdmem_io_unapply(r, r->type);
	mutex_unlock(&bsdmem_uc_lock);
}

/* ---- RAM pinning ---- */

static void bsdmem_unpin(struct bsdmem_range *r, unsigned long n)
{
	while (n--) {
		put_page(r->pages[n]);
		if (!(n & 1023))
			cond_resched();
	}
	kvfree(r->pages);
	r->pages = NULL;
}

/*
 * One page of a RAM range, held for the range's life (bsdmem_page_hold():
 * only pages freed by their last reference, so no free page is stolen
 * from the allocator). Taken with the hotplug window held, so a block
 * being taken offline is not pinned behind the notifier's back.
 */
static struct page *bsdmem_pin_one(unsigned long pfn)
{
	struct folio *folio;

	/* what strict_devmem refuses to read, it refuses to pin as well */
	if (bsdmem_strict_devmem &&
	    bsdmem_strict_pfn_allowed(pfn) == BSDMEM_STRICT_REFUSE)
		return NULL;
	bsdmem_page_access_begin();
	folio = bsdmem_page_hold(pfn);
	bsdmem_page_access_end();
	return IS_ERR(folio) ? NULL : pfn_to_page(pfn);
}

static int bsdmem_pin(struct bsdmem_range *r)
{
	unsigned long i, n = r->len >> PAGE_SHIFT;
	unsigned long pfn = PHYS_PFN(r->base);
	int ret = -EINVAL;

	r->pages = kvcalloc(n, sizeof(*r->pages), GFP_KERNEL_ACCOUNT);
	if (!r->pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!(i & 1023)) {
			cond_resched();
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				goto undo;
			}
		}
		r->pages[i] = bsdmem_pin_one(pfn + i);
		if (!r->pages[i])
			goto undo;
	}
	/* a pinned huge page keeps all of itself, beyond the range too */
	r->held_start = folio_pfn(page_folio(r->pages[0]));
	r->held_end = folio_pfn(page_folio(r->pages[n - 1])) +
		      folio_nr_pages(page_folio(r->pages[n - 1]));
	return 0;
undo:
	bsdmem_unpin(r, i);
	return ret;
}

/* ---- MEMRANGE_SET ---- */

static struct bsdmem_range *bsdmem_range_find(u64 base, u64 len)
{
	int i;

	for (i = 0; i < BSDMEM_MAX_RANGES; i++)
		if (bsdmem_ranges[i].used && bsdmem_ranges[i].base == base &&
		    bsdmem_ranges[i].len == len)
			return &bsdmem_ranges[i];
	return NULL;
}

/* A firmware descriptor with exactly this base and length? */
static bool bsdmem_is_firmware_range(u64 base, u64 len)
{
	struct mem_range_desc *table = NULL;
	int i, n = bsdmem_table_build(&table);
	bool found = false;

	for (i = 0; i < n; i++)
		if ((table[i].mr_flags & MDF_FIRMWARE) &&
		    table[i].mr_base == base && table[i].mr_len == len)
			found = true;
	kfree(table);
	return found;
}

/* Release a range whose attribute is already gone: unpin and free the slot. */
static void bsdmem_range_forget(struct bsdmem_range *r)
{
	if (r->ram)
		bsdmem_unpin(r, r->len >> PAGE_SHIFT);
	memset(r, 0, sizeof(*r));
	bsdmem_nr_ranges--;
}

static int bsdmem_range_remove(const struct mem_range_desc *d)
{
	struct bsdmem_range *r = bsdmem_range_find(d->mr_base, d->mr_len);

	if (!r)
		return bsdmem_is_firmware_range(d->mr_base, d->mr_len) ?
		       -EPERM : -ENOENT;
	if (bsdmem_range_busy(r))
		return -EBUSY;
	bsdmem_range_unapply(r);
	bsdmem_range_forget(r);
	return 0;
}

static int bsdmem_range_change_type(struct bsdmem_range *r,
				    const struct mem_range_desc *d, int type)
{
	int old = r->type, ret;

	if (bsdmem_range_busy(r))
		return -EBUSY;
	if (type != old) {
		bsdmem_range_unapply(r);
		ret = bsdmem_range_apply(r, type);
		if (ret) {
			/* put back what was there; if even that fails, drop it */
			if (bsdmem_range_apply(r, old))
				bsdmem_range_forget(r);
			return ret;
		}
		r->type = type;
	}
	memcpy(r->owner, d->mr_owner, sizeof(r->owner));
	return 0;
}

static struct bsdmem_range *bsdmem_range_free_slot(void)
{
	int i;

	for (i = 0; i < BSDMEM_MAX_RANGES; i++)
		if (!bsdmem_ranges[i].used)
			return &bsdmem_ranges[i];
	return NULL;
}

static int bsdmem_range_add(const struct mem_range_desc *d, int type)
{
	struct bsdmem_range *r;
	int i, ret, kind;

	for (i = 0; i < BSDMEM_MAX_RANGES; i++)
		if (bsdmem_ranges[i].used &&
		    bsdmem_ranges_overlap(bsdmem_ranges[i].base,
					  bsdmem_ranges[i].len,
					  d->mr_base, d->mr_len))
			return -EINVAL;
	if (bsdmem_mapped(d->mr_base, d->mr_len))
		return -EBUSY;
	r = bsdmem_range_free_slot();
	if (!r)
		return -ENOSPC;

	kind = region_intersects(d->mr_base, d->mr_len, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE);
	if (kind == REGION_MIXED)
		return -EINVAL;
	r->ram = kind == REGION_INTERSECTS;
	r->base = d->mr_base;
	r->len = d->mr_len;
	if (r->ram) {
		ret = bsdmem_pin(r);
		if (ret)
			goto err_clear;
	}
	ret = bsdmem_range_apply(r, type);
	if (ret)
		goto err_unpin;
	r->type = type;
	memcpy(r->owner, d->mr_owner, sizeof(r->owner));
	r->used = true;
	bsdmem_nr_ranges++;
	return 0;

err_unpin:
	if (r->ram)
		bsdmem_unpin(r, r->len >> PAGE_SHIFT);
err_clear:
	memset(r, 0, sizeof(*r));
	return ret;
}

static int bsdmem_range_update(const struct mem_range_desc *d)
{
	int type = d->mr_flags & BSDMEM_CACHE_TYPES;
	struct bsdmem_range *r;
	int ret;

	ret = bsdmem_range_validate(d->mr_base, d->mr_len,
				    d->mr_flags & ~MDF_FORCE & MDF_ATTRMASK,
				    bsdmem_phys_bits());
	if (ret)
		return ret;
	r = bsdmem_range_find(d->mr_base, d->mr_len);
	if (r)
		return bsdmem_range_change_type(r, d, type);
	if (bsdmem_is_firmware_range(d->mr_base, d->mr_len))
		return -EPERM;
	return bsdmem_range_add(d, type);
}

int bsdmem_memrange_set(struct bsdmem_range_req *req)
{
	struct mem_range_desc d;
	int ret;

	if (req->arg[0] != MEMRANGE_SET_UPDATE &&
	    req->arg[0] != MEMRANGE_SET_REMOVE)
		return -EOPNOTSUPP;
	if (!pat_enabled())
		return -EOPNOTSUPP;
	if (copy_from_user(&d, req->desc, sizeof(d)))
		return -EFAULT;
	d.mr_owner[sizeof(d.mr_owner) - 1] = '\0';

	mutex_lock(&bsdmem_ranges_lock);
	if (req->arg[0] == MEMRANGE_SET_REMOVE)
		ret = bsdmem_range_remove(&d);
	else
		ret = bsdmem_range_update(&d);
	mutex_unlock(&bsdmem_ranges_lock);
	return ret;
}

void bsdmem_ranges_release_all(void)
{
	int i;

	mutex_lock(&bsdmem_ranges_lock);
	for (i = 0; i < BSDMEM_MAX_RANGES; i++) {
		struct bsdmem_range *r = &bsdmem_ranges[i];

		if (!r->used)
			continue;
		bsdmem_range_unapply(r);
		bsdmem_range_forget(r);
	}
	mutex_unlock(&bsdmem_ranges_lock);
}

/* ---- use by the devices ---- */

/* The range containing [phys, phys + len), or NULL; -EINVAL if straddling. */
static struct bsdmem_range *bsdmem_range_covering(u64 phys, u64 len, int *err)
{
	int i;

	*err = 0;
	for (i = 0; i < BSDMEM_MAX_RANGES; i++) {
		struct bsdmem_range *r = &bsdmem_ranges[i];

		if (!r->used || !bsdmem_ranges_overlap(r->base, r->len, phys, len))
			continue;
		if (phys >= r->base && phys + len <= r->base + r->len)
			return r;
		*err = -EINVAL;
		return NULL;
	}
	return NULL;
}

/* The cache type of the range holding phys, 0 when none does. */
int bsdmem_range_cache_type(u64 phys)
{
	struct bsdmem_range *r;
	int err, type = 0;

	if (!READ_ONCE(bsdmem_nr_ranges))
		return 0;
	mutex_lock(&bsdmem_ranges_lock);
	r = bsdmem_range_covering(phys, 1, &err);
	if (r)
		type = r->type;
	mutex_unlock(&bsdmem_ranges_lock);
	return type;
}

int bsdmem_range_check_write(u64 phys, u64 len)
{
	return bsdmem_range_cache_type(phys) == MDF_WRITEPROTECT ? -EACCES : 0;
}

/*
 * A mapping of [u->base, u->base + u->len) begins: it may not straddle a
 * range's edge, and learns whether its range is write-protected. Until
 * bsdmem_range_user_del(), no range can be added, changed or removed
 * over it.
 */
int bsdmem_range_user_add(struct bsdmem_range_user *u, bool *read_only)
{
	struct bsdmem_range *r;
	int ret;

	mutex_lock(&bsdmem_ranges_lock);
	r = bsdmem_range_covering(u->base, u->len, &ret);
	if (!ret) {
		*read_only = r && r->type == MDF_WRITEPROTECT;
		list_add(&u->node, &bsdmem_range_users);
	}
	mutex_unlock(&bsdmem_ranges_lock);
	return ret;
}

void bsdmem_range_user_del(struct bsdmem_range_user *u)
{
	mutex_lock(&bsdmem_ranges_lock);
	list_del(&u->node);
	mutex_unlock(&bsdmem_ranges_lock);
}

/*
 * Does a range cover a page of [start, end)? Memory hotplug asks: a RAM
 * range pins its pages, so their block cannot go offline; a device range
 * holds a memory type, so the block cannot come online as RAM under it.
 */
bool bsdmem_ranges_cover(unsigned long start, unsigned long end)
{
	bool found = false;
	int i;

	mutex_lock(&bsdmem_ranges_lock);
	for (i = 0; i < BSDMEM_MAX_RANGES; i++) {
		struct bsdmem_range *r = &bsdmem_ranges[i];
		u64 base = r->base, len = r->len;

		if (r->used && r->ram) {
			base = PFN_PHYS(r->held_start);
			len = PFN_PHYS(r->held_end - r->held_start);
		}
		if (r->used &&
		    bsdmem_ranges_overlap(base, len, PFN_PHYS(start),
					  PFN_PHYS(end - start)))
			found = true;
	}
	mutex_unlock(&bsdmem_ranges_lock);
	return found;
}
