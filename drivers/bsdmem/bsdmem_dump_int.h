/* SPDX-License-Identifier: GPL-2.0 */
/* The state of one running dump, shared by its kernel-plumbing files. */
#ifndef _BSDMEM_DUMP_INT_H
#define _BSDMEM_DUMP_INT_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/freezer.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
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
	struct pt_regs		here;		/* the thread's, for its note */
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

/*
 * Where the calling function stands, for a reader to unwind from: rip,
 * rsp and rbp read at one instruction, so that they agree. Inlined into
 * a function whose frame outlives the dump, they stay true while its
 * stack is copied; a helper's frame would be gone by then.
 * (crash_setup_regs() needs CONFIG_KEXEC_CORE.)
 */
static __always_inline void bsdmem_dump_here(struct pt_regs *r)
{
	memset(r, 0, sizeof(*r));
	asm volatile("1: leaq 1b(%%rip), %0\n\t"
		     "movq %%rsp, %1\n\t"
		     "movq %%rbp, %2"
		     : "=r" (r->ip), "=r" (r->sp), "=r" (r->bp));
	r->cs = __KERNEL_CS;
	r->ss = __KERNEL_DS;
	r->flags = arch_local_save_flags();
}

/* bsdmem_dump_regs.c */
unsigned int bsdmem_dump_regs_collect(struct bsdmem_cpu_regs *cpus,
				      unsigned int max,
				      const struct pt_regs *here,
				      const atomic_t *abort);
#if IS_ENABLED(CONFIG_BSDMEM_KUNIT_TEST)
extern int bsdmem_regs_test_silent_cpu;
extern unsigned long bsdmem_regs_test_patience;
extern int bsdmem_regs_test_reason;
bool bsdmem_dump_regs_test_pinned(void);
int bsdmem_regs_test_nmi(struct pt_regs *regs);
bool bsdmem_regs_test_ask(void);
void bsdmem_regs_test_idle(void);
void bsdmem_regs_test_answered_ago(unsigned long ago);
unsigned long bsdmem_regs_test_late_window(void);
#endif

#endif /* _BSDMEM_DUMP_INT_H */
