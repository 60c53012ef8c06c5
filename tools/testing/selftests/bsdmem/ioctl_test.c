// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl entry point: every command in both encodings reaches the
 * driver, unknown commands are ENOTTY, and the privilege is checked at
 * call time, not only at open.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include "harness.h"
#include "util.h"

/* FreeBSD encodes "copy in" in bit 31: its _IOW is Linux's _IOR. */
#define MEMRANGE_SET_BSD	_IOR('m', 51, struct mem_range_op)
#define MEM_KERNELDUMP_BSD	_IOR('m', 53, struct mem_livedump_arg)

static const unsigned long known_cmds[] = {
	MEMRANGE_GET, MEMRANGE_SET, MEMRANGE_SET_BSD, MEM_EXTRACT_PADDR,
	MEM_KERNELDUMP, MEM_KERNELDUMP_BSD,
};

_Static_assert(sizeof(struct mem_range_desc) == 32, "mem_range_desc");
_Static_assert(sizeof(struct mem_range_op) == 2 * sizeof(void *) +
	       (sizeof(void *) == 4 ? 4 : 0), "mem_range_op");
_Static_assert(sizeof(struct mem_extract) == 64, "mem_extract");
_Static_assert(sizeof(struct mem_livedump_arg) == 32, "mem_livedump_arg");

TEST(abi_command_values)
{
	if (sizeof(void *) == 8) {
		ASSERT_EQ(MEMRANGE_GET, 0xC0106D32UL);
		ASSERT_EQ(MEMRANGE_SET, 0x40106D33UL);
	} else {
		ASSERT_EQ(MEMRANGE_GET, 0xC00C6D32UL);
		ASSERT_EQ(MEMRANGE_SET, 0x400C6D33UL);
	}
	ASSERT_EQ(MEM_EXTRACT_PADDR, 0xC0406D34UL);
	ASSERT_EQ(MEM_KERNELDUMP, 0x40206D35UL);
	ASSERT_EQ(MEM_KERNELDUMP_BSD, 0x80206D35UL);
}

TEST(unknown_commands_are_enotty)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	char arg[64] = { 0 };

	ASSERT_ERRNO(ioctl(fd, 0, arg), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IO('m', 50), arg), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOWR('m', 54, struct mem_extract), arg), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOR('m', 50, struct mem_range_op), arg), ENOTTY);
	ASSERT_ERRNO(ioctl(kfd, _IOWR('n', 52, struct mem_extract), arg), ENOTTY);
	ASSERT_ERRNO(ioctl(kfd, 0x5401 /* TCGETS */, arg), ENOTTY);
}

/* Every known command reaches the driver on both devices. */
TEST(known_commands_are_dispatched)
{
	static const char * const paths[] = { BSDMEM_DEV_PATH, BSDKMEM_DEV_PATH };

	for (int d = 0; d < 2; d++) {
		int fd = open_dev(paths[d], O_RDONLY);

		for (unsigned int i = 0; i < ARRAY_SIZE(known_cmds); i++) {
			errno = 0;
			ioctl(fd, known_cmds[i], NULL);
			if (errno == ENOTTY)
				TH_LOG("cmd %#lx not dispatched", known_cmds[i]);
			ASSERT_NE(errno, ENOTTY);
		}
		close(fd);
	}
}

/* An fd handed to a process that lost the privilege: EPERM per call. */
TEST(ioctl_rechecks_privilege)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	char arg[64] = { 0 };

	ASSERT_EQ(drop_cap_sys_rawio(), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(known_cmds); i++)
		ASSERT_ERRNO(ioctl(fd, known_cmds[i], arg), EPERM);
	ASSERT_ERRNO(ioctl(fd, _IO('m', 99), arg), ENOTTY);
}

/*
 * Reads ask for the privilege again (abi.md: every use of an fd), unlike
 * /dev/mem, which only asks at open: an fd can be handed on.
 */
TEST(read_after_dropping_privilege_is_refused)
{
	int fd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t banner = kallsyms_lookup("linux_banner");
	char buf[14];

	ASSERT_NE(banner, 0);
	ASSERT_EQ(kread(fd, buf, 14, banner), 14);
	ASSERT_MEMEQ(buf, "Linux version ", 14);
	ASSERT_EQ(drop_cap_sys_rawio(), 0);
	ASSERT_ERRNO(kread(fd, buf, 14, banner), EPERM);
}
