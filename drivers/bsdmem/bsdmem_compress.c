// SPDX-License-Identifier: GPL-2.0
/*
 * The output stream of the ELF core: plain, gzip or zstd, produced
 * strictly sequentially so that pipes and sockets work as well as regular
 * files. The dumping thread fills it; its output goes into the buffers
 * that the caller writes to its file (bsdmem_dump_out.c).
 *
 * Compressed, the input is cut into chunks of BSDMEM_CHUNK_LEN bytes,
 * each compressed on its own by a worker (bsdmem_par.c) into a gzip
 * member or a zstd frame with its checksum; gzip -d and zstd -d read the
 * concatenation as one file. Chunks end where the input's length says,
 * never where a worker does: the output is the same bytes whatever the
 * number of workers.
 */
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

/* Fast defaults: a live dump should disturb the system briefly. */
static int bsdmem_gzip_level = 1;
module_param_named(gzip_level, bsdmem_gzip_level, int, 0644);
MODULE_PARM_DESC(gzip_level, "zlib level for gzip dumps, 1-9 (default 1)");

static int bsdmem_zstd_level = 1;
module_param_named(zstd_level, bsdmem_zstd_level, int, 0644);
MODULE_PARM_DESC(zstd_level, "zstd level for zstd dumps, 1-19 (default 1)");

/* The levels as set now, in their ranges (the per-page codecs use them too). */
int bsdmem_gzip_level_get(void)
{
	return clamp(READ_ONCE(bsdmem_gzip_level), 1, 9);
}

int bsdmem_zstd_level_get(void)
{
	return clamp(READ_ONCE(bsdmem_zstd_level), 1, 19);
}

#define BSDMEM_CHUNK_LEN	SZ_1M

struct bsdmem_stream {
	struct bsdmem_out	*sink;
	int			err;
	u8			*out;		/* the sink's buffer being filled */
	size_t			used;
	struct bsdmem_par	*par;		/* compressed: the workers */
	struct bsdmem_par_job	*job;		/* the chunk being filled */
};

/* RFC 1952: magic, deflate, no flags, no mtime, no extra flags, Unix. */
void bsdmem_gzip_header(u8 *hdr)
{
	static const u8 h[BSDMEM_GZIP_HDR_LEN] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
	};

	memcpy(hdr, h, sizeof(h));
}

static void bsdmem_put_le32(u8 *p, u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* CRC32 of the input and its length modulo 2^32, both little-endian. */
void bsdmem_gzip_trailer(u8 *trl, u32 crc, u64 total_in)
{
	bsdmem_put_le32(trl, crc);
	bsdmem_put_le32(trl + 4, (u32)total_in);
}

/* Hand the full buffer to the caller and go on in an empty one. */
static int bsdmem_stream_flush(struct bsdmem_stream *s)
{
	int ret = bsdmem_out_put(s->sink, s->used, &s->out);

	if (!ret)
		s->used = 0;
	return ret;
}

static int bsdmem_plain_write(struct bsdmem_stream *s, const void *buf,
			      size_t len)
{
	int ret;

	while (len) {
		size_t n = min(len, BSDMEM_OUT_LEN - s->used);

		memcpy(s->out + s->used, buf, n);
		s->used += n;
		buf += n;
		len -= n;
		if (s->used == BSDMEM_OUT_LEN) {
			ret = bsdmem_stream_flush(s);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* A worker: one chunk into one member or frame. */
static int bsdmem_stream_run(struct bsdmem_par_job *job, void *arg)
{
	job->out_len = bsdmem_codec_run(job->codec, job->in, job->in_len,
					job->out, job->out_cap);
	return job->out_len ? 0 : -EIO;
}

/* The oldest compressed chunk, waited for and written out. */
static int bsdmem_stream_emit(struct bsdmem_stream *s,
			      struct bsdmem_par_job *job)
{
	return job->err ?: bsdmem_plain_write(s, job->out, job->out_len);
}

/* The chunk to fill: the current one, or a free one. */
static int bsdmem_stream_chunk(struct bsdmem_stream *s)
{
	int ret;

	if (s->job)
		return 0;
	if (bsdmem_par_full(s->par)) {
		ret = bsdmem_stream_emit(s, bsdmem_par_collect(s->par));
		if (ret)
			return ret;
	}
	s->job = bsdmem_par_job(s->par);
	s->job->in_len = 0;
	return 0;
}

static void bsdmem_stream_submit(struct bsdmem_stream *s)
{
	bsdmem_par_submit(s->par);
	s->job = NULL;
}

/*
 * Room for len contiguous bytes of input (len <= PAGE_SIZE), to be read
 * into straight from memory: in the sink's buffer when plain, else in the
 * chunk. An ERR_PTR() on error. bsdmem_stream_commit() then takes them.
 */
void *bsdmem_stream_reserve(struct bsdmem_stream *s, size_t len)
{
	if (s->err)
		return ERR_PTR(s->err);
	if (!s->par) {
		if (BSDMEM_OUT_LEN - s->used < len)
			s->err = bsdmem_stream_flush(s);
		return s->err ? ERR_PTR(s->err) : s->out + s->used;
	}
	if (s->job && BSDMEM_CHUNK_LEN - s->job->in_len < len)
		bsdmem_stream_submit(s);
	s->err = bsdmem_stream_chunk(s);
	return s->err ? ERR_PTR(s->err) : s->job->in + s->job->in_len;
}

int bsdmem_stream_commit(struct bsdmem_stream *s, size_t len)
{
	if (s->err)
		return s->err;
	if (!s->par) {
		s->used += len;
		if (s->used == BSDMEM_OUT_LEN)
			s->err = bsdmem_stream_flush(s);
		return s->err;
	}
	s->job->in_len += len;
	if (s->job->in_len == BSDMEM_CHUNK_LEN)
		bsdmem_stream_submit(s);
	return 0;
}

int bsdmem_stream_write(struct bsdmem_stream *s, const void *buf, size_t len)
{
	size_t n;

	if (s->err)
		return s->err;
	if (!s->par) {
		s->err = bsdmem_plain_write(s, buf, len);
		return s->err;
	}
	while (len) {
		s->err = bsdmem_stream_chunk(s);
		if (s->err)
			return s->err;
		n = min(len, BSDMEM_CHUNK_LEN - s->job->in_len);
		memcpy(s->job->in + s->job->in_len, buf, n);
		buf += n;
		len -= n;
		bsdmem_stream_commit(s, n);
	}
	return 0;
}

/* The last chunk, every chunk written out, what is buffered handed over. */
int bsdmem_stream_finish(struct bsdmem_stream *s)
{
	struct bsdmem_par_job *job;

	if (s->err)
		return s->err;
	if (s->job && s->job->in_len)
		bsdmem_stream_submit(s);
	while (s->par && !s->err && (job = bsdmem_par_collect(s->par)))
		s->err = bsdmem_stream_emit(s, job);
	if (!s->err)
		s->err = bsdmem_out_put(s->sink, s->used, NULL);
	return s->err;
}

struct bsdmem_stream *bsdmem_stream_open(struct bsdmem_out *sink,
					 int compression)
{
	struct bsdmem_stream *s = kzalloc(sizeof(*s), GFP_KERNEL);
	enum bsdmem_codec_kind kind = compression == KERNELDUMP_COMP_GZIP ?
				      BSDMEM_CODEC_GZIP : BSDMEM_CODEC_ZSTD;

	if (!s)
		return ERR_PTR(-ENOMEM);
	s->sink = sink;
	s->out = bsdmem_out_first(sink);
	if (compression == KERNELDUMP_COMP_NONE)
		return s;
	s->par = bsdmem_par_open(kind, BSDMEM_CHUNK_LEN, BSDMEM_CHUNK_LEN,
				 bsdmem_codec_bound(kind, BSDMEM_CHUNK_LEN),
				 bsdmem_stream_run, s,
				 bsdmem_par_default_workers());
	if (IS_ERR(s->par)) {
		int ret = PTR_ERR(s->par);

		s->par = NULL;
		bsdmem_stream_close(s);
		return ERR_PTR(ret);
	}
	return s;
}

/* Waits for the workers: nothing runs on the stream's buffers after. */
void bsdmem_stream_close(struct bsdmem_stream *s)
{
	if (s->par)
		bsdmem_par_close(s->par);
	kfree(s);
}

void bsdmem_stream_exclude(struct bsdmem_stream *s,
			   void (*exclude)(const void *, size_t, void *),
			   void *arg)
{
	if (s->par)
		bsdmem_par_exclude(s->par, exclude, arg);
}
