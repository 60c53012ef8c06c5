// SPDX-License-Identifier: GPL-2.0
/*
 * MEMRANGE_GET and MEMRANGE_SET: the firmware MTRR table, ranges made
 * through PAT over device memory (the QEMU VGA BAR) and over RAM (a page
 * of ours), the errors of the spec, and memcontrol agreeing with the ioctl.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mman.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define MAXD		512
#define MB		(1ULL << 20)

static struct mem_range_desc descs[MAXD];

static int ndescs(int fd)
{
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };

	if (ioctl(fd, MEMRANGE_GET, &op))
		return -1;
	return op.mo_arg[0];
}

static const struct mem_range_desc *find_desc(int n, uint64_t base,
					      uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (descs[i].mr_base == base && descs[i].mr_len == len)
			return &descs[i];
	return NULL;
}

static int open_clean(void)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);

	clear_user_ranges(fd);
	return fd;
}

static uint64_t need_vga(uint64_t *len)
{
	uint64_t bar = vga_bar0(len);

	if (!bar)
		SKIP("no VGA device at 00:02.0");
	if (pat_has("x", 0, 0) < 0)
		SKIP("no %s (debugfs or PAT missing)", PAT_LIST);
	return bar;
}

static int one_type_bit(int flags)
{
	int t = flags & MDF_ATTRMASK;

	return t && !(t & (t - 1));
}

TEST(get_count_mode_copies_nothing)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	struct mem_range_desc canary[2];
	struct mem_range_op op = { .mo_desc = canary };
	int total;

	memset(canary, 0xaa, sizeof(canary));
	total = ndescs(fd);
	ASSERT_GT(total, 0);
	op.mo_arg[0] = -5;
	ASSERT_EQ(ioctl(fd, MEMRANGE_GET, &op), 0);
	ASSERT_EQ(op.mo_arg[0], total);
	ASSERT_EQ(((uint8_t *)canary)[0], 0xaa);
	ASSERT_EQ(((uint8_t *)canary)[sizeof(canary) - 1], 0xaa);
}

TEST(get_fill_mode_copies_min_of_request_and_total)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int total = ndescs(fd);
	struct mem_range_op op = { .mo_desc = descs };

	ASSERT_GT(total, 3);
	ASSERT_LT(total, MAXD);
	memset(descs, 0xaa, sizeof(descs));
	op.mo_arg[0] = 3;
	ASSERT_EQ(ioctl(fd, MEMRANGE_GET, &op), 0);
	ASSERT_EQ(op.mo_arg[0], 3);
	ASSERT_EQ(((uint8_t *)&descs[3])[0], 0xaa);
	ASSERT_TRUE(one_type_bit(descs[0].mr_flags));
	op.mo_arg[0] = MAXD;
	ASSERT_EQ(ioctl(fd, MEMRANGE_GET, &op), 0);
	ASSERT_EQ(op.mo_arg[0], total);
}

TEST(get_bad_descriptor_pointer_is_efault)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 4, 0 } };
	void *ro = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, &op), EFAULT);
	op.mo_desc = ro;
	ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, &op), EFAULT);
	ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, (void *)16), EFAULT);
}

/* FreeBSD's layout: 88 fixed descriptors, then the enabled variable MTRRs. */
TEST(firmware_mtrrs_as_freebsd_lays_them_out)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int n = range_get_all(fd, descs, MAXD), i = 0;
	const int fw = MDF_FIRMWARE | MDF_ACTIVE | MDF_FIXACTIVE;
	char line[256];
	FILE *f;

	ASSERT_GT(n, 0);
	if (descs[0].mr_flags & MDF_FIXBASE) {
		for (; i < 88; i++) {
			uint64_t base, size;

			if (i < 8) {
				base = i * 0x10000ULL;
				size = 0x10000;
			} else if (i < 24) {
				base = 0x80000 + (i - 8) * 0x4000ULL;
				size = 0x4000;
			} else {
				base = 0xC0000 + (i - 24) * 0x1000ULL;
				size = 0x1000;
			}
			ASSERT_EQ(descs[i].mr_base, base);
			ASSERT_EQ(descs[i].mr_len, size);
			ASSERT_EQ(descs[i].mr_flags & ~MDF_ATTRMASK,
				  fw | MDF_FIXBASE | MDF_FIXLEN);
			ASSERT_TRUE(one_type_bit(descs[i].mr_flags));
			ASSERT_EQ(strcmp(descs[i].mr_owner, "BIOS"), 0);
		}
	}
	/* the variable ones agree with /proc/mtrr, in order */
	f = fopen("/proc/mtrr", "r");
	if (!f)
		SKIP("no /proc/mtrr to compare with");
	while (fgets(line, sizeof(line), f)) {
		unsigned long long base, mb;
		char type[32];

		if (sscanf(line, "reg%*d: base=%llx (%*dMB), size=%lluMB, count=%*d: %31s",
			   &base, &mb, type) != 3)
			continue;
		ASSERT_LT(i, n);
		ASSERT_EQ(descs[i].mr_base, base);
		ASSERT_EQ(descs[i].mr_len, mb << 20);
		ASSERT_EQ(descs[i].mr_flags & fw, fw);
		ASSERT_EQ(descs[i].mr_flags & MDF_FIXBASE, 0);
		ASSERT_EQ(strcmp(descs[i].mr_owner, "BIOS"), 0);
		if (!strcmp(type, "uncachable"))
			ASSERT_TRUE(descs[i].mr_flags & MDF_UNCACHEABLE);
		if (!strcmp(type, "write-back"))
			ASSERT_TRUE(descs[i].mr_flags & MDF_WRITEBACK);
		i++;
	}
	fclose(f);
	if (i != n)
		for (int j = 0; j < n; j++)
			TH_LOG("desc %d: %#llx/%#llx %#x %.8s", j,
			       (unsigned long long)descs[j].mr_base,
			       (unsigned long long)descs[j].mr_len,
			       descs[j].mr_flags, descs[j].mr_owner);
	ASSERT_EQ(i, n);
}

TEST(write_combine_over_vga_bar_is_a_pat_memtype)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	const struct mem_range_desc *d;
	uint32_t *fb;
	int n;

	ASSERT_EQ(pat_mentions(bar), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITECOMBINE,
			    "vgatest"), 0);
	ASSERT_EQ(pat_has("write-combining", bar, bar + MB), 1);
	n = range_get_all(fd, descs, MAXD);
	d = find_desc(n, bar, MB);
	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(d->mr_flags, MDF_WRITECOMBINE | MDF_ACTIVE);
	ASSERT_EQ(strcmp(d->mr_owner, "vgatest"), 0);

	/* a mapping of the range works and is counted as busy meanwhile */
	fb = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)bar);
	ASSERT_MAPPED(fb);
	fb[1] = 0x12345678;
	ASSERT_EQ(fb[1], 0x12345678);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB)->mr_flags & MDF_BUSY);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_REMOVE, bar, MB, 0, NULL), EBUSY);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB,
			       MDF_UNCACHEABLE, NULL), EBUSY);
	ASSERT_EQ(munmap(fb, 2 * PAGE_SZ), 0);

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar, MB, 0, NULL), 0);
	ASSERT_EQ(pat_mentions(bar), 0);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB) == NULL);
}

/* UPDATE of an existing range changes its type; other overlaps are refused. */
TEST(update_changes_type_and_overlaps_conflict)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITECOMBINE,
			    "t1"), 0);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar + MB / 2, MB,
			       MDF_UNCACHEABLE, "t2"), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, 2 * MB,
			       MDF_UNCACHEABLE, "t2"), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar + PAGE_SZ, PAGE_SZ,
			       MDF_UNCACHEABLE, "t2"), EINVAL);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_UNCACHEABLE,
			    "t1"), 0);
	ASSERT_EQ(pat_has("uncached", bar, bar + MB), 1);
	ASSERT_EQ(pat_has("write-combining", bar, bar + MB), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITETHROUGH,
			    "t1"), 0);
	ASSERT_EQ(pat_has("write-through", bar, bar + MB), 1);
	/* PAT makes a WB request over an MTRR-uncached BAR uncached-minus */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITEBACK,
			    "t1"), 0);
	ASSERT_EQ(pat_has("write-back", bar, bar + MB) +
		  pat_has("uncached-minus", bar, bar + MB), 1);
	/* adjacent is not overlapping */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar + MB, MB,
			    MDF_WRITECOMBINE, "t3"), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar + MB, MB, 0, NULL), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar, MB, 0, NULL), 0);
	ASSERT_EQ(pat_mentions(bar), 0);
}

TEST(set_errors_of_the_spec)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };
	int n;

	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar + 1, PAGE_SZ,
			       MDF_UNCACHEABLE, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, 0,
			       MDF_UNCACHEABLE, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, 100,
			       MDF_UNCACHEABLE, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ, 0, NULL),
		     EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ,
			       MDF_UNCACHEABLE | MDF_WRITEBACK, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ,
			       MDF_UNKNOWN, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE,
			       1ULL << cpu_phys_bits(), PAGE_SZ,
			       MDF_UNCACHEABLE, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, ~0ULL << 12, 2 * PAGE_SZ,
			       MDF_UNCACHEABLE, NULL), EINVAL);
	ASSERT_ERRNO(range_set(fd, 2, bar, PAGE_SZ, MDF_UNCACHEABLE, NULL),
		     EOPNOTSUPP);
	ASSERT_ERRNO(range_set(fd, -1, bar, PAGE_SZ, MDF_UNCACHEABLE, NULL),
		     EOPNOTSUPP);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_REMOVE, bar, PAGE_SZ, 0, NULL),
		     ENOENT);
	op.mo_arg[0] = MEMRANGE_SET_UPDATE;
	ASSERT_ERRNO(ioctl(fd, MEMRANGE_SET, &op), EFAULT);
	/* firmware ranges are read-only */
	n = range_get_all(fd, descs, MAXD);
	ASSERT_GT(n, 0);
	ASSERT_TRUE(descs[0].mr_flags & MDF_FIXACTIVE);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_REMOVE, descs[0].mr_base,
			       descs[0].mr_len, 0, NULL), EPERM);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, descs[0].mr_base,
			       descs[0].mr_len, MDF_UNCACHEABLE, NULL), EPERM);
	/* FreeBSD's encoding of MEMRANGE_SET reaches the same code */
	ASSERT_ERRNO(ioctl(fd, _IOR('m', 51, struct mem_range_op), &op), EFAULT);
}

TEST(owner_is_truncated_to_seven_characters)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	const struct mem_range_desc *d;
	int n;

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ,
			    MDF_UNCACHEABLE, "12345678"), 0);
	n = range_get_all(fd, descs, MAXD);
	d = find_desc(n, bar, PAGE_SZ);
	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(strcmp(d->mr_owner, "1234567"), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar, PAGE_SZ, 0, NULL), 0);
}

/* A page of ours made uncached through the direct map, and back. */
TEST(uncached_own_locked_page_and_back)
{
	int fd = open_clean();
	uint8_t *p, *m;
	uint64_t pa;
	char buf[8];

	/* munmap must drop every reference but the range's */
	ASSERT_EQ(stay_on_this_cpu(), 0);
	p = locked_page(0x3c);
	pa = virt_to_phys_pagemap(p);
	ASSERT_NE(pa, 0);
	ASSERT_EQ(ram_memtype(pa), MT_WB);
	/* a page a process maps write-back cannot become uncached */
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			       MDF_UNCACHEABLE, "ram"), EBUSY);
	ASSERT_EQ(ram_memtype(pa), MT_WB);
	/* held by a write-back range and let go by its owner, it can */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEBACK, "ram"), 0);
	ASSERT_EQ(munmap(p, PAGE_SZ), 0);
	ASSERT_EQ(drain_page_batches(), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_UNCACHEABLE, "ram"), 0);
	ASSERT_EQ(ram_memtype(pa), MT_UC_MINUS);
	/* still our data, through read and through an uncached mapping */
	ASSERT_EQ(pread(fd, buf, 8, (off_t)pa), 8);
	ASSERT_EQ(buf[7], 0x3c);
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pa);
	ASSERT_MAPPED(m);
	m[9] = 0x5e;
	munmap(m, PAGE_SZ);
	ASSERT_EQ(pread(fd, buf, 8, (off_t)pa + 8), 8);
	ASSERT_EQ(buf[1], 0x5e);
	/* write-combine next; write-through RAM is refused; then back to WB */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITECOMBINE, "ram"), 0);
	ASSERT_EQ(ram_memtype(pa), MT_WC);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			       MDF_WRITETHROUGH, "ram"), EINVAL);
	ASSERT_EQ(ram_memtype(pa), MT_WC);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
	ASSERT_EQ(ram_memtype(pa), MT_WB);
}

/*
 * Unmapped is not alone: a page that a pipe still holds (vmsplice) is
 * read by somebody else through the write-back direct map, so its cache
 * type cannot change.
 */
TEST(page_held_by_a_pipe_stays_write_back)
{
	int fd = open_clean(), pfd[2];
	uint8_t *p;
	struct iovec iov;
	uint64_t pa;

	ASSERT_EQ(stay_on_this_cpu(), 0);
	p = locked_page(0x4e);
	pa = virt_to_phys_pagemap(p);
	ASSERT_NE(pa, 0);
	ASSERT_EQ(pipe(pfd), 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEBACK, "pipe"), 0);
	iov.iov_base = p;
	iov.iov_len = PAGE_SZ;
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), (ssize_t)PAGE_SZ);
	ASSERT_EQ(munmap(p, PAGE_SZ), 0);
	/* only the pipe's reference is left beside the range's */
	ASSERT_EQ(drain_page_batches(), 0);
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			       MDF_UNCACHEABLE, "pipe"), EBUSY);
	ASSERT_EQ(ram_memtype(pa), MT_WB);
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
}

/*
 * The range pins its pages: when their owner exits they stay allocated
 * (freeing a page with a non-WB memtype would be a "Bad page state" BUG,
 * which the harness catches in the console) until the range goes.
 */
TEST(ram_range_pins_its_pages)
{
	int fd = open_clean(), pfd[2], status;
	uint64_t pa = 0;
	pid_t pid;

	/* the owner's exit must drop every reference but the range's */
	ASSERT_EQ(stay_on_this_cpu(), 0);
	ASSERT_EQ(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		uint8_t *p = locked_page(0x77);
		uint64_t mine = virt_to_phys_pagemap(p);

		if (range_set(fd, MEMRANGE_SET_UPDATE, mine, PAGE_SZ,
			      MDF_WRITEBACK, "pin"))
			_exit(1);
		_exit(write(pfd[1], &mine, 8) == 8 ? 0 : 1);
	}
	ASSERT_EQ(read(pfd[0], &pa, 8), 8);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_EQ(status, 0);
	ASSERT_EQ(drain_page_batches(), 0);
	/* the owner is gone, the range still holds the page: now uncached */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_UNCACHEABLE, "pin"), 0);
	ASSERT_EQ(ram_memtype(pa), MT_UC_MINUS);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
	ASSERT_EQ(ram_memtype(pa), MT_WB);
}

TEST(free_or_mixed_memory_is_refused)
{
	int fd = open_clean();

	/* 0x9f000-0xa1000 mixes RAM and the VGA hole */
	ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, 0x9f000, 0x2000,
			       MDF_UNCACHEABLE, NULL), EINVAL);
}

TEST(write_protect_refuses_writes_and_writable_mappings)
{
	int fd = open_clean();
	uint8_t *p = locked_page(0x21), *m;
	uint64_t pa = virt_to_phys_pagemap(p);
	char buf[4] = "abc";

	ASSERT_NE(pa, 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEPROTECT, "wp"), 0);
	ASSERT_ERRNO(pwrite(fd, buf, 4, (off_t)pa), EACCES);
	ASSERT_EQ(p[0], 0x21);
	ASSERT_EQ(pread(fd, buf, 4, (off_t)pa), 4);
	ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, (off_t)pa), EACCES);
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	ASSERT_MAPPED(m);
	ASSERT_EQ(m[0], 0x21);
	ASSERT_ERRNO(mprotect(m, PAGE_SZ, PROT_READ | PROT_WRITE), EACCES);
	munmap(m, PAGE_SZ);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
	ASSERT_EQ(pwrite(fd, "xyz", 4, (off_t)pa), 4);
	ASSERT_EQ(p[0], 'x');
}

TEST(table_full_is_enospc)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	int made = 0, err = 0;

	for (int i = 0; i < 1000; i++) {
		if (range_set(fd, MEMRANGE_SET_UPDATE, bar + i * PAGE_SZ,
			      PAGE_SZ, MDF_UNCACHEABLE, "fill")) {
			err = errno;
			break;
		}
		made++;
	}
	for (int i = 0; i < made; i++)
		range_set(fd, MEMRANGE_SET_REMOVE, bar + i * PAGE_SZ, PAGE_SZ,
			  0, NULL);
	TH_LOG("table holds %d ranges", made);
	ASSERT_EQ(err, ENOSPC);
	ASSERT_EQ(made, 64);
	ASSERT_EQ(pat_mentions(bar), 0);
}

TEST(ranges_outlive_the_fd)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	int n;

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITECOMBINE,
			    "keep"), 0);
	close(fd);
	fd = open_dev(BSDKMEM_DEV_PATH, O_RDWR);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB) != NULL);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar, MB, 0, NULL), 0);
}

/* memcontrol list -a prints one line per descriptor, FreeBSD's format. */
TEST(memcontrol_list_agrees_with_memrange_get)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	char line[256];
	int n, i = 0;
	FILE *f;

	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, MB, MDF_WRITECOMBINE,
			    "mctl"), 0);
	n = range_get_all(fd, descs, MAXD);
	f = popen("/tests/memcontrol list -a", "r");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long base, l;
		char owner[16];

		ASSERT_LT(i, n);
		int fields = sscanf(line, "0x%llx/0x%llx %15s", &base, &l, owner);

		ASSERT_EQ(fields, 3);
		ASSERT_EQ(base, descs[i].mr_base);
		ASSERT_EQ(l, descs[i].mr_len);
		ASSERT_EQ(strcmp(owner, descs[i].mr_owner[0] ?
				 descs[i].mr_owner : "-"), 0);
		ASSERT_EQ(!!strstr(line, " active"), !!(descs[i].mr_flags & MDF_ACTIVE));
		ASSERT_EQ(!!strstr(line, " set-by-firmware"),
			  !!(descs[i].mr_flags & MDF_FIRMWARE));
		if (descs[i].mr_flags & MDF_WRITECOMBINE)
			ASSERT_TRUE(strstr(line, " write-combine") != NULL);
		i++;
	}
	ASSERT_EQ(pclose(f), 0);
	ASSERT_EQ(i, n);
	/* -o filters by owner; clear -o removes by owner */
	f = popen("/tests/memcontrol list -o mctl", "r");
	ASSERT_TRUE(fgets(line, sizeof(line), f) != NULL);
	ASSERT_TRUE(strstr(line, "mctl") != NULL);
	ASSERT_TRUE(fgets(line, sizeof(line), f) == NULL);
	pclose(f);
	ASSERT_EQ(system("/tests/memcontrol clear -o mctl"), 0);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB) == NULL);
}

/* memcontrol set/clear -b -l, and a clear message for a refused request. */
TEST(memcontrol_set_and_clear)
{
	int fd = open_clean();
	uint64_t len, bar = need_vga(&len);
	char cmd[256], out[256] = "";
	FILE *f;
	int n;

	snprintf(cmd, sizeof(cmd), "/tests/memcontrol set -b 0x%llx -l 0x100000 -o mc write-combine",
		 (unsigned long long)bar);
	ASSERT_EQ(system(cmd), 0);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB) != NULL);
	snprintf(cmd, sizeof(cmd), "/tests/memcontrol set -b 0x%llx -l 0x1000 -o mc uncacheable 2>&1",
		 (unsigned long long)bar + PAGE_SZ);
	f = popen(cmd, "r");
	ASSERT_TRUE(fgets(out, sizeof(out), f) != NULL);
	ASSERT_NE(pclose(f), 0);
	TH_LOG("memcontrol said: %s", out);
	ASSERT_TRUE(strstr(out, "overlap") != NULL);
	snprintf(cmd, sizeof(cmd), "/tests/memcontrol clear -b 0x%llx -l 0x100000",
		 (unsigned long long)bar);
	ASSERT_EQ(system(cmd), 0);
	n = range_get_all(fd, descs, MAXD);
	ASSERT_TRUE(find_desc(n, bar, MB) == NULL);
	ASSERT_NE(system(cmd), 0);
}
