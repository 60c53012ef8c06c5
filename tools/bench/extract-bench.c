// SPDX-License-Identifier: GPL-2.0
/*
 * extract-bench: MEM_EXTRACT_PADDR lookups per second against what a Linux
 * program needs today for the same answer (physical address and node):
 * pread(2) of /proc/self/pagemap plus move_pages(2), same addresses, for
 * 1 and 4096 addresses. Also the batched form of the baseline (one pread
 * and one move_pages for all 4096 contiguous pages) for reference.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bsdmem.h>

#define NPAGES		4096
#define PG		4096UL
#define MIN_SECS	0.5

static uint8_t *area;
static int devfd, pmfd;
static unsigned long baseline_errors;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *addr_of(int i)
{
	return area + (size_t)i * PG + (i * 8) % PG;
}

static int lookup_ioctl(int n)
{
	struct mem_extract me = { 0 };

	for (int i = 0; i < n; i++) {
		me.me_vaddr = (uintptr_t)addr_of(i);
		if (ioctl(devfd, MEM_EXTRACT_PADDR, &me) ||
		    me.me_state != ME_STATE_MAPPED) {
			fprintf(stderr, "ioctl: page %d state %d\n", i,
				me.me_state);
			return -1;
		}
	}
	return 0;
}

static int lookup_pagemap_move_pages(int n)
{
	for (int i = 0; i < n; i++) {
		uintptr_t va = (uintptr_t)addr_of(i);
		void *page = (void *)(va & ~(PG - 1));
		uint64_t ent;
		int status;

		if (pread(pmfd, &ent, 8, va / PG * 8) != 8 || !(ent >> 63)) {
			fprintf(stderr, "pagemap: page %d %#llx\n", i,
				(unsigned long long)ent);
			return -1;
		}
		/* 6.1 answers -EFAULT for some THP tail pages: counted, not fatal */
		if (syscall(SYS_move_pages, 0, 1, &page, NULL, &status, 0))
			return -1;
		baseline_errors += status < 0;
	}
	return 0;
}

static int lookup_batched(int n)
{
	static uint64_t ents[NPAGES];
	static void *pages[NPAGES];
	static int status[NPAGES];

	if (pread(pmfd, ents, n * 8, (uintptr_t)area / PG * 8) != n * 8)
		return -1;
	for (int i = 0; i < n; i++)
		pages[i] = area + (size_t)i * PG;
	return syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) ? -1 : 0;
}

/* Lookups per second of fn over n addresses, repeated for MIN_SECS. */
static double rate(int (*fn)(int), int n)
{
	unsigned long done = 0;
	double t0 = now(), t;

	do {
		if (fn(n)) {
			perror("extract-bench: lookup");
			exit(1);
		}
		done += n;
		t = now() - t0;
	} while (t < MIN_SECS);
	return done / t;
}

int main(void)
{
	static const int sizes[] = { 1, NPAGES };

	devfd = open(BSDMEM_DEV_PATH, O_RDONLY);
	pmfd = open("/proc/self/pagemap", O_RDONLY);
	area = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED,
		    -1, 0);
	if (devfd < 0 || pmfd < 0 || area == MAP_FAILED) {
		perror("extract-bench: setup");
		return 1;
	}
	for (int s = 0; s < 2; s++) {
		int n = sizes[s];
		double ours = rate(lookup_ioctl, n);
		double base = rate(lookup_pagemap_move_pages, n);

		printf("BENCH extract ioctl_%d_lookups_s %.0f\n", n, ours);
		printf("BENCH extract pagemap+move_pages_%d_lookups_s %.0f\n",
		       n, base);
		printf("BENCH extract speedup_%d %.2f\n", n, ours / base);
	}
	printf("BENCH extract move_pages_status_errors %lu\n", baseline_errors);
	printf("BENCH extract batched_pagemap+move_pages_%d_lookups_s %.0f\n",
	       NPAGES, rate(lookup_batched, NPAGES));
	return 0;
}
