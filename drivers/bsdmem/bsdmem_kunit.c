// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for bsdmem: the pure logic, and page access against memory
 * the test owns (a kmalloc and a vmalloc buffer), so no hardware is needed.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "bsdmem.h"

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

	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_KVIRT, kva, buf, 16, false));
	KUNIT_EXPECT_MEMEQ(test, buf, obj, 16);
	memset(buf, 0, sizeof(buf));
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, pa, buf, 16, false));
	KUNIT_EXPECT_MEMEQ(test, buf, obj, 16);

	memcpy(buf, "written-by-phys!", 16);
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_PHYS, pa, buf, 16, true));
	KUNIT_EXPECT_MEMEQ(test, obj, buf, 16);
	memcpy(buf, "written-by-kvirt", 16);
	KUNIT_EXPECT_EQ(test, 16L, (long)bsdmem_access_step(BSDMEM_KVIRT, kva, buf, 16, true));
	KUNIT_EXPECT_MEMEQ(test, obj, buf, 16);
}

static void bsdmem_access_vmalloc_test(struct kunit *test)
{
	u8 *obj = vzalloc(2 * PAGE_SIZE);
	u8 buf[8];

	KUNIT_ASSERT_NOT_NULL(test, obj);
	memcpy(obj + PAGE_SIZE, "vmalloc!", 8);
	KUNIT_EXPECT_EQ(test, 8L, (long)bsdmem_access_step(BSDMEM_KVIRT,
		(u64)(unsigned long)(obj + PAGE_SIZE), buf, 8, false));
	KUNIT_EXPECT_MEMEQ(test, buf, obj + PAGE_SIZE, 8);
	vfree(obj);
}

static void bsdmem_access_refusals_test(struct kunit *test)
{
	u8 buf[8];

	/* user, non-canonical and unmapped kernel addresses */
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, 0x400000, buf, 8, false));
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, 0x8000000000000000ULL, buf, 8, false));
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_KVIRT, (u64)VMALLOC_END - PAGE_SIZE + 1, buf, 8, false));
	/* beyond the CPU's physical address width */
	KUNIT_EXPECT_EQ(test, -EFAULT, (int)bsdmem_access_step(BSDMEM_PHYS, 1ULL << bsdmem_phys_bits(), buf, 8, false));
	/* a step may not cross a page */
	KUNIT_EXPECT_EQ(test, -EINVAL, (int)bsdmem_access_step(BSDMEM_PHYS, PAGE_SIZE - 4, buf, 8, false));
	KUNIT_EXPECT_EQ(test, -EINVAL, (int)bsdmem_access_step(BSDMEM_PHYS, 0, buf, 0, false));
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

static struct kunit_case bsdmem_test_cases[] = {
	KUNIT_CASE(bsdmem_leaf_phys_test),
	KUNIT_CASE(bsdmem_extract_no_mm_test),
	KUNIT_CASE(bsdmem_cmd_native_test),
	KUNIT_CASE(bsdmem_cmd_values_test),
	KUNIT_CASE(bsdmem_cmd_compat_test),
	KUNIT_CASE(bsdmem_cmd_unknown_test),
	KUNIT_CASE(bsdmem_phys_range_test),
	KUNIT_CASE(bsdmem_kaddr_range_test),
	KUNIT_CASE(bsdmem_chunk_len_test),
	KUNIT_CASE(bsdmem_lseek_test),
	KUNIT_CASE(bsdmem_access_kmalloc_test),
	KUNIT_CASE(bsdmem_access_vmalloc_test),
	KUNIT_CASE(bsdmem_access_refusals_test),
	{}
};

static struct kunit_suite bsdmem_test_suite = {
	.name = "bsdmem",
	.test_cases = bsdmem_test_cases,
};
kunit_test_suite(bsdmem_test_suite);

MODULE_LICENSE("GPL");
