// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_KERNELDUMP_KDUMP, the kdump-compressed format: its flag checks, the
 * standard layout on a regular file from the file position on (headers,
 * notes, bitmaps, one descriptor per dumped page, data within the file),
 * the flattened format on a pipe and on an O_APPEND file, and the same
 * layout from a thread count of 1 and of 4. The readers (crash, drgn,
 * makedumpfile) run on the host.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"
#include "util.h"

#define KDUMP_FILE	"/tmp/bsdmem-test.kdump"
#define WORKERS		"/sys/module/bsdmem/parameters/dump_workers"
#define PAGE		4096
#define PREFIX		100	/* bytes before the dump: it starts at f_pos */
#define FLAG_ZLIB	0x01
#define FLAG_ZSTD	0x20

/* The reader's (x86-64) layouts of makedumpfile's diskdump_mod.h. */
struct kdump_hdr {
	char		signature[8];
	int32_t		header_version;
	char		utsname[6][65];
	uint8_t		pad[6];
	int64_t		tv_sec, tv_usec;
	uint32_t	status;
	int32_t		block_size, sub_hdr_size;
	uint32_t	bitmap_blocks, max_mapnr, total_ram_blocks;
	uint32_t	device_blocks, written_blocks, current_cpu;
	int32_t		nr_cpus;
};

struct kdump_sub {
	uint64_t	phys_base;
	int32_t		dump_level, split;
	uint64_t	start_pfn, end_pfn;
	uint64_t	offset_vmcoreinfo, size_vmcoreinfo;
	uint64_t	offset_note, size_note;
	uint64_t	offset_eraseinfo, size_eraseinfo;
	uint64_t	start_pfn_64, end_pfn_64, max_mapnr_64;
};

struct page_desc {
	int64_t		offset;
	uint32_t	size, flags;
	uint64_t	page_flags;
};

/* naturally aligned as the readers' own: no packing needed */
_Static_assert(sizeof(struct kdump_hdr) == 464, "disk_dump_header");
_Static_assert(sizeof(struct kdump_sub) == 104, "kdump_sub_header");
_Static_assert(sizeof(struct page_desc) == 24, "page_desc");

static int kdump(int fd, int comp, int flags)
{
	return kerneldump(fd, comp, flags);
}

static unsigned char *load(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

static int bit(const unsigned char *map, uint64_t pfn)
{
	return map[pfn / 8] >> (pfn % 8) & 1;
}

/* The notes: one NT_PRSTATUS per CPU, VMCOREINFO where the header says. */
static void check_notes(const unsigned char *f, const struct kdump_hdr *h,
			const struct kdump_sub *s)
{
	const unsigned char *p = f + s->offset_note;
	const unsigned char *end = p + s->size_note;
	int prstatus = 0, vmcoreinfo = 0;

	while (p + sizeof(Elf64_Nhdr) <= end) {
		const Elf64_Nhdr *n = (const void *)p;
		const unsigned char *desc = p + sizeof(*n) +
					    ((n->n_namesz + 3) & ~3u);

		if (n->n_type == NT_PRSTATUS)
			prstatus++;
		if (!strcmp((const char *)(n + 1), "VMCOREINFO")) {
			vmcoreinfo++;
			EXPECT_EQ(desc - f, (long)s->offset_vmcoreinfo);
			EXPECT_EQ(n->n_descsz, s->size_vmcoreinfo);
		}
		p = desc + ((n->n_descsz + 3) & ~3u);
	}
	EXPECT_TRUE(p == end);
	EXPECT_EQ(prstatus, h->nr_cpus);
	EXPECT_EQ(prstatus, sysconf(_SC_NPROCESSORS_ONLN));
	EXPECT_EQ(vmcoreinfo, 1);
	EXPECT_EQ(memcmp(f + s->offset_vmcoreinfo, "OSRELEASE=", 10), 0);
}

/*
 * A kdump file of len bytes at f, compressed with flag (0: none): the
 * headers, bitmaps and descriptors as a reader walks them. Every dumped
 * page is RAM; each descriptor points inside the data region, at the zero
 * page or past the previous page's data.
 */
static void check_kdump(const unsigned char *f, size_t len, uint32_t flag)
{
	const struct kdump_hdr *h = (const void *)f;
	const struct kdump_sub *s = (const void *)(f + PAGE);
	const unsigned char *ram, *dumped;
	const struct page_desc *d;
	uint64_t pfn, half, n = 0, data, next, zeros = 0;

	ASSERT_GE(len, 2 * PAGE);
	ASSERT_EQ(memcmp(h->signature, "KDUMP   ", 8), 0);
	EXPECT_EQ(h->header_version, 6);
	EXPECT_EQ(h->block_size, PAGE);
	EXPECT_EQ(h->status, flag);
	EXPECT_TRUE(!strcmp(h->utsname[4], "x86_64"));
	EXPECT_EQ(s->max_mapnr_64, s->end_pfn_64);
	EXPECT_EQ(s->offset_note, PAGE + sizeof(*s));
	ASSERT_LE(s->offset_note + s->size_note,
		  (uint64_t)(1 + h->sub_hdr_size) * PAGE);
	check_notes(f, h, s);
	half = h->bitmap_blocks / 2 * (uint64_t)PAGE;
	ASSERT_EQ(h->bitmap_blocks % 2, 0);
	ASSERT_GE(half * 8, s->max_mapnr_64);
	ram = f + (uint64_t)(1 + h->sub_hdr_size) * PAGE;
	dumped = ram + half;
	ASSERT_LE(dumped + half - f, (long)len);
	for (pfn = 0; pfn < s->max_mapnr_64; pfn++) {
		if (!bit(dumped, pfn))
			continue;
		EXPECT_TRUE(bit(ram, pfn));
		n++;
	}
	ASSERT_GT(n, 1000);
	d = (const void *)(dumped + half);
	data = (const unsigned char *)(d + n) - f;
	ASSERT_LE(data + PAGE, len);
	next = data + PAGE;	/* after the shared zero page */
	for (pfn = 0; pfn < n; pfn++, d++) {
		if (d->offset == (int64_t)data) {
			EXPECT_EQ(d->size, PAGE);
			EXPECT_EQ(d->flags, 0);
			zeros++;
			continue;
		}
		ASSERT_EQ(d->offset, (int64_t)next);
		ASSERT_GT(d->size, 0);
		ASSERT_LE(d->size, PAGE);
		if (d->size < PAGE)
			EXPECT_EQ(d->flags, flag);
		else
			EXPECT_EQ(d->flags, 0);
		next += d->size;
	}
	EXPECT_EQ(next, len);
	EXPECT_TRUE(zeros < n);
	if (flag)	/* kernel memory compresses */
		EXPECT_TRUE(next - data < (n - zeros) * PAGE / 2);
}

static void check_file(int comp, uint32_t flag)
{
	unsigned char *f;
	size_t len;
	int fd = open(KDUMP_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "prefix", 6), 6);
	ASSERT_EQ(lseek(fd, PREFIX, SEEK_SET), PREFIX);
	ASSERT_EQ(kdump(fd, comp, MEM_KERNELDUMP_KDUMP), 0);
	f = load(KDUMP_FILE, &len);
	ASSERT_TRUE(f != NULL);
	/* the position is past the dump, whose offset 0 was the position */
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)len);
	close(fd);
	unlink(KDUMP_FILE);
	EXPECT_EQ(memcmp(f, "prefix", 6), 0);
	check_kdump(f + PREFIX, len - PREFIX, flag);
	free(f);
}

TEST(flags_other_than_kdump_are_einval)
{
	int bits[] = { 1, 1 << 29, (int)(1u << 31), MEM_KERNELDUMP_KDUMP | 1 };

	for (unsigned int i = 0; i < ARRAY_SIZE(bits); i++)
		ASSERT_ERRNO(kdump(-1, 0, bits[i]), EINVAL);
	/* the flag passes the flag check: the bad fd comes next */
	ASSERT_ERRNO(kdump(-1, 0, MEM_KERNELDUMP_KDUMP), EBADF);
	ASSERT_ERRNO(kdump(1, 9, MEM_KERNELDUMP_KDUMP), EINVAL);
}

/*
 * O_DIRECT would take only aligned pieces: refused before the dump
 * writes anything. The guest's virtio disk takes O_DIRECT (the initramfs
 * does not); nothing is written to it.
 */
TEST(o_direct_is_einval)
{
	int fd = open("/dev/vda", O_WRONLY | O_DIRECT);

	if (fd < 0)
		SKIP("no /dev/vda to open O_DIRECT");
	ASSERT_ERRNO(kdump(fd, KERNELDUMP_COMP_ZSTD, MEM_KERNELDUMP_KDUMP),
		     EINVAL);
	ASSERT_ERRNO(kdump(fd, KERNELDUMP_COMP_NONE, MEM_KERNELDUMP_KDUMP),
		     EINVAL);
	close(fd);
}

TEST(regular_file_none)
{
	check_file(KERNELDUMP_COMP_NONE, 0);
}

TEST(regular_file_zlib)
{
	check_file(KERNELDUMP_COMP_GZIP, FLAG_ZLIB);
}

TEST(regular_file_zstd)
{
	check_file(KERNELDUMP_COMP_ZSTD, FLAG_ZSTD);
}

/*
 * makedumpfile's flattened format: a 4 KiB header, then (offset, size)
 * pieces in big-endian, then (-1, -1). Rebuilt into buf, it is the
 * standard layout.
 */
static unsigned char *unflatten(const unsigned char *s, size_t len,
				size_t *out_len)
{
	const unsigned char *p = s + PAGE, *end = s + len;
	unsigned char *f = NULL;
	size_t size = 0;

	if (len < PAGE || memcmp(s, "makedumpfile", 13) ||
	    be64toh(*(const uint64_t *)(s + 16)) != 1 ||
	    be64toh(*(const uint64_t *)(s + 24)) != 1)
		return NULL;
	while (p + 16 <= end) {
		int64_t off = be64toh(*(const uint64_t *)p);
		int64_t n = be64toh(*(const uint64_t *)(p + 8));

		p += 16;
		if (off == -1 && n == -1)
			break;
		if (off < 0 || n <= 0 || p + n > end)
			return NULL;
		if ((size_t)(off + n) > size) {
			f = realloc(f, off + n);
			if (!f)
				return NULL;
			memset(f + size, 0, off + n - size);
			size = off + n;
		}
		memcpy(f + off, p, n);
		p += n;
	}
	/* the end mark, and nothing after it */
	EXPECT_TRUE(p == end);
	*out_len = size;
	return f;
}

struct collect {
	int fd;
	unsigned char *buf;
	size_t len, cap;
};

static void *collector(void *arg)
{
	struct collect *c = arg;
	ssize_t n;

	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				return NULL;
		}
		n = read(c->fd, c->buf + c->len, 65536);
		if (n <= 0)
			return NULL;
		c->len += n;
	}
}

TEST(pipe_gets_the_flattened_format)
{
	struct collect c = { 0 };
	unsigned char *f;
	pthread_t th;
	size_t len;
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	c.fd = p[0];
	pthread_create(&th, NULL, collector, &c);
	ASSERT_EQ(kdump(p[1], KERNELDUMP_COMP_ZSTD, MEM_KERNELDUMP_KDUMP), 0);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
	ASSERT_TRUE(c.buf != NULL);
	f = unflatten(c.buf, c.len, &len);
	ASSERT_TRUE(f != NULL);
	check_kdump(f, len, FLAG_ZSTD);
	free(f);
	free(c.buf);
}

TEST(o_append_file_gets_the_flattened_format)
{
	unsigned char *s, *f;
	size_t slen, len;
	int fd = open(KDUMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(kdump(fd, KERNELDUMP_COMP_GZIP, MEM_KERNELDUMP_KDUMP), 0);
	close(fd);
	s = load(KDUMP_FILE, &slen);
	unlink(KDUMP_FILE);
	ASSERT_TRUE(s != NULL);
	f = unflatten(s, slen, &len);
	ASSERT_TRUE(f != NULL);
	check_kdump(f, len, FLAG_ZLIB);
	free(f);
	free(s);
}

/*
 * With 1 and with 4 workers, each dump is whole and well formed. (That
 * the bytes do not depend on the count is KUnit's bsdmem_par_order_test:
 * two live dumps never hold the same memory.)
 */
TEST(one_or_four_workers_both_well_formed)
{
	char old[16];

	ASSERT_EQ(read_line(WORKERS, old, sizeof(old)), 0);
	ASSERT_EQ(write_line(WORKERS, "1"), 0);
	check_file(KERNELDUMP_COMP_ZSTD, FLAG_ZSTD);
	ASSERT_EQ(write_line(WORKERS, "4"), 0);
	check_file(KERNELDUMP_COMP_GZIP, FLAG_ZLIB);
	ASSERT_EQ(write_line(WORKERS, old), 0);
}

/*
 * Compressed, with the workers' jobs in flight: a reader that goes away
 * is EPIPE, a SIGKILL ends the dump; the next dump is whole each time.
 */
TEST(epipe_with_jobs_in_flight_then_a_good_dump)
{
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(pipe(p), 0);
	close(p[0]);
	ASSERT_ERRNO(kdump(p[1], KERNELDUMP_COMP_ZSTD, MEM_KERNELDUMP_KDUMP),
		     EPIPE);
	close(p[1]);
	check_file(KERNELDUMP_COMP_ZSTD, FLAG_ZSTD);
}

/*
 * Is a dump planned and partly written ("<planned> <written>")? A dump
 * that ended left both equal.
 */
static int dump_planned(void)
{
	long long planned = 0, written = 0;
	FILE *f = fopen("/sys/module/bsdmem/parameters/dump_progress", "r");

	if (f && fscanf(f, "%lld %lld", &planned, &written) != 2)
		planned = 0;
	if (f)
		fclose(f);
	return planned > 0 && written < planned;
}

TEST(sigkill_with_jobs_in_flight_then_a_good_dump)
{
	int p[2], status;
	pid_t pid;

	ASSERT_EQ(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(kdump(p[1], KERNELDUMP_COMP_GZIP, MEM_KERNELDUMP_KDUMP));
	}
	close(p[1]);
	/*
	 * Nobody reads: once planned, the dump fills the pipe, its buffers
	 * and the workers' jobs, and waits. Bounded by a generous 10 min.
	 */
	for (int i = 0; i < 6000 && !dump_planned(); i++)
		usleep(100000);
	ASSERT_TRUE(dump_planned());
	usleep(500000);
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(p[0]);
	check_file(KERNELDUMP_COMP_GZIP, FLAG_ZLIB);
}
