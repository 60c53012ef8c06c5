// SPDX-License-Identifier: GPL-2.0
/*
 * dump-bench: MEM_KERNELDUMP into a drained pipe, the ELF core and the
 * kdump-compressed format, each uncompressed, gzip/zlib and zstd (best
 * of two runs): time, bytes and where the time went (dump_phases); the
 * same uncompressed stream compressed by userspace zstd -1; the rival,
 * Debian's makedumpfile -E, -l and -c -d 31 on /proc/kcore into tmpfs
 * (MDF_DIR holds it with its loader and libraries), and our kdump zstd
 * into tmpfs likewise; a whole-RAM dump (dump_whole_ram=1) as the
 * yardstick for the minidump; memcpy over the same bytes as the limit of
 * the uncompressed path; page data against the memory in use; then the
 * ratios. dump-bench -s: the parallel-compression scaling instead.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <linux/bsdmem.h>

#define HEAD_MAX	(4 << 20)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
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

#define PHASES	"/sys/module/bsdmem/parameters/dump_phases"
#define WORKERS	"/sys/module/bsdmem/parameters/dump_workers"

/* The last dump's phases (us): plan, read, compress, write, total. */
static long long phase[5];

static void read_phases(void)
{
	FILE *f = fopen(PHASES, "r");

	memset(phase, 0, sizeof(phase));
	if (!f || fscanf(f, "%lld %lld %lld %lld %lld", &phase[0], &phase[1],
			 &phase[2], &phase[3], &phase[4]) != 5)
		fprintf(stderr, "dump-bench: no %s\n", PHASES);
	if (f)
		fclose(f);
}

/* One dump into a pipe drained (and maybe compressed) by a thread. */
static double run_dump(int comp, int flags, int zstd, struct sink *s)
{
	struct mem_livedump_arg a = { .compression = comp, .flags = flags };
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
	read_phases();
	return t;
}

/* One dump into a file (tmpfs): its time; its size in *bytes. */
static double run_dump_file(int comp, int flags, const char *path,
			    long long *bytes)
{
	struct mem_livedump_arg a = { .compression = comp, .flags = flags };
	int mem = open(BSDMEM_DEV_PATH, O_RDONLY);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	double t;

	if (mem < 0 || fd < 0) {
		perror("dump-bench");
		exit(1);
	}
	a.fd = fd;
	t = now();
	if (ioctl(mem, MEM_KERNELDUMP, &a)) {
		perror("dump-bench: MEM_KERNELDUMP");
		exit(1);
	}
	t = now() - t;
	*bytes = lseek(fd, 0, SEEK_END);
	close(fd);
	close(mem);
	unlink(path);
	read_phases();
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
#define TMP_OUT	"/tmp/dump-bench.out"

static void set_workers(const char *n)
{
	int fd = open(WORKERS, O_WRONLY);

	if (fd < 0 || write(fd, n, strlen(n)) != (ssize_t)strlen(n)) {
		perror("dump-bench: " WORKERS);
		exit(1);
	}
	close(fd);
}

/*
 * makedumpfile ARGS /proc/kcore TMP_OUT through the loader and libraries
 * copied next to it (MDF_DIR): its time, its output's size in *bytes; -1
 * when it is not there or fails.
 */
static double run_makedumpfile(const char *args, long long *bytes)
{
	const char *dir = getenv("MDF_DIR");
	char cmd[1024];
	struct stat st;
	double t;

	*bytes = -1;
	if (!dir)
		return -1;
	unlink(TMP_OUT);
	snprintf(cmd, sizeof(cmd),
		 "%s/ld-linux-x86-64.so.2 --library-path %s %s/makedumpfile %s /proc/kcore %s > /tmp/mdf.log 2>&1",
		 dir, dir, dir, args, TMP_OUT);
	t = now();
	if (system(cmd)) {
		fprintf(stderr, "dump-bench: makedumpfile %s failed:\n", args);
		if (system("cat /tmp/mdf.log >&2"))
			return -1;
		return -1;
	}
	t = now() - t;
	if (!stat(TMP_OUT, &st))
		*bytes = st.st_size;
	unlink(TMP_OUT);
	return t;
}

struct mode {
	const char *name;
	int comp, flags, zstd;
	double t;
	long long bytes;
	long long phase[5];
};

/* The best of two runs of a mode, with its phases. */
static void best_of_two(struct mode *m, struct sink *s)
{
	for (int i = 0; i < 2; i++) {
		double t = run_dump(m->comp, m->flags, m->zstd, s);

		if (i == 0 || t < m->t) {
			m->t = t;
			m->bytes = m->zstd ? s->zbytes : s->bytes;
			memcpy(m->phase, phase, sizeof(phase));
		}
	}
}

static void print_mode(const struct mode *m)
{
	printf("BENCH dump %s_s %.2f\n", m->name, m->t);
	printf("BENCH dump %s_MiB %.1f\n", m->name, MIB(m->bytes));
	if (m->zstd)
		return;
	printf("BENCH dump %s_phases_plan/read/compress/write_ms %lld/%lld/%lld/%lld\n",
	       m->name, m->phase[0] / 1000, m->phase[1] / 1000,
	       m->phase[2] / 1000, m->phase[3] / 1000);
}

static double best_mdf(const char *args, long long *bytes)
{
	long long b2;
	double t1 = run_makedumpfile(args, bytes);
	double t2 = run_makedumpfile(args, &b2);

	return t2 >= 0 && t2 < t1 ? t2 : t1;
}

static void print_ratio(const char *what, double a, double b)
{
	if (a > 0 && b > 0)
		printf("BENCH ratio %s %.2f\n", what, a / b);
	else
		printf("BENCH ratio %s n/a\n", what);
}

/*
 * dump-bench [-s]: every mode, the rivals and the ratios; with -s only
 * the parallel-compression scaling (zstd, ELF and kdump, with 1 worker
 * and with as many as there are CPUs).
 */
int main(int argc, char **argv)
{
	struct sink s = { .head = malloc(HEAD_MAX) };
	struct mode modes[] = {
		{ .name = "elf_none", .comp = KERNELDUMP_COMP_NONE },
		{ .name = "elf_gzip", .comp = KERNELDUMP_COMP_GZIP },
		{ .name = "elf_zstd", .comp = KERNELDUMP_COMP_ZSTD },
		{ .name = "kdump_none", .comp = KERNELDUMP_COMP_NONE,
		  .flags = MEM_KERNELDUMP_KDUMP },
		{ .name = "kdump_zlib", .comp = KERNELDUMP_COMP_GZIP,
		  .flags = MEM_KERNELDUMP_KDUMP },
		{ .name = "kdump_zstd", .comp = KERNELDUMP_COMP_ZSTD,
		  .flags = MEM_KERNELDUMP_KDUMP },
		{ .name = "elf_none+userspace_zstd-1",
		  .comp = KERNELDUMP_COMP_NONE, .zstd = 1 },
	};
	double t_whole, t_mdf_e, t_mdf_l, t_mdf_c, t_kfile, mcpy;
	long long whole, data, used, b_mdf_e, b_mdf_l, b_mdf_c, b_kfile;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int i;

	if (argc > 1 && !strcmp(argv[1], "-s")) {
		char n[16];

		snprintf(n, sizeof(n), "%ld", ncpu);
		for (i = 0; i < 2; i++) {
			struct mode one = {
				.name = "zstd", .comp = KERNELDUMP_COMP_ZSTD,
				.flags = i ? MEM_KERNELDUMP_KDUMP : 0,
			};
			struct mode all = one;

			set_workers("1");
			best_of_two(&one, &s);
			set_workers(n);
			best_of_two(&all, &s);
			set_workers("0");
			printf("BENCH scaling %s_%ldcpu_1worker_s %.2f\n",
			       i ? "kdump_zstd" : "elf_zstd", ncpu, one.t);
			printf("BENCH scaling %s_%ldcpu_%ldworkers_s %.2f\n",
			       i ? "kdump_zstd" : "elf_zstd", ncpu, ncpu, all.t);
			print_ratio(i ? "kdump_zstd_throughput_N_workers/1" :
				  "elf_zstd_throughput_N_workers/1", one.t, all.t);
		}
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		best_of_two(&modes[i], &s);
		if (i == 0) {
			data = page_data(&s);
			used = ram_bytes() - meminfo_kib("MemFree") * 1024;
		}
	}
	t_kfile = run_dump_file(KERNELDUMP_COMP_ZSTD, MEM_KERNELDUMP_KDUMP,
				TMP_OUT, &b_kfile);
	t_mdf_e = best_mdf("-E -d 31", &b_mdf_e);
	t_mdf_l = best_mdf("-l -d 31", &b_mdf_l);
	t_mdf_c = best_mdf("-c -d 31", &b_mdf_c);
	set_whole_ram(1);
	t_whole = run_dump(KERNELDUMP_COMP_NONE, 0, 0, &s);
	whole = s.bytes;
	set_whole_ram(0);
	mcpy = memcpy_mibs();

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		print_mode(&modes[i]);
	printf("BENCH dump kdump_zstd_to_tmpfs_s %.2f\n", t_kfile);
	printf("BENCH dump kdump_zstd_to_tmpfs_MiB %.1f\n", MIB(b_kfile));
	printf("BENCH rival makedumpfile_-E_-d31_s %.2f\n", t_mdf_e);
	printf("BENCH rival makedumpfile_-E_-d31_MiB %.1f\n", MIB(b_mdf_e));
	printf("BENCH rival makedumpfile_-l_-d31_s %.2f\n", t_mdf_l);
	printf("BENCH rival makedumpfile_-l_-d31_MiB %.1f\n", MIB(b_mdf_l));
	printf("BENCH rival makedumpfile_-c_-d31_s %.2f\n", t_mdf_c);
	printf("BENCH rival makedumpfile_-c_-d31_MiB %.1f\n", MIB(b_mdf_c));
	printf("BENCH dump whole_ram_s %.2f\n", t_whole);
	printf("BENCH dump whole_ram_MiB %.1f\n", MIB(whole));
	printf("BENCH dump memcpy_MiB_s %.0f\n", mcpy);
	printf("BENCH dump memcpy_of_elf_none_bytes_s %.3f\n",
	       MIB(modes[0].bytes) / mcpy);
	printf("BENCH dump used_memory_MiB %.1f\n", MIB(used));
	printf("BENCH dump page_data_MiB %.1f\n", MIB(data));
	printf("BENCH dump page_data_vs_used %.3f\n", (double)data / used);
	/* speed ratios: the rival's time over ours (above 1: we are faster) */
	print_ratio("speed_kdump_zstd_vs_makedumpfile_-l", t_mdf_l, modes[5].t);
	print_ratio("size_kdump_zstd_vs_makedumpfile_-l", modes[5].bytes, b_mdf_l);
	print_ratio("speed_kdump_zstd_tmpfs_vs_makedumpfile_-l", t_mdf_l, t_kfile);
	print_ratio("speed_kdump_zlib_vs_makedumpfile_-c", t_mdf_c, modes[4].t);
	print_ratio("size_kdump_zlib_vs_makedumpfile_-c", modes[4].bytes, b_mdf_c);
	print_ratio("speed_elf_none_vs_makedumpfile_-E", t_mdf_e, modes[0].t);
	print_ratio("speed_elf_zstd_vs_makedumpfile_-l", t_mdf_l, modes[2].t);
	print_ratio("speed_memcpy_vs_elf_none", modes[0].t,
	      MIB(modes[0].bytes) / mcpy);
	print_ratio("speed_minidump_vs_whole_ram", t_whole, modes[0].t);
	return 0;
}
