// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-bench: read the same physical RAM through /dev/bsdmem and through
 * /proc/kcore, in 1 MiB reads, and print the throughput of each.
 *
 *   devmem-bench [MiB]     (default 256)
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bsdmem.h>

#define CHUNK	(1UL << 20)
#define REPS	3

/* The first System RAM range of /proc/iomem that holds len bytes above 16 MiB. */
static uint64_t find_ram(uint64_t len)
{
	char line[256];
	unsigned long long s, e;
	uint64_t found = 0;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == ' ' || !strstr(line, "System RAM") ||
		    sscanf(line, "%llx-%llx", &s, &e) != 2)
			continue;
		if (s < (16ULL << 20))
			s = 16ULL << 20;
		if (e > s && e - s + 1 >= len) {
			found = s;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* The /proc/kcore file offset of physical address pa. */
static int64_t kcore_offset(int fd, uint64_t pa, uint64_t len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		return -1;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			return -1;
		if (ph.p_type == PT_LOAD && ph.p_paddr != (uint64_t)-1 &&
		    pa >= ph.p_paddr && pa + len <= ph.p_paddr + ph.p_filesz)
			return ph.p_offset + (pa - ph.p_paddr);
	}
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double best_mibs(int fd, int64_t off, uint64_t len, char *buf)
{
	double best = 0;

	for (int r = 0; r < REPS; r++) {
		double t = now();

		for (uint64_t done = 0; done < len; done += CHUNK)
			if (pread(fd, buf, CHUNK, off + done) != (ssize_t)CHUNK)
				return -1;
		t = now() - t;
		if (len / (double)CHUNK / t > best)
			best = len / (double)CHUNK / t;
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t len = (argc > 1 ? strtoull(argv[1], NULL, 0) : 256) << 20;
	uint64_t pa = find_ram(len);
	int mfd = open(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open("/proc/kcore", O_RDONLY);
	char *a = malloc(CHUNK), *b = malloc(CHUNK);
	int64_t koff;
	double m, k;

	if (!pa || mfd < 0 || kfd < 0 || !a || !b) {
		perror("devmem-bench: setup");
		return 1;
	}
	koff = kcore_offset(kfd, pa, len);
	if (koff < 0) {
		fprintf(stderr, "devmem-bench: %#" PRIx64 " not in /proc/kcore\n", pa);
		return 1;
	}
	m = best_mibs(mfd, (int64_t)pa, len, a);
	k = best_mibs(kfd, koff, len, b);
	if (m < 0 || k < 0) {
		perror("devmem-bench: read");
		return 1;
	}
	printf("BENCH devmem read_bsdmem_MiB_s %.0f\n", m);
	printf("BENCH devmem read_kcore_MiB_s %.0f\n", k);
	printf("BENCH devmem bsdmem_vs_kcore %.2f\n", m / k);
	printf("BENCH devmem bytes_per_run %" PRIu64 "\n", len);
	return 0;
}
