// SPDX-License-Identifier: GPL-2.0
/*
 * The output stream of a live dump: plain, gzip (the kernel's zlib deflate
 * in RFC 1952 framing) or zstd (the kernel's zstd stream API, one frame
 * with a checksum), produced strictly sequentially so that pipes and
 * sockets work as well as regular files. The dumping thread runs it; its
 * output goes into the buffers that the caller writes to its file
 * (bsdmem_dump_out.c).
 */
#include <linux/crc32.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/zlib.h>
#include <linux/zstd.h>
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

struct bsdmem_stream {
	struct bsdmem_out *sink;
	int		comp;
	int		err;
	u8		*out;		/* the sink's buffer being filled */
	size_t		used;
	u32		crc;
	u64		total_in;
	struct z_stream_s zs;
	void		*zws;
	size_t		zws_len;
	zstd_cstream	*zcs;
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

static int bsdmem_stream_room(struct bsdmem_stream *s)
{
	return s->used == BSDMEM_OUT_LEN ? bsdmem_stream_flush(s) : 0;
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
		ret = bsdmem_stream_room(s);
		if (ret)
			return ret;
	}
	return 0;
}

static int bsdmem_gzip_run(struct bsdmem_stream *s, int flush)
{
	int zret, ret;

	for (;;) {
		s->zs.next_out = s->out + s->used;
		s->zs.avail_out = BSDMEM_OUT_LEN - s->used;
		zret = zlib_deflate(&s->zs, flush);
		s->used = BSDMEM_OUT_LEN - s->zs.avail_out;
		if (zret == Z_STREAM_END)
			return 0;
		if (zret != Z_OK && zret != Z_BUF_ERROR)
			return -EIO;
		if (flush == Z_NO_FLUSH && !s->zs.avail_in && s->zs.avail_out)
			return 0;
		ret = bsdmem_stream_flush(s);
		if (ret)
			return ret;
	}
}

static int bsdmem_gzip_write(struct bsdmem_stream *s, const void *buf,
			     size_t len)
{
	s->crc = crc32_le(s->crc, buf, len);
	s->zs.next_in = buf;
	s->zs.avail_in = len;
	return bsdmem_gzip_run(s, Z_NO_FLUSH);
}

static int bsdmem_zstd_write(struct bsdmem_stream *s, const void *buf,
			     size_t len)
{
	zstd_in_buffer in = { .src = buf, .size = len, .pos = 0 };
	zstd_out_buffer out;
	size_t zret;
	int ret;

	while (in.pos < in.size) {
		out.dst = s->out + s->used;
		out.size = BSDMEM_OUT_LEN - s->used;
		out.pos = 0;
		zret = zstd_compress_stream(s->zcs, &out, &in);
		if (zstd_is_error(zret))
			return -EIO;
		s->used += out.pos;
		ret = bsdmem_stream_room(s);
		if (ret)
			return ret;
	}
	return 0;
}

int bsdmem_stream_write(struct bsdmem_stream *s, const void *buf, size_t len)
{
	if (s->err)
		return s->err;
	s->total_in += len;
	switch (s->comp) {
	case KERNELDUMP_COMP_GZIP:
		s->err = bsdmem_gzip_write(s, buf, len);
		break;
	case KERNELDUMP_COMP_ZSTD:
		s->err = bsdmem_zstd_write(s, buf, len);
		break;
	default:
		s->err = bsdmem_plain_write(s, buf, len);
	}
	return s->err;
}

static int bsdmem_zstd_finish(struct bsdmem_stream *s)
{
	zstd_out_buffer out;
	size_t left;
	int ret;

	do {
		out.dst = s->out + s->used;
		out.size = BSDMEM_OUT_LEN - s->used;
		out.pos = 0;
		left = zstd_end_stream(s->zcs, &out);
		if (zstd_is_error(left))
			return -EIO;
		s->used += out.pos;
		ret = left ? bsdmem_stream_flush(s) : 0;
		if (ret)
			return ret;
	} while (left);
	return 0;
}

static int bsdmem_gzip_finish(struct bsdmem_stream *s)
{
	int ret;

	s->zs.next_in = NULL;
	s->zs.avail_in = 0;
	ret = bsdmem_gzip_run(s, Z_FINISH);
	if (ret)
		return ret;
	if (BSDMEM_OUT_LEN - s->used < BSDMEM_GZIP_TRL_LEN) {
		ret = bsdmem_stream_flush(s);
		if (ret)
			return ret;
	}
	bsdmem_gzip_trailer(s->out + s->used, ~s->crc, s->total_in);
	s->used += BSDMEM_GZIP_TRL_LEN;
	return 0;
}

/* End the compressed stream, hand over what is buffered. */
int bsdmem_stream_finish(struct bsdmem_stream *s)
{
	if (s->err)
		return s->err;
	if (s->comp == KERNELDUMP_COMP_GZIP)
		s->err = bsdmem_gzip_finish(s);
	else if (s->comp == KERNELDUMP_COMP_ZSTD)
		s->err = bsdmem_zstd_finish(s);
	if (!s->err)
		s->err = bsdmem_out_put(s->sink, s->used, NULL);
	return s->err;
}

static int bsdmem_gzip_init(struct bsdmem_stream *s)
{
	int level = bsdmem_gzip_level_get();

	s->zws_len = zlib_deflate_workspacesize(-MAX_WBITS, MAX_MEM_LEVEL);
	s->zws = vzalloc(s->zws_len);
	if (!s->zws)
		return -ENOMEM;
	s->zs.workspace = s->zws;
	if (zlib_deflateInit2(&s->zs, level, Z_DEFLATED, -MAX_WBITS,
			      DEF_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return -EINVAL;
	bsdmem_gzip_header(s->out);
	s->used = BSDMEM_GZIP_HDR_LEN;
	s->crc = ~0U;
	return 0;
}

static int bsdmem_zstd_init(struct bsdmem_stream *s)
{
	int level = bsdmem_zstd_level_get();
	zstd_parameters params = zstd_get_params(level, 0);

	params.fParams.checksumFlag = 1;
	params.fParams.contentSizeFlag = 0;
	s->zws_len = zstd_cstream_workspace_bound(&params.cParams);
	s->zws = vzalloc(s->zws_len);
	if (!s->zws)
		return -ENOMEM;
	s->zcs = zstd_init_cstream(&params, 0, s->zws, s->zws_len);
	return s->zcs ? 0 : -EINVAL;
}

struct bsdmem_stream *bsdmem_stream_open(struct bsdmem_out *sink,
					 int compression)
{
	struct bsdmem_stream *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int ret = 0;

	if (!s)
		return ERR_PTR(-ENOMEM);
	s->sink = sink;
	s->comp = compression;
	s->out = bsdmem_out_first(sink);
	if (compression == KERNELDUMP_COMP_GZIP)
		ret = bsdmem_gzip_init(s);
	else if (compression == KERNELDUMP_COMP_ZSTD)
		ret = bsdmem_zstd_init(s);
	if (ret)
		goto err;
	return s;
err:
	bsdmem_stream_close(s);
	return ERR_PTR(ret);
}

void bsdmem_stream_close(struct bsdmem_stream *s)
{
	if (s->comp == KERNELDUMP_COMP_GZIP && s->zs.workspace)
		zlib_deflateEnd(&s->zs);
	vfree(s->zws);
	kfree(s);
}

void bsdmem_stream_exclude(struct bsdmem_stream *s,
			   void (*exclude)(const void *, size_t, void *),
			   void *arg)
{
	if (s->zws)
		exclude(s->zws, s->zws_len, arg);
}
