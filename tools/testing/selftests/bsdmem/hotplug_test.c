// SPDX-License-Identifier: GPL-2.0
/*
 * Memory hotplug against bsdmem, in a guest booted with a hot-pluggable
 * DIMM (run-guest.sh -D; guest-hotplug.sh onlines its blocks movable, so
 * user pages live there and the blocks can go offline again):
 * - a pinned range (MEMRANGE_SET) and a page mapped through /dev/bsdmem
 *   make offlining their memory block fail promptly with EBUSY, and stop
 *   doing so once the range is removed or the mapping is gone;
 * - reads of both devices and a whole-RAM dump racing offline and online
 *   cycles get data or EFAULT/EIO, and the kernel stays healthy (the host
 *   fails the boot on any oops or WARN).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define MEMDIR		"/sys/devices/system/memory"
#define WHOLE_RAM	"/sys/module/bsdmem/parameters/dump_whole_ram"
#define MAX_BLOCKS	64
#define MPOL_BIND	2
#define SEARCH_SZ	(64UL << 20)
#define RACE_ROUNDS	4
#define RACE_READS	4000000	/* each; they stop with the offliner */
#define RACE_DUMPS	3

/* The DIMM's memory blocks: ACPI binds them to its PNP0C80 device. */
struct dimm {
	int id[MAX_BLOCKS];
	int n;
	int node;
	uint64_t bsize;
};

/*
 * How long an offline may take before the test calls it hung. Today it
 * retries forever on a pinned page; "promptly" is meant generously, as
 * TCG and the debug kernel are slow.
 */
static int offline_secs(void)
{
	const char *s = getenv("BSDMEM_OFFLINE_SECS");

	return s && atoi(s) > 0 ? atoi(s) : 300;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int block_node(int id)
{
	char path[128];

	for (int node = 0; node < 64; node++) {
		snprintf(path, sizeof(path), MEMDIR "/memory%d/node%d", id, node);
		if (!access(path, F_OK))
			return node;
	}
	return -1;
}

static void dimm_find(struct dimm *d)
{
	char line[64], path[300], link[256];
	struct dirent *e;
	DIR *dir;
	int id;

	memset(d, 0, sizeof(*d));
	ASSERT_EQ(read_line(MEMDIR "/block_size_bytes", line, sizeof(line)), 0);
	d->bsize = strtoull(line, NULL, 16);
	ASSERT_GT(d->bsize, 0);
	dir = opendir(MEMDIR);
	ASSERT_TRUE(dir != NULL);
	while ((e = readdir(dir)) && d->n < MAX_BLOCKS) {
		ssize_t len;

		if (sscanf(e->d_name, "memory%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), MEMDIR "/%s/firmware_node",
			 e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = 0;
		if (strstr(link, "PNP0C80"))
			d->id[d->n++] = id;
	}
	closedir(dir);
	if (!d->n)
		TH_LOG("no DIMM memory blocks: boot with run-guest.sh -D and CONFIG_ACPI_HOTPLUG_MEMORY");
	ASSERT_GT(d->n, 0);
	qsort(d->id, d->n, sizeof(int), cmp_int);
	d->node = block_node(d->id[0]);
	ASSERT_GE(d->node, 0);
}

static int dimm_has(const struct dimm *d, int id)
{
	for (int i = 0; i < d->n; i++)
		if (d->id[i] == id)
			return 1;
	return 0;
}

static int block_online(int id)
{
	char path[128], state[32];

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", id);
	return !read_line(path, state, sizeof(state)) &&
	       !strcmp(state, "online");
}

/* Write a block's state: 0, or -errno as the kernel answered. */
static int set_state(int id, const char *state)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", id);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, state, strlen(state)) != (ssize_t)strlen(state))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/*
 * Offline a block from a child, so that an offline that never returns
 * can be detected and killed (a fatal signal ends offline_pages()'s
 * retries): 0, -errno, or -ETIMEDOUT after secs.
 */
static int offline_bounded(int id, int secs, long *ms)
{
	struct timespec t0, t1;
	int status, ret = -ETIMEDOUT;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0)
		_exit(-set_state(id, "offline"));
	if (pid < 0)
		return -errno;
	for (long i = 0; i < secs * 10L; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ret = WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
			break;
		}
		usleep(100000);
	}
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ms)
		*ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		      (t1.tv_nsec - t0.tv_nsec) / 1000000;
	return ret;
}

/* What an earlier, failed test may have left: offline blocks, ranges. */
static void dimm_setup(struct dimm *d, int fd)
{
	dimm_find(d);
	clear_user_ranges(fd);
	for (int i = 0; i < d->n; i++)
		if (!block_online(d->id[i]))
			ASSERT_EQ(set_state(d->id[i], "online_movable"), 0);
	/* the tests bound their offline waits themselves */
	alarm(0);
	alarm(offline_secs() * 4 + 600);
}

/*
 * A page of ours inside the DIMM, filled with fill: memory bound to the
 * DIMM's node, where user pages come from ZONE_MOVABLE (the DIMM) first.
 */
static uint8_t *dimm_page(const struct dimm *d, int fd, int fill,
			  uint64_t *pa)
{
	unsigned long mask = 1UL << d->node;
	uint8_t *p = mmap(NULL, SEARCH_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct mem_extract me;

	ASSERT_MAPPED(p);
	ASSERT_EQ(syscall(SYS_mbind, p, SEARCH_SZ, MPOL_BIND, &mask,
			  sizeof(mask) * 8, 0), 0);
	for (unsigned long off = 0; off < SEARCH_SZ; off += PAGE_SZ) {
		memset(p + off, fill, PAGE_SZ);
		memset(&me, 0, sizeof(me));
		me.me_vaddr = (uintptr_t)(p + off);
		ASSERT_EQ(ioctl(fd, MEM_EXTRACT_PADDR, &me), 0);
		ASSERT_EQ(me.me_state, ME_STATE_MAPPED);
		if (dimm_has(d, (int)(me.me_paddr / d->bsize))) {
			*pa = me.me_paddr;
			return p + off;
		}
	}
	TH_LOG("no page of %lu MiB on node %d landed in the DIMM",
	       SEARCH_SZ >> 20, d->node);
	ASSERT_TRUE(0);
	return NULL;
}

/*
 * Offline must fail with EBUSY, in time; put the block back if it went
 * offline. Returns what the offline answered.
 */
static int expect_offline_busy(int id, const char *what)
{
	long ms = -1;
	int r = offline_bounded(id, offline_secs(), &ms);

	TH_LOG("offline of memory%d with %s: %s after %ld ms", id, what,
	       r == -ETIMEDOUT ? "no answer" : r ? strerror(-r) : "success", ms);
	if (r == 0)
		ASSERT_EQ(set_state(id, "online_movable"), 0);
	errno = 0;	/* r says it all */
	EXPECT_EQ(r, -EBUSY);
	return r;
}

TEST(pinned_range_makes_offline_ebusy)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	struct dimm d;
	uint64_t pa;
	int id;

	dimm_setup(&d, fd);
	dimm_page(&d, fd, 0x3c, &pa);
	pa &= ~(PAGE_SZ - 1);
	id = pa / d.bsize;
	/* a RAM range pins its pages for as long as it lives */
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, pa, PAGE_SZ,
			    MDF_WRITEBACK, "hotplug"), 0);
	expect_offline_busy(id, "a pinned range");
	ASSERT_TRUE(block_online(id));
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, pa, PAGE_SZ, 0, NULL), 0);
	ASSERT_EQ(offline_bounded(id, offline_secs(), NULL), 0);
	ASSERT_EQ(set_state(id, "online_movable"), 0);
}

TEST(mapped_page_makes_offline_ebusy)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *m;
	struct dimm d;
	uint8_t *p;
	uint64_t pa;
	int id;

	dimm_setup(&d, fd);
	p = dimm_page(&d, fd, 0x4d, &pa);
	pa &= ~(PAGE_SZ - 1);
	id = pa / d.bsize;
	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	ASSERT_MAPPED(m);
	/* the fault takes the page: it must stay for as long as it is mapped */
	ASSERT_EQ(m[77], 0x4d);
	if (expect_offline_busy(id, "a mapped page") == -EBUSY) {
		/* still the same page, ours */
		ASSERT_EQ(m[78], 0x4d);
		ASSERT_EQ(p[78], 0x4d);
	}
	ASSERT_EQ(munmap(m, PAGE_SZ), 0);
	ASSERT_EQ(offline_bounded(id, offline_secs(), NULL), 0);
	ASSERT_EQ(set_state(id, "online_movable"), 0);
}

/* ---- reads and dumps racing offline/online cycles ---- */

struct race {
	const struct dimm *d;
	uint64_t pob;		/* direct-map base, for /dev/bsdkmem */
	int done;		/* the offliner finished */
	int bad_errno;		/* a read answered something else */
	long reads, data, errs;
	int dumps, dump_fail, dump_errno;
};

static int race_done(struct race *r)
{
	return __atomic_load_n(&r->done, __ATOMIC_RELAXED);
}

/* Every page of the DIMM in turn, scattered: data, EFAULT or EIO. */
static void race_reads(struct race *r, int kmem)
{
	const struct dimm *d = r->d;
	uint64_t base = (uint64_t)d->id[0] * d->bsize;
	uint64_t npages = ((uint64_t)d->id[d->n - 1] + 1) * d->bsize / PAGE_SZ -
			  base / PAGE_SZ;
	int fd = open_dev(kmem ? BSDKMEM_DEV_PATH : BSDMEM_DEV_PATH, O_RDONLY);
	char buf[256];

	for (long i = 0; i < RACE_READS && !race_done(r); i++) {
		uint64_t pa = base + (i * 4099UL % npages) * PAGE_SZ;
		ssize_t n;

		errno = 0;
		n = kmem ? kread(fd, buf, sizeof(buf), r->pob + pa) :
			   pread(fd, buf, sizeof(buf), (off_t)pa);
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
		if (n > 0)
			__atomic_add_fetch(&r->data, 1, __ATOMIC_RELAXED);
		else if (n < 0 && (errno == EFAULT || errno == EIO))
			__atomic_add_fetch(&r->errs, 1, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&r->bad_errno, n ? errno : -1,
					 __ATOMIC_RELAXED);
	}
	close(fd);
}

static void *phys_reader(void *arg)
{
	race_reads(arg, 0);
	return NULL;
}

static void *kmem_reader(void *arg)
{
	race_reads(arg, 1);
	return NULL;
}

static void *drain(void *arg)
{
	static char buf[1 << 16];
	int fd = (int)(intptr_t)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/* Whole-RAM dumps into a drained pipe, the DIMM's pages included. */
static void *dumper(void *arg)
{
	struct race *r = arg;
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	for (int i = 0; i < RACE_DUMPS && !race_done(r); i++) {
		struct mem_livedump_arg a = { 0 };
		pthread_t th;
		int pfd[2], ret;

		if (pipe(pfd))
			break;
		pthread_create(&th, NULL, drain, (void *)(intptr_t)pfd[0]);
		a.fd = pfd[1];
		ret = ioctl(mem, MEM_KERNELDUMP, &a);
		if (ret) {
			r->dump_fail++;
			r->dump_errno = errno;
		}
		close(pfd[1]);
		pthread_join(th, NULL);
		close(pfd[0]);
		r->dumps++;
	}
	close(mem);
	return NULL;
}

TEST(reads_and_dump_race_offline_online)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t sym = kallsyms_lookup("page_offset_base");
	struct race r = { 0 };
	int offlined = 0, busy = 0, bad_offline = 0, online_err = 0;
	pthread_t th[3];
	char old[8] = "N";
	struct dimm d;

	dimm_setup(&d, fd);
	/* the dumps and reads run until the offliner is done */
	alarm(0);
	alarm(offline_secs() * RACE_ROUNDS * d.n + 1800);
	r.d = &d;
	ASSERT_NE(sym, 0);
	ASSERT_EQ(kread(kfd, &r.pob, sizeof(r.pob), sym), sizeof(r.pob));
	read_line(WHOLE_RAM, old, sizeof(old));
	ASSERT_EQ(write_line(WHOLE_RAM, "1"), 0);
	ASSERT_EQ(pthread_create(&th[0], NULL, phys_reader, &r), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, kmem_reader, &r), 0);
	ASSERT_EQ(pthread_create(&th[2], NULL, dumper, &r), 0);

	for (int round = 0; round < RACE_ROUNDS; round++) {
		for (int i = 0; i < d.n; i++) {
			int ret = offline_bounded(d.id[i], offline_secs(), NULL);

			/* the race may hold a page for a moment: EBUSY is fair */
			if (ret == 0)
				offlined++;
			else if (ret == -EBUSY || ret == -EAGAIN)
				busy++;
			else
				bad_offline = ret;
		}
		for (int i = 0; i < d.n; i++)
			if (!block_online(d.id[i]) &&
			    set_state(d.id[i], "online_movable"))
				online_err++;
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	write_line(WHOLE_RAM, old[0] == 'Y' ? "1" : "0");

	TH_LOG("%d offlines, %d busy; %ld reads: %ld data, %ld EFAULT/EIO; %d dumps",
	       offlined, busy, r.reads, r.data, r.errs, r.dumps);
	if (bad_offline)
		TH_LOG("an offline answered %s", bad_offline == -ETIMEDOUT ?
		       "nothing in time" : strerror(-bad_offline));
	ASSERT_EQ(bad_offline, 0);
	ASSERT_EQ(online_err, 0);
	for (int i = 0; i < d.n; i++)
		ASSERT_TRUE(block_online(d.id[i]));
	ASSERT_GT(offlined, 0);
	if (r.bad_errno)
		TH_LOG("a read answered %s", r.bad_errno < 0 ? "0 bytes" :
		       strerror(r.bad_errno));
	ASSERT_EQ(r.bad_errno, 0);
	ASSERT_GT(r.data, 0);
	ASSERT_GT(r.dumps, 0);
	errno = r.dump_errno;
	ASSERT_EQ(r.dump_fail, 0);
}
