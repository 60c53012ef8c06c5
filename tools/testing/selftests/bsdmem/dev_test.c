// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/bsdmem and /dev/bsdkmem: open, read, write, lseek and mmap against
 * memory whose contents the test knows (its own locked pages, the kernel
 * banner, firmware space).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define GUARD_HOLE	0xffff800000000000ULL	/* never mapped on x86-64 */

TEST(device_nodes_are_0640_char_devices)
{
	static const char * const paths[] = { BSDMEM_DEV_PATH, BSDKMEM_DEV_PATH };
	struct stat st;

	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(stat(paths[i], &st), 0);
		ASSERT_TRUE(S_ISCHR(st.st_mode));
		ASSERT_EQ(st.st_mode & 07777, 0640);
	}
}

TEST(open_without_cap_sys_rawio_is_eperm)
{
	ASSERT_EQ(drop_cap_sys_rawio(), 0);
	ASSERT_ERRNO(open(BSDMEM_DEV_PATH, O_RDONLY), EPERM);
	ASSERT_ERRNO(open(BSDKMEM_DEV_PATH, O_RDONLY), EPERM);
}

TEST(phys_read_own_locked_page)
{
	uint8_t *p = locked_page(0);
	uint8_t buf[PAGE_SZ];
	uint64_t pa;
	int fd;

	for (unsigned int i = 0; i < PAGE_SZ; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	pa = virt_to_phys_pagemap(p);
	ASSERT_NE(pa, 0);
	fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	ASSERT_EQ(pread(fd, buf, PAGE_SZ, pa), PAGE_SZ);
	ASSERT_MEMEQ(buf, p, PAGE_SZ);
	/* an unaligned piece in the middle */
	ASSERT_EQ(pread(fd, buf, 100, pa + 1001), 100);
	ASSERT_MEMEQ(buf, p + 1001, 100);
}

TEST(phys_write_own_locked_page)
{
	uint8_t *p = locked_page(0x5a);
	static const char msg[] = "written through /dev/bsdmem";
	uint64_t pa = virt_to_phys_pagemap(p);
	int fd;

	ASSERT_NE(pa, 0);
	fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	ASSERT_EQ(pwrite(fd, msg, sizeof(msg), pa + 200), sizeof(msg));
	ASSERT_MEMEQ(p + 200, msg, sizeof(msg));
	ASSERT_EQ(p[199], 0x5a);
	ASSERT_EQ(p[200 + sizeof(msg)], 0x5a);
}

TEST(phys_read_write_advance_file_offset)
{
	uint8_t *p = locked_page(0x11);
	uint8_t buf[64];
	uint64_t pa = virt_to_phys_pagemap(p);
	int fd;

	ASSERT_NE(pa, 0);
	fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	ASSERT_EQ(lseek(fd, pa, SEEK_SET), (off_t)pa);
	ASSERT_EQ(read(fd, buf, 32), 32);
	ASSERT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)(pa + 32));
	memset(buf, 0x22, sizeof(buf));
	ASSERT_EQ(write(fd, buf, 16), 16);
	ASSERT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)(pa + 48));
	ASSERT_EQ(p[31], 0x11);
	ASSERT_EQ(p[32], 0x22);
	ASSERT_EQ(p[47], 0x22);
	ASSERT_EQ(p[48], 0x11);
}

TEST(lseek_whence_rules)
{
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t banner = kallsyms_lookup("linux_banner");

	ASSERT_NE(banner, 0);
	errno = 0;
	/* kernel addresses have bit 63 set: still a successful seek */
	ASSERT_EQ((uint64_t)lseek(fd, (off_t)banner, SEEK_SET), banner);
	ASSERT_EQ(errno, 0);
	ASSERT_EQ((uint64_t)lseek(fd, 16, SEEK_CUR), banner + 16);
	ASSERT_EQ((uint64_t)lseek(fd, -16, SEEK_CUR), banner);
	ASSERT_ERRNO(lseek(fd, 0, SEEK_END), EINVAL);
	ASSERT_ERRNO(lseek(fd, 0, SEEK_DATA), EINVAL);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	ASSERT_ERRNO(lseek(fd, -1, SEEK_CUR), EOVERFLOW);
}

TEST(kmem_reads_linux_banner)
{
	uint64_t banner = kallsyms_lookup("linux_banner");
	char want[128], got[128] = { 0 };
	int fd;

	ASSERT_NE(banner, 0);
	ASSERT_EQ(read_line("/proc/version", want, sizeof(want)), 0);
	fd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	ASSERT_EQ(kread(fd, got, 40, banner), 40);
	ASSERT_MEMEQ(got, want, 40);
	ASSERT_EQ(memcmp(got, "Linux version ", 14), 0);
	/* and through read() after lseek */
	memset(got, 0, sizeof(got));
	ASSERT_EQ((uint64_t)lseek(fd, (off_t)banner, SEEK_SET), banner);
	ASSERT_EQ(read(fd, got, 40), 40);
	ASSERT_MEMEQ(got, want, 40);
}

/*
 * The first vmalloc area (pages= and vmalloc, not ioremap) in
 * /proc/vmallocinfo into *start (0 if none): its first page is always
 * mapped, the guard page is at the end. Addresses are shown (%pK) with
 * kptr_restrict=1 to a reader with CAP_SYSLOG, hashed with 0. Returns -1
 * when kptr_restrict cannot be set, -2 when it could not be restored.
 */
static int first_vmalloc_area(uint64_t *start)
{
	char line[512], restrict_was[16] = "";
	unsigned long long va;
	FILE *f;

	*start = 0;
	if (read_line("/proc/sys/kernel/kptr_restrict", restrict_was,
		      sizeof(restrict_was)) ||
	    write_line("/proc/sys/kernel/kptr_restrict", "1"))
		return -1;
	f = fopen("/proc/vmallocinfo", "r");
	while (f && !*start && fgets(line, sizeof(line), f)) {
		if (!strstr(line, " pages=") || !strstr(line, " vmalloc") ||
		    strstr(line, "ioremap"))
			continue;
		if (sscanf(line, "0x%llx-", &va) == 1)
			*start = va;
	}
	if (f)
		fclose(f);
	return write_line("/proc/sys/kernel/kptr_restrict", restrict_was) ?
	       -2 : 0;
}

/*
 * vmalloc memory is readable wherever KASLR put the regions: randomised,
 * vmalloc can start less than MAXMEM above the direct map (seen on
 * kernels whose direct map KASLR trims).
 */
TEST(kmem_reads_vmalloc_memory)
{
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t va;
	char buf[64];
	int ret = first_vmalloc_area(&va);

	if (ret == -1)
		SKIP("kernel.kptr_restrict cannot be set");
	ASSERT_EQ(ret, 0);
	ASSERT_NE(va, 0);
	ASSERT_EQ(kread(fd, buf, sizeof(buf), va), (ssize_t)sizeof(buf));
	ASSERT_EQ(kread(fd, buf, 8, va + PAGE_SZ - 8), 8);
}

TEST(kmem_refuses_user_noncanonical_and_unmapped)
{
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(1);
	char buf[16];

	ASSERT_ERRNO(pread(fd, buf, 8, (off_t)(uintptr_t)p), EFAULT);
	ASSERT_ERRNO(pread(fd, buf, 8, 0x1000), EFAULT);
	ASSERT_ERRNO(kread(fd, buf, 8, 0x0000800000000000ULL), EFAULT);
	ASSERT_ERRNO(kread(fd, buf, 8, 0x8000000000000000ULL), EFAULT);
	ASSERT_ERRNO(kread(fd, buf, 8, GUARD_HOLE), EFAULT);
	ASSERT_ERRNO(kwrite(fd, buf, 8, GUARD_HOLE), EFAULT);
	ASSERT_ERRNO(pwrite(fd, buf, 8, (off_t)(uintptr_t)p), EFAULT);
}

TEST(kmem_write_to_rodata_is_efault)
{
	uint64_t banner = kallsyms_lookup("linux_banner");
	char orig[16], got[16];
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDWR);

	ASSERT_NE(banner, 0);
	ASSERT_EQ(kread(fd, orig, 16, banner), 16);
	ASSERT_ERRNO(kwrite(fd, "XXXXXXXXXXXXXXXX", 16, banner), EFAULT);
	ASSERT_EQ(kread(fd, got, 16, banner), 16);
	ASSERT_MEMEQ(got, orig, 16);
}

/* Our page seen at its direct-map address: page_offset_base + phys. */
TEST(kmem_write_own_page_via_direct_map)
{
	uint64_t pob_sym = kallsyms_lookup("page_offset_base");
	uint8_t *p = locked_page(0x33);
	uint64_t pob = 0, pa = virt_to_phys_pagemap(p);
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDWR);
	char buf[8];

	ASSERT_NE(pob_sym, 0);
	ASSERT_NE(pa, 0);
	ASSERT_EQ(kread(fd, &pob, sizeof(pob), pob_sym), sizeof(pob));
	/* the kernel half; 4- or 5-level paging place it differently */
	ASSERT_EQ(pob >> 63, 1);
	ASSERT_EQ(kwrite(fd, "kmem-ok", 8, (pob + pa + 8)), 8);
	ASSERT_MEMEQ(p + 8, "kmem-ok", 8);
	ASSERT_EQ(kread(fd, buf, 8, (pob + pa + 8)), 8);
	ASSERT_MEMEQ(buf, "kmem-ok", 8);
}

TEST(phys_limit_and_short_count)
{
	unsigned int bits = cpu_phys_bits();
	uint64_t limit;
	char buf[64];
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	ASSERT_GT(bits, 30);
	limit = 1ULL << bits;
	ASSERT_ERRNO(pread(fd, buf, 8, (off_t)limit), EFAULT);
	ASSERT_ERRNO(pread(fd, buf, 8, (off_t)(limit + PAGE_SZ)), EFAULT);
	/* (the last 4095 offsets cannot be sought to: lseek's error range) */
	ASSERT_ERRNO(kread(fd, buf, 8, 0xfffffffffff00000ULL), EFAULT);
	/* the last 16 bytes below the limit move, the rest does not */
	ASSERT_EQ(pread(fd, buf, sizeof(buf), (off_t)(limit - 16)), 16);
}

TEST(phys_read_spans_pages)
{
	uint8_t *p = mmap(NULL, 3 * PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED |
			  MAP_POPULATE, -1, 0);
	uint8_t buf[2 * PAGE_SZ];
	uint64_t pa;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	ASSERT_MAPPED(p);
	memset(p, 0x77, 3 * PAGE_SZ);
	pa = virt_to_phys_pagemap(p + PAGE_SZ);
	ASSERT_NE(pa, 0);
	/* a read crossing into whatever RAM follows still moves it all */
	ASSERT_EQ(pread(fd, buf, sizeof(buf), (off_t)(pa + 100)), sizeof(buf));
	ASSERT_MEMEQ(buf, p + PAGE_SZ + 100, PAGE_SZ - 100);
}

TEST(mmap_own_page_shared)
{
	uint8_t *p = locked_page(0x44);
	uint64_t pa = virt_to_phys_pagemap(p);
	uint8_t *m;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);

	ASSERT_NE(pa, 0);
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)(pa & ~(PAGE_SZ - 1)));
	ASSERT_MAPPED(m);
	ASSERT_EQ(m[17], 0x44);
	m[17] = 0x99;
	ASSERT_EQ(p[17], 0x99);
	ASSERT_EQ(munmap(m, PAGE_SZ), 0);
}

TEST(mmap_firmware_area_matches_read)
{
	uint8_t buf[0x1000];
	uint8_t *m;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	/* the BIOS area below 1 MiB is device space, mapped uncached */
	m = mmap(NULL, 0x1000, PROT_READ, MAP_SHARED, fd, 0xff000);
	ASSERT_MAPPED(m);
	ASSERT_EQ(pread(fd, buf, sizeof(buf), 0xff000), sizeof(buf));
	ASSERT_MEMEQ(m, buf, sizeof(buf));
	munmap(m, 0x1000);
}

TEST(mmap_refusals)
{
	unsigned int bits = cpu_phys_bits();
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, kfd, 0),
			  ENODEV);
	ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
			       (off_t)(1ULL << bits)), EINVAL);
	ASSERT_MMAP_ERRNO(mmap(NULL, 2 * PAGE_SZ, PROT_READ, MAP_SHARED, fd,
			       (off_t)((1ULL << bits) - PAGE_SZ)), EINVAL);
}

/*
 * Poison a page of a helper process (the poisoning kills it) and check
 * that the page is never read again through either device.
 */
static uint64_t poison_helper_page(void)
{
	int pfd[2];
	uint64_t pa = 0;
	int status;
	pid_t pid;

	if (pipe(pfd))
		return 0;
	pid = fork();
	if (pid == 0) {
		uint8_t *p = locked_page(0x66);
		uint64_t mine = virt_to_phys_pagemap(p);

		munlock(p, PAGE_SZ);
		if (write(pfd[1], &mine, sizeof(mine)) != sizeof(mine))
			_exit(1);
		_exit(madvise(p, PAGE_SZ, MADV_HWPOISON) ? 3 : 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &pa, sizeof(pa)) != sizeof(pa))
		pa = 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		SKIP("MADV_HWPOISON refused (CONFIG_MEMORY_FAILURE?)");
	return pa;
}

TEST(hwpoisoned_page_is_never_read)
{
	uint64_t pob_sym = kallsyms_lookup("page_offset_base"), pob = 0;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t pa = poison_helper_page();
	char buf[8];
	uint8_t *m;

	ASSERT_NE(pa, 0);
	ASSERT_ERRNO(pread(fd, buf, 8, (off_t)pa), EIO);
	/* mmap decides at fault time: the page is SIGBUS, never read */
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd,
		 (off_t)(pa & ~(PAGE_SZ - 1)));
	ASSERT_MAPPED(m);
	ASSERT_EQ(probe_access(m, false), SIGBUS);
	munmap(m, PAGE_SZ);
	ASSERT_EQ(kread(kfd, &pob, 8, pob_sym), 8);
	ASSERT_ERRNO(kread(kfd, buf, 8, pob + pa), EIO);
}

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

/* secretmem pages leave the direct map: not readable, not mappable. */
TEST(secretmem_page_is_never_read)
{
	int sfd = syscall(SYS_memfd_secret, 0);
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint8_t *s, *m;
	uint64_t pa;
	char buf[8];

	if (sfd < 0)
		SKIP("memfd_secret: %s", strerror(errno));
	ASSERT_EQ(ftruncate(sfd, PAGE_SZ), 0);
	s = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	ASSERT_MAPPED(s);
	memset(s, 0xab, PAGE_SZ);
	pa = virt_to_phys_pagemap(s);
	ASSERT_NE(pa, 0);
	ASSERT_ERRNO(pread(fd, buf, 8, (off_t)pa), EFAULT);
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	ASSERT_MAPPED(m);
	ASSERT_EQ(probe_access(m, false), SIGBUS);
	munmap(m, PAGE_SZ);
	ASSERT_EQ(s[5], 0xab);
}

static int set_block_state(const char *block, const char *state)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/devices/system/memory/%s/state",
		 block);
	return write_line(path, state);
}

/* Offline a hot-pluggable memory block and read inside it. */
TEST(offline_memory_is_never_read)
{
	char line[64], block[64];
	unsigned long long bsize;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	char buf[8];

	if (read_line("/sys/devices/system/memory/block_size_bytes", line,
		      sizeof(line)))
		SKIP("no memory hotplug sysfs");
	bsize = strtoull(line, NULL, 16);
	for (int id = 64; id > 0; id--) {
		snprintf(block, sizeof(block), "memory%d", id);
		if (set_block_state(block, "offline"))
			continue;
		errno = 0;
		long r = pread(fd, buf, 8, (off_t)(id * bsize + 4096));
		int e = errno;

		set_block_state(block, "online");
		ASSERT_EQ(r, -1);
		ASSERT_EQ(e, EFAULT);
		return;
	}
	SKIP("no memory block could be offlined");
}

/* With strict_devmem=Y, RAM above 1 MiB is refused; firmware space is not. */
TEST(strict_devmem_param)
{
	char val[8];
	uint8_t *p = locked_page(0x12);
	uint64_t pa = virt_to_phys_pagemap(p);
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	char buf[16];

	ASSERT_EQ(read_line("/sys/module/bsdmem/parameters/strict_devmem",
			    val, sizeof(val)), 0);
	ASSERT_EQ(pread(fd, buf, 16, 0xff000), 16);
	if (val[0] == 'Y') {
		ASSERT_ERRNO(pread(fd, buf, 16, (off_t)pa), EPERM);
		ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED,
				       fd, (off_t)(pa & ~(PAGE_SZ - 1))),
				  EPERM);
		/* nor can such a page be pinned by a memory range */
		ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE,
				       pa & ~(PAGE_SZ - 1), PAGE_SZ,
				       MDF_WRITEBACK, "strict"), EINVAL);
	} else {
		ASSERT_EQ(val[0], 'N');
		ASSERT_EQ(pread(fd, buf, 16, (off_t)pa), 16);
		ASSERT_EQ(buf[3], 0x12);
	}
}
