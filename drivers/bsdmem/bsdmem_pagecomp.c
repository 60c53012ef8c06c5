// SPDX-License-Identifier: GPL-2.0
/*
 * Per-page compression for the kdump container: each page on its own, so
 * a reader decompresses only the pages it reads. zlib (with its zlib
 * wrapper, what makedumpfile's compress2() writes and uncompress() reads)
 * for KERNELDUMP_COMP_GZIP, one zstd frame for KERNELDUMP_COMP_ZSTD. A
 * page that does not shrink is stored as it is, as makedumpfile does.
 * The levels are the stream's (gzip_level, zstd_level).
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/zlib.h>
#include <linux/zstd.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

struct bsdmem_pagecomp {
	int			comp;
	void			*ws;
	size_t			ws_len;
	struct z_stream_s	zs;
	zstd_cctx		*cctx;
	zstd_parameters		params;
};

/* The header's status: the compression every compressed page uses. */
u32 bsdmem_pagecomp_status(int compression)
{
	switch (compression) {
	case KERNELDUMP_COMP_GZIP:
		return BSDMEM_KDUMP_ZLIB;
	case KERNELDUMP_COMP_ZSTD:
		return BSDMEM_KDUMP_ZSTD;
	}
	return 0;
}

static int bsdmem_pagecomp_zlib_init(struct bsdmem_pagecomp *pc)
{
	pc->ws_len = zlib_deflate_workspacesize(MAX_WBITS, DEF_MEM_LEVEL);
	pc->ws = vzalloc(pc->ws_len);
	if (!pc->ws)
		return -ENOMEM;
	pc->zs.workspace = pc->ws;
	if (zlib_deflateInit2(&pc->zs, bsdmem_gzip_level_get(), Z_DEFLATED,
			      MAX_WBITS, DEF_MEM_LEVEL,
			      Z_DEFAULT_STRATEGY) != Z_OK)
		return -EINVAL;
	return 0;
}

static int bsdmem_pagecomp_zstd_init(struct bsdmem_pagecomp *pc)
{
	pc->params = zstd_get_params(bsdmem_zstd_level_get(), PAGE_SIZE);
	pc->ws_len = zstd_cctx_workspace_bound(&pc->params.cParams);
	pc->ws = vzalloc(pc->ws_len);
	if (!pc->ws)
		return -ENOMEM;
	pc->cctx = zstd_init_cctx(pc->ws, pc->ws_len);
	return pc->cctx ? 0 : -EINVAL;
}

struct bsdmem_pagecomp *bsdmem_pagecomp_open(int compression)
{
	struct bsdmem_pagecomp *pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	int ret = 0;

	if (!pc)
		return ERR_PTR(-ENOMEM);
	pc->comp = compression;
	if (compression == KERNELDUMP_COMP_GZIP)
		ret = bsdmem_pagecomp_zlib_init(pc);
	else if (compression == KERNELDUMP_COMP_ZSTD)
		ret = bsdmem_pagecomp_zstd_init(pc);
	if (ret) {
		bsdmem_pagecomp_close(pc);
		return ERR_PTR(ret);
	}
	return pc;
}

void bsdmem_pagecomp_close(struct bsdmem_pagecomp *pc)
{
	if (pc->comp == KERNELDUMP_COMP_GZIP && pc->zs.workspace)
		zlib_deflateEnd(&pc->zs);
	vfree(pc->ws);
	kfree(pc);
}

/* Compressed size, or 0 if the page did not shrink (dst is then junk). */
static size_t bsdmem_pagecomp_zlib(struct bsdmem_pagecomp *pc,
				   const void *src, void *dst)
{
	if (zlib_deflateReset(&pc->zs) != Z_OK)
		return 0;
	pc->zs.next_in = src;
	pc->zs.avail_in = PAGE_SIZE;
	pc->zs.next_out = dst;
	pc->zs.avail_out = PAGE_SIZE - 1;
	if (zlib_deflate(&pc->zs, Z_FINISH) != Z_STREAM_END)
		return 0;
	return PAGE_SIZE - 1 - pc->zs.avail_out;
}

static size_t bsdmem_pagecomp_zstd(struct bsdmem_pagecomp *pc,
				   const void *src, void *dst)
{
	size_t n = zstd_compress_cctx(pc->cctx, dst, PAGE_SIZE - 1, src,
				      PAGE_SIZE, &pc->params);

	return zstd_is_error(n) ? 0 : n;
}

/*
 * Compress one page from src into dst (PAGE_SIZE bytes). Returns the bytes
 * of data and sets *flags to the page descriptor's: the compressed size
 * and the codec's flag, or PAGE_SIZE and 0 with the page copied as it is.
 */
size_t bsdmem_pagecomp_page(struct bsdmem_pagecomp *pc, const void *src,
			    void *dst, u32 *flags)
{
	size_t n = 0;

	if (pc->comp == KERNELDUMP_COMP_GZIP)
		n = bsdmem_pagecomp_zlib(pc, src, dst);
	else if (pc->comp == KERNELDUMP_COMP_ZSTD)
		n = bsdmem_pagecomp_zstd(pc, src, dst);
	if (n) {
		*flags = bsdmem_pagecomp_status(pc->comp);
		return n;
	}
	memcpy(dst, src, PAGE_SIZE);
	*flags = 0;
	return PAGE_SIZE;
}

void bsdmem_pagecomp_exclude(struct bsdmem_pagecomp *pc,
			     void (*exclude)(const void *, size_t, void *),
			     void *arg)
{
	if (pc->ws)
		exclude(pc->ws, pc->ws_len, arg);
}
