// SPDX-License-Identifier: GPL-2.0
/*
 * One page-bounded step of a read or write of physical memory
 * (/dev/bsdmem) or kernel virtual memory (/dev/bsdkmem).
 *
 * Every step decides afresh whether the page may be touched at all:
 * hardware-poisoned, offline, unaccepted pages and pages removed from the
 * direct map (secretmem) are refused before any access, and the access
 * itself is fault-tolerant so a page that vanishes meanwhile costs an
 * -EFAULT, not an oops.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/e820/types.h>
#include <asm/memtype.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

unsigned int bsdmem_phys_bits(void)
{
	return boot_cpu_data.x86_phys_bits;
}

unsigned int bsdmem_va_bits(void)
{
	return __VIRTUAL_MASK_SHIFT + 1;
}

/* The kernel mapping of addr is present (and writable, if asked). */
int bsdmem_kmap_present(unsigned long addr, bool write, u64 *phys)
{
	unsigned int level;
	u64 mask;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || !(pte_flags(*pte) & _PAGE_PRESENT))
		return -EFAULT;
	if (write && !(pte_flags(*pte) & _PAGE_RW))
		return -EFAULT;
	mask = page_level_mask(level);
	*phys = (((u64)pte_pfn(*pte) << PAGE_SHIFT) & mask) | (addr & ~mask);
	return 0;
}

/*
 * copy_to_kernel_nofault() is not exported; this is the same idea built
 * on the architecture's exception-table store.
 */
static int bsdmem_store_nofault(void *dst, const void *src, size_t len)
{
	u8 *d = dst;
	const u8 *s = src;

	pagefault_disable();
	while (len >= sizeof(u64)) {
		__put_kernel_nofault(d, s, u64, fault);
		d += sizeof(u64);
		s += sizeof(u64);
		len -= sizeof(u64);
	}
	while (len) {
		__put_kernel_nofault(d, s, u8, fault);
		d++;
		s++;
		len--;
	}
	pagefault_enable();
	return 0;
fault:
	pagefault_enable();
	return -EFAULT;
}

static ssize_t bsdmem_kernel_copy(unsigned long addr, void *buf, size_t len,
				  bool write)
{
	int ret;

	if (write)
		ret = bsdmem_store_nofault((void *)addr, buf, len);
	else
		ret = bsdmem_copy_ram(buf, (void *)addr, len);
	return ret ? ret : len;
}

/*
 * A RAM page checked and copied; the caller holds the hotplug window, so
 * that it cannot go offline between the two. The kernel mapping must be
 * present (writable for a write): secretmem and read-only kernel memory
 * are not.
 */
static ssize_t bsdmem_ram_copy_locked(unsigned long pfn, unsigned long va,
				      void *buf, size_t len, bool write)
{
	u64 phys;
	ssize_t ret;

	ret = bsdmem_ram_page_usable(pfn);
	if (!ret)
		ret = bsdmem_kmap_present(va, write, &phys);
	if (!ret)
		ret = bsdmem_kernel_copy(va, buf, len, write);
	return ret;
}

static ssize_t bsdmem_ram_copy(unsigned long pfn, unsigned long va, void *buf,
			       size_t len, bool write)
{
	ssize_t ret;

	bsdmem_page_access_begin();
	ret = bsdmem_ram_copy_locked(pfn, va, buf, len, write);
	bsdmem_page_access_end();
	return ret;
}

/*
 * Memory hot-remove frees the direct map and memmap page tables of what
 * it removes, telling no module. Those parts of the kernel's address
 * space are walked only for memory that is online: removal needs it
 * offline first, and the hotplug window, held across the walk, keeps it
 * from going offline meanwhile.
 */
void bsdmem_klayout_current(struct bsdmem_klayout *l)
{
	*l = (struct bsdmem_klayout) {
		.direct_base = PAGE_OFFSET,
		.direct_max = MAXMEM,
		.vmalloc_base = VMALLOC_START,
		.vmemmap_base = VMEMMAP_START,
		.vmemmap_limit = CPU_ENTRY_AREA_BASE,
		.page_struct_size = sizeof(struct page),
	};
}

static bool bsdmem_kaddr_walkable(unsigned long addr)
{
	struct bsdmem_klayout layout;
	u64 pfn;

	bsdmem_klayout_current(&layout);
	if (bsdmem_kaddr_region(addr, &layout, &pfn) == BSDMEM_KR_OTHER)
		return true;
	return pfn_to_online_page(pfn);
}

/*
 * May device memory at base be mapped uncached (O_SYNC)? Not where the
 * kernel holds it cached (the firmware tables ACPI maps write-back): PAT
 * refuses the alias, noisily. Asked beforehand, where PAT tracks types:
 * it does not below 1 MiB, and without PAT there is nothing to refuse.
 */
static bool bsdmem_io_uncached_ok(u64 base)
{
	/* below the ISA hole the direct map has it write-back, untracked */
	if (base < ISA_START_ADDRESS)
		return false;
	if (!pat_enabled() || base < SZ_1M)
		return true;
	return bsdmem_pat_uncached_ok(PHYS_PFN(base));
}

/*
 * A short-lived mapping of one page of device memory. A memory range's
 * own type wins. Otherwise the access takes the type the kernel already
 * holds, as Linux's /dev/mem does (xlate_dev_mem_ptr(): memremap() WB,
 * which is ioremap_cache() for non-RAM): PAT hands back the type of a
 * mapping the kernel holds (write-back for ACPI's tables, or a range's
 * write-protect), or for memory nobody maps what the MTRRs say (UC- for
 * MMIO). Uncached only on request (O_SYNC), and only where PAT can give
 * it; otherwise the held type serves the access rather than failing it.
 */
static void __iomem *bsdmem_io_map(u64 base, int range_type, bool sync)
{
	void __iomem *va;

	switch (range_type) {
	case MDF_UNCACHEABLE:
		return ioremap(base, PAGE_SIZE);
	case MDF_WRITECOMBINE:
		return ioremap_wc(base, PAGE_SIZE);
	case MDF_WRITETHROUGH:
		return ioremap_wt(base, PAGE_SIZE);
	case MDF_WRITEBACK:
		return ioremap_cache(base, PAGE_SIZE);
	}
	if (sync && bsdmem_io_uncached_ok(base)) {
		va = ioremap(base, PAGE_SIZE);
		if (va)
			return va;
	}
	return ioremap_cache(base, PAGE_SIZE);
}

/*
 * Device memory accesses, serialised: where PAT is asked with a passing
 * write-combining reservation (bsdmem_pat_uncached_ok() on 7.x), a
 * mapping made meanwhile (uncached, or write-back of MMIO, which PAT makes
 * uncached) would be given write-combining, and the uncached mapping of
 * another access would turn the question's answer to no. Faults of device
 * pages and device memory ranges take it too.
 */
DEFINE_MUTEX(bsdmem_uc_lock);

/*
 * Device memory (or holes) through a short-lived mapping, made with the
 * hotplug window held and the page seen not to be RAM inside it: a block
 * coming online cannot turn it into RAM under the ioremap() (which warns
 * about RAM). The range's type is looked up first, outside the window,
 * since the range lock is taken before it elsewhere.
 */
static ssize_t bsdmem_io_copy(u64 pos, void *buf, size_t len, bool write,
			      bool sync)
{
	u64 base = pos & PAGE_MASK;
	int type = bsdmem_range_cache_type(base);
	ssize_t ret = -EFAULT;
	void __iomem *va;

	bsdmem_page_access_begin();
	mutex_lock(&bsdmem_uc_lock);
	if (bsdmem_page_changing(PHYS_PFN(base)) || page_is_ram(PHYS_PFN(base)))
		goto out;
	va = bsdmem_io_map(base, type, sync);
	if (!va)
		goto out;
	if (write)
		memcpy_toio(va + (pos - base), buf, len);
	else
		memcpy_fromio(buf, va + (pos - base), len);
	iounmap(va);
	ret = len;
out:
	mutex_unlock(&bsdmem_uc_lock);
	bsdmem_page_access_end();
	return ret;
}

static ssize_t bsdmem_phys_step(u64 pos, void *buf, size_t len, bool write,
				bool sync)
{
	unsigned long pfn = PHYS_PFN(pos);
	int allowed = BSDMEM_STRICT_ALLOW;
	int ret;

	if (!bsdmem_phys_range_ok(pos, len, bsdmem_phys_bits()))
		return -EFAULT;
	/* Decided before anything is touched, as strict /dev/mem does. */
	if (bsdmem_strict_devmem) {
		allowed = bsdmem_strict_pfn_allowed(pfn);
		if (allowed == BSDMEM_STRICT_REFUSE)
			return -EPERM;
	}
	if (write) {
		ret = bsdmem_range_check_write(pos, len);
		if (ret)
			return ret;
	}
	/* Strict /dev/mem shows such a page as zeros and drops writes to it. */
	if (allowed == BSDMEM_STRICT_ZERO) {
		if (!write)
			memset(buf, 0, len);
		return len;
	}
	if (!page_is_ram(pfn))
		return bsdmem_io_copy(pos, buf, len, write, sync);
	return bsdmem_ram_copy(pfn, (unsigned long)__va(pos), buf, len, write);
}

static ssize_t bsdmem_kvirt_step(u64 pos, void *buf, size_t len, bool write)
{
	u64 phys;
	ssize_t ret;

	if (!bsdmem_kaddr_range_ok(pos, len, bsdmem_va_bits()))
		return -EFAULT;
	bsdmem_page_access_begin();
	ret = bsdmem_kaddr_walkable(pos) ? 0 : -EFAULT;
	if (!ret)
		ret = bsdmem_kmap_present(pos, write, &phys);
	/* Kernel mappings of device memory are for /dev/bsdmem, not kmem. */
	if (!ret && !page_is_ram(PHYS_PFN(phys)))
		ret = -EFAULT;
	/*
	 * The copy goes through the direct map of the page just checked, not
	 * through pos: a mapping that changes meanwhile (vunmap, a remap to
	 * device memory) can then only cost the old page's contents, never
	 * an access to MMIO.
	 */
	if (!ret)
		ret = bsdmem_ram_copy_locked(PHYS_PFN(phys),
					     (unsigned long)__va(phys), buf,
					     len, write);
	bsdmem_page_access_end();
	return ret;
}

/*
 * Move len bytes (within one page) between buf and address pos of the
 * given space. Returns len or a negative errno; nothing is moved on error.
 * f_flags are the open file's: O_DSYNC (part of O_SYNC) asks for uncached
 * access to device memory.
 */
ssize_t bsdmem_access_step(enum bsdmem_space space, u64 pos, void *buf,
			   size_t len, bool write, unsigned int f_flags)
{
	if (len == 0 || bsdmem_chunk_len(pos, len) != len)
		return -EINVAL;
	if (space == BSDMEM_PHYS)
		return bsdmem_phys_step(pos, buf, len, write,
					f_flags & O_DSYNC);
	return bsdmem_kvirt_step(pos, buf, len, write);
}
