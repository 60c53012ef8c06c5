// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: every entry point at once while dumps run; a dump while another
 * process allocates and frees hard; the dump's fd closed by another thread.
 * No deadlock, every call an errno of the spec. Nothing here is timed: the
 * dumps take what a slow kernel needs, and the harness stops a test only
 * when the dump's page count stops moving.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

static int stop;
static int bad_errno;

static int stopped(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

static void note_errno(int ok, const int *allowed, int n)
{
	if (ok)
		return;
	for (int i = 0; i < n; i++)
		if (errno == allowed[i])
			return;
	__atomic_store_n(&bad_errno, errno, __ATOMIC_RELAXED);
}

static void *ranges(void *arg)
{
	static const int allowed[] = { EINVAL, EBUSY, ENOENT, ENOSPC };
	uint64_t base = *(uint64_t *)arg;
	int fd = open(BSDMEM_DEV_PATH, O_RDWR);
	static struct mem_range_desc d[256];

	while (!stopped()) {
		int r = range_set(fd, MEMRANGE_SET_UPDATE, base, PAGE_SZ,
				  MDF_WRITECOMBINE, "stress");

		note_errno(!r, allowed, 4);
		note_errno(range_get_all(fd, d, 256) > 0, allowed, 0);
		r = range_set(fd, MEMRANGE_SET_REMOVE, base, PAGE_SZ, 0, NULL);
		note_errno(!r, allowed, 4);
	}
	close(fd);
	return NULL;
}

static void *extracts(void *arg)
{
	int fd = open(BSDMEM_DEV_PATH, O_RDONLY);
	struct mem_extract me;

	(void)arg;
	while (!stopped()) {
		void *p = mmap(NULL, 8 * PAGE_SZ, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memset(p, 1, 4 * PAGE_SZ);
		for (int i = 0; i < 8; i++) {
			me.me_vaddr = (uintptr_t)p + i * PAGE_SZ;
			note_errno(!ioctl(fd, MEM_EXTRACT_PADDR, &me), NULL, 0);
		}
		munmap(p, 8 * PAGE_SZ);
	}
	close(fd);
	return NULL;
}

static void *reads(void *arg)
{
	int fd = open(BSDMEM_DEV_PATH, O_RDONLY);
	static char buf[65536];

	(void)arg;
	while (!stopped())
		note_errno(pread(fd, buf, sizeof(buf), 0x100000) > 0, NULL, 0);
	close(fd);
	return NULL;
}

#define PROGRESS	"/sys/module/bsdmem/parameters/dump_progress"

static void read_progress(long long *planned, long long *written)
{
	FILE *f = fopen(PROGRESS, "r");

	*planned = 0;
	*written = 0;
	if (f && fscanf(f, "%lld %lld", planned, written) != 2)
		*written = 0;
	if (f)
		fclose(f);
}

struct closer {
	int fd;
	int dump_returned;
	long long planned0, written0;	/* the last dump's, before ours */
	int mid_dump;			/* closed while ours was under way */
};

static int closed_mid_dump;

/*
 * Close the dump's fd once the dump is under way (written, not done): as
 * long as that takes, with no limit of its own. Should the dump end first,
 * close anyway, so the drain sees its end; the test then fails, as it did
 * not test what it is for.
 */
static void *closer(void *arg)
{
	struct closer *c = arg;
	long long planned, written;

	for (;;) {
		read_progress(&planned, &written);
		if ((planned != c->planned0 || written != c->written0) &&
		    written > 0 && written < planned) {
			c->mid_dump = 1;
			break;
		}
		if (__atomic_load_n(&c->dump_returned, __ATOMIC_ACQUIRE))
			break;
		usleep(10000);
	}
	close(c->fd);
	return NULL;
}

struct drained {
	int fd;
	long long bytes;
};

static void *drain(void *arg)
{
	struct drained *d = arg;
	static char buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->bytes += n;
	return NULL;
}

static int dump_to_pipe(int comp, long long *bytes, int close_early)
{
	struct mem_livedump_arg a = { .compression = comp };
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDONLY), fds[2], ret, err;
	struct drained d;
	pthread_t th;

	if (pipe(fds))
		return -1;
	d.fd = fds[0];
	d.bytes = 0;
	pthread_create(&th, NULL, drain, &d);
	a.fd = fds[1];
	if (close_early) {
		/* another thread closes the fd mid-dump; the dump holds it */
		struct closer c = { .fd = fds[1] };
		pthread_t ct;

		read_progress(&c.planned0, &c.written0);
		pthread_create(&ct, NULL, closer, &c);
		ret = ioctl(mem, MEM_KERNELDUMP, &a);
		err = errno;
		__atomic_store_n(&c.dump_returned, 1, __ATOMIC_RELEASE);
		pthread_join(ct, NULL);
		closed_mid_dump = c.mid_dump;
	} else {
		ret = ioctl(mem, MEM_KERNELDUMP, &a);
		err = errno;
		close(fds[1]);
	}
	pthread_join(th, NULL);
	close(fds[0]);
	close(mem);
	*bytes = d.bytes;
	errno = err;
	return ret;
}

TEST(everything_at_once_while_dumping)
{
	uint64_t len, bar = vga_bar0(&len), own;
	uint8_t *page = locked_page(1);
	pthread_t th[5];
	long long bytes;

	own = virt_to_phys_pagemap(page);
	ASSERT_NE(own, 0);
	/* two range writers: one over device memory, one over our RAM */
	pthread_create(&th[0], NULL, ranges, bar ? &bar : &own);
	pthread_create(&th[1], NULL, ranges, &own);
	pthread_create(&th[2], NULL, extracts, NULL);
	pthread_create(&th[3], NULL, extracts, NULL);
	pthread_create(&th[4], NULL, reads, NULL);
	ASSERT_EQ(dump_to_pipe(KERNELDUMP_COMP_ZSTD, &bytes, 0), 0);
	ASSERT_GT(bytes, 0);
	ASSERT_EQ(dump_to_pipe(KERNELDUMP_COMP_NONE, &bytes, 0), 0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	if (bad_errno)
		TH_LOG("unexpected errno %d (%s)", bad_errno, strerror(bad_errno));
	ASSERT_EQ(bad_errno, 0);
	clear_user_ranges(open_dev(BSDMEM_DEV_PATH, O_RDWR));
}

TEST(dump_while_memory_churns)
{
	long long bytes;
	pid_t pid = fork();

	if (pid == 0) {
		/* never outlive the test, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (;;) {
			size_t len = (16 + rand() % 48) << 20;
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED) {
				memset(p, 0x11, len);
				munmap(p, len);
			}
		}
	}
	ASSERT_EQ(dump_to_pipe(KERNELDUMP_COMP_NONE, &bytes, 0), 0);
	ASSERT_EQ(dump_to_pipe(KERNELDUMP_COMP_GZIP, &bytes, 0), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_GT(bytes, 0);
}

TEST(dump_fd_closed_by_another_thread)
{
	long long bytes;

	ASSERT_EQ(dump_to_pipe(KERNELDUMP_COMP_NONE, &bytes, 1), 0);
	ASSERT_TRUE(closed_mid_dump);
	ASSERT_GT(bytes, 1 << 20);
}
