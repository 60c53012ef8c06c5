// SPDX-License-Identifier: GPL-2.0
/*
 * The kdump-compressed format writer (MEM_KERNELDUMP_KDUMP): the pages
 * and notes of the plan, in the container bsdmem_kdump.c lays out, each
 * page compressed on its own (bsdmem_codec.c). The output layer puts
 * each piece at its offset, or frames it for a stream.
 *
 * The headers, the notes and both bitmaps go first: the plan fixes them.
 * Then page data and descriptors in turn: the data region grows behind
 * the shared zero page, and the descriptors of the pages written so far
 * go out each time BSDMEM_KDUMP_DESCS of them are ready, so memory for
 * them stays bounded whatever the size of the dump. A page that cannot
 * be read or is all zeros points at the zero page, as makedumpfile's do.
 *
 * Compressed, pages go to the workers (bsdmem_par.c) in batches of
 * BSDMEM_KDUMP_BATCH: a worker reads and compresses each page of its
 * batch, the dumping thread writes the batches' data and descriptors in
 * pfn order. Each page is compressed on its own, so the bytes do not
 * depend on the number of workers. Uncompressed, the dumping thread reads
 * each page straight into the output buffer.
 *
 * The kernel image needs no segment of its own here: readers translate
 * its addresses with phys_base (the sub header, and VMCOREINFO).
 */
#include <linux/bitmap.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>
#include <asm/page.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"
#include "bsdmem_dump_int.h"

#define BSDMEM_KDUMP_DESCS	(SZ_64K / BSDMEM_KDUMP_DESC_LEN)
#define BSDMEM_KDUMP_BATCH	256

/* A page of a batch, as its worker left it: size 0 is the zero page. */
struct bsdmem_kd_meta {
	u32	size;
	u32	flags;
};

/* A batch's job: in, its page frames and a bounce page; out, meta, data. */
#define BSDMEM_KD_IN_LEN	(BSDMEM_KDUMP_BATCH * sizeof(unsigned long) + \
				 PAGE_SIZE)
#define BSDMEM_KD_META_LEN	(BSDMEM_KDUMP_BATCH * \
				 sizeof(struct bsdmem_kd_meta))
#define BSDMEM_KD_OUT_LEN	(BSDMEM_KD_META_LEN + \
				 BSDMEM_KDUMP_BATCH * PAGE_SIZE)

struct bsdmem_kdump {
	struct bsdmem_par	*par;		/* compressed: the workers */
	u32			flag;		/* of a compressed page */
	unsigned long		*ram;		/* the first bitmap */
	u8			*descs;		/* not yet handed over */
	unsigned int		ndescs;
	u64			desc_at;	/* the offset of descs[0] */
	u64			ndone;		/* descriptors made */
	u8			hdr[BSDMEM_KDUMP_HDR_LEN];	/* block 0 */
	u8			*spill;		/* a page that did not fit buf */
	/* the output buffer being filled */
	struct bsdmem_out	*out;
	u8			*buf;
	size_t			used;
	u64			at;		/* the offset of buf[0] */
	u64			data_at;	/* the next page's data */
	u64			zero_at;	/* the shared zero page */
};

/* ---- pieces at offsets ---- */

/* Hand over what buf holds; go on in an empty buffer at offset at. */
static int bsdmem_kd_seek(struct bsdmem_kdump *k, u64 at)
{
	int ret = 0;

	if (k->used)
		ret = bsdmem_out_put_at(k->out, k->used, k->at, &k->buf);
	k->used = 0;
	k->at = at;
	return ret;
}

/* buf took n more bytes; hand it over once full. */
static int bsdmem_kd_took(struct bsdmem_kdump *k, size_t n)
{
	k->used += n;
	if (k->used < BSDMEM_OUT_LEN)
		return 0;
	return bsdmem_kd_seek(k, k->at + BSDMEM_OUT_LEN);
}

/* Append len bytes of p (NULL: zeros) at the current offset. */
static int bsdmem_kd_put(struct bsdmem_kdump *k, const void *p, size_t len)
{
	int ret;

	while (len) {
		size_t n = min(len, BSDMEM_OUT_LEN - k->used);

		if (p) {
			memcpy(k->buf + k->used, p, n);
			p += n;
		} else {
			memset(k->buf + k->used, 0, n);
		}
		len -= n;
		ret = bsdmem_kd_took(k, n);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- set up ---- */

static int bsdmem_kd_run(struct bsdmem_par_job *job, void *arg);

struct bsdmem_kdump *bsdmem_kdump_open(struct bsdmem_dump *d)
{
	struct bsdmem_kdump *k = kzalloc(sizeof(*k), GFP_KERNEL);
	enum bsdmem_codec_kind kind;
	int ret = -ENOMEM;

	if (!k)
		return ERR_PTR(-ENOMEM);
	k->out = d->out;
	k->buf = bsdmem_out_first(d->out);
	k->ram = vzalloc(BITS_TO_LONGS(d->nbits) * sizeof(long));
	k->descs = kvmalloc(BSDMEM_KDUMP_DESCS * BSDMEM_KDUMP_DESC_LEN,
			    GFP_KERNEL);
	k->spill = (void *)__get_free_page(GFP_KERNEL);
	if (!k->ram || !k->descs || !k->spill)
		goto err;
	k->flag = bsdmem_codec_kdump_flag(d->compression);
	if (d->compression == KERNELDUMP_COMP_NONE)
		return k;
	kind = d->compression == KERNELDUMP_COMP_GZIP ? BSDMEM_CODEC_ZLIB :
							  BSDMEM_CODEC_ZSTD;
	k->par = bsdmem_par_open(kind, PAGE_SIZE, BSDMEM_KD_IN_LEN,
				 BSDMEM_KD_OUT_LEN, bsdmem_kd_run, k,
				 bsdmem_par_default_workers());
	if (IS_ERR(k->par)) {
		ret = PTR_ERR(k->par);
		k->par = NULL;
		goto err;
	}
	return k;
err:
	bsdmem_kdump_close(k);
	return ERR_PTR(ret);
}

void bsdmem_kdump_close(struct bsdmem_kdump *k)
{
	if (k->par)
		bsdmem_par_close(k->par);
	free_page((unsigned long)k->spill);
	kvfree(k->descs);
	vfree(k->ram);
	kfree(k);
}

void bsdmem_kdump_exclude(struct bsdmem_kdump *k, struct bsdmem_dump *d,
			  void (*exclude)(const void *, size_t, void *),
			  void *arg)
{
	exclude(k->ram, BITS_TO_LONGS(d->nbits) * sizeof(long), arg);
	exclude(k->descs, BSDMEM_KDUMP_DESCS * BSDMEM_KDUMP_DESC_LEN, arg);
	exclude(k->spill, PAGE_SIZE, arg);
	if (k->par)
		bsdmem_par_exclude(k->par, exclude, arg);
}

/* ---- headers and bitmaps ---- */

/*
 * The bitmap helpers count bits in an unsigned int on 6.1 to 7.x: page
 * frames at 2^32 (16 TiB) and above need these, in unsigned long.
 */
static void bsdmem_bits_set(unsigned long *map, unsigned long start,
			    unsigned long end)
{
	for (; start < end && start % BITS_PER_LONG; start++)
		__set_bit(start, map);
	for (; start + BITS_PER_LONG <= end; start += BITS_PER_LONG)
		map[start / BITS_PER_LONG] = ~0UL;
	for (; start < end; start++)
		__set_bit(start, map);
}

static unsigned long bsdmem_bits_count(const unsigned long *map,
				       unsigned long nbits)
{
	unsigned long i, n = 0;

	for (i = 0; i < BITS_TO_LONGS(nbits); i++)
		n += hweight_long(map[i]);
	return n;
}

static int bsdmem_kd_mark_ram(struct resource *res, void *arg)
{
	struct bsdmem_dump *d = arg;
	unsigned long start = PFN_UP(res->start);
	unsigned long end = min(PFN_DOWN(res->end + 1), d->nbits);

	if (start < end)
		bsdmem_bits_set(d->kd->ram, start, end);
	return 0;
}

/*
 * The first bitmap: RAM, as the resources say now, and every page frame
 * the plan took (memory added or removed since the plan stays
 * consistent: a dumped page is always RAM to the reader).
 */
static void bsdmem_kd_ram_bitmap(struct bsdmem_kdump *k, struct bsdmem_dump *d)
{
	unsigned long i;

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, -1, d,
			    bsdmem_kd_mark_ram);
	for (i = 0; i < BITS_TO_LONGS(d->nbits); i++)
		k->ram[i] |= d->bitmap[i];
}

static int bsdmem_kd_headers(struct bsdmem_kdump *k, struct bsdmem_dump *d,
			     const struct bsdmem_kdump_layout *l)
{
	struct bsdmem_kdump_info i = {
		.uts = init_utsname(),
		.status = k->flag | BSDMEM_KDUMP_INCOMPLETE,
		.current_cpu = d->cpu,
		.nr_cpus = d->ncpus,
		/* makedumpfile's -d: what the plan left out */
		.dump_level = d->whole_ram ? 0 : BSDMEM_KDUMP_LEVEL,
		.phys_base = phys_base,
	};
	size_t len = bsdmem_kdump_headers_size(l), descsz;
	struct timespec64 now;
	void *hdr;
	int ret;

	ktime_get_real_ts64(&now);
	i.tv_sec = now.tv_sec;
	i.tv_usec = now.tv_nsec / NSEC_PER_USEC;
	i.vmcoreinfo_off = d->vmci_off +
			   bsdmem_elf_note_desc(d->notes + d->vmci_off, &descsz);
	i.vmcoreinfo_len = descsz;
	hdr = kvmalloc(len, GFP_KERNEL);
	if (!hdr)
		return -ENOMEM;
	ret = bsdmem_kdump_build_headers(hdr, l, &i, d->notes);
	memcpy(k->hdr, hdr, BSDMEM_KDUMP_HDR_LEN);
	if (!ret)
		ret = bsdmem_kd_put(k, hdr, len);
	kvfree(hdr);
	return ret;
}

/* One bitmap, padded with zeros to its blocks. */
static int bsdmem_kd_bitmap(struct bsdmem_kdump *k, const unsigned long *map,
			    unsigned long nbits, u64 blocks)
{
	size_t len = BITS_TO_LONGS(nbits) * sizeof(long);
	int ret = bsdmem_kd_put(k, map, len);

	return ret ?: bsdmem_kd_put(k, NULL, blocks * PAGE_SIZE - len);
}

/* ---- pages ---- */

static int bsdmem_kd_flush_descs(struct bsdmem_kdump *k)
{
	size_t len = k->ndescs * BSDMEM_KDUMP_DESC_LEN;
	int ret;

	if (!k->ndescs)
		return 0;
	ret = bsdmem_kd_seek(k, k->desc_at);
	if (!ret)
		ret = bsdmem_kd_put(k, k->descs, len);
	if (!ret)
		ret = bsdmem_kd_seek(k, k->data_at);
	k->desc_at += len;
	k->ndescs = 0;
	return ret;
}

static int bsdmem_kd_desc(struct bsdmem_kdump *k, u64 at, u32 size, u32 flags)
{
	bsdmem_kdump_desc_put(k->descs + k->ndescs * BSDMEM_KDUMP_DESC_LEN,
			      at, size, flags);
	k->ndone++;
	if (++k->ndescs < BSDMEM_KDUMP_DESCS)
		return 0;
	return bsdmem_kd_flush_descs(k);
}

/*
 * Uncompressed, one page: read straight into the output buffer where a
 * whole page fits, else into the spill page and copied. (The buffer holds
 * whole pages after the zero page and the descriptors' seeks, so the
 * spill page is a guard: a page never goes past the buffer's end.)
 */
static int bsdmem_kd_plain_page(struct bsdmem_kdump *k, unsigned long pfn)
{
	bool room = BSDMEM_OUT_LEN - k->used >= PAGE_SIZE;
	u8 *dst = room ? k->buf + k->used : k->spill;
	u64 at = k->data_at, t0 = ktime_get_ns();
	bool ok = bsdmem_dump_read_pfn(pfn, dst);
	int ret;

	bsdmem_phase_add(BSDMEM_PH_READ, ktime_get_ns() - t0);
	if (!ok || !memchr_inv(dst, 0, PAGE_SIZE))
		return bsdmem_kd_desc(k, k->zero_at, PAGE_SIZE, 0);
	ret = room ? bsdmem_kd_took(k, PAGE_SIZE) :
		     bsdmem_kd_put(k, dst, PAGE_SIZE);
	if (ret)
		return ret;
	k->data_at += PAGE_SIZE;
	return bsdmem_kd_desc(k, at, PAGE_SIZE, 0);
}

static unsigned long *bsdmem_kd_pfns(struct bsdmem_par_job *job)
{
	return (unsigned long *)job->in;
}

static struct bsdmem_kd_meta *bsdmem_kd_meta(struct bsdmem_par_job *job)
{
	return (struct bsdmem_kd_meta *)job->out;
}

/* A worker: read and compress each page of a batch. */
static int bsdmem_kd_run(struct bsdmem_par_job *job, void *arg)
{
	struct bsdmem_kdump *k = arg;
	struct bsdmem_kd_meta *m = bsdmem_kd_meta(job);
	u8 *bounce = job->in + BSDMEM_KDUMP_BATCH * sizeof(unsigned long);
	u8 *data = job->out + BSDMEM_KD_META_LEN;
	unsigned int i;
	size_t n;

	for (i = 0; i < job->n; i++, m++) {
		u64 t0 = ktime_get_ns();
		bool ok = bsdmem_dump_read_pfn(bsdmem_kd_pfns(job)[i], bounce);

		job->read_ns += ktime_get_ns() - t0;
		m->size = 0;
		if (!ok || !memchr_inv(bounce, 0, PAGE_SIZE))
			continue;
		n = bsdmem_codec_run(job->codec, bounce, PAGE_SIZE, data,
				     PAGE_SIZE - 1);
		m->flags = n ? k->flag : 0;
		if (!n) {
			memcpy(data, bounce, PAGE_SIZE);
			n = PAGE_SIZE;
		}
		m->size = n;
		data += n;
	}
	return 0;
}

/* A batch its worker has done: its pages' data and descriptors. */
static int bsdmem_kd_emit(struct bsdmem_kdump *k, struct bsdmem_par_job *job)
{
	struct bsdmem_kd_meta *m = bsdmem_kd_meta(job);
	u8 *data = job->out + BSDMEM_KD_META_LEN;
	unsigned int i;
	int ret = job->err;

	for (i = 0; !ret && i < job->n; i++, m++) {
		if (!m->size) {
			ret = bsdmem_kd_desc(k, k->zero_at, PAGE_SIZE, 0);
			continue;
		}
		ret = bsdmem_kd_put(k, data, m->size);
		k->data_at += m->size;
		/* after: a flush of the descriptors goes back to data_at */
		if (!ret)
			ret = bsdmem_kd_desc(k, k->data_at - m->size, m->size,
					     m->flags);
		data += m->size;
	}
	atomic64_add(job->n, &bsdmem_pages_written);
	return ret;
}

/* The batch to fill: the current one, or a free one once emitted. */
static int bsdmem_kd_batch(struct bsdmem_kdump *k, struct bsdmem_par_job **job)
{
	int ret;

	if (*job)
		return 0;
	if (bsdmem_par_full(k->par)) {
		ret = bsdmem_kd_emit(k, bsdmem_par_collect(k->par));
		if (ret)
			return ret;
	}
	*job = bsdmem_par_job(k->par);
	(*job)->n = 0;
	return 0;
}

static int bsdmem_kd_compressed(struct bsdmem_kdump *k, struct bsdmem_dump *d)
{
	struct bsdmem_par_job *job = NULL;
	unsigned long pfn;
	int ret;

	for_each_set_bit(pfn, d->bitmap, d->nbits) {
		ret = bsdmem_kd_batch(k, &job);
		if (ret)
			return ret;
		bsdmem_kd_pfns(job)[job->n++] = pfn;
		if (job->n == BSDMEM_KDUMP_BATCH) {
			bsdmem_par_submit(k->par);
			job = NULL;
			if (bsdmem_dump_aborted(d))
				return -EINTR;
		}
		cond_resched();
	}
	if (job && job->n)
		bsdmem_par_submit(k->par);
	while ((job = bsdmem_par_collect(k->par))) {
		ret = bsdmem_kd_emit(k, job);
		if (ret)
			return ret;
	}
	return 0;
}

static int bsdmem_kd_plain(struct bsdmem_kdump *k, struct bsdmem_dump *d)
{
	unsigned long pfn;
	int ret;

	for_each_set_bit(pfn, d->bitmap, d->nbits) {
		ret = bsdmem_kd_plain_page(k, pfn);
		atomic64_inc(&bsdmem_pages_written);
		if (!ret && bsdmem_dump_aborted(d))
			ret = -EINTR;
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

static int bsdmem_kd_pages(struct bsdmem_kdump *k, struct bsdmem_dump *d,
			   const struct bsdmem_kdump_layout *l)
{
	int ret;

	k->desc_at = l->desc_off;
	k->zero_at = l->data_off;
	k->data_at = l->data_off + PAGE_SIZE;
	ret = bsdmem_kd_seek(k, l->data_off);
	if (!ret)
		ret = bsdmem_kd_put(k, NULL, PAGE_SIZE);
	if (!ret)
		ret = k->par ? bsdmem_kd_compressed(k, d) : bsdmem_kd_plain(k, d);
	return ret ?: bsdmem_kd_flush_descs(k);
}

/* The whole container, after the plan; the last buffer handed over too. */
int bsdmem_kdump_write(struct bsdmem_kdump *k, struct bsdmem_dump *d)
{
	struct bsdmem_kdump_layout l;
	int ret;

	bsdmem_kd_ram_bitmap(k, d);
	bsdmem_kdump_layout(&l, d->nbits, d->notes_len,
			    bsdmem_bits_count(d->bitmap, d->nbits));
	atomic64_set(&bsdmem_pages_planned, l.npages);
	ret = bsdmem_kd_headers(k, d, &l);
	if (!ret)
		ret = bsdmem_kd_bitmap(k, k->ram, d->nbits, l.bitmap_blocks / 2);
	if (!ret)
		ret = bsdmem_kd_bitmap(k, d->bitmap, d->nbits,
				       l.bitmap_blocks / 2);
	if (!ret)
		ret = bsdmem_kd_pages(k, d, &l);
	/* as many descriptors as the layout has room for, not one more */
	if (!ret && k->ndone != l.npages)
		ret = -EIO;
	if (!ret) {
		bsdmem_kdump_complete(k->hdr);
		ret = bsdmem_kd_seek(k, 0);
	}
	if (!ret)
		ret = bsdmem_kd_put(k, k->hdr, BSDMEM_KDUMP_HDR_LEN);
	if (!ret)
		ret = bsdmem_out_put_at(k->out, k->used, k->at, NULL);
	return ret;
}
