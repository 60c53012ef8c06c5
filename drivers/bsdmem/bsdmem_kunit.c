// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for bsdmem: the pure logic, and page access against memory
 * the test owns (a kmalloc and a vmalloc buffer), so no hardware is needed.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/elf.h>
#include <linux/elfcore.h>
#include <linux/io.h>
#include <linux/kallsyms.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/sizes.h>
#include <linux/stacktrace.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/mach_traps.h>
#include <asm/msr.h>
#include <asm/nmi.h>
#include <asm/tsc.h>
#include <asm/user.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"
#include "bsdmem_dump_int.h"

static void bsdmem_cmd_native_test(struct kunit *test)
{
	unsigned int out = 0;

	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(MEMRANGE_GET, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_GET);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(MEMRANGE_SET, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_SET);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(MEM_EXTRACT_PADDR, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEM_EXTRACT_PADDR);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(MEM_KERNELDUMP, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEM_KERNELDUMP);
}

/* The values abi.md fixes, both encodings. */
static void bsdmem_cmd_values_test(struct kunit *test)
{
	unsigned int out = 0;

	KUNIT_EXPECT_EQ(test, (unsigned int)MEMRANGE_GET, 0xC0106D32U);
	KUNIT_EXPECT_EQ(test, (unsigned int)MEMRANGE_SET, 0x40106D33U);
	KUNIT_EXPECT_EQ(test, (unsigned int)MEM_EXTRACT_PADDR, 0xC0406D34U);
	KUNIT_EXPECT_EQ(test, (unsigned int)MEM_KERNELDUMP, 0x40206D35U);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(0x80106D33U, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_SET);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(0x80206D35U, false, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEM_KERNELDUMP);
}

static void bsdmem_cmd_compat_test(struct kunit *test)
{
	unsigned int out = 0;

	/* 12-byte mem_range_op only through compat_ioctl */
	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(0xC00C6D32U, false, &out));
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(0xC00C6D32U, true, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_GET);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(0x400C6D33U, true, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_SET);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(0x800C6D33U, true, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEMRANGE_SET);
	/* the 64-bit layouts stay valid for compat callers */
	KUNIT_EXPECT_EQ(test, 0, bsdmem_cmd_normalize(MEM_EXTRACT_PADDR, true, &out));
	KUNIT_EXPECT_EQ(test, out, (unsigned int)MEM_EXTRACT_PADDR);
}

static void bsdmem_cmd_unknown_test(struct kunit *test)
{
	unsigned int out = 0;

	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(0, false, &out));
	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(_IO('m', 50), false, &out));
	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(_IOWR('m', 54, struct mem_extract), true, &out));
	/* FreeBSD encoding of GET is the Linux one; its _IOR twin is not ours */
	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(_IOR('m', 50, struct mem_range_op), false, &out));
	KUNIT_EXPECT_EQ(test, -ENOTTY, bsdmem_cmd_normalize(_IOWR('n', 52, struct mem_extract), false, &out));
}

static void bsdmem_phys_range_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, bsdmem_phys_range_ok(0, PAGE_SIZE, 46));
	KUNIT_EXPECT_TRUE(test, bsdmem_phys_range_ok((1ULL << 46) - 1, 1, 46));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok(1ULL << 46, 1, 46));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok((1ULL << 46) - 1, 2, 46));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok(U64_MAX, 1, 46));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok(PAGE_SIZE, U64_MAX, 52));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok(0, 1, 0));
	KUNIT_EXPECT_FALSE(test, bsdmem_phys_range_ok(0, 1, 64));
}

static void bsdmem_kaddr_range_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, bsdmem_kaddr_range_ok(0xffff800000000000ULL, 8, 48));
	KUNIT_EXPECT_TRUE(test, bsdmem_kaddr_range_ok(0xffffffff81000000ULL, PAGE_SIZE, 48));
	KUNIT_EXPECT_TRUE(test, bsdmem_kaddr_range_ok(U64_MAX, 1, 48));
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(U64_MAX, 2, 48));
	/* user half, the non-canonical hole, and the hole under 5 levels */
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(0x400000, 8, 48));
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(0x00007fffffffffffULL, 1, 48));
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(0x8000000000000000ULL, 1, 48));
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(0xffff7fffffffffffULL, 1, 48));
	KUNIT_EXPECT_TRUE(test, bsdmem_kaddr_range_ok(0xff00000000000000ULL, 1, 57));
	KUNIT_EXPECT_FALSE(test, bsdmem_kaddr_range_ok(0xfeffffffffffffffULL, 1, 57));
}

#define TB	(1ULL << 40)

static void bsdmem_kaddr_region_test(struct kunit *test)
{
	/* 4 levels, no KASLR: the documented layout */
	const struct bsdmem_klayout plain = {
		.direct_base = 0xffff888000000000ULL, .direct_max = 1ULL << 46,
		.vmalloc_base = 0xffffc90000000000ULL,
		.vmemmap_base = 0xffffea0000000000ULL,
		.vmemmap_limit = 0xfffffe0000000000ULL, .page_struct_size = 64,
	};
	/* KASLR: vmalloc 12 TiB above the direct map, the memmap last */
	const struct bsdmem_klayout packed = {
		.direct_base = 0xffff9a0000000000ULL, .direct_max = 1ULL << 46,
		.vmalloc_base = 0xffff9a0000000000ULL + 12 * TB,
		.vmemmap_base = 0xfffffd0000000000ULL,
		.vmemmap_limit = 0xfffffe0000000000ULL, .page_struct_size = 64,
	};
	/* 5 levels, KASLR: MAXMEM's memmap would reach the kernel image */
	const struct bsdmem_klayout l5 = {
		.direct_base = 0xff11000000000000ULL, .direct_max = 1ULL << 52,
		.vmalloc_base = 0xff20000000000000ULL,
		.vmemmap_base = 0xfffffd0000000000ULL,
		.vmemmap_limit = 0xfffffe0000000000ULL, .page_struct_size = 64,
	};
	u64 pfn = 0;

	KUNIT_EXPECT_EQ(test, BSDMEM_KR_DIRECT, bsdmem_kaddr_region(plain.direct_base + (5ULL << 30), &plain, &pfn));
	KUNIT_EXPECT_EQ(test, (u64)(5ULL << 30) >> PAGE_SHIFT, pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(plain.vmalloc_base + PAGE_SIZE, &plain, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_VMEMMAP, bsdmem_kaddr_region(plain.vmemmap_base + 64 * 10 + 3, &plain, &pfn));
	KUNIT_EXPECT_EQ(test, 10ULL, pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(0xffffffff81000000ULL, &plain, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(plain.direct_base - 1, &plain, &pfn));

	/* vmalloc is not the direct map, however near it starts */
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(packed.vmalloc_base, &packed, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(packed.vmalloc_base + 3 * TB, &packed, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_DIRECT, bsdmem_kaddr_region(packed.vmalloc_base - 1, &packed, &pfn));
	KUNIT_EXPECT_EQ(test, (12 * TB - 1) >> PAGE_SHIFT, pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_VMEMMAP, bsdmem_kaddr_region(packed.vmemmap_limit - 1, &packed, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(packed.vmemmap_limit, &packed, &pfn));

	/* the memmap stops at the fixed areas */
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_VMEMMAP, bsdmem_kaddr_region(l5.vmemmap_base + 64 * 7, &l5, &pfn));
	KUNIT_EXPECT_EQ(test, 7ULL, pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(0xfffffe0000001000ULL, &l5, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region(0xffffffff81000000ULL, &l5, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_DIRECT, bsdmem_kaddr_region(l5.direct_base + (1ULL << 51), &l5, &pfn));
}

/* This kernel's own layout, whatever KASLR made of it. */
static void bsdmem_kaddr_region_live_test(struct kunit *test)
{
	struct bsdmem_klayout l;
	struct page *page = alloc_page(GFP_KERNEL);
	void *v = vmalloc(PAGE_SIZE);
	u64 pfn = 0;

	bsdmem_klayout_current(&l);
	if (!page || !v)
		goto out;
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_DIRECT, bsdmem_kaddr_region((unsigned long)page_address(page) + 8, &l, &pfn));
	KUNIT_EXPECT_EQ(test, (u64)page_to_pfn(page), pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_VMEMMAP, bsdmem_kaddr_region((unsigned long)page, &l, &pfn));
	KUNIT_EXPECT_EQ(test, (u64)page_to_pfn(page), pfn);
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region((unsigned long)v, &l, &pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_KR_OTHER, bsdmem_kaddr_region((unsigned long)bsdmem_kaddr_region, &l, &pfn));
out:
	vfree(v);
	if (page)
		__free_page(page);
	KUNIT_ASSERT_TRUE(test, page && v);
}

static void bsdmem_chunk_len_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, bsdmem_chunk_len(0, 10), (size_t)10);
	KUNIT_EXPECT_EQ(test, bsdmem_chunk_len(0, 3 * PAGE_SIZE), (size_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bsdmem_chunk_len(PAGE_SIZE - 1, 100), (size_t)1);
	KUNIT_EXPECT_EQ(test, bsdmem_chunk_len(U64_MAX, 100), (size_t)1);
	KUNIT_EXPECT_EQ(test, bsdmem_chunk_len(PAGE_SIZE + 8, PAGE_SIZE), (size_t)(PAGE_SIZE - 8));
}

static void bsdmem_lseek_test(struct kunit *test)
{
	u64 pos = 0;

	KUNIT_EXPECT_EQ(test, 0, bsdmem_lseek_pos(5, (s64)0xffffffff81000000ULL, SEEK_SET, &pos));
	KUNIT_EXPECT_EQ(test, pos, 0xffffffff81000000ULL);
	KUNIT_EXPECT_EQ(test, 0, bsdmem_lseek_pos(100, -100, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, pos, 0ULL);
	KUNIT_EXPECT_EQ(test, -EOVERFLOW, bsdmem_lseek_pos(100, -101, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, -EOVERFLOW, bsdmem_lseek_pos(10, S64_MIN, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, 0, bsdmem_lseek_pos(0x8000000000000000ULL, S64_MIN, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, pos, 0ULL);
	KUNIT_EXPECT_EQ(test, -EOVERFLOW, bsdmem_lseek_pos(U64_MAX, 1, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, 0, bsdmem_lseek_pos(U64_MAX - 1, 1, SEEK_CUR, &pos));
	KUNIT_EXPECT_EQ(test, pos, U64_MAX);
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_lseek_pos(0, 0, SEEK_END, &pos));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_lseek_pos(0, 0, SEEK_DATA, &pos));
}

/* Read and write a kmalloc buffer through both address spaces. */
static void bsdmem_access_kmalloc_test(struct kunit *test)
{
	u8 *obj = kunit_kzalloc(test, 64, GFP_KERNEL);
	u8 buf[16];
	u64 kva, pa;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	memcpy(obj, "bsdmem-kunit-123", 16);
	kva = (u64)(unsigned long)obj;
	pa = virt_to_phys(obj);
	if (bsdmem_chunk_len(kva, 16) != 16)
		kunit_skip(test, "buffer straddles a page");

	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_KVIRT, kva, buf, 16, false, 0));
	KUNIT_EXPECT_MEMEQ(test, buf, obj, 16);
	memset(buf, 0, sizeof(buf));
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, pa, buf, 16, false, 0));
	KUNIT_EXPECT_MEMEQ(test, buf, obj, 16);

	memcpy(buf, "written-by-phys!", 16);
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, pa, buf, 16, true, 0));
	KUNIT_EXPECT_MEMEQ(test, obj, buf, 16);
	memcpy(buf, "written-by-kvirt", 16);
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_KVIRT, kva, buf, 16, true, 0));
	KUNIT_EXPECT_MEMEQ(test, obj, buf, 16);
}

static void bsdmem_access_vmalloc_test(struct kunit *test)
{
	u8 *obj = vzalloc(2 * PAGE_SIZE);
	u8 buf[8];

	KUNIT_ASSERT_NOT_NULL(test, obj);
	memcpy(obj + PAGE_SIZE, "vmalloc!", 8);
	KUNIT_EXPECT_EQ(test, 8L, (long)bsdmem_access_step(BSDMEM_KVIRT,
		(u64)(unsigned long)(obj + PAGE_SIZE), buf, 8, false, 0));
	KUNIT_EXPECT_MEMEQ(test, buf, obj + PAGE_SIZE, 8);
	vfree(obj);
}

static void bsdmem_access_refusals_test(struct kunit *test)
{
	u8 buf[8];

	/* user, non-canonical and unmapped kernel addresses */
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, 0x400000, buf, 8, false, 0));
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, 0x8000000000000000ULL, buf, 8, false, 0));
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, (u64)VMALLOC_END - PAGE_SIZE + 1, buf, 8, false, 0));
	/* beyond the CPU's physical address width */
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_PHYS, 1ULL << bsdmem_phys_bits(), buf, 8, false, 0));
	/* a step may not cross a page */
	KUNIT_EXPECT_EQ(test, -EINVAL, (int)bsdmem_access_step(BSDMEM_PHYS, PAGE_SIZE - 4, buf, 8, false, 0));
	KUNIT_EXPECT_EQ(test, -EINVAL, (int)bsdmem_access_step(BSDMEM_PHYS, 0, buf, 0, false, 0));
}

static void bsdmem_leaf_phys_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, bsdmem_leaf_phys(0x1234, PAGE_SIZE, 0x7f0000000abcULL),
			0x1234abcULL);
	/* a 2 MiB leaf keeps 21 bits of the address: the subpage and offset */
	KUNIT_EXPECT_EQ(test, bsdmem_leaf_phys(0x40000, SZ_2M, 0x7f00001ff123ULL),
			0x401ff123ULL);
	KUNIT_EXPECT_EQ(test, bsdmem_leaf_phys(0x40000, SZ_1G, 0x7f0012345678ULL),
			0x52345678ULL);
	KUNIT_EXPECT_EQ(test, bsdmem_leaf_phys(0, SZ_2M, 0x200000ULL), 0ULL);
}

/* KUnit runs in a kernel thread: no user mm, so every address is INVALID. */
static void bsdmem_extract_no_mm_test(struct kunit *test)
{
	struct mem_extract me = {
		.me_vaddr = 0x400000,
		.me_paddr = 0x1234,
		.me_domain = 7,
		.me_state = ME_STATE_MAPPED,
	};

	KUNIT_EXPECT_EQ(test, 0, bsdmem_extract_lookup(NULL, &me));
	KUNIT_EXPECT_EQ(test, me.me_state, ME_STATE_INVALID);
	KUNIT_EXPECT_EQ(test, me.me_paddr, 0x1234ULL);
	KUNIT_EXPECT_EQ(test, me.me_domain, 7);
	me.me_vaddr = (u64)(unsigned long)&me;
	KUNIT_EXPECT_EQ(test, 0, bsdmem_extract_lookup(current->mm, &me));
	KUNIT_EXPECT_EQ(test, me.me_state, ME_STATE_INVALID);
}

static void bsdmem_range_validate_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 0, bsdmem_range_validate(0xfd000000, SZ_1M, MDF_WRITECOMBINE, 40));
	/* not a power of two: fine under PAT */
	KUNIT_EXPECT_EQ(test, 0, bsdmem_range_validate(0x1000, 3 * PAGE_SIZE, MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, 0, bsdmem_range_validate(0, PAGE_SIZE, MDF_WRITEPROTECT, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1001, PAGE_SIZE, MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, 0, MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, 100, MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, PAGE_SIZE, 0, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, PAGE_SIZE,
							     MDF_UNCACHEABLE | MDF_WRITEBACK, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, PAGE_SIZE, MDF_UNKNOWN, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(0x1000, PAGE_SIZE, 1 << 7, 40));
	/* the length cap: at it is fine, a page past it is not */
	KUNIT_EXPECT_EQ(test, 0, bsdmem_range_validate(1ULL << 37, BSDMEM_RANGE_MAX_LEN,
						       MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(1ULL << 37,
							     BSDMEM_RANGE_MAX_LEN + PAGE_SIZE,
							     MDF_UNCACHEABLE, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(1ULL << 40, PAGE_SIZE, MDF_WRITEBACK, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate((1ULL << 40) - PAGE_SIZE,
							     2 * PAGE_SIZE, MDF_WRITEBACK, 40));
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_range_validate(~0ULL << 12, 2 * PAGE_SIZE,
							     MDF_WRITEBACK, 40));
	/* state flags in a request are not cache types and are ignored */
	KUNIT_EXPECT_EQ(test, 0, bsdmem_range_validate(0x1000, PAGE_SIZE,
						       MDF_WRITEBACK | MDF_ACTIVE, 40));
}

static void bsdmem_range_overlap_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, bsdmem_ranges_overlap(0x1000, 0x2000, 0x2000, 0x1000));
	KUNIT_EXPECT_TRUE(test, bsdmem_ranges_overlap(0x1000, 0x2000, 0, 0x2000));
	KUNIT_EXPECT_TRUE(test, bsdmem_ranges_overlap(0x1000, 0x1000, 0x1000, 0x1000));
	KUNIT_EXPECT_TRUE(test, bsdmem_ranges_overlap(0, SZ_1G, 0x5000, 0x1000));
	KUNIT_EXPECT_FALSE(test, bsdmem_ranges_overlap(0x1000, 0x1000, 0x2000, 0x1000));
	KUNIT_EXPECT_FALSE(test, bsdmem_ranges_overlap(0x2000, 0x1000, 0x1000, 0x1000));
}

static void bsdmem_mtrr_type_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(0), MDF_UNCACHEABLE);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(1), MDF_WRITECOMBINE);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(4), MDF_WRITETHROUGH);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(5), MDF_WRITEPROTECT);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(6), MDF_WRITEBACK);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(2), MDF_UNKNOWN);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(3), MDF_UNKNOWN);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(7), MDF_UNKNOWN);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_type_to_flag(0xff), MDF_UNKNOWN);
}

#define FW_FLAGS	(MDF_FIRMWARE | MDF_ACTIVE | MDF_FIXACTIVE)

/* Fixed ranges on, two variable MTRRs valid (one bogus), one disabled. */
static void bsdmem_mtrr_decode_test(struct kunit *test)
{
	struct bsdmem_mtrr_regs *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct mem_range_desc *d = kunit_kcalloc(test, 128, sizeof(*d), GFP_KERNEL);
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, d);
	r->present = true;
	r->cap = BIT(8) | BIT(10) | 8;		/* FIX, WC, 8 variable */
	r->def_type = BIT(11) | BIT(10) | 0;	/* E, FE, default UC */
	for (i = 0; i < BSDMEM_MTRR_FIXED_MSRS; i++)
		r->fixed[i] = 0x0606060606060606ULL;	/* WB */
	r->fixed[1] = 0x0000000000000005ULL;	/* 0x80000: WP, then UC */
	r->fixed[10] = 0x0100000000000000ULL;	/* 0xFF000: WC */
	r->var_base[0] = 0x80000000ULL | 0;	/* UC */
	r->var_mask[0] = 0xff80000000ULL | BIT(11);	/* 2 GiB */
	r->var_base[1] = 0x100000ULL | 6;	/* WB, misaligned for its size */
	r->var_mask[1] = 0xfffff00000ULL | BIT(11);
	r->var_base[2] = 0xc0000000ULL | 1;	/* disabled */
	r->var_mask[2] = 0xffc0000000ULL;
	r->var_base[3] = 0x40000000ULL | 2;	/* reserved type 2 */
	r->var_mask[3] = 0xffc0000000ULL | BIT(11);

	n = bsdmem_mtrr_decode(r, 40, NULL);
	KUNIT_ASSERT_EQ(test, n, 91);
	KUNIT_ASSERT_EQ(test, bsdmem_mtrr_decode(r, 40, d), 91);

	KUNIT_EXPECT_EQ(test, d[0].mr_base, 0ULL);
	KUNIT_EXPECT_EQ(test, d[0].mr_len, (u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, d[0].mr_flags, FW_FLAGS | MDF_FIXBASE | MDF_FIXLEN | MDF_WRITEBACK);
	KUNIT_EXPECT_STREQ(test, d[0].mr_owner, "BIOS");
	KUNIT_EXPECT_EQ(test, d[7].mr_base, 0x70000ULL);
	KUNIT_EXPECT_EQ(test, d[8].mr_base, 0x80000ULL);
	KUNIT_EXPECT_EQ(test, d[8].mr_len, (u64)SZ_16K);
	KUNIT_EXPECT_EQ(test, d[8].mr_flags & MDF_ATTRMASK, MDF_WRITEPROTECT);
	KUNIT_EXPECT_EQ(test, d[9].mr_flags & MDF_ATTRMASK, MDF_UNCACHEABLE);
	KUNIT_EXPECT_EQ(test, d[23].mr_base, 0xBC000ULL);
	KUNIT_EXPECT_EQ(test, d[24].mr_base, 0xC0000ULL);
	KUNIT_EXPECT_EQ(test, d[24].mr_len, (u64)SZ_4K);
	KUNIT_EXPECT_EQ(test, d[87].mr_base, 0xFF000ULL);
	KUNIT_EXPECT_EQ(test, d[87].mr_flags & MDF_ATTRMASK, MDF_WRITECOMBINE);

	KUNIT_EXPECT_EQ(test, d[88].mr_base, 0x80000000ULL);
	KUNIT_EXPECT_EQ(test, d[88].mr_len, (u64)SZ_2G);
	KUNIT_EXPECT_EQ(test, d[88].mr_flags, FW_FLAGS | MDF_UNCACHEABLE);
	KUNIT_EXPECT_EQ(test, d[89].mr_base, 0x100000ULL);
	KUNIT_EXPECT_EQ(test, d[89].mr_len, (u64)SZ_1M);
	KUNIT_EXPECT_EQ(test, d[89].mr_flags, FW_FLAGS | MDF_WRITEBACK);
	KUNIT_EXPECT_EQ(test, d[90].mr_base, 0x40000000ULL);
	KUNIT_EXPECT_EQ(test, d[90].mr_flags, FW_FLAGS | MDF_UNKNOWN);
}

static void bsdmem_mtrr_decode_edge_test(struct kunit *test)
{
	struct bsdmem_mtrr_regs *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct mem_range_desc d[2];

	KUNIT_ASSERT_NOT_NULL(test, r);
	/* not present, or disabled: nothing */
	r->cap = 8;
	r->def_type = BIT(11);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 40, NULL), 0);
	r->present = true;
	r->def_type = 0;
	r->var_mask[0] = BIT(11);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 40, NULL), 0);
	/* enabled, fixed ranges off: only the variable one */
	r->def_type = BIT(11) | BIT(10);
	r->var_base[0] = 0x3000 | 6;		/* base not aligned to its length */
	r->var_mask[0] = 0xffffffe000ULL | BIT(11);	/* 8K */
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 40, d), 1);
	KUNIT_EXPECT_EQ(test, d[0].mr_len, 0x2000ULL);
	KUNIT_EXPECT_EQ(test, d[0].mr_base, 0x3000ULL);
	KUNIT_EXPECT_TRUE(test, d[0].mr_flags & MDF_BOGUS);
	/* a mask with holes is not a power-of-two length: bogus too */
	r->var_base[0] = 0x0 | 6;
	r->var_mask[0] = 0xfff0ff0000ULL | BIT(11);
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 40, d), 1);
	KUNIT_EXPECT_TRUE(test, d[0].mr_flags & MDF_BOGUS);
	/* a VCNT beyond what the architecture allows is capped */
	r->cap = 0xff;
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 40, NULL), 1);
	/* silly physical widths report nothing rather than garbage */
	KUNIT_EXPECT_EQ(test, bsdmem_mtrr_decode(r, 64, NULL), 0);
}

static void bsdmem_elf_note_test(struct kunit *test)
{
	u8 buf[64], desc[5] = { 1, 2, 3, 4, 5 };
	struct elf64_note *n = (struct elf64_note *)buf;

	/* 12-byte header, "CORE\0" padded to 8, 5 bytes padded to 8 */
	KUNIT_EXPECT_EQ(test, bsdmem_elf_note_size("CORE", 5), (size_t)28);
	KUNIT_EXPECT_EQ(test, bsdmem_elf_note_put(buf, "CORE", NT_PRSTATUS, desc, 5),
			(size_t)28);
	KUNIT_EXPECT_EQ(test, n->n_namesz, 5U);
	KUNIT_EXPECT_EQ(test, n->n_descsz, 5U);
	KUNIT_EXPECT_EQ(test, n->n_type, (u32)NT_PRSTATUS);
	KUNIT_EXPECT_STREQ(test, (char *)buf + 12, "CORE");
	KUNIT_EXPECT_EQ(test, buf[20], 1);
	KUNIT_EXPECT_EQ(test, buf[24], 5);
	KUNIT_EXPECT_EQ(test, buf[25], 0);
	KUNIT_EXPECT_EQ(test, bsdmem_elf_note_total(buf, sizeof(buf)), (size_t)28);
	KUNIT_EXPECT_EQ(test, bsdmem_elf_note_total(buf, 27), (size_t)0);
	n->n_descsz = 1000;
	KUNIT_EXPECT_EQ(test, bsdmem_elf_note_total(buf, sizeof(buf)), (size_t)0);
}

/* The descriptor of an NT_PRSTATUS note bsdmem_elf_prstatus_put() wrote. */
static const struct elf_prstatus *bsdmem_kunit_prstatus(struct kunit *test,
							 const u8 *buf)
{
	const struct elf64_note *n = (const struct elf64_note *)buf;

	KUNIT_EXPECT_EQ(test, n->n_namesz, 5U);
	KUNIT_EXPECT_EQ(test, n->n_descsz, (u32)sizeof(struct elf_prstatus));
	KUNIT_EXPECT_EQ(test, n->n_type, (u32)NT_PRSTATUS);
	KUNIT_EXPECT_STREQ(test, (const char *)buf + 12, "CORE");
	return (const struct elf_prstatus *)(buf + 20);
}

/* Every register lands in its pr_reg slot, with the pid kdump would give. */
static void bsdmem_elf_prstatus_test(struct kunit *test)
{
	size_t len = bsdmem_elf_prstatus_size();
	u8 *buf = kunit_kzalloc(test, len + 8, GFP_KERNEL);
	struct elf_prstatus *prs = kunit_kzalloc(test, sizeof(*prs), GFP_KERNEL);
	const struct user_regs_struct *u;
	struct pt_regs r;
	unsigned long *w = (unsigned long *)&r;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, prs);
	/* 12-byte header, "CORE" padded to 8, the descriptor padded to 4 */
	KUNIT_EXPECT_EQ(test, len, 20 + ALIGN(sizeof(struct elf_prstatus), 4));
	for (i = 0; i < sizeof(r) / sizeof(*w); i++)
		w[i] = 0x1000 + i;
	memset(buf, 0xa5, len + 8);
	KUNIT_EXPECT_EQ(test, bsdmem_elf_prstatus_put(buf, &r, 4242), len);
	KUNIT_EXPECT_EQ(test, buf[len], 0xa5);
	/* the descriptor is only 4-aligned in the note */
	memcpy(prs, bsdmem_kunit_prstatus(test, buf), sizeof(*prs));
	KUNIT_EXPECT_EQ(test, prs->common.pr_pid, 4242);
	KUNIT_EXPECT_EQ(test, prs->common.pr_ppid, 0);
	u = (const struct user_regs_struct *)&prs->pr_reg;
	KUNIT_EXPECT_EQ(test, u->r15, r.r15);
	KUNIT_EXPECT_EQ(test, u->r14, r.r14);
	KUNIT_EXPECT_EQ(test, u->r13, r.r13);
	KUNIT_EXPECT_EQ(test, u->r12, r.r12);
	KUNIT_EXPECT_EQ(test, u->bp, r.bp);
	KUNIT_EXPECT_EQ(test, u->bx, r.bx);
	KUNIT_EXPECT_EQ(test, u->r11, r.r11);
	KUNIT_EXPECT_EQ(test, u->r10, r.r10);
	KUNIT_EXPECT_EQ(test, u->r9, r.r9);
	KUNIT_EXPECT_EQ(test, u->r8, r.r8);
	KUNIT_EXPECT_EQ(test, u->ax, r.ax);
	KUNIT_EXPECT_EQ(test, u->cx, r.cx);
	KUNIT_EXPECT_EQ(test, u->dx, r.dx);
	KUNIT_EXPECT_EQ(test, u->si, r.si);
	KUNIT_EXPECT_EQ(test, u->di, r.di);
	KUNIT_EXPECT_EQ(test, u->orig_ax, r.orig_ax);
	KUNIT_EXPECT_EQ(test, u->ip, r.ip);
	KUNIT_EXPECT_EQ(test, u->cs, r.cs);
	KUNIT_EXPECT_EQ(test, u->flags, r.flags);
	KUNIT_EXPECT_EQ(test, u->sp, r.sp);
	KUNIT_EXPECT_EQ(test, u->ss, r.ss);
	/* segment bases are not known: zero */
	KUNIT_EXPECT_EQ(test, u->fs_base, 0UL);
	KUNIT_EXPECT_EQ(test, u->gs_base, 0UL);

	/* a CPU that did not answer: zero registers, pid -1 */
	memset(buf, 0xa5, len + 8);
	KUNIT_EXPECT_EQ(test, bsdmem_elf_prstatus_put(buf, NULL, -1), len);
	memcpy(prs, bsdmem_kunit_prstatus(test, buf), sizeof(*prs));
	KUNIT_EXPECT_EQ(test, prs->common.pr_pid, -1);
	KUNIT_EXPECT_NULL(test, memchr_inv(&prs->pr_reg, 0, sizeof(prs->pr_reg)));
}

/* Room for every CPU's registers. */
static struct bsdmem_cpu_regs *bsdmem_kunit_cpus(struct kunit *test)
{
	return kunit_kcalloc(test, num_possible_cpus(),
			     sizeof(struct bsdmem_cpu_regs), GFP_KERNEL);
}

/* A collection: every online CPU, in order, with plausible registers. */
static void bsdmem_kunit_check_cpus(struct kunit *test,
				    const struct bsdmem_cpu_regs *cpus,
				    unsigned int n)
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_TRUE_MSG(test, cpus[i].known, "CPU %u", cpus[i].cpu);
		KUNIT_EXPECT_TRUE(test, cpu_online(cpus[i].cpu));
		if (i)
			KUNIT_EXPECT_GT(test, cpus[i].cpu, cpus[i - 1].cpu);
		KUNIT_EXPECT_NE(test, cpus[i].regs.ip, 0UL);
		KUNIT_EXPECT_NE(test, cpus[i].regs.sp, 0UL);
		KUNIT_EXPECT_NE(test, cpus[i].regs.cs, 0UL);
		KUNIT_EXPECT_GE(test, cpus[i].pid, 0);
	}
}

/* The function an address is in, as "name+off/size". */
static const char *bsdmem_kunit_sym(struct kunit *test, unsigned long ip)
{
	char *sym = kunit_kzalloc(test, KSYM_SYMBOL_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sym);
	sprint_symbol(sym, ip);
	return sym;
}

/* Is sym ("name+off/size") in the function name, or a clone of it? */
static bool bsdmem_kunit_in(const char *sym, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(sym, name, len) && (sym[len] == '+' || sym[len] == '.');
}

/* This CPU records its own registers, every other one answers the NMI. */
static void bsdmem_dump_regs_all_cpus_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test), *self = NULL;
	atomic_t abort = ATOMIC_INIT(0);
	struct pt_regs here;
	unsigned int n, i;
	const char *sym;

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	bsdmem_dump_here(&here);
	migrate_disable();
	n = bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	for (i = 0; i < n; i++)
		if (cpus[i].cpu == smp_processor_id())
			self = &cpus[i];
	migrate_enable();
	bsdmem_kunit_check_cpus(test, cpus, n);
	KUNIT_ASSERT_NOT_NULL(test, self);
	KUNIT_EXPECT_EQ(test, self->pid, current->pid);
	KUNIT_EXPECT_EQ(test, self->regs.cs, (unsigned long)__KERNEL_CS);
	/* the caller's registers, taken in its own frame */
	KUNIT_EXPECT_EQ(test, self->regs.ip, here.ip);
	KUNIT_EXPECT_TRUE(test, object_is_on_stack((void *)self->regs.sp));
	sym = bsdmem_kunit_sym(test, self->regs.ip);
	KUNIT_EXPECT_TRUE_MSG(test,
			      bsdmem_kunit_in(sym, "bsdmem_dump_regs_all_cpus_test"),
			      "ip %s", sym);
	KUNIT_EXPECT_FALSE(test, bsdmem_dump_regs_test_pinned());
}

/* A test that fails halfway leaves no silent CPU or patience behind. */
static void bsdmem_kunit_regs_reset(void *unused)
{
	WRITE_ONCE(bsdmem_regs_test_silent_cpu, -1);
	WRITE_ONCE(bsdmem_regs_test_reason, -1);
	bsdmem_regs_test_patience = 0;
}

/* A CPU other than this one, or -1; the caller keeps migration off. */
static int bsdmem_kunit_other_cpu(void)
{
	unsigned int cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());

	return cpu < nr_cpu_ids ? cpu : -1;
}

static struct bsdmem_cpu_regs *bsdmem_kunit_entry(struct bsdmem_cpu_regs *cpus,
						  unsigned int n, int cpu)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (cpus[i].cpu == cpu)
			return &cpus[i];
	return NULL;
}

/*
 * One collection in which another CPU than this one takes its NMI but
 * never answers; its entry, NULL if there is no other CPU (skipped).
 */
static struct bsdmem_cpu_regs *
bsdmem_kunit_collect_silent(struct kunit *test, struct bsdmem_cpu_regs *cpus,
			    atomic_t *abort, unsigned long patience)
{
	struct pt_regs here;
	unsigned int n;
	int silent;

	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
				bsdmem_kunit_regs_reset, NULL));
	bsdmem_dump_here(&here);
	migrate_disable();
	silent = bsdmem_kunit_other_cpu();
	if (silent < 0) {
		migrate_enable();
		kunit_skip(test, "one CPU online: none to silence");
		return NULL;
	}
	bsdmem_regs_test_patience = patience;
	WRITE_ONCE(bsdmem_regs_test_silent_cpu, silent);
	n = bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, abort);
	WRITE_ONCE(bsdmem_regs_test_silent_cpu, -1);
	bsdmem_regs_test_patience = 0;
	migrate_enable();
	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	return bsdmem_kunit_entry(cpus, n, silent);
}

/* A collection in which every CPU answers drops the pin. */
static void bsdmem_kunit_collect_all(struct kunit *test,
				     struct bsdmem_cpu_regs *cpus)
{
	atomic_t abort = ATOMIC_INIT(0);
	struct pt_regs here;
	unsigned int n;

	bsdmem_dump_here(&here);
	n = bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	bsdmem_kunit_check_cpus(test, cpus, n);
	KUNIT_EXPECT_FALSE(test, bsdmem_dump_regs_test_pinned());
}

/*
 * A CPU that takes its NMI but never answers: the collection ends when
 * the patience runs out, marks that CPU unknown (pid -1) and pins the
 * module; the next collection, which hears from every CPU, unpins it.
 */
static void bsdmem_dump_regs_silent_cpu_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test), *c;
	atomic_t abort = ATOMIC_INIT(0);

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	c = bsdmem_kunit_collect_silent(test, cpus, &abort, HZ / 5);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->known);
	KUNIT_EXPECT_EQ(test, c->pid, -1);
	KUNIT_EXPECT_EQ(test, c->regs.ip, 0UL);
	KUNIT_EXPECT_TRUE(test, bsdmem_dump_regs_test_pinned());
	bsdmem_kunit_collect_all(test, cpus);
}

struct bsdmem_kunit_abort {
	struct delayed_work	work;
	atomic_t		abort;
};

static void bsdmem_kunit_abort_fn(struct work_struct *work)
{
	struct bsdmem_kunit_abort *a = container_of(to_delayed_work(work),
						    struct bsdmem_kunit_abort,
						    work);

	atomic_set(&a->abort, 1);
}

static void bsdmem_kunit_abort_cancel(void *a)
{
	cancel_delayed_work_sync(&((struct bsdmem_kunit_abort *)a)->work);
}

/*
 * A caller that gives up while the dump waits for a silent CPU ends the
 * wait after a short grace, not after the patience: a minute here, so
 * that only the abort can end the collection within the half minute
 * allowed. The CPU, still silent then, is marked and pins the module.
 */
static void bsdmem_dump_regs_abort_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test), *c;
	struct bsdmem_kunit_abort *a = kunit_kzalloc(test, sizeof(*a),
						     GFP_KERNEL);
	unsigned long start;

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	KUNIT_ASSERT_NOT_NULL(test, a);
	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: none to silence");
	INIT_DELAYED_WORK(&a->work, bsdmem_kunit_abort_fn);
	/* a failed assertion below must not leave the work behind */
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
				bsdmem_kunit_abort_cancel, a));
	/* late enough that the collection is waiting by then */
	schedule_delayed_work(&a->work, HZ);
	start = jiffies;
	c = bsdmem_kunit_collect_silent(test, cpus, &a->abort, 60 * HZ);
	flush_delayed_work(&a->work);
	KUNIT_EXPECT_LT(test, jiffies - start, 30UL * HZ);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_FALSE(test, c->known);
	KUNIT_EXPECT_TRUE(test, bsdmem_dump_regs_test_pinned());
	bsdmem_kunit_collect_all(test, cpus);
}

/*
 * A caller gone before the collection: no NMI is sent, and every CPU but
 * this one is unknown; nothing is pinned, since nothing was asked.
 */
static void bsdmem_dump_regs_gone_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test);
	atomic_t abort = ATOMIC_INIT(1);
	struct pt_regs here;
	unsigned int n, i, known = 0;

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	bsdmem_dump_here(&here);
	n = bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	for (i = 0; i < n; i++)
		known += cpus[i].known;
	KUNIT_EXPECT_EQ(test, known, 1U);
	KUNIT_EXPECT_FALSE(test, bsdmem_dump_regs_test_pinned());
}

/*
 * After its answer a CPU claims one more NMI, our late one behind another
 * NMI, if it comes within the window, and only one: every later NMI goes
 * on to the kernel's other handlers and its unknown-NMI report. The
 * answer's time is set, so that the test does not depend on how fast it
 * runs.
 */
static int bsdmem_kunit_late_nmi(struct pt_regs *regs, unsigned long ago,
				 int *late)
{
	int first;

	bsdmem_regs_test_ask();
	first = bsdmem_regs_test_nmi(regs);
	bsdmem_regs_test_idle();
	bsdmem_regs_test_answered_ago(ago);
	*late = bsdmem_regs_test_nmi(regs);
	return first;
}

static void bsdmem_dump_regs_late_nmi_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test);
	unsigned long window = bsdmem_regs_test_late_window();
	atomic_t abort = ATOMIC_INIT(0);
	int first, late, after, first2, stale;
	struct pt_regs here;
	bool asked;

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	bsdmem_dump_here(&here);
	/* the handler is registered at the first collection */
	bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	preempt_disable();
	asked = bsdmem_regs_test_ask();
	if (asked) {
		first = bsdmem_kunit_late_nmi(&here, 0, &late);
		after = bsdmem_regs_test_nmi(&here);
		first2 = bsdmem_kunit_late_nmi(&here, window + 1, &stale);
		bsdmem_regs_test_idle();
	}
	preempt_enable();
	KUNIT_ASSERT_TRUE_MSG(test, asked, "no NMI handler");
	KUNIT_EXPECT_EQ(test, first, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, late, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, after, NMI_DONE);
	/* past the window, an NMI is not ours */
	KUNIT_EXPECT_EQ(test, first2, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, stale, NMI_DONE);
}

/*
 * One NMI, with an I/O check pending or not, then the next, its answer
 * ago jiffies in the past, at ip next_ip.
 */
static void bsdmem_kunit_platform_nmis(struct pt_regs *regs,
				       unsigned long ago, unsigned long next_ip,
				       int *first, int *next)
{
	struct pt_regs other = *regs;

	bsdmem_regs_test_ask();
	WRITE_ONCE(bsdmem_regs_test_reason, NMI_REASON_IOCHK);
	*first = bsdmem_regs_test_nmi(regs);
	WRITE_ONCE(bsdmem_regs_test_reason, 0);
	bsdmem_regs_test_idle();
	bsdmem_regs_test_answered_ago(ago);
	other.ip = next_ip;
	*next = bsdmem_regs_test_nmi(&other);
}

/*
 * An NMI that comes with a platform error pending (the reason port, set
 * by the test) is left to the kernel, its registers taken all the same.
 * The kernel's I/O check handler spins 2 s: ours, held back behind it,
 * comes back to back (at the same ip) long after the late window, and is
 * claimed; an NMI elsewhere after the window is not, nor one at that ip
 * after 10 s. A platform NMI after an answer, in the late window, is
 * left to the kernel as well, and ours behind it claimed.
 */
static void bsdmem_dump_regs_platform_nmi_test(struct kunit *test)
{
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test);
	unsigned long window = bsdmem_regs_test_late_window();
	int first, held, after, first2, elsewhere, first3, stale;
	int ans, in_window, held2, after2;
	atomic_t abort = ATOMIC_INIT(0);
	struct pt_regs here;
	bool asked;

	KUNIT_ASSERT_NOT_NULL(test, cpus);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
				bsdmem_kunit_regs_reset, NULL));
	bsdmem_dump_here(&here);
	bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	preempt_disable();
	asked = bsdmem_regs_test_ask();
	if (asked) {
		bsdmem_kunit_platform_nmis(&here, window + HZ, here.ip,
					   &first, &held);
		after = bsdmem_regs_test_nmi(&here);
		bsdmem_kunit_platform_nmis(&here, window + 1, here.ip + 1,
					   &first2, &elsewhere);
		/* held back longer than any platform handler spins */
		bsdmem_kunit_platform_nmis(&here, 11 * HZ, here.ip,
					   &first3, &stale);
		/*
		 * Answered; then, in the late window, a platform NMI: left
		 * to the kernel, and ours behind it claimed.
		 */
		bsdmem_regs_test_ask();
		WRITE_ONCE(bsdmem_regs_test_reason, 0);
		ans = bsdmem_regs_test_nmi(&here);
		bsdmem_regs_test_idle();
		bsdmem_regs_test_answered_ago(0);
		WRITE_ONCE(bsdmem_regs_test_reason, NMI_REASON_SERR);
		in_window = bsdmem_regs_test_nmi(&here);
		WRITE_ONCE(bsdmem_regs_test_reason, 0);
		held2 = bsdmem_regs_test_nmi(&here);
		after2 = bsdmem_regs_test_nmi(&here);
		bsdmem_regs_test_idle();
	}
	WRITE_ONCE(bsdmem_regs_test_reason, -1);
	preempt_enable();
	KUNIT_ASSERT_TRUE_MSG(test, asked, "no NMI handler");
	KUNIT_EXPECT_EQ(test, first, NMI_DONE);
	KUNIT_EXPECT_EQ(test, held, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, after, NMI_DONE);
	KUNIT_EXPECT_EQ(test, first2, NMI_DONE);
	KUNIT_EXPECT_EQ(test, elsewhere, NMI_DONE);
	KUNIT_EXPECT_EQ(test, first3, NMI_DONE);
	KUNIT_EXPECT_EQ(test, stale, NMI_DONE);
	KUNIT_EXPECT_EQ(test, ans, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, in_window, NMI_DONE);
	KUNIT_EXPECT_EQ(test, held2, NMI_HANDLED);
	KUNIT_EXPECT_EQ(test, after2, NMI_DONE);
}

/* The registers a function takes of itself unwind through its callers. */
static void bsdmem_dump_here_unwinds_test(struct kunit *test)
{
	unsigned long entries[16];
	struct pt_regs here;
	unsigned int n, i;
	bool runner = false;
	const char *sym;

#if IS_ENABLED(CONFIG_STACKTRACE)
	bsdmem_dump_here(&here);
	n = stack_trace_save_regs(&here, entries, ARRAY_SIZE(entries), 0);
#else
	kunit_skip(test, "no CONFIG_STACKTRACE");
	return;
#endif
	KUNIT_ASSERT_GE(test, n, 2U);
	sym = bsdmem_kunit_sym(test, entries[0]);
	KUNIT_EXPECT_TRUE_MSG(test,
			      bsdmem_kunit_in(sym, "bsdmem_dump_here_unwinds_test"),
			      "first frame %s", sym);
	for (i = 1; i < n; i++)
		runner |= bsdmem_kunit_in(bsdmem_kunit_sym(test, entries[i]),
					  "kunit_try_run_case");
	KUNIT_EXPECT_TRUE_MSG(test, runner, "no kunit_try_run_case in %u frames",
			      n);
}

struct bsdmem_kunit_spinner {
	struct completion	spinning;
	bool			stop;
	bool			timed_out;
};

/*
 * Interrupts off until told to stop, as a CPU stuck in a deadlock. Only
 * an NMI can interrupt it: its registers must point here. Nothing in the
 * loop calls out (no KASAN checks either), so they point into this
 * function itself; 5 s at most, far from the soft lockup report.
 */
static noinline __no_sanitize_address void
bsdmem_kunit_spin(struct bsdmem_kunit_spinner *s)
{
	u64 end = rdtsc() + 5000ULL * (tsc_khz ? tsc_khz : 1000000);

	local_irq_disable();
	complete(&s->spinning);
	while (!READ_ONCE(s->stop) && (s64)(rdtsc() - end) < 0)
		cpu_relax();
	s->timed_out = !READ_ONCE(s->stop);
	local_irq_enable();
}

static int bsdmem_kunit_spinner_fn(void *arg)
{
	bsdmem_kunit_spin(arg);
	return 0;
}

/* A CPU spinning with interrupts disabled answers by NMI, from its loop. */
static void bsdmem_dump_regs_spinning_cpu_test(struct kunit *test)
{
	struct bsdmem_kunit_spinner *s = kunit_kzalloc(test, sizeof(*s),
						       GFP_KERNEL);
	struct bsdmem_cpu_regs *cpus = bsdmem_kunit_cpus(test), *spun = NULL;
	atomic_t abort = ATOMIC_INIT(0);
	struct task_struct *t;
	struct pt_regs here;
	unsigned int cpu, n, i;
	const char *sym;
	pid_t pid;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, cpus);
	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: none to spin");
	bsdmem_dump_here(&here);
	init_completion(&s->spinning);
	/*
	 * This thread must not be queued behind the spinner, and nothing
	 * here may end the test before the spinner is stopped.
	 */
	migrate_disable();
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	t = kthread_create(bsdmem_kunit_spinner_fn, s, "bsdmem-kunit-spin");
	if (IS_ERR(t)) {
		migrate_enable();
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(t));
		return;
	}
	get_task_struct(t);
	kthread_bind(t, cpu);
	wake_up_process(t);
	wait_for_completion(&s->spinning);
	n = bsdmem_dump_regs_collect(cpus, num_possible_cpus(), &here, &abort);
	WRITE_ONCE(s->stop, true);
	migrate_enable();
	kthread_stop(t);
	pid = t->pid;
	put_task_struct(t);

	KUNIT_EXPECT_FALSE_MSG(test, s->timed_out, "the spin ended before the NMI");
	bsdmem_kunit_check_cpus(test, cpus, n);
	for (i = 0; i < n; i++)
		if (cpus[i].cpu == cpu)
			spun = &cpus[i];
	KUNIT_ASSERT_NOT_NULL(test, spun);
	KUNIT_EXPECT_EQ(test, spun->pid, pid);
	/* interrupted with interrupts off, in the spinning loop itself */
	KUNIT_EXPECT_FALSE(test, spun->regs.flags & X86_EFLAGS_IF);
	KUNIT_EXPECT_EQ(test, spun->regs.cs, (unsigned long)__KERNEL_CS);
	sym = bsdmem_kunit_sym(test, spun->regs.ip);
	KUNIT_EXPECT_TRUE_MSG(test, bsdmem_kunit_in(sym, "bsdmem_kunit_spin"),
			      "ip %s", sym);
}

static void bsdmem_elf_headers_test(struct kunit *test)
{
	static const struct bsdmem_seg segs[] = {
		{ .start_pfn = 0x1, .npages = 0x9e },
		{ .start_pfn = 0x100, .npages = 0x10 },
	};
	struct bsdmem_elf_layout l = {
		.segs = segs, .nsegs = 2, .notes_len = 700,
		.kimage_vaddr = 0xffffffff81000000ULL,
		.kimage_paddr = 0x1000000, .kimage_len = 0x200000,
		.direct_map_base = 0xffff888000000000ULL,
	};
	size_t hlen = bsdmem_elf_headers_size(2);
	u8 *buf = kunit_kzalloc(test, hlen, GFP_KERNEL);
	struct elf64_hdr *eh = (struct elf64_hdr *)buf;
	struct elf64_phdr *ph = (struct elf64_phdr *)(buf + sizeof(*eh));
	u64 data = bsdmem_elf_data_offset(2, 700);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, hlen, (size_t)(64 + 4 * 56));
	KUNIT_EXPECT_EQ(test, data, (u64)PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, 0, bsdmem_elf_build_headers(buf, &l));
	KUNIT_EXPECT_EQ(test, memcmp(eh->e_ident, ELFMAG, SELFMAG), 0);
	KUNIT_EXPECT_EQ(test, eh->e_type, (u16)ET_CORE);
	KUNIT_EXPECT_EQ(test, eh->e_machine, (u16)EM_X86_64);
	KUNIT_EXPECT_EQ(test, eh->e_phnum, (u16)4);
	KUNIT_EXPECT_EQ(test, ph[0].p_type, (u32)PT_NOTE);
	KUNIT_EXPECT_EQ(test, ph[0].p_offset, (u64)hlen);
	KUNIT_EXPECT_EQ(test, ph[0].p_filesz, 700ULL);
	KUNIT_EXPECT_EQ(test, ph[1].p_vaddr, 0xffffffff81000000ULL);
	KUNIT_EXPECT_EQ(test, ph[1].p_paddr, 0x1000000ULL);
	KUNIT_EXPECT_EQ(test, ph[1].p_offset, data);
	KUNIT_EXPECT_EQ(test, ph[2].p_paddr, 0x1000ULL);
	KUNIT_EXPECT_EQ(test, ph[2].p_vaddr, 0xffff888000001000ULL);
	KUNIT_EXPECT_EQ(test, ph[2].p_offset, data + 0x200000);
	KUNIT_EXPECT_EQ(test, ph[2].p_filesz, 0x9eULL << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, ph[2].p_align, 0ULL);
	KUNIT_EXPECT_EQ(test, ph[3].p_offset, data + 0x200000 + (0x9eULL << PAGE_SHIFT));
	KUNIT_EXPECT_EQ(test, ph[3].p_memsz, 0x10ULL << PAGE_SHIFT);
	l.nsegs = BSDMEM_MAX_SEGS + 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, bsdmem_elf_build_headers(buf, &l));
}

static void bsdmem_plan_segments_test(struct kunit *test)
{
	unsigned long *bm = kunit_kzalloc(test, BITS_TO_LONGS(256) * sizeof(long),
					  GFP_KERNEL);
	struct bsdmem_seg segs[8];

	KUNIT_ASSERT_NOT_NULL(test, bm);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_segments(bm, 256, 0, segs, 8), 0U);
	bitmap_set(bm, 1, 3);		/* 1-3 */
	bitmap_set(bm, 6, 2);		/* 6-7: hole of 2 */
	bitmap_set(bm, 100, 10);	/* hole of 92 */
	bitmap_set(bm, 255, 1);		/* the last bit */
	KUNIT_EXPECT_EQ(test, bsdmem_plan_segments(bm, 256, 0, segs, 8), 4U);
	KUNIT_EXPECT_EQ(test, segs[0].start_pfn, 1ULL);
	KUNIT_EXPECT_EQ(test, segs[0].npages, 3ULL);
	KUNIT_EXPECT_EQ(test, segs[3].start_pfn, 255ULL);
	KUNIT_EXPECT_EQ(test, segs[3].npages, 1ULL);
	/* holes up to 2 pages are absorbed */
	KUNIT_EXPECT_EQ(test, bsdmem_plan_segments(bm, 256, 2, segs, 8), 3U);
	KUNIT_EXPECT_EQ(test, segs[0].npages, 7ULL);
	KUNIT_EXPECT_EQ(test, segs[1].start_pfn, 100ULL);
	/* too many for the array: counted, only the first stored */
	KUNIT_EXPECT_EQ(test, bsdmem_plan_segments(bm, 256, 0, segs, 1), 4U);
	KUNIT_EXPECT_EQ(test, segs[0].npages, 3ULL);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_segments(bm, 256, 1000, segs, 1), 1U);
	KUNIT_EXPECT_EQ(test, segs[0].npages, 255ULL);
}

static void bsdmem_kunit_segs(struct bsdmem_seg *segs, const u64 *pairs,
			      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		segs[i].start_pfn = pairs[2 * i];
		segs[i].npages = pairs[2 * i + 1];
	}
}

#define BSDMEM_EXPECT_SEG(test, seg, start, n) do {			\
	KUNIT_EXPECT_EQ(test, (seg).start_pfn, (u64)(start));		\
	KUNIT_EXPECT_EQ(test, (seg).npages, (u64)(n));			\
} while (0)

/* The kernel image's frames leave the direct-map segments. */
static void bsdmem_plan_carve_test(struct kunit *test)
{
	static const u64 three[] = { 10, 10, 40, 20, 100, 5 };
	struct bsdmem_seg segs[5];

	/* nothing to carve, or nothing in the way */
	bsdmem_kunit_segs(segs, three, 3);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 45, 0), 3U);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 20, 20), 3U);
	BSDMEM_EXPECT_SEG(test, segs[0], 10, 10);
	BSDMEM_EXPECT_SEG(test, segs[1], 40, 20);
	BSDMEM_EXPECT_SEG(test, segs[2], 100, 5);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 0, 5, 20, 20), 0U);

	/* a segment that spans the range is split in two */
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 45, 5), 4U);
	BSDMEM_EXPECT_SEG(test, segs[0], 10, 10);
	BSDMEM_EXPECT_SEG(test, segs[1], 40, 5);
	BSDMEM_EXPECT_SEG(test, segs[2], 50, 10);
	BSDMEM_EXPECT_SEG(test, segs[3], 100, 5);

	/* ends trimmed, segments inside removed */
	bsdmem_kunit_segs(segs, three, 3);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 15, 88), 2U);
	BSDMEM_EXPECT_SEG(test, segs[0], 10, 5);
	BSDMEM_EXPECT_SEG(test, segs[1], 103, 2);
	bsdmem_kunit_segs(segs, three, 3);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 10, 50), 1U);
	BSDMEM_EXPECT_SEG(test, segs[0], 100, 5);
	bsdmem_kunit_segs(segs, three, 3);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 0, 1000), 0U);

	/* the first and the last segment split */
	bsdmem_kunit_segs(segs, three, 3);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 3, 5, 12, 2), 4U);
	BSDMEM_EXPECT_SEG(test, segs[0], 10, 2);
	BSDMEM_EXPECT_SEG(test, segs[1], 14, 6);
	BSDMEM_EXPECT_SEG(test, segs[2], 40, 20);
	BSDMEM_EXPECT_SEG(test, segs[3], 100, 5);
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 4, 5, 101, 1), 5U);
	BSDMEM_EXPECT_SEG(test, segs[3], 100, 1);
	BSDMEM_EXPECT_SEG(test, segs[4], 102, 3);

	/* no room for a split: the caller must merge and retry */
	KUNIT_EXPECT_EQ(test, bsdmem_plan_carve(segs, 5, 5, 45, 1), 6U);
}

static void bsdmem_gzip_framing_test(struct kunit *test)
{
	u8 hdr[BSDMEM_GZIP_HDR_LEN], trl[BSDMEM_GZIP_TRL_LEN];
	static const u8 want_hdr[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	static const u8 want_trl[] = { 0x78, 0x56, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01 };

	bsdmem_gzip_header(hdr);
	KUNIT_EXPECT_MEMEQ(test, hdr, want_hdr, sizeof(want_hdr));
	/* ISIZE is the length modulo 2^32 */
	bsdmem_gzip_trailer(trl, 0x12345678, 0x501020304ULL);
	KUNIT_EXPECT_MEMEQ(test, trl, want_trl, sizeof(want_trl));
	/* gzip's CRC: the standard check value of "123456789" */
	KUNIT_EXPECT_EQ(test, ~crc32_le(~0U, "123456789", 9), 0xCBF43926U);
}

/* The dump's buffers between the thread and the caller: when to fill */
static void bsdmem_out_room_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, BSDMEM_OUT_BUFS, 2);
	KUNIT_EXPECT_TRUE(test, bsdmem_out_has_room(0, 0));
	KUNIT_EXPECT_TRUE(test, bsdmem_out_has_room(1, 0));
	KUNIT_EXPECT_FALSE(test, bsdmem_out_has_room(2, 0));
	KUNIT_EXPECT_TRUE(test, bsdmem_out_has_room(2, 1));
	KUNIT_EXPECT_FALSE(test, bsdmem_out_has_room(7, 5));
	/* the counts wrap; their difference does not */
	KUNIT_EXPECT_TRUE(test, bsdmem_out_has_room(0, ULONG_MAX));
	KUNIT_EXPECT_FALSE(test, bsdmem_out_has_room(1, ULONG_MAX));
	KUNIT_EXPECT_FALSE(test, bsdmem_out_has_room(0, ULONG_MAX - 1));
}

/* Which failed writes the caller waits out and tries again */
static void bsdmem_out_retry_test(struct kunit *test)
{
	static const long again[] = {
		-EINTR, -EAGAIN, -ERESTARTSYS, -ERESTARTNOINTR,
		-ERESTARTNOHAND, -ERESTART_RESTARTBLOCK,
	};
	static const long fatal[] = {
		-EPIPE, -ENOSPC, -EFBIG, -EIO, -EPERM, -EACCES, -EINVAL,
		-EBADF, -ENOMEM, -EDQUOT, -ECONNRESET, 0, 1,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(again); i++)
		KUNIT_EXPECT_TRUE(test, bsdmem_out_retryable(again[i]));
	for (i = 0; i < ARRAY_SIZE(fatal); i++)
		KUNIT_EXPECT_FALSE(test, bsdmem_out_retryable(fatal[i]));
	/* no sleep the first time, then doubling up to 100 ms, forever */
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(0), 0U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(1), 1U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(2), 2U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(7), 64U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(8), 100U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(100), 100U);
	KUNIT_EXPECT_EQ(test, bsdmem_out_backoff_ms(UINT_MAX), 100U);
}

/* strict_devmem=1: the decision of x86's devmem_is_allowed(), pure */
static void bsdmem_strict_decide_test(struct kunit *test)
{
	unsigned long low = BSDMEM_STRICT_LOW_PFNS;

	KUNIT_EXPECT_EQ(test, low, 256UL);
	/* RAM: zeros in the first megabyte, refused above, busy or not */
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ZERO, bsdmem_strict_decide(0, true, false));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ZERO, bsdmem_strict_decide(low - 1, true, true));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_decide(low, true, false));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_decide(low, true, true));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_decide(ULONG_MAX, true, false));
	/* busy or exclusive device memory: only the first megabyte */
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_decide(0xf0, false, true));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_decide(low - 1, false, true));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_decide(low, false, true));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_decide(ULONG_MAX, false, true));
	/* anything else is allowed */
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_decide(0, false, false));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_decide(low, false, false));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_decide(ULONG_MAX, false, false));
}

static void bsdmem_kunit_release_resource(void *res)
{
	release_resource(res);
}

/*
 * Claims made in the live resource tree are dropped by KUnit even when an
 * assertion ends the test early: a stale entry would outlive the test.
 */
static int bsdmem_kunit_claim(struct kunit *test, struct resource *parent,
			      struct resource *res)
{
	int ret = request_resource(parent, res);

	if (ret)
		return ret;
	return kunit_add_action_or_reset(test, bsdmem_kunit_release_resource,
					 res);
}

static void bsdmem_kunit_unclaim(struct kunit *test, struct resource *res)
{
	kunit_release_action(test, bsdmem_kunit_release_resource, res);
}

/*
 * The same questions asked of the running kernel's resource tree: the
 * kernel image, the first megabyte, and a window of the test's own in
 * free address space with claims of each kind nested in it.
 */
static void bsdmem_strict_resources_test(struct kunit *test)
{
	u64 text = __pa_symbol(_text), top = 1ULL << bsdmem_phys_bits();
	struct resource *win, *claim;
	unsigned long pfn;

	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_pfn_allowed(PHYS_PFN(text)));
	KUNIT_EXPECT_FALSE(test, bsdmem_strict_range_allowed(text, 1));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(0, SZ_1M));
	KUNIT_EXPECT_FALSE(test, bsdmem_strict_range_allowed(0, text + PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(text, 0));

	win = kunit_kzalloc(test, sizeof(*win), GFP_KERNEL);
	claim = kunit_kzalloc(test, sizeof(*claim), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, win);
	KUNIT_ASSERT_NOT_NULL(test, claim);
	win->name = "bsdmem-kunit window";
	win->flags = IORESOURCE_MEM;
	if (allocate_resource(&iomem_resource, win, 4 * PAGE_SIZE, SZ_4G,
			      top - 1, PAGE_SIZE, NULL, NULL))
		kunit_skip(test, "no free physical address space above 4 GiB");
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test,
				bsdmem_kunit_release_resource, win));
	pfn = PHYS_PFN(win->start);
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_pfn_allowed(pfn + 1));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(win->start, 4 * PAGE_SIZE));

	/* a busy claim of a few bytes, nested, in the second page */
	claim->name = "bsdmem-kunit claim";
	claim->start = win->start + PAGE_SIZE + 64;
	claim->end = claim->start + 127;
	claim->flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	KUNIT_ASSERT_EQ(test, 0, bsdmem_kunit_claim(test, win, claim));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_pfn_allowed(pfn));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_pfn_allowed(pfn + 1));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_pfn_allowed(pfn + 2));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(win->start, PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(win->start + 2 * PAGE_SIZE,
							    2 * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, bsdmem_strict_range_allowed(win->start, 4 * PAGE_SIZE));
	/* a byte outside the claim, in its page, is the whole page */
	KUNIT_EXPECT_FALSE(test, bsdmem_strict_range_allowed(win->start + 2 * PAGE_SIZE - 1, 1));
	/* a terabyte costs what a page costs: one walk */
	KUNIT_EXPECT_FALSE(test, bsdmem_strict_range_allowed(win->start, SZ_1T));
	bsdmem_kunit_unclaim(test, claim);

	/* driver-managed RAM marked exclusive, not busy */
	claim->flags = IORESOURCE_SYSTEM_RAM | IORESOURCE_EXCLUSIVE;
	KUNIT_ASSERT_EQ(test, 0, bsdmem_kunit_claim(test, win, claim));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_REFUSE, bsdmem_strict_pfn_allowed(pfn + 1));
	bsdmem_kunit_unclaim(test, claim);

	/* neither busy nor RAM: a BAR nobody claimed */
	claim->flags = IORESOURCE_MEM;
	KUNIT_ASSERT_EQ(test, 0, bsdmem_kunit_claim(test, win, claim));
	KUNIT_EXPECT_EQ(test, BSDMEM_STRICT_ALLOW, bsdmem_strict_pfn_allowed(pfn + 1));
	KUNIT_EXPECT_TRUE(test, bsdmem_strict_range_allowed(win->start, 4 * PAGE_SIZE));
	bsdmem_kunit_unclaim(test, claim);
}

/* Reads and writes under strict_devmem=1, as strict /dev/mem answers. */
static void bsdmem_strict_access_test(struct kunit *test)
{
	u8 *obj = kunit_kzalloc(test, 64, GFP_KERNEL);
	bool saved = bsdmem_strict_devmem;
	u8 buf[16], want[16];
	unsigned long pfn;
	u8 *low;

	KUNIT_ASSERT_NOT_NULL(test, obj);
	/* a low RAM page whose first bytes are not zeros */
	for (pfn = 1; pfn < BSDMEM_STRICT_LOW_PFNS; pfn++)
		if (page_is_ram(pfn) && memchr_inv(__va(PFN_PHYS(pfn)), 0, 16))
			break;
	if (pfn == BSDMEM_STRICT_LOW_PFNS)
		kunit_skip(test, "no low RAM page with contents");
	low = __va(PFN_PHYS(pfn));
	memcpy(want, low, sizeof(want));

	bsdmem_strict_devmem = true;
	/* low RAM reads as zeros, and a write is dropped, not refused */
	memset(buf, 0xa5, sizeof(buf));
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, PFN_PHYS(pfn), buf, 16, false, 0));
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, sizeof(buf)));
	for (int i = 0; i < 16; i++)
		buf[i] = ~want[i];
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, PFN_PHYS(pfn), buf, 16, true, 0));
	KUNIT_EXPECT_MEMEQ(test, low, want, sizeof(want));
	/* RAM above the first megabyte is refused both ways */
	KUNIT_EXPECT_EQ(test, -EPERM, (int)bsdmem_access_step(BSDMEM_PHYS, virt_to_phys(obj), buf, 16, false, 0));
	KUNIT_EXPECT_EQ(test, -EPERM, (int)bsdmem_access_step(BSDMEM_PHYS, virt_to_phys(obj), buf, 16, true, 0));
	/* /dev/bsdkmem is not restricted */
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_KVIRT, (u64)(unsigned long)obj, buf, 16, false, 0));
	bsdmem_strict_devmem = saved;
	/* undo a write that should have been dropped */
	if (memcmp(low, want, sizeof(want)))
		memcpy(low, want, sizeof(want));
}

static struct kunit_case bsdmem_test_cases[] = {
	KUNIT_CASE(bsdmem_elf_note_test),
	KUNIT_CASE(bsdmem_elf_headers_test),
	KUNIT_CASE(bsdmem_elf_prstatus_test),
	KUNIT_CASE(bsdmem_dump_regs_all_cpus_test),
	KUNIT_CASE(bsdmem_dump_regs_spinning_cpu_test),
	KUNIT_CASE(bsdmem_dump_regs_silent_cpu_test),
	KUNIT_CASE(bsdmem_dump_regs_abort_test),
	KUNIT_CASE(bsdmem_dump_regs_gone_test),
	KUNIT_CASE(bsdmem_dump_regs_late_nmi_test),
	KUNIT_CASE(bsdmem_dump_regs_platform_nmi_test),
	KUNIT_CASE(bsdmem_dump_here_unwinds_test),
	KUNIT_CASE(bsdmem_plan_segments_test),
	KUNIT_CASE(bsdmem_plan_carve_test),
	KUNIT_CASE(bsdmem_gzip_framing_test),
	KUNIT_CASE(bsdmem_out_room_test),
	KUNIT_CASE(bsdmem_out_retry_test),
	KUNIT_CASE(bsdmem_range_validate_test),
	KUNIT_CASE(bsdmem_range_overlap_test),
	KUNIT_CASE(bsdmem_mtrr_type_test),
	KUNIT_CASE(bsdmem_mtrr_decode_test),
	KUNIT_CASE(bsdmem_mtrr_decode_edge_test),
	KUNIT_CASE(bsdmem_leaf_phys_test),
	KUNIT_CASE(bsdmem_extract_no_mm_test),
	KUNIT_CASE(bsdmem_cmd_native_test),
	KUNIT_CASE(bsdmem_cmd_values_test),
	KUNIT_CASE(bsdmem_cmd_compat_test),
	KUNIT_CASE(bsdmem_cmd_unknown_test),
	KUNIT_CASE(bsdmem_phys_range_test),
	KUNIT_CASE(bsdmem_kaddr_range_test),
	KUNIT_CASE(bsdmem_kaddr_region_test),
	KUNIT_CASE(bsdmem_kaddr_region_live_test),
	KUNIT_CASE(bsdmem_chunk_len_test),
	KUNIT_CASE(bsdmem_lseek_test),
	KUNIT_CASE(bsdmem_access_kmalloc_test),
	KUNIT_CASE(bsdmem_access_vmalloc_test),
	KUNIT_CASE(bsdmem_access_refusals_test),
	KUNIT_CASE(bsdmem_strict_decide_test),
	KUNIT_CASE(bsdmem_strict_resources_test),
	KUNIT_CASE(bsdmem_strict_access_test),
	{}
};

static struct kunit_suite bsdmem_test_suite = {
	.name = "bsdmem",
	.test_cases = bsdmem_test_cases,
};
kunit_test_suite(bsdmem_test_suite);

MODULE_LICENSE("GPL");
