// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_EXTRACT_PADDR: each state, agreement with /proc/self/pagemap and
 * move_pages(2), every kind of mapping, the no-fault property, and a race
 * against a thread that maps and unmaps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include "harness.h"
#include "util.h"

#define HPAGE_SZ	(2UL << 20)
#define KPF_THP		22
#define KPF_HUGE	17
#define MPOL_BIND	2

static int extract(int fd, const void *va, struct mem_extract *me)
{
	memset(me, 0, sizeof(*me));
	me->me_vaddr = (uintptr_t)va;
	return ioctl(fd, MEM_EXTRACT_PADDR, me);
}

static uint64_t page_flags_of(uint64_t pa)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd >= 0 && pread(fd, &flags, 8, (off_t)(pa / PAGE_SZ * 8)) != 8)
		flags = 0;
	if (fd >= 0)
		close(fd);
	return flags;
}

/* MAPPED answers agree with pagemap, in-page offset included. */
static void assert_matches_pagemap(int fd, const void *va)
{
	struct mem_extract me;

	ASSERT_EQ(extract(fd, va, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
	ASSERT_EQ(me.me_paddr, virt_to_phys_pagemap(va));
	ASSERT_EQ(me.me_vaddr, (uintptr_t)va);
}

TEST(mapped_anon_page_matches_pagemap)
{
	uint8_t *p = locked_page(1);
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	assert_matches_pagemap(fd, p);
	assert_matches_pagemap(fd, p + 1);
	assert_matches_pagemap(fd, p + PAGE_SZ - 1);
	assert_matches_pagemap(fd, p + 1234);
}

TEST(works_on_both_devices)
{
	uint8_t *p = locked_page(1);
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);

	assert_matches_pagemap(fd, p + 8);
}

TEST(unmapped_addresses_are_invalid)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint64_t banner = kallsyms_lookup("linux_banner");
	const uint64_t bad[] = {
		0, 4096, 0x0000800000000000ULL, 0x8000000000000000ULL,
		0xffff800000000000ULL, banner, ~0ULL,
	};
	struct mem_extract me;
	void *gone;

	gone = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_MAPPED(gone);
	ASSERT_EQ(munmap(gone, PAGE_SZ), 0);
	ASSERT_EQ(extract(fd, gone, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_INVALID);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&me, 0, sizeof(me));
		me.me_vaddr = bad[i];
		me.me_paddr = 0x1234;
		me.me_domain = 77;
		ASSERT_EQ(ioctl(fd, MEM_EXTRACT_PADDR, &me), 0);
		ASSERT_EQ(me.me_state, ME_STATE_INVALID);
		/* as on FreeBSD, only the state is set */
		ASSERT_EQ(me.me_paddr, 0x1234);
		ASSERT_EQ(me.me_domain, 77);
		ASSERT_EQ(me.me_vaddr, bad[i]);
	}
}

/* Untouched pages are VALID and still untouched after the lookup. */
TEST(untouched_pages_are_valid_and_not_faulted_in)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int ffd = open("/tmp/extract-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	uint8_t *anon, *file, data[4 * PAGE_SZ];
	struct mem_extract me;

	ASSERT_GE(ffd, 0);
	memset(data, 0x5c, sizeof(data));
	ASSERT_EQ(write(ffd, data, sizeof(data)), sizeof(data));
	anon = mmap(NULL, 16 * PAGE_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	file = mmap(NULL, 4 * PAGE_SZ, PROT_READ, MAP_SHARED, ffd, 0);
	ASSERT_MAPPED(anon);
	ASSERT_MAPPED(file);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 16; i++) {
			me.me_paddr = 0x1234;
			ASSERT_EQ(extract(fd, anon + i * PAGE_SZ + 9, &me), 0);
			ASSERT_EQ(me.me_state, ME_STATE_VALID);
			ASSERT_EQ(me.me_paddr, 0);
			ASSERT_EQ(virt_to_phys_pagemap(anon + i * PAGE_SZ), 0);
		}
		for (int i = 0; i < 4; i++) {
			ASSERT_EQ(extract(fd, file + i * PAGE_SZ, &me), 0);
			ASSERT_EQ(me.me_state, ME_STATE_VALID);
			ASSERT_EQ(virt_to_phys_pagemap(file + i * PAGE_SZ), 0);
		}
	}
	/* once touched, the file page is MAPPED where pagemap says */
	ASSERT_EQ(file[PAGE_SZ + 5], 0x5c);
	assert_matches_pagemap(fd, file + PAGE_SZ + 5);
	unlink("/tmp/extract-file");
}

/* An anonymous page that was only read maps the shared zero page. */
TEST(read_only_touched_page_agrees_with_pagemap)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint8_t *p = mmap(NULL, PAGE_SZ, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct mem_extract me;
	uint64_t pa;

	ASSERT_MAPPED(p);
	ASSERT_EQ(__atomic_load_n(&p[10], __ATOMIC_RELAXED), 0);
	pa = virt_to_phys_pagemap(p);
	ASSERT_EQ(extract(fd, p + 10, &me), 0);
	if (pa) {
		ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
		ASSERT_EQ(me.me_paddr, pa + 10);
	} else {
		ASSERT_EQ(me.me_state, ME_STATE_VALID);
	}
}

TEST(unused_fields_are_echoed)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint8_t *p = locked_page(2);
	struct mem_extract me;

	memset(&me, 0xa5, sizeof(me));
	me.me_vaddr = (uintptr_t)p;
	ASSERT_EQ(ioctl(fd, MEM_EXTRACT_PADDR, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(me.pad1[i], 0xa5a5a5a5a5a5a5a5ULL);
}

TEST(bad_argument_pointer_is_efault)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	struct mem_extract *ro;

	ASSERT_ERRNO(ioctl(fd, MEM_EXTRACT_PADDR, NULL), EFAULT);
	ASSERT_ERRNO(ioctl(fd, MEM_EXTRACT_PADDR, (void *)8), EFAULT);
	ro = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAPPED(ro);
	ro->me_vaddr = (uintptr_t)ro;
	ASSERT_EQ(mprotect(ro, PAGE_SZ, PROT_READ), 0);
	/* readable but not writable: the answer cannot be copied back */
	ASSERT_ERRNO(ioctl(fd, MEM_EXTRACT_PADDR, ro), EFAULT);
	/* straddling into an unmapped page */
	ASSERT_EQ(munmap(ro, PAGE_SZ), 0);
}

static int node_count(void)
{
	char path[64];
	int n = 0;

	for (;; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			return n;
	}
}

/* Pages bound with mbind(2) to a node: me_domain agrees with move_pages(2). */
TEST(numa_domain_agrees_with_move_pages)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	if (node_count() < 2)
		SKIP("needs two NUMA nodes, have %d", node_count());
	for (int node = 0; node < 2; node++) {
		unsigned long mask = 1UL << node;
		uint8_t *p = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct mem_extract me;

		ASSERT_MAPPED(p);
		ASSERT_EQ(syscall(SYS_mbind, p, 4 * PAGE_SZ, MPOL_BIND, &mask,
				  sizeof(mask) * 8, 0), 0);
		memset(p, 1, 4 * PAGE_SZ);
		for (int i = 0; i < 4; i++) {
			void *pg = p + i * PAGE_SZ;
			int status = -1;

			ASSERT_EQ(syscall(SYS_move_pages, 0, 1, &pg, NULL,
					  &status, 0), 0);
			ASSERT_EQ(status, node);
			ASSERT_EQ(extract(fd, p + i * PAGE_SZ + 3, &me), 0);
			ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
			ASSERT_EQ(me.me_domain, node);
		}
	}
}

static void *hpage_aligned(size_t len, int extra_flags)
{
	uint8_t *raw = mmap(NULL, len + HPAGE_SZ, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);

	if (raw == MAP_FAILED)
		return MAP_FAILED;
	return (void *)(((uintptr_t)raw + HPAGE_SZ - 1) & ~(HPAGE_SZ - 1));
}

TEST(thp_subpage_address)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint8_t *p = hpage_aligned(HPAGE_SZ, 0);
	uint64_t head;

	ASSERT_MAPPED(p);
	madvise(p, HPAGE_SZ, MADV_HUGEPAGE);
	memset(p, 3, HPAGE_SZ);
	head = virt_to_phys_pagemap(p);
	ASSERT_NE(head, 0);
	if (!(page_flags_of(head) & (1ULL << KPF_THP)))
		SKIP("no transparent huge page was allocated");
	for (unsigned long sub = 0; sub < 512; sub += 73) {
		uint8_t *va = p + sub * PAGE_SZ + 123;

		assert_matches_pagemap(fd, va);
		ASSERT_EQ(virt_to_phys_pagemap(va), head + sub * PAGE_SZ + 123);
	}
}

TEST(hugetlb_subpage_address)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int nr = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	uint8_t *p;
	uint64_t head;

	if (nr >= 0) {
		if (write(nr, "4", 1) != 1)
			TH_LOG("could not reserve huge pages");
		close(nr);
	}
	p = mmap(NULL, HPAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		SKIP("MAP_HUGETLB: %s", strerror(errno));
	memset(p, 4, HPAGE_SZ);
	head = virt_to_phys_pagemap(p);
	ASSERT_NE(head, 0);
	ASSERT_TRUE(page_flags_of(head) & (1ULL << KPF_HUGE));
	for (unsigned long sub = 1; sub < 512; sub += 101) {
		assert_matches_pagemap(fd, p + sub * PAGE_SZ + 7);
		ASSERT_EQ(virt_to_phys_pagemap(p + sub * PAGE_SZ + 7),
			  head + sub * PAGE_SZ + 7);
	}
	munmap(p, HPAGE_SZ);
}

/* A VM_PFNMAP mapping of /dev/bsdmem has no struct page behind it. */
TEST(pfnmap_of_bsdmem_is_mapped_at_its_physical_address)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(5), *m, *fw, b;
	uint64_t pa = virt_to_phys_pagemap(p);
	struct mem_extract me, mine;

	ASSERT_NE(pa, 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)pa);
	ASSERT_MAPPED(m);
	ASSERT_EQ(m[100], 5);
	ASSERT_EQ(extract(fd, p, &mine), 0);
	ASSERT_EQ(extract(fd, m + 100, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
	ASSERT_EQ(me.me_paddr, pa + 100);
	ASSERT_EQ(me.me_domain, mine.me_domain);

	/*
	 * device space (the BIOS area) has no node: domain 0. Pages are
	 * mapped when first touched: VALID before, MAPPED after.
	 */
	fw = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, 0xff000);
	ASSERT_MAPPED(fw);
	ASSERT_EQ(extract(fd, fw + 0x10, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_VALID);
	ASSERT_EQ(pread(fd, &b, 1, 0xff010), 1);
	ASSERT_EQ(__atomic_load_n(fw + 0x10, __ATOMIC_RELAXED), b);
	ASSERT_EQ(extract(fd, fw + 0x10, &me), 0);
	ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
	ASSERT_EQ(me.me_paddr, 0xff010);
	ASSERT_EQ(me.me_domain, 0);
}

struct race {
	uint8_t *addr;
	int stop;
	unsigned long maps;
};

static void *remapper(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		void *p = mmap(r->addr, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (p != MAP_FAILED) {
			memset(p, 1, 2 * PAGE_SZ);
			munmap(p, 4 * PAGE_SZ);
			__atomic_add_fetch(&r->maps, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* Lookups racing mmap/munmap: no oops, every answer one of the states. */
TEST(race_with_map_and_unmap)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	struct race r = { 0 };
	unsigned long seen[3] = { 0 }, n = 0;
	struct timespec t0, t;
	pthread_t th;

	r.addr = mmap(NULL, 4 * PAGE_SZ, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAPPED(r.addr);
	ASSERT_EQ(pthread_create(&th, NULL, remapper, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct mem_extract me;

		for (int i = 0; i < 256; i++, n++) {
			ASSERT_EQ(extract(fd, r.addr + (n % 4) * PAGE_SZ, &me), 0);
			ASSERT_GE(me.me_state, ME_STATE_INVALID);
			ASSERT_LE(me.me_state, ME_STATE_MAPPED);
			if (me.me_state == ME_STATE_MAPPED)
				ASSERT_NE(me.me_paddr, 0);
			seen[me.me_state]++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		bt_progress();
		/*
		 * At least 4096 lookups over at least 16 remaps, however slow
		 * the machine; beyond that, up to 3 s or 400000 lookups.
		 */
	} while (n < 4096 || __atomic_load_n(&r.maps, __ATOMIC_RELAXED) < 16 ||
		 (n < 400000 && t.tv_sec - t0.tv_sec < 3));
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	TH_LOG("%lu lookups: %lu invalid, %lu valid, %lu mapped; %lu remaps",
	       n, seen[0], seen[1], seen[2], r.maps);
	/* every answer above was checked; which states were seen is luck */
}
