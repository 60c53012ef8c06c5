/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MEM_KERNELDUMP internals: the dump plan, the ELF layout and the output
 * stream (none, gzip, zstd) between them.
 */
#ifndef _BSDMEM_DUMP_H
#define _BSDMEM_DUMP_H

#include <linux/completion.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* e_phnum is 16 bits; one PT_NOTE and one kernel-image PT_LOAD besides. */
#define BSDMEM_MAX_SEGS		65000

struct file;
struct pt_regs;

struct bsdmem_seg {
	u64	start_pfn;
	u64	npages;
};

struct bsdmem_elf_layout {
	const struct bsdmem_seg	*segs;
	unsigned int		nsegs;
	size_t			notes_len;
	u64			kimage_vaddr;
	u64			kimage_paddr;
	u64			kimage_len;
	u64			direct_map_base;
};

/* bsdmem_elf.c (pure) */
size_t bsdmem_elf_note_size(const char *name, size_t descsz);
size_t bsdmem_elf_note_put(void *buf, const char *name, u32 type,
			   const void *desc, size_t descsz);
size_t bsdmem_elf_note_total(const void *note, size_t avail);
size_t bsdmem_elf_note_desc(const void *note, size_t *descsz);
size_t bsdmem_elf_prstatus_size(void);
size_t bsdmem_elf_prstatus_put(void *buf, const struct pt_regs *regs,
			       pid_t pid);
size_t bsdmem_elf_headers_size(unsigned int nsegs);
u64 bsdmem_elf_data_offset(unsigned int nsegs, size_t notes_len);
int bsdmem_elf_build_headers(void *buf, const struct bsdmem_elf_layout *l);
unsigned int bsdmem_plan_segments(const unsigned long *bitmap,
				  unsigned long nbits, unsigned long max_hole,
				  struct bsdmem_seg *segs, unsigned int max_segs);
unsigned int bsdmem_plan_carve(struct bsdmem_seg *segs, unsigned int nsegs,
			       unsigned int max_segs, u64 start_pfn,
			       u64 npages);

/*
 * bsdmem_dump.c: where a dump's time goes, for make bench (the
 * dump_phases parameter): summed over the threads that spent it.
 */
enum bsdmem_phase {
	BSDMEM_PH_PLAN,		/* notes, kernel image, plan: the thread */
	BSDMEM_PH_READ,		/* copying pages: the thread or the workers */
	BSDMEM_PH_COMPRESS,	/* the workers, less their reads */
	BSDMEM_PH_WRITE,	/* the caller's writes into its file */
	BSDMEM_PH_TOTAL,	/* the ioctl, start to end */
	BSDMEM_PH_N
};
void bsdmem_phase_add(enum bsdmem_phase ph, u64 ns);

/* bsdmem_kdump.c: the kdump-compressed container (pure) */
#define BSDMEM_KDUMP_HDR_LEN	464
#define BSDMEM_KDUMP_SUB_LEN	104
#define BSDMEM_KDUMP_DESC_LEN	24
#define BSDMEM_KDUMP_ZLIB	0x01	/* page flags and header status */
#define BSDMEM_KDUMP_ZSTD	0x20
#define BSDMEM_KDUMP_INCOMPLETE	0x08	/* header status, until the end */
#define BSDMEM_KDUMP_LEVEL	30	/* no page cache, user or free pages */
#define BSDMEM_FLAT_HDR_LEN	4096
#define BSDMEM_FLAT_PIECE_LEN	16

struct new_utsname;

struct bsdmem_kdump_layout {
	u64	max_mapnr;	/* page frames the bitmaps cover */
	u64	npages;		/* dumped pages: one descriptor each */
	size_t	notes_len;
	u64	sub_blocks;	/* the sub header and the notes */
	u64	bitmap_blocks;	/* both bitmaps */
	u64	bitmap_off;
	u64	desc_off;
	u64	data_off;
};

struct bsdmem_kdump_info {
	const struct new_utsname *uts;
	s64	tv_sec;
	s64	tv_usec;
	u32	status;		/* BSDMEM_KDUMP_ZLIB, _ZSTD or 0 */
	u32	current_cpu;
	u32	nr_cpus;
	u32	dump_level;
	u64	phys_base;
	u64	vmcoreinfo_off;	/* its descriptor, within the notes */
	u64	vmcoreinfo_len;
};

void bsdmem_kdump_layout(struct bsdmem_kdump_layout *l, u64 max_mapnr,
			 size_t notes_len, u64 npages);
size_t bsdmem_kdump_headers_size(const struct bsdmem_kdump_layout *l);
int bsdmem_kdump_build_headers(void *buf, const struct bsdmem_kdump_layout *l,
			       const struct bsdmem_kdump_info *i,
			       const void *notes);
void bsdmem_kdump_desc_put(void *buf, u64 off, u32 size, u32 flags);
void bsdmem_kdump_complete(void *hdr);
void bsdmem_flat_header(void *buf);
void bsdmem_flat_piece(void *buf, s64 off, s64 len);

/* bsdmem_codec.c: one self-contained compressed unit at a time */
enum bsdmem_codec_kind {
	BSDMEM_CODEC_GZIP,	/* a gzip member */
	BSDMEM_CODEC_ZLIB,	/* zlib's format (a kdump page) */
	BSDMEM_CODEC_ZSTD,	/* a zstd frame */
};
struct bsdmem_codec;
struct bsdmem_codec *bsdmem_codec_open(enum bsdmem_codec_kind kind, int level,
				       size_t max_in);
void bsdmem_codec_close(struct bsdmem_codec *c);
size_t bsdmem_codec_run(struct bsdmem_codec *c, const void *in, size_t len,
			void *out, size_t cap);
size_t bsdmem_codec_bound(enum bsdmem_codec_kind kind, size_t len);
u32 bsdmem_codec_kdump_flag(int compression);
void bsdmem_codec_exclude(struct bsdmem_codec *c,
			  void (*exclude)(const void *, size_t, void *),
			  void *arg);

/* bsdmem_par.c: compression on worker threads, results in order */
struct bsdmem_par;
struct bsdmem_par_job {
	struct work_struct	work;
	struct completion	done;
	struct bsdmem_par	*par;
	struct bsdmem_codec	*codec;
	u8			*in;
	size_t			in_cap;
	size_t			in_len;
	u8			*out;
	size_t			out_cap;
	size_t			out_len;
	unsigned int		n;	/* the kdump writer's pages */
	u64			read_ns;	/* of run()'s time, reading */
	int			err;
};
unsigned int bsdmem_par_workers(unsigned int setting, unsigned int cpus);
unsigned int bsdmem_par_default_workers(void);
struct bsdmem_par *bsdmem_par_open(enum bsdmem_codec_kind kind, size_t unit,
				   size_t in_cap, size_t out_cap,
				   int (*run)(struct bsdmem_par_job *, void *),
				   void *arg, unsigned int nw);
void bsdmem_par_close(struct bsdmem_par *p);
void bsdmem_par_exclude(struct bsdmem_par *p,
			void (*exclude)(const void *, size_t, void *),
			void *arg);
bool bsdmem_par_full(struct bsdmem_par *p);
struct bsdmem_par_job *bsdmem_par_job(struct bsdmem_par *p);
void bsdmem_par_submit(struct bsdmem_par *p);
struct bsdmem_par_job *bsdmem_par_collect(struct bsdmem_par *p);

/* bsdmem_compress.c: gzip framing (pure) */
#define BSDMEM_GZIP_HDR_LEN	10
#define BSDMEM_GZIP_TRL_LEN	8
void bsdmem_gzip_header(u8 *hdr);
void bsdmem_gzip_trailer(u8 *trl, u32 crc, u64 total_in);

/*
 * bsdmem_dump_out.c: the buffers the dumping thread fills and the caller
 * writes to its file (see there why the caller writes).
 */
#define BSDMEM_OUT_LEN		SZ_1M
#define BSDMEM_OUT_BUFS		2
struct bsdmem_out;
enum bsdmem_out_layout {
	BSDMEM_OUT_SEQ,		/* one stream, in order */
	BSDMEM_OUT_AT,		/* pieces at their offsets in the file */
	BSDMEM_OUT_FLAT,	/* pieces in makedumpfile's flattened format */
};
/* pure */
enum bsdmem_out_layout bsdmem_out_layout_for(bool kdump, bool positioned);
bool bsdmem_out_has_room(unsigned long filled, unsigned long written);
bool bsdmem_out_retryable(long ret);
unsigned int bsdmem_out_backoff_ms(unsigned int idle);
/* set up and torn down by the caller */
struct bsdmem_out *bsdmem_out_alloc(struct file *file, bool kdump);
void bsdmem_out_free(struct bsdmem_out *o);
void bsdmem_out_exclude(struct bsdmem_out *o,
			void (*exclude)(const void *, size_t, void *),
			void *arg);
/* the dumping thread's side */
u8 *bsdmem_out_first(struct bsdmem_out *o);
int bsdmem_out_put(struct bsdmem_out *o, size_t len, u8 **next);
int bsdmem_out_put_at(struct bsdmem_out *o, size_t len, u64 at, u8 **next);
void bsdmem_out_end(struct bsdmem_out *o, int result);
/* the caller's side */
int bsdmem_out_run(struct bsdmem_out *o);
void bsdmem_out_stop(struct bsdmem_out *o);

/* bsdmem_compress.c: the output stream, into those buffers */
int bsdmem_gzip_level_get(void);
int bsdmem_zstd_level_get(void);
struct bsdmem_stream;
struct bsdmem_stream *bsdmem_stream_open(struct bsdmem_out *out,
					 int compression);
int bsdmem_stream_write(struct bsdmem_stream *s, const void *buf, size_t len);
void *bsdmem_stream_reserve(struct bsdmem_stream *s, size_t len);
int bsdmem_stream_commit(struct bsdmem_stream *s, size_t len);
int bsdmem_stream_finish(struct bsdmem_stream *s);
void bsdmem_stream_close(struct bsdmem_stream *s);
/* its own buffers, to keep them out of the dump */
void bsdmem_stream_exclude(struct bsdmem_stream *s,
			   void (*exclude)(const void *, size_t, void *),
			   void *arg);

#endif /* _BSDMEM_DUMP_H */
