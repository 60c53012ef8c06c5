// SPDX-License-Identifier: GPL-2.0
/*
 * The codecs, each compressing one whole input at a time into one
 * self-contained unit that its reader takes on its own:
 * - BSDMEM_CODEC_GZIP: an RFC 1952 gzip member (raw deflate between a
 *   10-byte header and the CRC32 and size of the input), for the ELF
 *   core's stream, which gzip -d reads as concatenated members;
 * - BSDMEM_CODEC_ZLIB: zlib's own format, as makedumpfile's compress2()
 *   writes a kdump page and uncompress() reads it;
 * - BSDMEM_CODEC_ZSTD: one zstd frame with its checksum, for the stream
 *   (zstd -d reads concatenated frames) and for kdump pages alike.
 * The output depends on the input and the level alone, so a dump cut into
 * the same inputs is the same bytes whichever thread compressed them.
 * Each job of a dump has its own codec, all at the level the dump
 * started with (bsdmem_par.c).
 */
#include <linux/crc32.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/zlib.h>
#include <linux/zstd.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

struct bsdmem_codec {
	enum bsdmem_codec_kind	kind;
	void			*ws;
	size_t			ws_len;
	struct z_stream_s	zs;
	zstd_cctx		*cctx;
	zstd_parameters		params;
};

static int bsdmem_codec_zlib_init(struct bsdmem_codec *c, int level,
				  int wbits)
{
	c->ws_len = zlib_deflate_workspacesize(wbits, DEF_MEM_LEVEL);
	c->ws = vzalloc(c->ws_len);
	if (!c->ws)
		return -ENOMEM;
	c->zs.workspace = c->ws;
	if (zlib_deflateInit2(&c->zs, level, Z_DEFLATED, wbits, DEF_MEM_LEVEL,
			      Z_DEFAULT_STRATEGY) != Z_OK)
		return -EINVAL;
	return 0;
}

static int bsdmem_codec_zstd_init(struct bsdmem_codec *c, int level,
				  size_t max_in)
{
	c->params = zstd_get_params(level, max_in);
	c->params.fParams.checksumFlag = 1;
	c->ws_len = zstd_cctx_workspace_bound(&c->params.cParams);
	c->ws = vzalloc(c->ws_len);
	if (!c->ws)
		return -ENOMEM;
	c->cctx = zstd_init_cctx(c->ws, c->ws_len);
	return c->cctx ? 0 : -EINVAL;
}

/* A codec at level (1-9 for zlib, 1-19 for zstd) for inputs of max_in. */
struct bsdmem_codec *bsdmem_codec_open(enum bsdmem_codec_kind kind, int level,
				       size_t max_in)
{
	struct bsdmem_codec *c = kzalloc(sizeof(*c), GFP_KERNEL);
	int ret = -EINVAL;

	if (!c)
		return ERR_PTR(-ENOMEM);
	c->kind = kind;
	switch (kind) {
	case BSDMEM_CODEC_GZIP:
		ret = bsdmem_codec_zlib_init(c, level, -MAX_WBITS);
		break;
	case BSDMEM_CODEC_ZLIB:
		ret = bsdmem_codec_zlib_init(c, level, MAX_WBITS);
		break;
	case BSDMEM_CODEC_ZSTD:
		ret = bsdmem_codec_zstd_init(c, level, max_in);
		break;
	}
	if (ret) {
		bsdmem_codec_close(c);
		return ERR_PTR(ret);
	}
	return c;
}

void bsdmem_codec_close(struct bsdmem_codec *c)
{
	if (c->kind != BSDMEM_CODEC_ZSTD && c->zs.workspace)
		zlib_deflateEnd(&c->zs);
	vfree(c->ws);
	kfree(c);
}

void bsdmem_codec_exclude(struct bsdmem_codec *c,
			  void (*exclude)(const void *, size_t, void *),
			  void *arg)
{
	if (c->ws)
		exclude(c->ws, c->ws_len, arg);
}

/* deflate all of in into out; bytes written, 0 if they did not fit. */
static size_t bsdmem_codec_deflate(struct bsdmem_codec *c, const void *in,
				   size_t len, void *out, size_t cap)
{
	if (zlib_deflateReset(&c->zs) != Z_OK)
		return 0;
	c->zs.next_in = in;
	c->zs.avail_in = len;
	c->zs.next_out = out;
	c->zs.avail_out = cap;
	if (zlib_deflate(&c->zs, Z_FINISH) != Z_STREAM_END)
		return 0;
	return cap - c->zs.avail_out;
}

static size_t bsdmem_codec_gzip(struct bsdmem_codec *c, const void *in,
				size_t len, u8 *out, size_t cap)
{
	size_t n;

	if (cap < BSDMEM_GZIP_HDR_LEN + BSDMEM_GZIP_TRL_LEN)
		return 0;
	n = bsdmem_codec_deflate(c, in, len, out + BSDMEM_GZIP_HDR_LEN,
				 cap - BSDMEM_GZIP_HDR_LEN -
				 BSDMEM_GZIP_TRL_LEN);
	if (!n)
		return 0;
	bsdmem_gzip_header(out);
	bsdmem_gzip_trailer(out + BSDMEM_GZIP_HDR_LEN + n,
			    ~crc32_le(~0U, in, len), len);
	return BSDMEM_GZIP_HDR_LEN + n + BSDMEM_GZIP_TRL_LEN;
}

/*
 * Compress len bytes of in into out (cap bytes). Returns the unit's size,
 * or 0 if it did not fit in cap (a kdump page that does not shrink is
 * then stored as it is).
 */
size_t bsdmem_codec_run(struct bsdmem_codec *c, const void *in, size_t len,
			void *out, size_t cap)
{
	size_t n;

	switch (c->kind) {
	case BSDMEM_CODEC_GZIP:
		return bsdmem_codec_gzip(c, in, len, out, cap);
	case BSDMEM_CODEC_ZLIB:
		return bsdmem_codec_deflate(c, in, len, out, cap);
	case BSDMEM_CODEC_ZSTD:
		n = zstd_compress_cctx(c->cctx, out, cap, in, len, &c->params);
		return zstd_is_error(n) ? 0 : n;
	}
	return 0;
}

/* The most a unit of len bytes of input can take. */
size_t bsdmem_codec_bound(enum bsdmem_codec_kind kind, size_t len)
{
	/* zlib's deflateBound() for any level and memory level, generously */
	size_t deflate = len + (len >> 3) + (len >> 6) + 64;

	if (kind == BSDMEM_CODEC_ZSTD)
		return zstd_compress_bound(len);
	return deflate + BSDMEM_GZIP_HDR_LEN + BSDMEM_GZIP_TRL_LEN;
}

/* The kdump header's status and page flags for a dump's compression. */
u32 bsdmem_codec_kdump_flag(int compression)
{
	switch (compression) {
	case KERNELDUMP_COMP_GZIP:
		return BSDMEM_KDUMP_ZLIB;
	case KERNELDUMP_COMP_ZSTD:
		return BSDMEM_KDUMP_ZSTD;
	}
	return 0;
}
