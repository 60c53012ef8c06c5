// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the kdump container's layout and headers at the offsets its
 * readers use, the flattened format's framing, the choice of layout for
 * a file, the codecs' units, and the workers: results in the order given,
 * the same bytes whatever their number.
 */
#include <kunit/test.h>
#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>
#include <linux/unaligned.h>	/* the KUnit kernel is 6.12 */
#include "bsdmem.h"
#include "bsdmem_dump.h"

static void bsdmem_kdump_layout_test(struct kunit *test)
{
	struct bsdmem_kdump_layout l;

	/* 1.125 GiB of frames: 36 KiB of bits, 9 blocks per bitmap */
	bsdmem_kdump_layout(&l, 0x48000, 3000, 1000);
	KUNIT_EXPECT_EQ(test, l.sub_blocks, 1ULL);
	KUNIT_EXPECT_EQ(test, l.bitmap_blocks, 18ULL);
	KUNIT_EXPECT_EQ(test, l.bitmap_off, 2ULL * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, l.desc_off, 20ULL * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, l.data_off, 20ULL * PAGE_SIZE + 24000);
	KUNIT_EXPECT_EQ(test, bsdmem_kdump_headers_size(&l), 2UL * PAGE_SIZE);
	/* the notes fill the sub header's block exactly, then spill over */
	bsdmem_kdump_layout(&l, 1, PAGE_SIZE - BSDMEM_KDUMP_SUB_LEN, 0);
	KUNIT_EXPECT_EQ(test, l.sub_blocks, 1ULL);
	KUNIT_EXPECT_EQ(test, l.bitmap_blocks, 2ULL);
	KUNIT_EXPECT_EQ(test, l.data_off, l.desc_off);
	bsdmem_kdump_layout(&l, 8 * PAGE_SIZE + 1, PAGE_SIZE - 103, 0);
	KUNIT_EXPECT_EQ(test, l.sub_blocks, 2ULL);
	KUNIT_EXPECT_EQ(test, l.bitmap_blocks, 4ULL);
}

static const struct new_utsname bsdmem_test_uts = {
	.sysname = "Linux", .nodename = "host", .release = "6.1.0-test",
	.version = "#1 SMP", .machine = "x86_64", .domainname = "(none)",
};

/* The fields where makedumpfile's diskdump_mod.h has them on x86-64. */
static void bsdmem_kdump_headers_test(struct kunit *test)
{
	static const u8 notes[40] = { 1, 2, 3, 4 };
	struct bsdmem_kdump_info i = {
		.uts = &bsdmem_test_uts, .tv_sec = 1700000000, .tv_usec = 5,
		.status = BSDMEM_KDUMP_ZSTD, .current_cpu = 1, .nr_cpus = 3,
		.dump_level = BSDMEM_KDUMP_LEVEL, .phys_base = 0x3c000000,
		.vmcoreinfo_off = 20, .vmcoreinfo_len = 16,
	};
	struct bsdmem_kdump_layout l;
	u8 *b;

	bsdmem_kdump_layout(&l, 0x1200000000ULL, sizeof(notes), 7);
	b = kunit_kzalloc(test, bsdmem_kdump_headers_size(&l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, bsdmem_kdump_build_headers(b, &l, &i, notes), 0);
	KUNIT_EXPECT_MEMEQ(test, b, "KDUMP   ", 8);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 8), 6U);
	KUNIT_EXPECT_STREQ(test, (char *)b + 12 + 2 * 65, "6.1.0-test");
	KUNIT_EXPECT_STREQ(test, (char *)b + 12 + 4 * 65, "x86_64");
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 408), 1700000000ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 424), BSDMEM_KDUMP_ZSTD);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 428), (u32)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 432), 1U);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 436), (u32)l.bitmap_blocks);
	/* the 32-bit max_mapnr saturates; the sub header has all 64 bits */
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 440), U32_MAX);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 456), 1U);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 460), 3U);
	b += PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b), 0x3c000000ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 8), 30U);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 32),
			PAGE_SIZE + BSDMEM_KDUMP_SUB_LEN + 20ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 40), 16ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 48),
			PAGE_SIZE + BSDMEM_KDUMP_SUB_LEN + 0ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 56), sizeof(notes) + 0ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 88), 0x1200000000ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(b + 96), 0x1200000000ULL);
	KUNIT_EXPECT_MEMEQ(test, b + BSDMEM_KDUMP_SUB_LEN, notes, sizeof(notes));
	/* marked incomplete until the end: the mark goes, the rest stays */
	b -= PAGE_SIZE;
	put_unaligned_le32(BSDMEM_KDUMP_ZSTD | BSDMEM_KDUMP_INCOMPLETE, b + 424);
	bsdmem_kdump_complete(b);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 424), BSDMEM_KDUMP_ZSTD);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(b + 460), 3U);
	b += PAGE_SIZE;
	/* VMCOREINFO must lie within the notes */
	i.vmcoreinfo_off = 30;
	KUNIT_EXPECT_EQ(test, bsdmem_kdump_build_headers(b - PAGE_SIZE, &l, &i,
							 notes), -EINVAL);
}

static void bsdmem_kdump_desc_test(struct kunit *test)
{
	u8 d[BSDMEM_KDUMP_DESC_LEN];

	memset(d, 0xaa, sizeof(d));
	bsdmem_kdump_desc_put(d, 0x123456789aULL, 1234, BSDMEM_KDUMP_ZLIB);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(d), 0x123456789aULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(d + 8), 1234U);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(d + 12), 1U);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(d + 16), 0ULL);
}

static void bsdmem_flat_test(struct kunit *test)
{
	u8 *h = kunit_kzalloc(test, BSDMEM_FLAT_HDR_LEN, GFP_KERNEL);
	u8 p[BSDMEM_FLAT_PIECE_LEN];
	static const u8 piece[] = { 0, 0, 0, 0, 0, 0, 0x11, 0x22,
				    0, 0, 0, 0, 0, 0, 0x33, 0x44 };

	KUNIT_ASSERT_NOT_NULL(test, h);
	memset(h, 0xaa, BSDMEM_FLAT_HDR_LEN);
	bsdmem_flat_header(h);
	KUNIT_EXPECT_MEMEQ(test, h, "makedumpfile\0\0\0\0", 16);
	KUNIT_EXPECT_EQ(test, get_unaligned_be64(h + 16), 1ULL);
	KUNIT_EXPECT_EQ(test, get_unaligned_be64(h + 24), 1ULL);
	KUNIT_EXPECT_NULL(test, memchr_inv(h + 32, 0, BSDMEM_FLAT_HDR_LEN - 32));
	bsdmem_flat_piece(p, 0x1122, 0x3344);
	KUNIT_EXPECT_MEMEQ(test, p, piece, sizeof(piece));
	bsdmem_flat_piece(p, -1, -1);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0xff, sizeof(p)));
}

static void bsdmem_out_layout_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, bsdmem_out_layout_for(false, false), BSDMEM_OUT_SEQ);
	KUNIT_EXPECT_EQ(test, bsdmem_out_layout_for(false, true), BSDMEM_OUT_SEQ);
	KUNIT_EXPECT_EQ(test, bsdmem_out_layout_for(true, true), BSDMEM_OUT_AT);
	KUNIT_EXPECT_EQ(test, bsdmem_out_layout_for(true, false), BSDMEM_OUT_FLAT);
}

static void bsdmem_par_workers_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(0, 1), 1U);
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(0, 2), 1U);
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(0, 4), 3U);
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(0, 64), 8U);
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(3, 2), 3U);
	KUNIT_EXPECT_EQ(test, bsdmem_par_workers(100, 2), 8U);
}

/* Half text-like, half random: compressible, not trivially. */
static void bsdmem_test_fill(u8 *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len / 2; i++)
		buf[i] = "bsdmem kdump "[(i + seed) % 13];
	prandom_bytes_state(&(struct rnd_state){ seed, seed + 7, seed + 15,
						seed + 127 }, buf + len / 2,
			    len - len / 2);
}

static void bsdmem_codec_units_test(struct kunit *test)
{
	u8 *in = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	u8 *out = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	struct bsdmem_codec *c;
	size_t n;

	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	bsdmem_test_fill(in, PAGE_SIZE, 1);

	c = bsdmem_codec_open(BSDMEM_CODEC_GZIP, 1, PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	n = bsdmem_codec_run(c, in, PAGE_SIZE, out, 2 * PAGE_SIZE);
	KUNIT_ASSERT_GT(test, n, (size_t)BSDMEM_GZIP_HDR_LEN + 8);
	KUNIT_EXPECT_MEMEQ(test, out, "\x1f\x8b\x08", 3);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(out + n - 8),
			~crc32_le(~0U, in, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(out + n - 4), (u32)PAGE_SIZE);
	bsdmem_codec_close(c);

	c = bsdmem_codec_open(BSDMEM_CODEC_ZLIB, 1, PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	n = bsdmem_codec_run(c, in, PAGE_SIZE, out, PAGE_SIZE - 1);
	KUNIT_ASSERT_GT(test, n, (size_t)6);
	KUNIT_EXPECT_LT(test, n, (size_t)PAGE_SIZE);
	/* zlib's header: deflate, 32 KiB window, a multiple of 31 */
	KUNIT_EXPECT_EQ(test, out[0], 0x78);
	KUNIT_EXPECT_EQ(test, (out[0] << 8 | out[1]) % 31, 0);
	/* a random page does not shrink: 0, it is stored as it is */
	bsdmem_test_fill(in, 16, 2);
	prandom_bytes_state(&(struct rnd_state){ 3, 10, 18, 130 }, in,
			    PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, bsdmem_codec_run(c, in, PAGE_SIZE, out,
					       PAGE_SIZE - 1), (size_t)0);
	bsdmem_codec_close(c);

	c = bsdmem_codec_open(BSDMEM_CODEC_ZSTD, 1, PAGE_SIZE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	bsdmem_test_fill(in, PAGE_SIZE, 4);
	n = bsdmem_codec_run(c, in, PAGE_SIZE, out, PAGE_SIZE - 1);
	KUNIT_ASSERT_GT(test, n, (size_t)4);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(out), 0xfd2fb528U);
	bsdmem_codec_close(c);
}

#define BSDMEM_TEST_JOBS	12
#define BSDMEM_TEST_CHUNK	(64 * 1024)

static int bsdmem_test_run(struct bsdmem_par_job *job, void *arg)
{
	job->out_len = bsdmem_codec_run(job->codec, job->in, job->in_len,
					job->out, job->out_cap);
	return job->out_len ? 0 : -EIO;
}

/*
 * BSDMEM_TEST_JOBS chunks through nw workers; their results, concatenated
 * in the order taken back, into *out (vmalloc'ed). Returns the length.
 */
static size_t bsdmem_par_run_all(struct kunit *test, unsigned int nw,
				 u8 **out)
{
	size_t cap = bsdmem_codec_bound(BSDMEM_CODEC_ZSTD, BSDMEM_TEST_CHUNK);
	struct bsdmem_par_job *job;
	struct bsdmem_par *p;
	size_t len = 0;
	unsigned int i;

	*out = vmalloc(BSDMEM_TEST_JOBS * cap);
	p = bsdmem_par_open(BSDMEM_CODEC_ZSTD, BSDMEM_TEST_CHUNK,
			    BSDMEM_TEST_CHUNK, cap, bsdmem_test_run, NULL, nw);
	KUNIT_ASSERT_NOT_NULL(test, *out);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p));
	for (i = 0; i < BSDMEM_TEST_JOBS; i++) {
		if (bsdmem_par_full(p)) {
			job = bsdmem_par_collect(p);
			KUNIT_EXPECT_EQ(test, job->err, 0);
			memcpy(*out + len, job->out, job->out_len);
			len += job->out_len;
		}
		job = bsdmem_par_job(p);
		/* chunk i: its own content, and its length says which */
		job->in_len = BSDMEM_TEST_CHUNK - i * 100;
		bsdmem_test_fill(job->in, job->in_len, i);
		bsdmem_par_submit(p);
	}
	while ((job = bsdmem_par_collect(p))) {
		KUNIT_EXPECT_EQ(test, job->err, 0);
		memcpy(*out + len, job->out, job->out_len);
		len += job->out_len;
	}
	bsdmem_par_close(p);
	return len;
}

static void bsdmem_par_order_test(struct kunit *test)
{
	size_t cap = bsdmem_codec_bound(BSDMEM_CODEC_ZSTD, BSDMEM_TEST_CHUNK);
	u8 *one, *four, *in = vmalloc(BSDMEM_TEST_CHUNK), *ref = vmalloc(cap);
	struct bsdmem_codec *c = bsdmem_codec_open(BSDMEM_CODEC_ZSTD,
						   bsdmem_zstd_level_get(),
						   BSDMEM_TEST_CHUNK);
	size_t n1, n4, at = 0, n;
	unsigned int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	n1 = bsdmem_par_run_all(test, 1, &one);
	n4 = bsdmem_par_run_all(test, 4, &four);
	/* the same bytes whatever the number of workers */
	KUNIT_ASSERT_EQ(test, n1, n4);
	KUNIT_EXPECT_EQ(test, memcmp(one, four, n1), 0);
	/* and each chunk's frame in the order the chunks were given */
	for (i = 0; i < BSDMEM_TEST_JOBS; i++) {
		bsdmem_test_fill(in, BSDMEM_TEST_CHUNK - i * 100, i);
		n = bsdmem_codec_run(c, in, BSDMEM_TEST_CHUNK - i * 100, ref,
				     cap);
		KUNIT_ASSERT_LE(test, at + n, n4);
		KUNIT_EXPECT_EQ(test, memcmp(four + at, ref, n), 0);
		at += n;
	}
	KUNIT_EXPECT_EQ(test, at, n4);
	bsdmem_codec_close(c);
	vfree(one);
	vfree(four);
	vfree(in);
	vfree(ref);
}

static struct kunit_case bsdmem_kdump_test_cases[] = {
	KUNIT_CASE(bsdmem_kdump_layout_test),
	KUNIT_CASE(bsdmem_kdump_headers_test),
	KUNIT_CASE(bsdmem_kdump_desc_test),
	KUNIT_CASE(bsdmem_flat_test),
	KUNIT_CASE(bsdmem_out_layout_test),
	KUNIT_CASE(bsdmem_par_workers_test),
	KUNIT_CASE(bsdmem_codec_units_test),
	KUNIT_CASE(bsdmem_par_order_test),
	{}
};

static struct kunit_suite bsdmem_kdump_test_suite = {
	.name = "bsdmem_kdump",
	.test_cases = bsdmem_kdump_test_cases,
};
kunit_test_suite(bsdmem_kdump_test_suite);
