// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/bsdmem (physical memory) and /dev/bsdkmem (kernel virtual memory):
 * open, read, write, lseek and mmap.
 */
#include <linux/capability.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"

static const struct file_operations bsdkmem_fops;

static enum bsdmem_space bsdmem_file_space(struct file *file)
{
	return file->f_op == &bsdkmem_fops ? BSDMEM_KVIRT : BSDMEM_PHYS;
}

/*
 * Lockdown can be raised while a descriptor is open: every use of one
 * asks again, so an fd opened before cannot get around it.
 */
int bsdmem_lockdown_check(void)
{
	return security_locked_down(LOCKDOWN_DEV_MEM);
}

/*
 * An fd can be handed to a process that lacks the privilege to open it:
 * every use (read, write, mmap, ioctl) asks for both again.
 */
int bsdmem_privilege_check(void)
{
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	return bsdmem_lockdown_check();
}

static int bsdmem_open(struct inode *inode, struct file *file)
{
	int ret;

	ret = bsdmem_privilege_check();
	if (ret)
		return ret;
	bsdmem_file_unsigned_offset(file);
	return 0;
}

/*
 * The common loop of read and write: page-sized steps through a bounce
 * buffer, stopping at the first step that fails. Whatever was moved before
 * it is reported as a short count; the error only when nothing moved.
 */
static ssize_t bsdmem_transfer(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos, bool write)
{
	enum bsdmem_space space = bsdmem_file_space(file);
	u64 pos = (u64)*ppos;
	ssize_t done = 0, ret = 0;
	void *bounce;

	ret = bsdmem_privilege_check();
	if (ret)
		return ret;
	if (!count)
		return 0;
	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (count) {
		size_t len = bsdmem_chunk_len(pos, count);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (write && copy_from_user(bounce, ubuf + done, len)) {
			ret = -EFAULT;
			break;
		}
		ret = bsdmem_access_step(space, pos, bounce, len, write,
					 file->f_flags);
		if (ret < 0)
			break;
		if (!write && copy_to_user(ubuf + done, bounce, len)) {
			ret = -EFAULT;
			break;
		}
		done += len;
		pos += len;
		count -= len;
		cond_resched();
	}
	kfree(bounce);
	if (!done)
		return ret;
	*ppos = (loff_t)pos;
	return done;
}

static ssize_t bsdmem_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return bsdmem_transfer(file, buf, count, ppos, false);
}

static ssize_t bsdmem_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return bsdmem_transfer(file, (char __user *)buf, count, ppos, true);
}

static loff_t bsdmem_llseek(struct file *file, loff_t offset, int whence)
{
	u64 pos;
	int ret;

	/*
	 * The position is an address: a holder without the privilege may
	 * not choose where a privileged process it hands the fd to (a
	 * set-user-ID program writing to its standard error) will write.
	 */
	ret = bsdmem_privilege_check();
	if (ret)
		return ret;
	ret = bsdmem_lseek_pos((u64)file->f_pos, offset, whence, &pos);
	if (ret)
		return ret;
	file->f_pos = (loff_t)pos;
	/* Offsets with bit 63 set are addresses, not errors. */
	force_successful_syscall_return();
	return (loff_t)pos;
}

static int bsdmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	int ret = bsdmem_privilege_check();

	if (ret)
		return ret;
	return bsdmem_mmap_setup(file, vma);
}

static const struct file_operations bsdmem_fops = {
	.owner		= THIS_MODULE,
	.open		= bsdmem_open,
	.read		= bsdmem_read,
	.write		= bsdmem_write,
	.llseek		= bsdmem_llseek,
	.mmap		= bsdmem_mmap,
	.unlocked_ioctl	= bsdmem_ioctl,
	.compat_ioctl	= bsdmem_compat_ioctl,
	BSDMEM_FOP_FLAGS
};

/* No mmap: kernel virtual memory is not handed out as pages. */
static const struct file_operations bsdkmem_fops = {
	.owner		= THIS_MODULE,
	.open		= bsdmem_open,
	.read		= bsdmem_read,
	.write		= bsdmem_write,
	.llseek		= bsdmem_llseek,
	.unlocked_ioctl	= bsdmem_ioctl,
	.compat_ioctl	= bsdmem_compat_ioctl,
	BSDMEM_FOP_FLAGS
};

static struct miscdevice bsdmem_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= BSDMEM_NAME,
	.fops	= &bsdmem_fops,
	.mode	= 0640,
};

static struct miscdevice bsdkmem_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= BSDKMEM_NAME,
	.fops	= &bsdkmem_fops,
	.mode	= 0640,
};

int bsdmem_dev_register(void)
{
	int ret;

	ret = misc_register(&bsdmem_miscdev);
	if (ret)
		return ret;
	ret = misc_register(&bsdkmem_miscdev);
	if (ret)
		goto err_mem;
	return 0;

err_mem:
	misc_deregister(&bsdmem_miscdev);
	return ret;
}

void bsdmem_dev_unregister(void)
{
	misc_deregister(&bsdkmem_miscdev);
	misc_deregister(&bsdmem_miscdev);
}
