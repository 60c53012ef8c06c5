// SPDX-License-Identifier: GPL-2.0
/*
 * The kdump-compressed ("KDUMP", diskdump) container, as makedumpfile
 * writes it and crash, libkdumpfile (drgn) and makedumpfile read it:
 * pure layout and framing, tested by KUnit.
 *
 *   block 0              disk_dump_header
 *   block 1 ...          kdump_sub_header, then the ELF notes
 *   bitmap_off           the first bitmap (which page frames are RAM),
 *                        then the second (which are dumped), each a whole
 *                        number of blocks, bit pfn % 8 of byte pfn / 8
 *   desc_off             one page_desc per dumped page, in pfn order
 *   data_off             the shared zero page, then each page's data
 *
 * A block is a page. Fields are the reader's native (x86-64) layout.
 * The flattened format wraps the same bytes for a stream: a 4 KiB header,
 * then each piece of the file as (offset, size) in big-endian, then the
 * piece; (-1, -1) ends it.
 */
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <asm/byteorder.h>
#include "bsdmem_dump.h"

#define BSDMEM_KDUMP_VERSION	6	/* the 64-bit page frame numbers */
#define BSDMEM_UTS_LEN		65

struct bsdmem_kdump_hdr {
	char	signature[8];			/* "KDUMP   " */
	s32	header_version;
	char	utsname[6][BSDMEM_UTS_LEN];	/* struct new_utsname */
	u8	pad[6];
	s64	tv_sec;				/* struct timeval */
	s64	tv_usec;
	u32	status;				/* the compression used */
	s32	block_size;
	s32	sub_hdr_size;			/* blocks */
	u32	bitmap_blocks;			/* both bitmaps */
	u32	max_mapnr;			/* 32-bit only, see below */
	u32	total_ram_blocks;
	u32	device_blocks;
	u32	written_blocks;
	u32	current_cpu;
	s32	nr_cpus;
} __packed;

struct bsdmem_kdump_sub {
	u64	phys_base;
	s32	dump_level;
	s32	split;
	u64	start_pfn;			/* 32-bit only */
	u64	end_pfn;			/* 32-bit only */
	u64	offset_vmcoreinfo;
	u64	size_vmcoreinfo;
	u64	offset_note;
	u64	size_note;
	u64	offset_eraseinfo;
	u64	size_eraseinfo;
	u64	start_pfn_64;
	u64	end_pfn_64;
	u64	max_mapnr_64;
} __packed;

struct bsdmem_kdump_desc {
	s64	offset;
	u32	size;
	u32	flags;
	u64	page_flags;
} __packed;

struct bsdmem_flat_hdr {
	char	signature[16];			/* "makedumpfile" */
	__be64	type;				/* 1: flattened */
	__be64	version;			/* 1 */
} __packed;

static_assert(sizeof(struct bsdmem_kdump_hdr) == BSDMEM_KDUMP_HDR_LEN);
static_assert(offsetof(struct bsdmem_kdump_hdr, tv_sec) == 408);
static_assert(offsetof(struct bsdmem_kdump_hdr, status) == 424);
static_assert(sizeof(struct bsdmem_kdump_sub) == BSDMEM_KDUMP_SUB_LEN);
static_assert(sizeof(struct bsdmem_kdump_desc) == BSDMEM_KDUMP_DESC_LEN);
static_assert(sizeof(struct bsdmem_flat_hdr) <= BSDMEM_FLAT_HDR_LEN);

/*
 * Where each part goes, for max_mapnr page frames, notes_len bytes of
 * notes and npages dumped pages. Each bitmap covers max_mapnr bits
 * rounded up to whole blocks (crash wants them block-aligned).
 */
void bsdmem_kdump_layout(struct bsdmem_kdump_layout *l, u64 max_mapnr,
			 size_t notes_len, u64 npages)
{
	u64 half = DIV_ROUND_UP(DIV_ROUND_UP(max_mapnr, 8), PAGE_SIZE);

	l->max_mapnr = max_mapnr;
	l->npages = npages;
	l->notes_len = notes_len;
	l->sub_blocks = DIV_ROUND_UP(BSDMEM_KDUMP_SUB_LEN + notes_len,
				     PAGE_SIZE);
	l->bitmap_blocks = 2 * half;
	l->bitmap_off = (1 + (u64)l->sub_blocks) * PAGE_SIZE;
	l->desc_off = l->bitmap_off + (u64)l->bitmap_blocks * PAGE_SIZE;
	l->data_off = l->desc_off + npages * BSDMEM_KDUMP_DESC_LEN;
}

/* Bytes of block 0 and the sub-header blocks, which hold the notes too. */
size_t bsdmem_kdump_headers_size(const struct bsdmem_kdump_layout *l)
{
	return l->bitmap_off;
}

static void bsdmem_uts_put(char *dst, const char *src)
{
	strscpy_pad(dst, src, BSDMEM_UTS_LEN);
}

/*
 * Fill buf (bsdmem_kdump_headers_size() bytes) with the headers and the
 * notes. -EINVAL if the layout does not fit the format's fields.
 */
int bsdmem_kdump_build_headers(void *buf, const struct bsdmem_kdump_layout *l,
			       const struct bsdmem_kdump_info *i,
			       const void *notes)
{
	struct bsdmem_kdump_hdr *h = buf;
	struct bsdmem_kdump_sub *s = buf + PAGE_SIZE;

	if (l->bitmap_blocks > U32_MAX || l->sub_blocks > S32_MAX ||
	    i->vmcoreinfo_off + i->vmcoreinfo_len > l->notes_len)
		return -EINVAL;
	memset(buf, 0, bsdmem_kdump_headers_size(l));
	memcpy(h->signature, "KDUMP   ", sizeof(h->signature));
	h->header_version = BSDMEM_KDUMP_VERSION;
	bsdmem_uts_put(h->utsname[0], i->uts->sysname);
	bsdmem_uts_put(h->utsname[1], i->uts->nodename);
	bsdmem_uts_put(h->utsname[2], i->uts->release);
	bsdmem_uts_put(h->utsname[3], i->uts->version);
	bsdmem_uts_put(h->utsname[4], i->uts->machine);
	bsdmem_uts_put(h->utsname[5], i->uts->domainname);
	h->tv_sec = i->tv_sec;
	h->tv_usec = i->tv_usec;
	h->status = i->status;
	h->block_size = PAGE_SIZE;
	h->sub_hdr_size = l->sub_blocks;
	h->bitmap_blocks = l->bitmap_blocks;
	h->max_mapnr = min_t(u64, l->max_mapnr, U32_MAX);
	h->current_cpu = i->current_cpu;
	h->nr_cpus = i->nr_cpus;

	s->phys_base = i->phys_base;
	s->dump_level = i->dump_level;
	s->end_pfn = min_t(u64, l->max_mapnr, U32_MAX);
	s->offset_note = PAGE_SIZE + BSDMEM_KDUMP_SUB_LEN;
	s->size_note = l->notes_len;
	if (i->vmcoreinfo_len) {
		s->offset_vmcoreinfo = s->offset_note + i->vmcoreinfo_off;
		s->size_vmcoreinfo = i->vmcoreinfo_len;
	}
	s->end_pfn_64 = l->max_mapnr;
	s->max_mapnr_64 = l->max_mapnr;
	memcpy(buf + s->offset_note, notes, l->notes_len);
	return 0;
}

/*
 * The header goes out first marked incomplete, and again at the end
 * without the mark: a dump that ended early (killed, a full disk) over an
 * older one in the same file does not pass for complete.
 */
void bsdmem_kdump_complete(void *hdr)
{
	struct bsdmem_kdump_hdr *h = hdr;

	h->status &= ~BSDMEM_KDUMP_INCOMPLETE;
}

/* One page's descriptor: where its data is, how long, how compressed. */
void bsdmem_kdump_desc_put(void *buf, u64 off, u32 size, u32 flags)
{
	struct bsdmem_kdump_desc *d = buf;

	d->offset = off;
	d->size = size;
	d->flags = flags;
	d->page_flags = 0;
}

/* The flattened format's first 4 KiB. */
void bsdmem_flat_header(void *buf)
{
	struct bsdmem_flat_hdr *f = buf;

	memset(buf, 0, BSDMEM_FLAT_HDR_LEN);
	memcpy(f->signature, "makedumpfile", 12);
	f->type = cpu_to_be64(1);
	f->version = cpu_to_be64(1);
}

/* The header of one piece of the file; (-1, -1) is the end. */
void bsdmem_flat_piece(void *buf, s64 off, s64 len)
{
	__be64 *p = buf;

	p[0] = cpu_to_be64(off);
	p[1] = cpu_to_be64(len);
}
