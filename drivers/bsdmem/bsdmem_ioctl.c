// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl dispatch: every accepted encoding (Linux, FreeBSD, 32-bit) is
 * resolved to one native command and one argument layout, then handed to
 * the function that implements it.
 */
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/uaccess.h>
#include "bsdmem.h"

static_assert(sizeof(struct mem_range_desc) == 32);
static_assert(sizeof(struct mem_range_op) == 16);
static_assert(sizeof(struct mem_range_op32) == 12);
static_assert(sizeof(struct mem_extract) == 64);
static_assert(sizeof(struct mem_livedump_arg) == 32);

static int bsdmem_range_req_load(struct bsdmem_range_req *req,
				 void __user *argp, bool op32)
{
	struct mem_range_op32 op32v;
	struct mem_range_op op;

	if (op32) {
		if (copy_from_user(&op32v, argp, sizeof(op32v)))
			return -EFAULT;
		req->desc = compat_ptr(op32v.mo_desc);
		req->arg[0] = op32v.mo_arg[0];
		req->arg[1] = op32v.mo_arg[1];
		return 0;
	}
	if (copy_from_user(&op, argp, sizeof(op)))
		return -EFAULT;
	req->desc = (__force void __user *)op.mo_desc;
	req->arg[0] = op.mo_arg[0];
	req->arg[1] = op.mo_arg[1];
	return 0;
}

/* Only mo_arg changes; the descriptor pointer is the caller's own. */
static int bsdmem_range_req_store(const struct bsdmem_range_req *req,
				  void __user *argp, bool op32)
{
	size_t off = op32 ? offsetof(struct mem_range_op32, mo_arg) :
			    offsetof(struct mem_range_op, mo_arg);

	if (copy_to_user(argp + off, req->arg, sizeof(req->arg)))
		return -EFAULT;
	return 0;
}

static long bsdmem_range_ioctl(unsigned int ncmd, void __user *argp,
			       bool op32)
{
	struct bsdmem_range_req req;
	int ret;

	ret = bsdmem_range_req_load(&req, argp, op32);
	if (ret)
		return ret;
	if (ncmd == MEMRANGE_SET)
		return bsdmem_memrange_set(&req);
	ret = bsdmem_memrange_get(&req);
	if (ret)
		return ret;
	return bsdmem_range_req_store(&req, argp, op32);
}

static long bsdmem_dispatch(unsigned int cmd, void __user *argp, bool compat)
{
	unsigned int ncmd;
	int ret;

	ret = bsdmem_cmd_normalize(cmd, compat, &ncmd);
	if (ret)
		return ret;
	ret = bsdmem_privilege_check();
	if (ret)
		return ret;

	switch (ncmd) {
	case MEMRANGE_GET:
	case MEMRANGE_SET:
		return bsdmem_range_ioctl(ncmd, argp, _IOC_SIZE(cmd) ==
					  sizeof(struct mem_range_op32));
	case MEM_EXTRACT_PADDR:
		return bsdmem_extract_paddr(argp);
	case MEM_KERNELDUMP:
		return bsdmem_kerneldump(argp);
	}
	return -ENOTTY;
}

long bsdmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return bsdmem_dispatch(cmd, (void __user *)arg, false);
}

long bsdmem_compat_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	return bsdmem_dispatch(cmd, compat_ptr(arg), true);
}
