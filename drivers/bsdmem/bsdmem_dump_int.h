/* SPDX-License-Identifier: GPL-2.0 */
/* The state of one running dump, shared by its kernel-plumbing files. */
#ifndef _BSDMEM_DUMP_INT_H
#define _BSDMEM_DUMP_INT_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include "bsdmem_dump.h"

struct bsdmem_dump {
	struct file		*file;
	int			compression;
	struct completion	done;
	int			result;
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

static inline bool bsdmem_dump_aborted(struct bsdmem_dump *d)
{
	return atomic_read(&d->abort);
}

/* bsdmem_dump_plan.c */
unsigned long bsdmem_dump_max_pfn(void);
int bsdmem_dump_plan(struct bsdmem_dump *d);
bool bsdmem_dump_read_pfn(unsigned long pfn, void *buf);

#endif /* _BSDMEM_DUMP_INT_H */
