/* SPDX-License-Identifier: GPL-2.0 */
/* The state of one running dump, shared by its kernel-plumbing files. */
#ifndef _BSDMEM_DUMP_INT_H
#define _BSDMEM_DUMP_INT_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/freezer.h>
#include <asm/ptrace.h>
#include "bsdmem_dump.h"

struct bsdmem_dump {
	struct bsdmem_out	*out;		/* what the caller writes */
	int			compression;
	struct completion	done;		/* the thread has exited */
	atomic_t		abort;
	struct bsdmem_stream	*stream;
	void			*page;		/* one bounce page */
	unsigned long		*bitmap;	/* pfns to dump */
	unsigned long		nbits;
	struct bsdmem_seg	*segs;
	unsigned int		nsegs;
	u64			seg_pages;
	void			*notes;
	size_t			notes_len;
	u64			kimage_vaddr;
	u64			kimage_paddr;
	u64			kimage_len;
};

/*
 * Asked by the dumping thread between pages, holding nothing: has the
 * caller given up? It is also where the thread is frozen for suspend.
 */
static inline bool bsdmem_dump_aborted(struct bsdmem_dump *d)
{
	try_to_freeze();
	return atomic_read(&d->abort);
}

/* bsdmem_dump_plan.c */
unsigned long bsdmem_dump_max_pfn(void);
int bsdmem_dump_plan(struct bsdmem_dump *d);
bool bsdmem_dump_read_pfn(unsigned long pfn, void *buf);

/* One online CPU's registers, for its NT_PRSTATUS note. */
struct bsdmem_cpu_regs {
	struct pt_regs	regs;
	unsigned int	cpu;
	pid_t		pid;	/* the task running there, -1 if unknown */
	bool		known;	/* false: the CPU did not answer */
};

/* bsdmem_dump_regs.c */
unsigned int bsdmem_dump_regs_collect(struct bsdmem_cpu_regs *cpus,
				      unsigned int max);

#endif /* _BSDMEM_DUMP_INT_H */
