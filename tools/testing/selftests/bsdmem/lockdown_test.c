// SPDX-License-Identifier: GPL-2.0
/*
 * Lockdown: a kernel booted locked down refuses bsdmem; lockdown
 * raised at run time refuses every use of descriptors opened before.
 *
 *   lockdown_test -r boot      in a guest booted with lockdown=...
 *   lockdown_test -r runtime   raises lockdown: run it last
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include "harness.h"
#include "util.h"

#define LOCKDOWN	"/sys/kernel/security/lockdown"

/* The active mode, from "none [integrity] confidentiality"; "" if none. */
static void lockdown_mode(char *mode, size_t len)
{
	char line[128], *l, *r;

	mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	if (read_line(LOCKDOWN, line, sizeof(line)))
		SKIP("no %s: the lockdown LSM is not active", LOCKDOWN);
	l = strchr(line, '[');
	r = l ? strchr(l, ']') : NULL;
	ASSERT_TRUE(l && r);
	*r = 0;
	snprintf(mode, len, "%s", l + 1);
}

static void set_lockdown(const char *mode)
{
	int fd = open(LOCKDOWN, O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, mode, strlen(mode)), (ssize_t)strlen(mode));
	close(fd);
}

/*
 * Booted locked down, a stock kernel takes only signed modules: an
 * unsigned bsdmem never loads. A signed or built-in one refuses to open.
 */
TEST(boot_lockdown_refuses_bsdmem)
{
	char mode[32];

	lockdown_mode(mode, sizeof(mode));
	TH_LOG("lockdown mode: %s", mode);
	ASSERT_NE(strcmp(mode, "none"), 0);
	if (access(BSDMEM_DEV_PATH, F_OK) &&
	    system("insmod /lib/modules/bsdmem.ko 2>/dev/null") != 0) {
		TH_LOG("unsigned module refused by lockdown");
		ASSERT_NE(access(BSDMEM_DEV_PATH, F_OK), 0);
		ASSERT_NE(access(BSDKMEM_DEV_PATH, F_OK), 0);
		return;
	}
	ASSERT_ERRNO(open(BSDMEM_DEV_PATH, O_RDONLY), EPERM);
	ASSERT_ERRNO(open(BSDKMEM_DEV_PATH, O_RDONLY), EPERM);
}

TEST(runtime_lockdown_refuses_open_descriptors)
{
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	int kmem = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint8_t *p = locked_page(3);
	uint64_t pa = virt_to_phys_pagemap(p);
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };
	struct mem_extract me = { .me_vaddr = (uintptr_t)p };
	struct mem_livedump_arg dump = { .fd = 1 };
	char mode[32], buf[8];

	lockdown_mode(mode, sizeof(mode));
	ASSERT_EQ(strcmp(mode, "none"), 0);
	ASSERT_NE(pa, 0);
	ASSERT_EQ(pread(mem, buf, 8, (off_t)pa), 8);

	set_lockdown("integrity");
	ASSERT_ERRNO(open(BSDMEM_DEV_PATH, O_RDONLY), EPERM);
	ASSERT_ERRNO(pread(mem, buf, 8, (off_t)pa), EPERM);
	ASSERT_ERRNO(pwrite(mem, buf, 8, (off_t)pa), EPERM);
	ASSERT_ERRNO(read(kmem, buf, 8), EPERM);
	ASSERT_MMAP_ERRNO(mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, mem,
			       (off_t)pa), EPERM);
	ASSERT_ERRNO(ioctl(mem, MEM_EXTRACT_PADDR, &me), EPERM);
	ASSERT_ERRNO(ioctl(kmem, MEMRANGE_GET, &op), EPERM);

	set_lockdown("confidentiality");
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &dump), EPERM);
	ASSERT_ERRNO(pread(mem, buf, 8, (off_t)pa), EPERM);
}
