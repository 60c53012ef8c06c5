// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of /dev/bsdmem follows the rules of read and write: no store where
 * write(2) is refused, a cost that does not grow with the length, RAM
 * pages that stay valid while mapped, ranges that cannot change under a
 * mapping, and the privilege asked again on every use of the fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

/* This process's page-table size in KiB (VmPTE in /proc/self/status). */
static long vm_pte_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long meminfo_kib(const char *key)
{
	char line[128], name[64];
	long kib, found = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %ld kB", name, &kib) == 2 &&
		    !strcmp(name, key))
			found = kib;
	fclose(f);
	return found;
}

/*
 * A writable shared mapping of kernel text may be made, but its pages are
 * mapped read-only: loads see the text, a store (even of the same byte,
 * so that a kernel without the fix is not harmed) is SIGBUS.
 */
TEST(kernel_text_is_mapped_read_only)
{
	uint64_t end, code = iomem_find("Kernel code", &end);
	uint64_t rodata = iomem_find("Kernel rodata", NULL);
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t buf[64], *m;
	uint64_t pa;

	ASSERT_NE(code, 0);
	ASSERT_NE(rodata, 0);
	for (int i = 0; i < 2; i++) {
		pa = ((i ? rodata : code) + PAGE_SZ) & ~(PAGE_SZ - 1);
		ASSERT_ERRNO(pwrite(fd, buf, 1, (off_t)pa), EFAULT);
		m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)pa);
		ASSERT_MAPPED(m);
		ASSERT_EQ(pread(fd, buf, sizeof(buf), (off_t)pa), sizeof(buf));
		ASSERT_MEMEQ(m, buf, sizeof(buf));
		ASSERT_EQ(probe_access(m, false), 0);
		ASSERT_EQ(probe_access(m + 100, true), SIGBUS);
		ASSERT_EQ(munmap(m, PAGE_SZ), 0);
	}
}

/* Private mappings are refused, as FreeBSD refuses them on devices. */
TEST(private_mappings_are_refused)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE, fd,
			       0xff000), EINVAL);
}

/*
 * Mapping most of the physical address space costs nothing until pages
 * are touched: no page walk at mmap (which once held a CPU for 100 s) and
 * no page tables built for the whole length.
 */
TEST(huge_mapping_costs_nothing_up_front)
{
	unsigned int bits = cpu_phys_bits();
	uint64_t base = 1ULL << 36, len = 896ULL << 30;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	long before, after;
	uint8_t *m;

	ASSERT_GE(bits, 37);
	if (base + len > (1ULL << bits))
		len = (1ULL << bits) - base;
	before = vm_pte_kib();
	m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd,
		 (off_t)base);
	ASSERT_MAPPED(m);
	after = vm_pte_kib();
	TH_LOG("mapped %llu GiB, VmPTE %ld -> %ld kB",
	       (unsigned long long)(len >> 30), before, after);
	ASSERT_GE(before, 0);
	ASSERT_LT(after - before, 64);
	/* one page of it, in the middle: device space, no signal */
	ASSERT_EQ(probe_access(m + len / 2, false), 0);
	ASSERT_EQ(munmap(m, len), 0);
}

/*
 * PAT's entries above 1 MiB: the first held write-back and the first held
 * uncached-minus (0 for none), and how many entries there are (-1 when
 * the list cannot be read).
 */
static int pat_held(unsigned long long *wb, unsigned long long *uc)
{
	char line[256], t[64];
	unsigned long long s, e;
	FILE *f = fopen(PAT_LIST, "r");
	int n = 0;

	*wb = 0;
	*uc = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!pat_parse(line, t, sizeof(t), &s, &e))
			continue;
		n++;
		if (s < (1ULL << 20))
			continue;
		if (!*wb && !strcmp(t, "write-back"))
			*wb = s;
		if (!*uc && !strcmp(t, "uncached-minus"))
			*uc = s;
	}
	fclose(f);
	return n;
}

/*
 * O_SYNC asks for an uncached mapping, which PAT cannot make of memory
 * the kernel holds write-back (the firmware tables ACPI keeps mapped): the
 * page faults SIGBUS, and maps without O_SYNC. Memory held uncached maps
 * with O_SYNC. Asking PAT leaves none of its entries behind.
 */
TEST(o_sync_mapping_of_memory_held_write_back_is_refused)
{
	unsigned long long wb, uc, wb2, uc2;
	int n = pat_held(&wb, &uc), fd, sfd;
	uint8_t *m, *sm;

	if (n < 0)
		SKIP("no %s (debugfs or PAT missing)", PAT_LIST);
	if (!wb)
		SKIP("no memory held write-back above 1 MiB");
	fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	sfd = open_dev(BSDMEM_DEV_PATH, O_RDONLY | O_SYNC);
	sm = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, sfd, (off_t)wb);
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)wb);
	ASSERT_MAPPED(sm);
	ASSERT_MAPPED(m);
	TH_LOG("write-back at %#llx, uncached-minus at %#llx", wb, uc);
	ASSERT_EQ(probe_access(sm, false), SIGBUS);
	ASSERT_EQ(probe_access(m, false), 0);
	munmap(sm, PAGE_SZ);
	munmap(m, PAGE_SZ);
	if (uc) {
		sm = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, sfd,
			  (off_t)uc);
		ASSERT_MAPPED(sm);
		ASSERT_EQ(probe_access(sm, false), 0);
		munmap(sm, PAGE_SZ);
	}
	ASSERT_EQ(pat_held(&wb2, &uc2), n);
	close(fd);
	close(sfd);
}

/*
 * Fill nearly all free memory in a child, so freed pages get reused, yet
 * stay clear of the OOM killer, whose report fails the boot. MemAvailable
 * leaves out the zones' reserves (THP raises the watermarks to some 32 MiB
 * a node on the test guests); the margin covers what the per-CPU free
 * lists hold back (30 MiB seen on 7.3 with -cpu max) and page tables.
 */
static void fill_free_memory(int fill)
{
	long avail_kib = meminfo_kib("MemAvailable");
	size_t len = (size_t)(avail_kib - 96 * 1024) * 1024;
	int status;
	pid_t pid;

	if (avail_kib < 192 * 1024)
		return;
	pid = fork();
	if (pid == 0) {
		uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, fill, len);
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

/*
 * A RAM page mapped through /dev/bsdmem stays ours while mapped: its
 * owner frees it, memory is filled to the brim, and what was written
 * through the mapping is still there.
 */
TEST(mapped_ram_page_outlives_its_owner)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint8_t *m;
	uint64_t pa;

	ASSERT_MAPPED(p);
	memset(p, 0x3c, PAGE_SZ);
	pa = virt_to_phys_pagemap(p) & ~(PAGE_SZ - 1);
	ASSERT_NE(pa, 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)pa);
	ASSERT_MAPPED(m);
	ASSERT_EQ(m[7], 0x3c);
	ASSERT_EQ(munmap(p, PAGE_SZ), 0);	/* the owner lets go */
	memset(m, 0xc3, PAGE_SZ);
	fill_free_memory(0x5a);
	for (size_t i = 0; i < PAGE_SZ; i++)
		if (m[i] != 0xc3) {
			TH_LOG("byte %zu is %#x: the page was reused", i, m[i]);
			ASSERT_EQ(m[i], 0xc3);
		}
	ASSERT_EQ(munmap(m, PAGE_SZ), 0);
}

/* A forked child shares the mapping; the page stays held for both. */
TEST(mapping_survives_fork_and_split)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(0x21);
	uint64_t pa = virt_to_phys_pagemap(p) & ~(PAGE_SZ - 1);
	uint8_t *m;
	int status;
	pid_t pid;

	ASSERT_NE(pa, 0);
	/* three pages around ours; the middle one is ours */
	m = mmap(NULL, 3 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)(pa - PAGE_SZ));
	ASSERT_MAPPED(m);
	ASSERT_EQ(m[PAGE_SZ + 5], 0x21);
	/* split the VMA: each piece keeps working */
	ASSERT_EQ(mprotect(m, PAGE_SZ, PROT_READ), 0);
	ASSERT_EQ(munmap(m + 2 * PAGE_SZ, PAGE_SZ), 0);
	pid = fork();
	if (pid == 0)
		_exit(m[PAGE_SZ + 5] == 0x21 ? 0 : 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	m[PAGE_SZ + 6] = 0x42;
	ASSERT_EQ(p[6], 0x42);
	ASSERT_EQ(munmap(m, 2 * PAGE_SZ), 0);
}

/*
 * Held pages are capped (mmap_hold_pct of RAM): at 0, a RAM page cannot
 * be mapped, device space still can; back at the default, it can again.
 */
TEST(held_pages_are_capped)
{
	const char *knob = "/sys/module/bsdmem/parameters/mmap_hold_pct";
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(0x61), *m, *fw;
	uint64_t pa = virt_to_phys_pagemap(p) & ~(PAGE_SZ - 1);
	char old[16];
	int sig;

	ASSERT_NE(pa, 0);
	ASSERT_EQ(read_line(knob, old, sizeof(old)), 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	fw = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, 0xff000);
	ASSERT_MAPPED(m);
	ASSERT_MAPPED(fw);
	ASSERT_EQ(write_line(knob, "0"), 0);
	sig = probe_access(m, false);
	ASSERT_EQ(probe_access(fw, false), 0);
	ASSERT_EQ(write_line(knob, old), 0);
	ASSERT_EQ(sig, SIGBUS);
	ASSERT_EQ(m[3], 0x61);
	munmap(m, PAGE_SZ);
	munmap(fw, PAGE_SZ);
}

/*
 * A reference holds a whole folio, so a page of a THP counts with all its
 * 512 pages. With the cap at 1 percent of RAM, one page of each of more
 * THPs than that holds must run into it.
 */
TEST(held_huge_pages_count_whole)
{
	const char *knob = "/sys/module/bsdmem/parameters/mmap_hold_pct";
	const size_t huge = 2UL << 20;
	long cap = meminfo_kib("MemTotal") / 4 / 100;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int want = cap / 512 + 4, thps = 0, mapped, refit, sig = 0;
	uint8_t **maps, *a, *h;
	char old[16];
	uint64_t pa;

	ASSERT_GT(cap, 0);
	maps = calloc(want, sizeof(*maps));
	a = mmap(NULL, (want + 1) * huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAPPED(a);
	ASSERT_TRUE(maps != NULL);
	h = (uint8_t *)(((uintptr_t)a + huge - 1) & ~(huge - 1));
	madvise(h, want * huge, MADV_HUGEPAGE);
	memset(h, 0x5a, want * huge);
	for (int i = 0; i < want; i++) {
		uint64_t flags;

		pa = virt_to_phys_pagemap(h + i * huge);
		flags = pa ? kpage_read("/proc/kpageflags", pa) : 0;
		if (flags == ~0ULL)
			SKIP("/proc/kpageflags cannot be read");
		thps += flags >> 22 & 1;
	}
	if (thps < want)
		SKIP("only %d of %d regions became transparent huge pages",
		     thps, want);
	ASSERT_EQ(read_line(knob, old, sizeof(old)), 0);
	ASSERT_EQ(write_line(knob, "1"), 0);
	for (mapped = 0; mapped < want; mapped++) {
		pa = virt_to_phys_pagemap(h + mapped * huge);
		maps[mapped] = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
				    (off_t)pa);
		if (maps[mapped] == MAP_FAILED)
			break;
		sig = probe_access(maps[mapped], false);
		if (sig)
			break;
	}
	TH_LOG("cap %ld pages: the THP after %d held is %s", cap, mapped,
	       sig ? strsignal(sig) : "mapped");
	for (int i = 0; i <= mapped && i < want; i++) {
		if (maps[i] != MAP_FAILED)
			munmap(maps[i], PAGE_SZ);
		maps[i] = NULL;
	}
	/* all given back: as many fit again, none was left charged */
	for (refit = 0; refit < mapped; refit++) {
		pa = virt_to_phys_pagemap(h + refit * huge);
		maps[refit] = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
				   (off_t)pa);
		if (maps[refit] == MAP_FAILED) {
			maps[refit] = NULL;
			break;
		}
		if (probe_access(maps[refit], false))
			break;
	}
	for (int i = 0; i < want; i++)
		if (maps[i])
			munmap(maps[i], PAGE_SZ);
	ASSERT_EQ(write_line(knob, old), 0);
	TH_LOG("after release, %d of %d fit again", refit, mapped);
	ASSERT_EQ(sig, SIGBUS);
	ASSERT_LE(mapped, cap / 512 + 1);
	ASSERT_EQ(refit, mapped);
}

/*
 * Below 0xa0000, PAT tracks RAM and firmware data as memory nobody
 * reserved: the entry a fault makes would be uncached over the kernel's
 * write-back direct map, unless the mapping holds write-back, as Linux's
 * /dev/mem does. A RAM page and the page where RAM ends (the EBDA).
 */
TEST(low_pages_are_mapped_write_back)
{
	static const uint64_t pages[] = { 0x1000, 0x9f000 };
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint8_t *m;

	if (pat_has("x", 0, 0) < 0)
		SKIP("no %s (debugfs or PAT missing)", PAT_LIST);
	for (unsigned int i = 0; i < ARRAY_SIZE(pages); i++) {
		m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
			 (off_t)pages[i]);
		ASSERT_MAPPED(m);
		ASSERT_EQ(probe_access(m, false), 0);
		TH_LOG("0x%llx: write-back reservation %s",
		       (unsigned long long)pages[i],
		       pat_has("write-back", pages[i], pages[i] + PAGE_SZ) == 1 ?
		       "held" : "missing");
		EXPECT_EQ(pat_has("write-back", pages[i], pages[i] + PAGE_SZ), 1);
		munmap(m, PAGE_SZ);
	}
}

/*
 * An fd handed to a process without CAP_SYS_RAWIO serves it nothing:
 * read, write, mmap and ioctl all ask again.
 */
TEST(passed_fd_without_privilege_is_refused)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	struct mem_range_op op = { .mo_arg = { 0, 0 } };
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		char buf[8] = { 0 };
		int bad = 0;

		if (drop_cap_sys_rawio())
			_exit(10);
		errno = 0;
		bad |= !(pread(fd, buf, 8, 0xff000) == -1 && errno == EPERM);
		errno = 0;
		bad |= !(pwrite(fd, buf, 0, 0xff000) == -1 && errno == EPERM) << 1;
		errno = 0;
		bad |= !(mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
			      0xff000) == MAP_FAILED && errno == EPERM) << 2;
		errno = 0;
		bad |= !(ioctl(fd, MEMRANGE_GET, &op) == -1 &&
			 errno == EPERM) << 3;
		errno = 0;
		bad |= !(read(kfd, buf, 8) == -1 && errno == EPERM) << 4;
		/* the position is where a privileged writer would write */
		errno = 0;
		bad |= !(lseek(fd, 0x1000, SEEK_SET) == -1 &&
			 errno == EPERM) << 5;
		_exit(bad);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	TH_LOG("refusal bitmap (read, write, mmap, ioctl, kmem, lseek): %#x",
	       WEXITSTATUS(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

static int range_flags(int fd, uint64_t base)
{
	struct mem_range_desc d[256];
	int n = range_get_all(fd, d, 256);

	for (int i = 0; i < n; i++)
		if (d[i].mr_base == base && !(d[i].mr_flags & MDF_FIRMWARE))
			return d[i].mr_flags;
	return -1;
}

/*
 * No range may be set, changed or removed over mapped memory: the old
 * mapping would keep its cache type, or keep writing through a write
 * protection. A mapping made before the range counts as well.
 */
TEST(ranges_cannot_change_under_a_mapping)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(0x55);
	uint64_t pa = virt_to_phys_pagemap(p) & ~(PAGE_SZ - 1);
	uint8_t *m;

	ASSERT_NE(pa, 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)pa);
	ASSERT_MAPPED(m);
	m[1] = 0x56;
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			       MDF_WRITEPROTECT, "wp"), EBUSY);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			       MDF_UNCACHEABLE, "uc"), EBUSY);
	/* the store still lands, and nothing was half-applied */
	m[2] = 0x57;
	ASSERT_EQ(p[2], 0x57);
	ASSERT_EQ(range_flags(fd, pa), -1);
	ASSERT_EQ(munmap(m, PAGE_SZ), 0);

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEPROTECT, "wp"), 0);
	ASSERT_EQ(range_flags(fd, pa) & MDF_BUSY, 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	ASSERT_MAPPED(m);
	ASSERT_NE(range_flags(fd, pa) & MDF_BUSY, 0);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL),
		     EBUSY);
	ASSERT_EQ(munmap(m, PAGE_SZ), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
}

/* Range lengths are capped (64 GiB): longer is EINVAL, and no WARN. */
TEST(range_length_is_capped)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint64_t base = 1ULL << 37, len = 128ULL << 30;
	int r;

	ASSERT_GE(cpu_phys_bits(), 39);
	errno = 0;
	r = range_set(fd, MEMRANGE_SET_UPDATE, base, len, MDF_UNCACHEABLE,
		      "big");
	if (r == 0)
		range_set(fd, MEMRANGE_SET_REMOVE, base, len, 0, NULL);
	ASSERT_EQ(r, -1);
	ASSERT_EQ(errno, EINVAL);
}

