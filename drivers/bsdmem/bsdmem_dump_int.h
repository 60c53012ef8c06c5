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
	bool			kdump;		/* MEM_KERNELDUMP_KDUMP */
	bool			whole_ram;	/* dump_whole_ram, for this dump */
	struct completion	done;		/* the thread has exited */
	atomic_t		abort;
	struct bsdmem_stream	*stream;	/* the ELF core's */
	struct bsdmem_kdump	*kd;		/* or the kdump container's */
	void			*page;		/* one bounce page */
	unsigned long		*bitmap;	/* pfns to dump */
	unsigned long		nbits;
	struct bsdmem_seg	*segs;
	unsigned int		nsegs;
	u64			seg_pages;
	void			*notes;
	size_t			notes_len;
	size_t			vmci_off;	/* VMCOREINFO, in the notes */
	unsigned int		ncpus;		/* NT_PRSTATUS notes */
	unsigned int		cpu;		/* the thread's, at the NMIs */
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

/* livedump's progress bar: the pages of the running dump */
extern atomic64_t bsdmem_pages_planned;
extern atomic64_t bsdmem_pages_written;

/* bsdmem_dump_kdump.c: the kdump-compressed format writer */
struct bsdmem_kdump *bsdmem_kdump_open(struct bsdmem_dump *d);
void bsdmem_kdump_close(struct bsdmem_kdump *k);
void bsdmem_kdump_exclude(struct bsdmem_kdump *k, struct bsdmem_dump *d,
			  void (*exclude)(const void *, size_t, void *),
			  void *arg);
int bsdmem_kdump_write(struct bsdmem_kdump *k, struct bsdmem_dump *d);

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
