// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_KERNELDUMP: a live ELF minidump of the running kernel. A kernel
 * thread plans it, reads memory and compresses; the caller writes what
 * the thread produces to its own file descriptor, as write(2) would
 * (bsdmem_dump_out.c says why). A fatal signal to the caller stops both
 * and the ioctl returns -EINTR; suspend freezes both.
 *
 * Memory keeps changing while it is copied: the dump is best effort, as
 * FreeBSD's mem(4) says of its live dumps.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/elf.h>
#include <linux/elfcore.h>
#include <linux/file.h>
#include <linux/freezer.h>
#include <linux/kallsyms.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>
#include <asm/user.h>
#include "bsdmem.h"
#include "bsdmem_compat.h"
#include "bsdmem_dump.h"
#include "bsdmem_dump_int.h"

static atomic_t bsdmem_dump_busy;
atomic64_t bsdmem_pages_planned;
atomic64_t bsdmem_pages_written;

static atomic64_t bsdmem_phase_ns[BSDMEM_PH_N];

void bsdmem_phase_add(enum bsdmem_phase ph, u64 ns)
{
	atomic64_add(ns, &bsdmem_phase_ns[ph]);
}

/*
 * Read-only, for make bench: the last dump's time in microseconds, as
 * "<plan> <read> <compress> <write> <total>" (see enum bsdmem_phase).
 */
static int bsdmem_phases_get(char *buf, const struct kernel_param *kp)
{
	u64 us[BSDMEM_PH_N];
	int i;

	for (i = 0; i < BSDMEM_PH_N; i++)
		us[i] = div_u64(atomic64_read(&bsdmem_phase_ns[i]),
				NSEC_PER_USEC);
	return sysfs_emit(buf, "%llu %llu %llu %llu %llu\n", us[0], us[1],
			  us[2], us[3], us[4]);
}

static const struct kernel_param_ops bsdmem_phases_ops = {
	.get = bsdmem_phases_get,
};
module_param_cb(dump_phases, &bsdmem_phases_ops, NULL, 0444);
MODULE_PARM_DESC(dump_phases, "the last dump's plan, read, compress, write and total time (us)");

/* Read-only progress for livedump's bar: "<pages planned> <pages written>". */
static int bsdmem_progress_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld %lld\n",
			  (long long)atomic64_read(&bsdmem_pages_planned),
			  (long long)atomic64_read(&bsdmem_pages_written));
}

static const struct kernel_param_ops bsdmem_progress_ops = {
	.get = bsdmem_progress_get,
};
module_param_cb(dump_progress, &bsdmem_progress_ops, NULL, 0444);
MODULE_PARM_DESC(dump_progress, "pages planned and written by the running dump");

/* ---- notes ---- */

static const void *bsdmem_vmcoreinfo(size_t *len)
{
	const void *note = __va(paddr_vmcoreinfo_note());

	*len = bsdmem_elf_note_total(note, VMCOREINFO_NOTE_SIZE);
	return note;
}

/*
 * One NT_PRSTATUS per online CPU, in CPU order, each with that CPU's
 * registers at this moment and the pid of the task running there
 * (bsdmem_dump_regs.c). Then VMCOREINFO, verbatim.
 */
static int bsdmem_dump_notes(struct bsdmem_dump *d)
{
	unsigned int i, n, max = num_possible_cpus();
	struct bsdmem_cpu_regs *cpus;
	const void *vmci;
	size_t vmci_len;
	u8 *p;

	vmci = bsdmem_vmcoreinfo(&vmci_len);
	if (!vmci_len)
		return -EIO;
	d->notes = kvzalloc(max * bsdmem_elf_prstatus_size() + vmci_len,
			    GFP_KERNEL);
	cpus = kvcalloc(max, sizeof(*cpus), GFP_KERNEL);
	if (!d->notes || !cpus) {
		kvfree(cpus);
		return -ENOMEM;
	}
	/* a suspend that starts now takes the thread before the NMIs */
	try_to_freeze();
	d->cpu = raw_smp_processor_id();
	n = bsdmem_dump_regs_collect(cpus, max, &d->here, &d->abort);
	d->ncpus = n;
	p = d->notes;
	for (i = 0; i < n; i++)
		p += bsdmem_elf_prstatus_put(p, cpus[i].known ?
					     &cpus[i].regs : NULL, cpus[i].pid);
	kvfree(cpus);
	d->vmci_off = p - (u8 *)d->notes;
	memcpy(p, vmci, vmci_len);
	d->notes_len = p + vmci_len - (u8 *)d->notes;
	return 0;
}

/* ---- the kernel image ---- */

/* A page of the kernel image: mapped there and reserved (not freed init). */
static bool bsdmem_kimage_page(unsigned long va, u64 *phys)
{
	struct page *page;

	if (bsdmem_kmap_present(va, false, phys))
		return false;
	page = pfn_to_online_page(PHYS_PFN(*phys));
	return page && PageReserved(page) && !bsdmem_page_poisoned(page);
}

/*
 * Is va in the kernel image, _stext (which is _text on x86) to _end?
 * kallsyms knows for every address once it holds all symbols: its
 * is_ksym_addr() is then is_kernel(). sprint_symbol() prints a bare
 * "0x..." for an address it cannot place; the module, BPF and ftrace text
 * it also places never lies in the kernel image's address range.
 */
static bool bsdmem_ksym_in_image(unsigned long va, char *buf)
{
	sprint_symbol(buf, va);
	return strncmp(buf, "0x", 2) != 0;
}

/*
 * in is a page of the image, out a page that is not: halve the distance
 * until they are neighbours and return the edge between them, the first
 * page of the image or the first one past it.
 */
static unsigned long bsdmem_ksym_edge(unsigned long in, unsigned long out,
				      char *buf)
{
	while ((in > out ? in - out : out - in) > PAGE_SIZE) {
		unsigned long mid = (in / 2 + out / 2) & PAGE_MASK;

		if (bsdmem_ksym_in_image(mid, buf))
			in = mid;
		else
			out = mid;
	}
	return max(in, out);
}

/*
 * _text and _end exactly, though neither is exported: the one run of
 * addresses kallsyms places around a function of the kernel's own. Those
 * are the bounds of the "kernel text" segment of /proc/vmcore. Needs
 * CONFIG_KALLSYMS_ALL (without it kallsyms places only text); buf is
 * scratch for the symbol names.
 */
static bool bsdmem_kimage_bounds(unsigned long *start, unsigned long *end,
				 char *buf)
{
	unsigned long in = (unsigned long)sprint_symbol & PAGE_MASK;
	unsigned long below = __START_KERNEL_map;
	unsigned long top = __START_KERNEL_map + KERNEL_IMAGE_SIZE - PAGE_SIZE;

	if (!IS_ENABLED(CONFIG_KALLSYMS_ALL) ||
	    !bsdmem_ksym_in_image(in, buf) || bsdmem_ksym_in_image(below, buf))
		return false;
	*start = bsdmem_ksym_edge(in, below, buf);
	*end = bsdmem_ksym_in_image(top, buf) ? top + PAGE_SIZE :
						bsdmem_ksym_edge(in, top, buf);
	return true;
}

/*
 * Without the symbols: the first and last reserved pages mapped in the
 * kernel image's address space. That can reach past _end, into pages
 * memblock reserved there at boot.
 */
static void bsdmem_kimage_scan(unsigned long *start, unsigned long *end)
{
	unsigned long va;
	u64 phys;

	*start = 0;
	*end = 0;
	for (va = __START_KERNEL_map;
	     va < __START_KERNEL_map + KERNEL_IMAGE_SIZE; va += PAGE_SIZE) {
		unsigned int level;

		/* no page table below this PMD: skip the whole 2 MiB */
		if (!lookup_address(va, &level)) {
			va = ALIGN(va + 1, PMD_SIZE) - PAGE_SIZE;
			continue;
		}
		if (!bsdmem_kimage_page(va, &phys))
			continue;
		if (!*start)
			*start = va;
		*end = va + PAGE_SIZE;
		if (!(va & (PMD_SIZE - 1)))
			cond_resched();
	}
}

/*
 * Is va inside the kernel image, _text to _end? The bounds never change,
 * so they are found once. False for every address when they cannot be
 * found exactly (no CONFIG_KALLSYMS_ALL).
 */
bool bsdmem_kimage_contains(unsigned long va)
{
	static DEFINE_MUTEX(lock);
	static unsigned long start, end;
	static bool known;
	char *buf;

	mutex_lock(&lock);
	if (!known) {
		buf = kmalloc(KSYM_SYMBOL_LEN, GFP_KERNEL);
		if (buf && !bsdmem_kimage_bounds(&start, &end, buf))
			start = end = 0;
		known = buf != NULL;
		kfree(buf);
	}
	mutex_unlock(&lock);
	return known && va >= start && va < end;
}

static void bsdmem_dump_find_kimage(struct bsdmem_dump *d)
{
	unsigned long start, end;
	u64 phys;

	BUILD_BUG_ON(KSYM_SYMBOL_LEN > PAGE_SIZE);
	if (!bsdmem_kimage_bounds(&start, &end, d->page))
		bsdmem_kimage_scan(&start, &end);
	/* the image is physically contiguous: its frames follow _text's */
	if (!start || bsdmem_kmap_present(start, false, &phys))
		return;
	d->kimage_vaddr = start;
	d->kimage_len = end - start;
	d->kimage_paddr = phys;
}

/* ---- writing ---- */

static int bsdmem_dump_headers(struct bsdmem_dump *d)
{
	struct bsdmem_elf_layout l = {
		.segs = d->segs,
		.nsegs = d->nsegs,
		.notes_len = d->notes_len,
		.kimage_vaddr = d->kimage_vaddr,
		.kimage_paddr = d->kimage_paddr,
		.kimage_len = d->kimage_len,
		.direct_map_base = (u64)PAGE_OFFSET,
	};
	size_t hlen = bsdmem_elf_headers_size(d->nsegs);
	u64 pad = bsdmem_elf_data_offset(d->nsegs, d->notes_len) - hlen -
		  d->notes_len;
	void *hdr = kvmalloc(hlen, GFP_KERNEL);
	int ret;

	if (!hdr)
		return -ENOMEM;
	ret = bsdmem_elf_build_headers(hdr, &l);
	if (!ret)
		ret = bsdmem_stream_write(d->stream, hdr, hlen);
	kvfree(hdr);
	if (!ret)
		ret = bsdmem_stream_write(d->stream, d->notes, d->notes_len);
	memset(d->page, 0, PAGE_SIZE);
	if (!ret)
		ret = bsdmem_stream_write(d->stream, d->page, pad);
	return ret;
}

/*
 * One page of data, read straight into the stream (its output buffer, or
 * the chunk a worker compresses); a page the plan does not want or that
 * cannot be read goes out as zeros.
 */
static int bsdmem_dump_page(struct bsdmem_dump *d, u64 pfn)
{
	void *p = bsdmem_stream_reserve(d->stream, PAGE_SIZE);
	bool want = pfn < d->nbits && test_bit(pfn, d->bitmap);
	u64 t0 = ktime_get_ns();

	if (IS_ERR(p))
		return PTR_ERR(p);
	if (!want || !bsdmem_dump_read_pfn(pfn, p))
		memset(p, 0, PAGE_SIZE);
	bsdmem_phase_add(BSDMEM_PH_READ, ktime_get_ns() - t0);
	atomic64_inc(&bsdmem_pages_written);
	if (bsdmem_dump_aborted(d))
		return -EINTR;
	return bsdmem_stream_commit(d->stream, PAGE_SIZE);
}

/*
 * The kernel image segment is _text to _end, as in /proc/vmcore. Its
 * frames are not in the direct-map segments (bsdmem_plan_carve()), so
 * each is written here as the plan has it, read through the direct map:
 * the image itself (reserved), freed init memory the kernel has reused
 * since (page tables, slab) with what it holds now, and zeros where the
 * plan wants nothing (free init memory, the unused brk area). So no
 * physical page is claimed by two segments: crash reads the first one
 * that covers an address, and zeros there hid a reused page's contents.
 */
static int bsdmem_dump_kimage(struct bsdmem_dump *d)
{
	u64 pfn = PHYS_PFN(d->kimage_paddr);
	u64 end = pfn + (d->kimage_len >> PAGE_SHIFT);
	int ret;

	for (; pfn < end; pfn++) {
		ret = bsdmem_dump_page(d, pfn);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* Planned pages are read; absorbed holes are written as zeros unread. */
static int bsdmem_dump_segments(struct bsdmem_dump *d)
{
	unsigned int i;
	u64 pfn;
	int ret;

	for (i = 0; i < d->nsegs; i++) {
		for (pfn = d->segs[i].start_pfn;
		     pfn < d->segs[i].start_pfn + d->segs[i].npages; pfn++) {
			ret = bsdmem_dump_page(d, pfn);
			if (ret)
				return ret;
			cond_resched();
		}
	}
	return 0;
}

static int bsdmem_dump_alloc(struct bsdmem_dump *d)
{
	d->nbits = bsdmem_dump_max_pfn();
	d->bitmap = vzalloc(BITS_TO_LONGS(d->nbits) * sizeof(long));
	d->segs = vmalloc(BSDMEM_MAX_SEGS * sizeof(*d->segs));
	d->page = (void *)__get_free_page(GFP_KERNEL);
	if (!d->bitmap || !d->segs || !d->page)
		return -ENOMEM;
	if (d->kdump) {
		d->kd = bsdmem_kdump_open(d);
		if (IS_ERR(d->kd)) {
			int ret = PTR_ERR(d->kd);

			d->kd = NULL;
			return ret;
		}
		return 0;
	}
	d->stream = bsdmem_stream_open(d->out, d->compression);
	if (IS_ERR(d->stream)) {
		int ret = PTR_ERR(d->stream);

		d->stream = NULL;
		return ret;
	}
	return 0;
}

static void bsdmem_dump_free(struct bsdmem_dump *d)
{
	if (d->stream)
		bsdmem_stream_close(d->stream);
	if (d->kd)
		bsdmem_kdump_close(d->kd);
	free_page((unsigned long)d->page);
	vfree(d->segs);
	vfree(d->bitmap);
	kvfree(d->notes);
}

/*
 * The thread's own note says where it stands here: this frame lasts until
 * the dump is written, so the stack a reader unwinds from it is still the
 * one in the dump. Not inlined, so that the note names this function.
 */
static noinline int bsdmem_dump_write(struct bsdmem_dump *d)
{
	u64 t0 = ktime_get_ns();
	int ret;

	bsdmem_dump_here(&d->here);
	ret = bsdmem_dump_alloc(d);
	if (!ret)
		ret = bsdmem_dump_notes(d);
	if (ret)
		return ret;
	bsdmem_dump_find_kimage(d);
	ret = bsdmem_dump_plan(d);
	bsdmem_phase_add(BSDMEM_PH_PLAN, ktime_get_ns() - t0);
	if (ret)
		return ret;
	if (d->kd)
		return bsdmem_kdump_write(d->kd, d);
	atomic64_set(&bsdmem_pages_planned,
		     (d->kimage_len >> PAGE_SHIFT) + d->seg_pages);
	ret = bsdmem_dump_headers(d);
	if (!ret)
		ret = bsdmem_dump_kimage(d);
	if (!ret)
		ret = bsdmem_dump_segments(d);
	if (!ret)
		ret = bsdmem_stream_finish(d->stream);
	return ret;
}

/*
 * The thread hands its output to the caller and its result with it. It
 * ignores signals (a kernel thread's default); the caller stops it
 * through d->abort and the buffers. It may be frozen between pages and
 * while it waits for the caller.
 */
static int bsdmem_dump_thread(void *arg)
{
	struct bsdmem_dump *d = arg;
	int ret;

	set_freezable();
	ret = bsdmem_dump_write(d);
	bsdmem_dump_free(d);
	bsdmem_out_end(d->out, ret);
	kthread_complete_and_exit(&d->done, 0);
}

/*
 * The caller gave up (a fatal signal, a write error): the thread stops
 * before its next page (every 1024 page frames while planning) or in its
 * wait for an empty buffer.
 */
static void bsdmem_dump_stop(struct bsdmem_dump *d)
{
	atomic_set(&d->abort, 1);
	bsdmem_out_stop(d->out);
}

/*
 * Run a dump to file: the thread produces, the caller writes. Every path
 * waits for the thread to exit before freeing what it shares: briefly,
 * since it has ended or been stopped; uninterruptibly, since d must
 * outlive it; freezably, in case the system suspends meanwhile.
 */
static int bsdmem_dump_run(struct file *file, int compression, bool kdump)
{
	u64 t0 = ktime_get_ns();
	struct task_struct *task;
	struct bsdmem_dump *d;
	int ret = -ENOMEM, i;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->out = bsdmem_out_alloc(file, kdump);
	if (!d->out)
		goto out;
	d->compression = compression;
	d->kdump = kdump;
	init_completion(&d->done);
	atomic64_set(&bsdmem_pages_planned, 0);
	atomic64_set(&bsdmem_pages_written, 0);
	for (i = 0; i < BSDMEM_PH_N; i++)
		atomic64_set(&bsdmem_phase_ns[i], 0);

	task = kthread_run(bsdmem_dump_thread, d, "bsdmem-dump");
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		goto out;
	}
	ret = bsdmem_out_run(d->out);
	if (ret)
		bsdmem_dump_stop(d);
	wait_for_completion_state(&d->done, TASK_UNINTERRUPTIBLE |
					    TASK_FREEZABLE);
	bsdmem_phase_add(BSDMEM_PH_TOTAL, ktime_get_ns() - t0);
out:
	if (d->out)
		bsdmem_out_free(d->out);
	kfree(d);
	return ret;
}

/* Checks in abi.md's order: privilege, flags, fd, fd mode, compression, busy. */
int bsdmem_kerneldump(void __user *arg)
{
	struct mem_livedump_arg a;
	struct file *file;
	int ret;

	ret = security_locked_down(LOCKDOWN_KCORE);
	if (ret)
		return ret;
	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~MEM_KERNELDUMP_KDUMP)
		return -EINVAL;
	file = fget(a.fd);
	if (!file)
		return -EBADF;
	ret = -EBADF;
	if (!(file->f_mode & FMODE_WRITE))
		goto out;
	ret = -EINVAL;
	if (a.compression > KERNELDUMP_COMP_ZSTD)
		goto out;
	/* kernel_write() takes only write_iter files (not /dev/null, ttys) */
	if (!file->f_op->write_iter || file->f_op->write)
		goto out;
	/* the kdump container's pieces are not aligned for O_DIRECT */
	if ((a.flags & MEM_KERNELDUMP_KDUMP) && (file->f_flags & O_DIRECT))
		goto out;
	ret = -EBUSY;
	if (atomic_cmpxchg(&bsdmem_dump_busy, 0, 1))
		goto out;
	ret = bsdmem_dump_run(file, a.compression,
			      a.flags & MEM_KERNELDUMP_KDUMP);
	atomic_set(&bsdmem_dump_busy, 0);
out:
	fput(file);
	return ret;
}
