// SPDX-License-Identifier: GPL-2.0
/*
 * Pure logic of bsdmem: ioctl encodings, address bounds and offsets.
 * Nothing here sleeps, locks or touches hardware, so KUnit tests it as is.
 */
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include "bsdmem.h"

/*
 * Map every accepted encoding of a command to its native Linux value.
 * 32-bit callers use a 12-byte struct mem_range_op, which changes the
 * MEMRANGE command values; FreeBSD's _IOW encoding sets bit 31 instead of
 * bit 30. Anything else is not ours: -ENOTTY.
 */
int bsdmem_cmd_normalize(unsigned int cmd, bool compat, unsigned int *out)
{
	switch (cmd) {
	case MEMRANGE_GET:
	case MEM_EXTRACT_PADDR:
	case MEM_KERNELDUMP:
		*out = cmd;
		return 0;
	case MEMRANGE_SET:
	case MEMRANGE_SET_BSD:
		*out = MEMRANGE_SET;
		return 0;
	case MEM_KERNELDUMP_BSD:
		*out = MEM_KERNELDUMP;
		return 0;
	}
	if (!compat)
		return -ENOTTY;
	switch (cmd) {
	case MEMRANGE_GET32:
		*out = MEMRANGE_GET;
		return 0;
	case MEMRANGE_SET32:
	case MEMRANGE_SET32_BSD:
		*out = MEMRANGE_SET;
		return 0;
	}
	return -ENOTTY;
}

/* [addr, addr + len) lies below the CPU's physical address limit. */
bool bsdmem_phys_range_ok(u64 addr, u64 len, unsigned int phys_bits)
{
	u64 limit;

	if (phys_bits == 0 || phys_bits >= 64)
		return false;
	limit = 1ULL << phys_bits;
	return addr < limit && len <= limit - addr;
}

/*
 * [addr, addr + len) lies in the canonical upper (kernel) half of a
 * va_bits-wide virtual address space; user and non-canonical addresses
 * are never kernel memory.
 */
bool bsdmem_kaddr_range_ok(u64 addr, u64 len, unsigned int va_bits)
{
	u64 start;

	if (va_bits < 2 || va_bits > 64)
		return false;
	start = ~((1ULL << (va_bits - 1)) - 1);
	if (addr < start)
		return false;
	return len == 0 || len - 1 <= ~addr;
}

/*
 * Which region of the kernel's address space addr lies in, and for the
 * direct map and the memmap the page frame it stands for. The direct map
 * ends at MAXMEM or where vmalloc starts, whichever comes first. The
 * memmap has one struct page per frame up to MAXMEM, but KASLR may place
 * it so near the fixed areas (CPU entry area, kernel image, modules) that
 * this would take them in: it ends where they begin. Taking too much in
 * only refuses an address; taking too little would walk page tables that
 * hot-remove may free.
 */
enum bsdmem_kregion bsdmem_kaddr_region(u64 addr,
					const struct bsdmem_klayout *l,
					u64 *pfn)
{
	u64 direct_size = l->direct_max;
	u64 memmap_size = (l->direct_max >> PAGE_SHIFT) * l->page_struct_size;

	if (l->vmalloc_base > l->direct_base)
		direct_size = min(direct_size, l->vmalloc_base - l->direct_base);
	if (addr - l->direct_base < direct_size) {
		*pfn = (addr - l->direct_base) >> PAGE_SHIFT;
		return BSDMEM_KR_DIRECT;
	}
	if (l->vmemmap_limit > l->vmemmap_base)
		memmap_size = min(memmap_size, l->vmemmap_limit - l->vmemmap_base);
	if (l->page_struct_size && addr - l->vmemmap_base < memmap_size) {
		*pfn = (addr - l->vmemmap_base) / l->page_struct_size;
		return BSDMEM_KR_VMEMMAP;
	}
	return BSDMEM_KR_OTHER;
}

/* A transfer step never crosses a page boundary. */
size_t bsdmem_chunk_len(u64 pos, size_t count)
{
	size_t room = PAGE_SIZE - (pos & (PAGE_SIZE - 1));

	return min(count, room);
}

/*
 * Offsets are unsigned 64-bit addresses (kernel virtual addresses have the
 * top bit set), so SEEK_CUR wraps are refused rather than made negative.
 * There is no end: SEEK_END and the data/hole queries are -EINVAL.
 */
int bsdmem_lseek_pos(u64 cur, s64 off, int whence, u64 *newpos)
{
	switch (whence) {
	case SEEK_SET:
		*newpos = (u64)off;
		return 0;
	case SEEK_CUR:
		if (off < 0 && (u64)-(off + 1) >= cur)
			return -EOVERFLOW;
		if (off > 0 && (u64)off > U64_MAX - cur)
			return -EOVERFLOW;
		*newpos = cur + (u64)off;
		return 0;
	}
	return -EINVAL;
}

/*
 * A MEMRANGE_SET_UPDATE request: page-aligned base, non-zero page-multiple
 * length below the physical limit, exactly one cache-type attribute.
 * Lengths need not be powers of two: PAT has no MTRR alignment rules.
 */
int bsdmem_range_validate(u64 base, u64 len, int flags, unsigned int phys_bits)
{
	int type = flags & MDF_ATTRMASK;

	if (!len || !PAGE_ALIGNED(base) || !PAGE_ALIGNED(len))
		return -EINVAL;
	if (!bsdmem_phys_range_ok(base, len, phys_bits))
		return -EINVAL;
	if (len > BSDMEM_RANGE_MAX_LEN)
		return -EINVAL;
	if (!type || (type & ~BSDMEM_CACHE_TYPES) || (type & (type - 1)))
		return -EINVAL;
	return 0;
}

bool bsdmem_ranges_overlap(u64 a_base, u64 a_len, u64 b_base, u64 b_len)
{
	return a_base < b_base + b_len && b_base < a_base + a_len;
}
