// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded, seeded fuzzer for both devices: random and boundary arguments
 * for all four ioctls in both encodings (and through compat_ioctl when
 * built 32-bit), odd read/write/lseek/mmap offsets and sizes, pointers to
 * unmapped and read-only memory. It never writes memory it does not own
 * and never makes ranges over the kernel's RAM: what it may change is its
 * own page and the VGA BAR.
 *
 *   BSDMEM_FUZZ_SEED (default: time), BSDMEM_FUZZ_COUNT (default 20000),
 *   BSDMEM_FUZZ_SECS (default 20). The seed is printed: rerun with it.
 *
 * The time is a budget, not a limit: the first FUZZ_MIN_OPS operations
 * (or COUNT, if fewer) run however slow the kernel is, so a slow kernel
 * gets the same minimum of fuzzing as a fast one instead of a failure.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define MEMRANGE_SET_BSD	_IOR('m', 51, struct mem_range_op)
#define MEM_KERNELDUMP_BSD	_IOR('m', 53, struct mem_livedump_arg)
#define FUZZ_MIN_OPS		2000

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed on every libc */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

struct world {
	int mem, kmem, ro_file, wr_null, dead_pipe;
	uint8_t *page;		/* ours, locked */
	uint64_t page_pa, pob, bar, phys_limit, banner;
	void *ro, *unmapped;
	uint8_t *buf;		/* scratch for ioctl arguments */
};

static void world_init(struct world *w)
{
	uint64_t len, pob_sym = kallsyms_lookup("page_offset_base");
	int fds[2];

	w->mem = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	w->kmem = open_dev(BSDKMEM_DEV_PATH, O_RDWR);
	w->ro_file = open("/proc/version", O_RDONLY);
	w->wr_null = open("/dev/null", O_WRONLY);
	ASSERT_EQ(pipe(fds), 0);
	close(fds[0]);
	w->dead_pipe = fds[1];
	/* a dump into it gets EPIPE and, as write(2), SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	w->page = locked_page(0x42);
	w->page_pa = virt_to_phys_pagemap(w->page);
	ASSERT_NE(w->page_pa, 0);
	ASSERT_EQ(kread(w->kmem, &w->pob, 8, pob_sym), 8);
	w->bar = vga_bar0(&len);
	w->phys_limit = 1ULL << cpu_phys_bits();
	w->banner = kallsyms_lookup("linux_banner");
	w->ro = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	w->unmapped = mmap(NULL, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	munmap(w->unmapped, PAGE_SZ);
	/* two pages and a guard: a straddling pointer always faults */
	w->buf = mmap(NULL, 3 * PAGE_SZ, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_MAPPED(w->buf);
	ASSERT_EQ(mprotect(w->buf + 2 * PAGE_SZ, PAGE_SZ, PROT_NONE), 0);
}

/* An argument pointer: our scratch buffer (random bytes), or a bad one. */
static void *fuzz_ptr(struct world *w)
{
	switch (rnd() % 8) {
	case 0:
		return NULL;
	case 1:
		return w->ro;
	case 2:
		return w->unmapped;
	case 3:
		return (void *)(uintptr_t)(w->buf + 2 * PAGE_SZ - 8); /* straddles */
	case 4:
		return (void *)(uintptr_t)0xffffffffffff0000ULL;
	}
	for (int i = 0; i < 128; i++)
		w->buf[i] = rnd();
	return w->buf;
}

/* A physical base a range may safely take: ours, the BAR, or nonsense. */
static uint64_t safe_range_base(struct world *w)
{
	const uint64_t v[] = {
		w->page_pa & ~(PAGE_SZ - 1), w->bar, w->bar + PAGE_SZ,
		w->bar + 1, w->phys_limit, w->phys_limit - PAGE_SZ, ~0ULL << 12,
		(w->page_pa & ~(PAGE_SZ - 1)) + 3,
	};

	return pick(v, ARRAY_SIZE(v));
}

static void fuzz_memrange(struct world *w)
{
	struct mem_range_desc *d = (void *)w->buf;
	struct mem_range_op op;
	const uint64_t lens[] = { 0, 1, PAGE_SZ, 2 * PAGE_SZ, 1 << 20 };

	memset(&op, 0, sizeof(op));
	op.mo_desc = fuzz_ptr(w);
	op.mo_arg[0] = (int)(rnd() % 5) - 2;
	op.mo_arg[1] = rnd();
	if (op.mo_desc == (void *)w->buf) {
		d->mr_base = w->bar ? safe_range_base(w) : ~0ULL;
		d->mr_len = lens[rnd() % 5];
		if (!(rnd() % 16))	/* a length that wraps: always refused */
			d->mr_len = 0xfffffffffff00000ULL;
		d->mr_flags = rnd() % 3 ? 1 << (rnd() % 6) : (int)rnd();
		/* never a range over RAM that is not ours */
		if (d->mr_base != (w->page_pa & ~(PAGE_SZ - 1)) ||
		    d->mr_len != PAGE_SZ)
			if (d->mr_base < w->bar || !w->bar)
				d->mr_len = 0;
	}
	if (rnd() % 2) {
		op.mo_arg[0] = rnd() % 2 ? 64 : -1;
		ioctl(rnd() % 2 ? w->mem : w->kmem, MEMRANGE_GET, &op);
	} else {
		ioctl(w->mem, rnd() % 2 ? MEMRANGE_SET : MEMRANGE_SET_BSD, &op);
	}
}

static void fuzz_extract(struct world *w)
{
	const uint64_t v[] = {
		0, (uintptr_t)w->page, (uintptr_t)w->page + rnd() % PAGE_SZ,
		(uintptr_t)w->unmapped, (uintptr_t)w->ro, ~0ULL, rnd(),
		0x00007ffffffff000ULL, 0xffff800000000000ULL,
	};
	struct mem_extract *me = fuzz_ptr(w);

	if (me == (void *)w->buf)
		me->me_vaddr = pick(v, ARRAY_SIZE(v));
	ioctl(rnd() % 2 ? w->mem : w->kmem, MEM_EXTRACT_PADDR, me);
}

/* Dumps that end early: bad arguments, or a pipe nobody reads. */
static void fuzz_dump(struct world *w)
{
	struct mem_livedump_arg *a = fuzz_ptr(w);
	const int fds[] = { -1, 12345, w->ro_file, w->wr_null, w->dead_pipe };

	if (a == (void *)w->buf) {
		a->fd = fds[rnd() % 5];
		a->flags = rnd() % 4 ? 0 : (int)rnd();
		a->compression = rnd() % 4 ? rnd() % 3 : (uint8_t)rnd();
		/* a real dump (into the dead pipe) costs a plan: rarely */
		if (a->fd == w->dead_pipe && !a->flags && a->compression < 3 &&
		    rnd() % 50)
			a->flags = 1;
	}
	ioctl(w->mem, rnd() % 2 ? MEM_KERNELDUMP : MEM_KERNELDUMP_BSD, a);
}

static void fuzz_unknown_ioctl(struct world *w)
{
	unsigned long cmd = rnd() % 2 ? (unsigned long)(uint32_t)rnd() :
			    _IOC(rnd() % 4, 'm', 48 + rnd() % 8, rnd() % 128);

	/* the four real ones with their real sizes are fuzzed above */
	if (cmd == MEMRANGE_SET || cmd == MEMRANGE_SET_BSD ||
	    cmd == MEM_KERNELDUMP || cmd == MEM_KERNELDUMP_BSD)
		return;
	ioctl(rnd() % 2 ? w->mem : w->kmem, cmd, fuzz_ptr(w));
}

/* Offsets worth reading: our page, the edges, RAM, firmware space, junk. */
static uint64_t fuzz_offset(struct world *w, int kmem)
{
	const uint64_t phys[] = {
		w->page_pa, w->page_pa + PAGE_SZ - 1, 0, 0xff000, 0xffff0,
		w->phys_limit - 1, w->phys_limit, 0x8000000000000000ULL,
		0xfffffffffff00000ULL, 0x100000 + (rnd() % (64 << 20)),
	};
	const uint64_t virt[] = {
		w->pob + w->page_pa, w->pob + w->page_pa + PAGE_SZ - 3,
		0xffff800000000000ULL, (uintptr_t)w->page, 0x8000000000000000ULL,
		0xffffffffff600000ULL, w->banner,
		w->pob + (rnd() % (64 << 20)),
	};

	if (kmem)
		return virt[rnd() % ARRAY_SIZE(virt)];
	return phys[rnd() % ARRAY_SIZE(phys)];
}

static void fuzz_io(struct world *w)
{
	int kmem = rnd() % 2, fd = kmem ? w->kmem : w->mem;
	uint64_t off = fuzz_offset(w, kmem);
	const size_t sizes[] = { 0, 1, 7, PAGE_SZ - 1, PAGE_SZ, PAGE_SZ + 1,
				 3 * PAGE_SZ, 1 << 20 };
	size_t len = sizes[rnd() % 8];
	static uint8_t big[1 << 20];
	void *p = rnd() % 4 ? big : fuzz_ptr(w);
	uint64_t own = kmem ? w->pob + w->page_pa : w->page_pa;

	if (p == (void *)w->buf && len > PAGE_SZ)
		len = PAGE_SZ;
	errno = 0;
	lseek(fd, (off_t)off, rnd() % 8 ? SEEK_SET : (int)(rnd() % 5));
	if (rnd() % 3) {
		ssize_t n = read(fd, p, len);

		(void)n;
		return;
	}
	/* writes only into our own page, or to offsets that must fail */
	if (off >= own && off < own + PAGE_SZ) {
		len = len < own + PAGE_SZ - off ? len : own + PAGE_SZ - off;
	} else if (off < w->phys_limit && !kmem) {
		return;
	} else if (kmem && off >= 0xffff800000000000ULL &&
		   off != 0xffff800000000000ULL) {
		return;
	}
	lseek(fd, (off_t)off, SEEK_SET);
	if (write(fd, p, len) < 0)
		errno = 0;
}

static void fuzz_mmap(struct world *w)
{
	const uint64_t offs[] = {
		w->page_pa & ~(PAGE_SZ - 1), 0xf0000, 0, w->phys_limit - PAGE_SZ,
		w->phys_limit, ~0ULL << 12, 0x100000 + (rnd() % 1024) * PAGE_SZ,
	};
	const size_t lens[] = { 0, 1, PAGE_SZ, 16 * PAGE_SZ, 1UL << 30 };
	int prot = rnd() % 3 ? PROT_READ : PROT_READ | PROT_WRITE;
	uint64_t off = offs[rnd() % 7];
	size_t len = lens[rnd() % 5];
	void *m;

	/* a huge length only where it must be refused before any page walk */
	if (len == 1UL << 30)
		off = rnd() % 2 ? w->phys_limit : ~0ULL << 12;
	if ((prot & PROT_WRITE) && off != (w->page_pa & ~(PAGE_SZ - 1)))
		prot = PROT_READ;
	m = mmap(NULL, len, prot, rnd() % 2 ? MAP_SHARED : MAP_PRIVATE,
		 rnd() % 5 ? w->mem : w->kmem, (off_t)off);
	if (m != MAP_FAILED)
		munmap(m, len);
}

TEST(fuzz_all_entry_points)
{
	const char *s = getenv("BSDMEM_FUZZ_SEED");
	unsigned long count = getenv("BSDMEM_FUZZ_COUNT") ?
			      strtoul(getenv("BSDMEM_FUZZ_COUNT"), NULL, 0) : 20000;
	unsigned int secs = getenv("BSDMEM_FUZZ_SECS") ?
			    strtoul(getenv("BSDMEM_FUZZ_SECS"), NULL, 0) : 20;
	unsigned long min_ops = count < FUZZ_MIN_OPS ? count : FUZZ_MIN_OPS;
	time_t until = time(NULL) + secs;
	struct world w;
	unsigned long i;

	/*
	 * A zeroed argument names fd 0: make it read-only, or a "valid" dump
	 * would go to the console at serial speed.
	 */
	ASSERT_EQ(dup2(open("/dev/null", O_RDONLY), 0), 0);
	rng = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761ULL;
	rng |= 1;
	TH_LOG("seed %#llx (BSDMEM_FUZZ_SEED=%#llx to repeat)",
	       (unsigned long long)rng, (unsigned long long)rng);
	world_init(&w);
	for (i = 0; i < count && (i < min_ops || time(NULL) < until); i++) {
		bt_progress();
		switch (rnd() % 7) {
		case 0:
			fuzz_memrange(&w);
			break;
		case 1:
			fuzz_extract(&w);
			break;
		case 2:
			fuzz_dump(&w);
			break;
		case 3:
			fuzz_unknown_ioctl(&w);
			break;
		case 4:
			fuzz_mmap(&w);
			break;
		default:
			fuzz_io(&w);
		}
	}
	TH_LOG("%lu operations", i);
	clear_user_ranges(w.mem);
	ASSERT_GE(i, min_ops);
}

/* Afterwards everything still works as before. */
TEST(devices_work_after_fuzzing)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	uint8_t *p = locked_page(0x5d);
	uint64_t pa = virt_to_phys_pagemap(p);
	struct mem_extract me = { .me_vaddr = (uintptr_t)p };
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };
	char buf[8];

	ASSERT_NE(pa, 0);
	ASSERT_EQ(pread(fd, buf, 8, (off_t)pa), 8);
	ASSERT_EQ(buf[0], 0x5d);
	ASSERT_EQ(pwrite(fd, "ok", 2, (off_t)pa), 2);
	ASSERT_EQ(p[1], 'k');
	ASSERT_EQ(ioctl(fd, MEM_EXTRACT_PADDR, &me), 0);
	ASSERT_EQ(me.me_paddr, pa);
	ASSERT_EQ(ioctl(fd, MEMRANGE_GET, &op), 0);
	ASSERT_GT(op.mo_arg[0], 0);
	/* no range of the fuzzer's is left behind */
	{
		static struct mem_range_desc d[512];
		int n = range_get_all(fd, d, 512);

		for (int i = 0; i < n; i++)
			ASSERT_TRUE(d[i].mr_flags & MDF_FIRMWARE);
	}
}
