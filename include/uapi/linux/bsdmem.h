/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * bsdmem: FreeBSD's mem(4)/kmem ioctl ABI for Linux.
 *
 * The names are FreeBSD's (sys/memrange.h, sys/kerneldump.h) so that a BSD
 * tool ports by changing an include and a device path. Structure sizes are
 * fixed for x86-64 and i386 callers alike; only struct mem_range_op differs
 * for 32-bit callers (12 bytes), which the driver serves via compat_ioctl.
 */
#ifndef _UAPI_LINUX_BSDMEM_H
#define _UAPI_LINUX_BSDMEM_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BSDMEM_DEV_PATH		"/dev/bsdmem"
#define BSDKMEM_DEV_PATH	"/dev/bsdkmem"

/* Cache attributes of a memory range (exactly one per range). */
#define MDF_UNCACHEABLE		(1 << 0)
#define MDF_WRITECOMBINE	(1 << 1)
#define MDF_WRITETHROUGH	(1 << 2)
#define MDF_WRITEBACK		(1 << 3)
#define MDF_WRITEPROTECT	(1 << 4)
#define MDF_UNKNOWN		(1 << 5)
#define MDF_ATTRMASK		0x00ffffff

/* Range state flags. */
#define MDF_FIXBASE		(1 << 24)
#define MDF_FIXLEN		(1 << 25)
#define MDF_FIRMWARE		(1 << 26)
#define MDF_ACTIVE		(1 << 27)
#define MDF_BOGUS		(1 << 28)
#define MDF_FIXACTIVE		(1 << 29)
#define MDF_BUSY		(1 << 30)
#define MDF_FORCE		(1U << 31)

struct mem_range_desc {
	__aligned_u64	mr_base;	/* physical base address */
	__aligned_u64	mr_len;		/* physical length of region */
	int		mr_flags;	/* attributes of region */
	char		mr_owner[8];
};

struct mem_range_op {
	struct mem_range_desc	*mo_desc;
	int			mo_arg[2];
};

#define MEMRANGE_SET_UPDATE	0
#define MEMRANGE_SET_REMOVE	1

#define MEMRANGE_GET	_IOWR('m', 50, struct mem_range_op)
#define MEMRANGE_SET	_IOW('m', 51, struct mem_range_op)

#define ME_STATE_INVALID	0
#define ME_STATE_VALID		1
#define ME_STATE_MAPPED		2

struct mem_extract {
	__aligned_u64	me_vaddr;	/* input */
	__aligned_u64	me_paddr;	/* output */
	int		me_domain;	/* output */
	int		me_state;	/* output */
	__aligned_u64	pad1[5];	/* reserved, echoed back */
};

#define MEM_EXTRACT_PADDR	_IOWR('m', 52, struct mem_extract)

#define KERNELDUMP_COMP_NONE	0
#define KERNELDUMP_COMP_GZIP	1
#define KERNELDUMP_COMP_ZSTD	2

/*
 * Linux extension, in mem_livedump_arg.flags (a FreeBSD caller passes 0
 * and gets the ELF core): write the kdump-compressed ("KDUMP", diskdump)
 * format that makedumpfile writes, which crash, drgn and makedumpfile
 * open as it is. Each page is compressed on its own: zlib for
 * KERNELDUMP_COMP_GZIP, zstd for KERNELDUMP_COMP_ZSTD, none for
 * KERNELDUMP_COMP_NONE. A file that takes positioned writes (a regular
 * file or block device, not O_APPEND) gets the standard layout; a pipe or
 * socket gets makedumpfile's flattened format, which
 * "makedumpfile -R FILE < STREAM" turns into the standard one. The bit is
 * taken from the top, away from any flag FreeBSD may define; every other
 * bit is still EINVAL.
 */
#define MEM_KERNELDUMP_KDUMP	(1 << 30)

struct mem_livedump_arg {
	int		fd;		/* input */
	int		flags;		/* input: 0, or MEM_KERNELDUMP_KDUMP */
	__u8		compression;	/* input, KERNELDUMP_COMP_* */
	__u8		pad1[7];
	__aligned_u64	pad2[2];
};

#define MEM_KERNELDUMP		_IOW('m', 53, struct mem_livedump_arg)

#endif /* _UAPI_LINUX_BSDMEM_H */
