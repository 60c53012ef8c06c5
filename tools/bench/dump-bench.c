// SPDX-License-Identifier: GPL-2.0
/*
 * dump-bench: MEM_KERNELDUMP into a drained pipe, uncompressed, gzip and
 * zstd: time and bytes; the same uncompressed stream compressed by
 * userspace zstd -1 for comparison; a whole-RAM dump (dump_whole_ram=1)
 * as the yardstick for the minidump; memcpy bandwidth as the limit of
 * the uncompressed path; and page data against the memory in use.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <linux/bsdmem.h>

#define HEAD_MAX	(4 << 20)
#define WHOLE_RAM	"/sys/module/bsdmem/parameters/dump_whole_ram"

struct sink {
	int fd;
	int zstd;		/* compress what comes in with libzstd -1 */
	long long bytes;
	long long zbytes;
	unsigned char *head;
	size_t head_len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *drain(void *arg)
{
	struct sink *s = arg;
	static char buf[1 << 20];
	static char zbuf[1 << 20];
	ZSTD_CCtx *cctx = s->zstd ? ZSTD_createCCtx() : NULL;
	ssize_t n;

	if (cctx)
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
	while ((n = read(s->fd, buf, sizeof(buf))) > 0) {
		if (s->head_len < HEAD_MAX) {
			size_t c = n < (ssize_t)(HEAD_MAX - s->head_len) ?
				   (size_t)n : HEAD_MAX - s->head_len;

			memcpy(s->head + s->head_len, buf, c);
			s->head_len += c;
		}
		s->bytes += n;
		if (cctx) {
			ZSTD_inBuffer in = { buf, (size_t)n, 0 };

			while (in.pos < in.size) {
				ZSTD_outBuffer out = { zbuf, sizeof(zbuf), 0 };

				ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue);
				s->zbytes += out.pos;
			}
		}
	}
	if (cctx) {
		size_t left;

		do {
			ZSTD_outBuffer out = { zbuf, sizeof(zbuf), 0 };

			left = ZSTD_compressStream2(cctx, &out,
						    &(ZSTD_inBuffer){ NULL, 0, 0 },
						    ZSTD_e_end);
			s->zbytes += out.pos;
		} while (left && !ZSTD_isError(left));
		ZSTD_freeCCtx(cctx);
	}
	return NULL;
}

/* One dump into a pipe drained (and maybe compressed) by a thread. */
static double run_dump(int comp, int zstd, struct sink *s)
{
	struct mem_livedump_arg a = { .compression = comp };
	int mem = open(BSDMEM_DEV_PATH, O_RDONLY), fds[2];
	pthread_t th;
	double t;

	if (mem < 0 || pipe(fds)) {
		perror("dump-bench");
		exit(1);
	}
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	s->fd = fds[0];
	s->zstd = zstd;
	s->bytes = s->zbytes = 0;
	s->head_len = 0;
	pthread_create(&th, NULL, drain, s);
	a.fd = fds[1];
	t = now();
	if (ioctl(mem, MEM_KERNELDUMP, &a)) {
		perror("dump-bench: MEM_KERNELDUMP");
		exit(1);
	}
	close(fds[1]);
	pthread_join(th, NULL);
	t = now() - t;
	close(fds[0]);
	close(mem);
	return t;
}

/* Bytes of page data in the dump: PT_LOADs after the kernel image. */
static long long page_data(const struct sink *s)
{
	const Elf64_Ehdr *eh = (const void *)s->head;
	long long sum = 0;

	for (int i = 2; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = (const void *)(s->head + eh->e_phoff +
						     i * sizeof(*p));

		if ((size_t)((const unsigned char *)(p + 1) - s->head) > s->head_len)
			break;
		sum += p->p_filesz;
	}
	return sum;
}

static long long meminfo_kib(const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), ": %lld", &v);
	if (f)
		fclose(f);
	return v;
}

/* All System RAM, reserved memory included (MemTotal leaves that out). */
static long long ram_bytes(void)
{
	char line[256];
	unsigned long long a, b;
	long long sum = 0;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, "System RAM") &&
		    sscanf(line, "%llx-%llx", &a, &b) == 2)
			sum += b - a + 1;
	if (f)
		fclose(f);
	return sum;
}

static double memcpy_mibs(void)
{
	size_t len = 64 << 20;
	char *a = malloc(len), *b = malloc(len);
	double t;

	memset(a, 1, len);
	memset(b, 2, len);
	t = now();
	for (int i = 0; i < 4; i++) {
		memcpy(i & 1 ? a : b, i & 1 ? b : a, len);
		/* the copies are results: keep the compiler from dropping them */
		__asm__ __volatile__("" : : "r"(a), "r"(b) : "memory");
	}
	t = now() - t;
	free(a);
	free(b);
	return 4.0 * (len >> 20) / t;
}

static void set_whole_ram(int on)
{
	int fd = open(WHOLE_RAM, O_WRONLY);

	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1) {
		perror("dump-bench: " WHOLE_RAM);
		exit(1);
	}
	close(fd);
}

#define MIB(x)	((x) / 1048576.0)

int main(void)
{
	struct sink s = { .head = malloc(HEAD_MAX) };
	double t_none, t_gz, t_zst, t_user, t_whole;
	long long none, gz, zst, zuser, whole, data, used;

	t_none = run_dump(KERNELDUMP_COMP_NONE, 0, &s);
	none = s.bytes;
	data = page_data(&s);
	used = ram_bytes() - meminfo_kib("MemFree") * 1024;
	t_gz = run_dump(KERNELDUMP_COMP_GZIP, 0, &s);
	gz = s.bytes;
	t_zst = run_dump(KERNELDUMP_COMP_ZSTD, 0, &s);
	zst = s.bytes;
	t_user = run_dump(KERNELDUMP_COMP_NONE, 1, &s);
	zuser = s.zbytes;
	set_whole_ram(1);
	t_whole = run_dump(KERNELDUMP_COMP_NONE, 0, &s);
	whole = s.bytes;
	set_whole_ram(0);

	printf("BENCH dump none_s %.2f\n", t_none);
	printf("BENCH dump none_MiB %.1f\n", MIB(none));
	printf("BENCH dump none_MiB_s %.0f\n", MIB(none) / t_none);
	printf("BENCH dump memcpy_MiB_s %.0f\n", memcpy_mibs());
	printf("BENCH dump gzip_s %.2f\n", t_gz);
	printf("BENCH dump gzip_MiB %.1f\n", MIB(gz));
	printf("BENCH dump gzip_vs_none %.3f\n", (double)gz / none);
	printf("BENCH dump zstd_s %.2f\n", t_zst);
	printf("BENCH dump zstd_MiB %.1f\n", MIB(zst));
	printf("BENCH dump zstd_vs_none %.3f\n", (double)zst / none);
	printf("BENCH dump none+userspace_zstd-1_s %.2f\n", t_user);
	printf("BENCH dump userspace_zstd-1_MiB %.1f\n", MIB(zuser));
	printf("BENCH dump whole_ram_s %.2f\n", t_whole);
	printf("BENCH dump whole_ram_MiB %.1f\n", MIB(whole));
	printf("BENCH dump minidump_vs_whole_ram_time %.3f\n", t_none / t_whole);
	printf("BENCH dump used_memory_MiB %.1f\n", MIB(used));
	printf("BENCH dump page_data_MiB %.1f\n", MIB(data));
	printf("BENCH dump page_data_vs_used %.3f\n", (double)data / used);
	return 0;
}
