// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware-poisoned memory is never read: MADV_HWPOISON on a subpage of a
 * hugetlb page and of a transparent huge page, then /dev/bsdmem (pread,
 * lseek and read), /dev/bsdkmem at the direct-map address, an mmap of
 * /dev/bsdmem and a whole-RAM dump must all keep away from it.
 *
 * A hugetlb page that stays in use (a shared mapping keeps it in the page
 * cache) carries the poison flag on its head page only, so as far as any
 * reader can tell the whole huge page is poisoned. A private hugetlb page
 * is dissolved and a THP split, leaving the flag on the one raw subpage.
 *
 * TCG raises no machine check on poisoned memory: these tests check that
 * the page is recognised, not that a real error is survived.
 *
 * Poisoned pages are lost to the guest for good: the guest scripts run
 * this suite after every other one.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

#define HPAGE_SZ	(2UL << 20)
#define HPAGE_SUBPAGES	(HPAGE_SZ / PAGE_SZ)
#define KPF_HUGE	17
#define KPF_HWPOISON	19
#define KPF_THP		22
#define FILL		0x5a
#define THP_SUBPAGE	5	/* the THP subpage poisoned: not the head */
#define EARLY_KILL	"/proc/sys/vm/memory_failure_early_kill"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define WHOLE_RAM	"/sys/module/bsdmem/parameters/dump_whole_ram"

static uint64_t kpf(uint64_t pa)
{
	return kpage_read("/proc/kpageflags", pa);
}

static int has_flag(uint64_t pa, int bit)
{
	uint64_t f = kpf(pa);

	return f != ~0ULL && (f >> bit) & 1;
}

/* The direct map's base, read through /dev/bsdkmem. */
static uint64_t page_offset(int kfd)
{
	uint64_t sym = kallsyms_lookup("page_offset_base"), pob = 0;

	ASSERT_NE(sym, 0);
	ASSERT_EQ(kread(kfd, &pob, sizeof(pob), sym), sizeof(pob));
	ASSERT_EQ(pob >> 63, 1);	/* the kernel half, 4- or 5-level */
	return pob;
}

/*
 * CONFIG_MEMORY_FAILURE is what MADV_HWPOISON needs, and its sysctl shows
 * it is there: with it, a refused madvise is a failure, not a skip.
 */
static void need_memory_failure(void)
{
	if (access(EARLY_KILL, F_OK))
		SKIP("no CONFIG_MEMORY_FAILURE (%s missing)", EARLY_KILL);
}

/* Grow the hugetlb pool by one page: earlier poisonings shrank it. */
static void reserve_hugepage(void)
{
	char line[32];
	int fd;

	ASSERT_EQ(read_line(NR_HUGEPAGES, line, sizeof(line)), 0);
	snprintf(line, sizeof(line), "%ld\n", strtol(line, NULL, 10) + 1);
	fd = open(NR_HUGEPAGES, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
}

/*
 * MADV_HWPOISON from a forked child that shares the mapping: 6.12 kills
 * the caller with SIGBUS, 6.1 does not, and the test process must live on
 * either way. The page is unmapped from every process afterwards, so the
 * caller must not touch addr again.
 */
static void poison_from_child(void *addr)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(madvise(addr, PAGE_SZ, MADV_HWPOISON) ? 3 : 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		TH_LOG("MADV_HWPOISON refused with CONFIG_MEMORY_FAILURE on");
		ASSERT_TRUE(0);
	}
	ASSERT_TRUE(WIFEXITED(status) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS));
}

/* Like ASSERT_ERRNO, but goes on: every way in is reported in one run. */
#define EXPECT_ERRNO(call, err) do {					\
	errno = 0;							\
	long long ex_r = (long long)(call);				\
	int ex_e = errno;						\
	if (ex_r != -1 || ex_e != (err)) {				\
		TH_LOG("%s:%d: %s: want -1/%s, got %lld/%s", __FILE__,	\
		       __LINE__, #call, strerror(err), ex_r,		\
		       strerror(ex_e));					\
		bt_shared->failed = 1;					\
	}								\
} while (0)

/* pread, lseek and read of /dev/bsdmem, read of /dev/bsdkmem: all EIO. */
static void expect_unreadable(int fd, int kfd, uint64_t pob, uint64_t pa)
{
	char buf[64];

	TH_LOG("checking %#llx", (unsigned long long)pa);
	EXPECT_ERRNO(pread(fd, buf, sizeof(buf), (off_t)pa), EIO);
	EXPECT_ERRNO(pread(fd, buf, 8, (off_t)(pa + 1000)), EIO);
	EXPECT_ERRNO(kread(fd, buf, sizeof(buf), pa), EIO);
	EXPECT_ERRNO(kread(kfd, buf, sizeof(buf), pob + pa), EIO);
	EXPECT_ERRNO(kread(kfd, buf, 8, pob + pa + PAGE_SZ - 8), EIO);
}

/*
 * A mapping of /dev/bsdmem at the page never shows its data: refusing the
 * mapping (EIO) or a SIGBUS on the first touch, in a child because
 * SIGBUS ends the process.
 */
static void expect_mapping_gives_no_data(int fd, uint64_t pa)
{
	int status, sigbus;
	uint8_t *m;
	pid_t pid;

	m = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)pa);
	if (m == MAP_FAILED) {
		EXPECT_EQ(errno, EIO);
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(m[123] == FILL ? 10 : 11);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		TH_LOG("the mapping of %#llx read %s", (unsigned long long)pa,
		       WEXITSTATUS(status) == 10 ? "the poisoned data" :
		       "something");
	sigbus = WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
	EXPECT_TRUE(sigbus);
	munmap(m, PAGE_SZ);
}

/*
 * A shared anonymous hugetlb page, filled, its subpage 1 poisoned; the
 * mapping is kept (never touched again) so the page stays in the page
 * cache as one hugetlb page. Returns the head's physical address.
 */
static uint64_t poisoned_shared_hugetlb(void)
{
	uint8_t *p;
	uint64_t head;

	reserve_hugepage();
	p = mmap(NULL, HPAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_MAPPED(p);
	memset(p, FILL, HPAGE_SZ);
	head = virt_to_phys_pagemap(p);
	ASSERT_NE(head, 0);
	ASSERT_EQ(head % HPAGE_SZ, 0);
	ASSERT_EQ(virt_to_phys_pagemap(p + PAGE_SZ), head + PAGE_SZ);
	ASSERT_TRUE(has_flag(head, KPF_HUGE));
	poison_from_child(p + PAGE_SZ);
	/* memory_failure() keeps the flag on the head of a hugetlb page */
	ASSERT_TRUE(has_flag(head, KPF_HWPOISON) ||
		    has_flag(head + PAGE_SZ, KPF_HWPOISON));
	return head;
}

/* Still one hugetlb page, flagged on its head: every subpage is lost. */
static int whole_hugetlb_poisoned(uint64_t head)
{
	return has_flag(head, KPF_HUGE) && has_flag(head, KPF_HWPOISON);
}

TEST(hugetlb_subpage_poison_covers_the_whole_page)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t pob = page_offset(kfd), head;
	char buf[8];
	int readable = 0;

	need_memory_failure();
	head = poisoned_shared_hugetlb();
	/* the poisoned subpage itself, whatever the kernel did */
	expect_unreadable(fd, kfd, pob, head + PAGE_SZ);
	expect_mapping_gives_no_data(fd, head + PAGE_SZ);
	/* the page stays whole on 6.1 and 6.12; a later kernel may split it */
	if (!whole_hugetlb_poisoned(head)) {
		TH_LOG("the hugetlb page was dissolved: subpage 1 checked only");
		return;
	}
	expect_unreadable(fd, kfd, pob, head);
	expect_mapping_gives_no_data(fd, head);
	for (unsigned long i = 0; i < HPAGE_SUBPAGES; i++) {
		errno = 0;
		readable += pread(fd, buf, sizeof(buf),
				  (off_t)(head + i * PAGE_SZ)) != -1 ||
			    errno != EIO;
	}
	if (readable)
		TH_LOG("%d of %lu subpages are not EIO", readable,
		       HPAGE_SUBPAGES);
	EXPECT_EQ(readable, 0);
	expect_unreadable(fd, kfd, pob, head + HPAGE_SZ - PAGE_SZ);
}

/* A private hugetlb page is dissolved: the raw poisoned subpage stays out. */
TEST(hugetlb_private_poisoned_subpage_is_never_read)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t pob = page_offset(kfd), head;
	uint8_t *p;

	need_memory_failure();
	reserve_hugepage();
	p = mmap(NULL, HPAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_MAPPED(p);
	memset(p, FILL, HPAGE_SZ);
	head = virt_to_phys_pagemap(p);
	ASSERT_NE(head, 0);
	ASSERT_TRUE(has_flag(head, KPF_HUGE));
	poison_from_child(p + PAGE_SZ);
	munmap(p, HPAGE_SZ);
	expect_unreadable(fd, kfd, pob, head + PAGE_SZ);
	expect_mapping_gives_no_data(fd, head + PAGE_SZ);
	if (whole_hugetlb_poisoned(head))
		expect_unreadable(fd, kfd, pob, head);
}

/* CONFIG_TRANSPARENT_HUGEPAGE: Debian's rt kernels are built without */
static int thp_built(void)
{
	return access(THP_ENABLED, F_OK) == 0;
}

struct thp_info {
	uint64_t head;		/* physical address of subpage 0 */
	int is_thp;
};

/*
 * A THP of a child, its subpage THP_SUBPAGE poisoned by that child, which
 * then exits: nothing but the poison keeps the page afterwards.
 */
static uint64_t poisoned_thp_subpage(void)
{
	struct thp_info info = { 0 };
	int pfd[2], status;
	pid_t pid;

	ASSERT_EQ(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		/* a few tries: the allocation may fall back to small pages */
		for (int i = 0; i < 8 && !info.is_thp; i++) {
			uint8_t *r = mmap(NULL, 2 * HPAGE_SZ,
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			uint8_t *p;

			if (r == MAP_FAILED)
				break;
			p = (uint8_t *)(((uintptr_t)r + HPAGE_SZ - 1) &
					~(HPAGE_SZ - 1));
			madvise(p, HPAGE_SZ, MADV_HUGEPAGE);
			memset(p, FILL, HPAGE_SZ);
			info.head = virt_to_phys_pagemap(p);
			info.is_thp = info.head && has_flag(info.head, KPF_THP);
			if (!info.is_thp)
				continue;
			if (write(pfd[1], &info, sizeof(info)) != sizeof(info))
				_exit(1);
			_exit(madvise(p + THP_SUBPAGE * PAGE_SZ, PAGE_SZ,
				      MADV_HWPOISON) ? 3 : 0);
		}
		if (write(pfd[1], &info, sizeof(info)) != sizeof(info))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(read(pfd[0], &info, sizeof(info)), sizeof(info));
	close(pfd[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!info.is_thp) {
		char mode[64] = "";

		read_line(THP_ENABLED, mode, sizeof(mode));
		if (strstr(mode, "[never]"))
			SKIP("transparent huge pages are off");
		TH_LOG("no THP allocated (%s)", mode);
		ASSERT_TRUE(0);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		TH_LOG("MADV_HWPOISON refused with CONFIG_MEMORY_FAILURE on");
		ASSERT_TRUE(0);
	}
	ASSERT_TRUE(has_flag(info.head + THP_SUBPAGE * PAGE_SZ, KPF_HWPOISON));
	return info.head + THP_SUBPAGE * PAGE_SZ;
}

TEST(thp_poisoned_subpage_is_never_read)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t pob = page_offset(kfd), pa;
	static char buf[2 * PAGE_SZ];

	need_memory_failure();
	if (!thp_built())
		SKIP("no transparent huge pages in this kernel");
	pa = poisoned_thp_subpage();
	expect_unreadable(fd, kfd, pob, pa);
	expect_mapping_gives_no_data(fd, pa);
	if (has_flag(pa, KPF_THP)) {
		TH_LOG("the THP was not split: the poisoned subpage checked only");
		return;
	}
	/*
	 * Split: only the poisoned subpage is lost. Its neighbours went back
	 * to the allocator and read as any RAM; a read running into the
	 * poisoned page stops there with the short count.
	 */
	for (int d = -1; d <= 1; d += 2) {
		errno = 0;
		ssize_t r = pread(fd, buf, 64, (off_t)(pa + d * PAGE_SZ));

		if (r < 0)
			ASSERT_NE(errno, EIO);
	}
	ASSERT_EQ(pread(fd, buf, sizeof(buf), (off_t)(pa - PAGE_SZ)), PAGE_SZ);
}

/* ---- a whole-RAM dump, parsed as it streams through a pipe ---- */

struct check {
	uint64_t pa;
	uint64_t off;		/* of the page in the dump, if in a PT_LOAD */
	int in_file;		/* a PT_LOAD carries its bytes */
	size_t seen;		/* bytes of it seen so far */
	int bad;		/* a nonzero byte, or one unlike want */
	const uint8_t *want;	/* NULL: must be zero */
};

struct dumper {
	int fd;
	int ret;
	int err;
};

static void *dump_thread(void *arg)
{
	struct dumper *d = arg;
	struct mem_livedump_arg a = { .fd = d->fd };
	int mem = open(BSDMEM_DEV_PATH, O_RDONLY);

	d->ret = ioctl(mem, MEM_KERNELDUMP, &a);
	d->err = errno;
	close(mem);
	close(d->fd);	/* EOF for the reader */
	return NULL;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* Where each checked page is in the dump, from the program headers. */
static void place_checks(const Elf64_Phdr *ph, int phnum, struct check *c,
			 int n)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < phnum; j++) {
			if (ph[j].p_type != PT_LOAD || c[i].pa < ph[j].p_paddr ||
			    c[i].pa + PAGE_SZ > ph[j].p_paddr + ph[j].p_filesz)
				continue;
			c[i].in_file = 1;
			c[i].off = ph[j].p_offset + (c[i].pa - ph[j].p_paddr);
		}
	}
}

/* The bytes [pos, pos + len) of the stream against every check. */
static void scan_chunk(const uint8_t *buf, uint64_t pos, size_t len,
		       struct check *c, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t s, e;

		if (!c[i].in_file)
			continue;
		s = c[i].off > pos ? c[i].off : pos;
		e = c[i].off + PAGE_SZ < pos + len ? c[i].off + PAGE_SZ :
		    pos + len;
		if (s >= e)
			continue;
		for (uint64_t b = s; b < e; b++) {
			uint8_t want = c[i].want ? c[i].want[b - c[i].off] : 0;

			c[i].bad |= buf[b - pos] != want;
		}
		c[i].seen += e - s;
	}
}

/*
 * Stream a dump and check the pages: the headers come first (the dump is
 * written strictly sequentially), then the data in file order.
 */
static void dump_and_check(struct check *c, int n)
{
	static uint8_t buf[1 << 16];
	struct dumper d;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	uint8_t *hdr;
	uint64_t pos, hlen;
	pthread_t th;
	int pfd[2];
	ssize_t got;

	ASSERT_EQ(pipe(pfd), 0);
	d.fd = pfd[1];
	ASSERT_EQ(pthread_create(&th, NULL, dump_thread, &d), 0);
	ASSERT_EQ(read_full(pfd[0], &eh, sizeof(eh)), 0);
	ASSERT_EQ(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
	ASSERT_GE(eh.e_phoff, sizeof(eh));
	ASSERT_EQ(eh.e_phentsize, sizeof(Elf64_Phdr));
	hlen = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	hdr = malloc(hlen);
	ASSERT_TRUE(hdr != NULL);
	memcpy(hdr, &eh, sizeof(eh));
	ASSERT_EQ(read_full(pfd[0], hdr + sizeof(eh), hlen - sizeof(eh)), 0);
	ph = (Elf64_Phdr *)(hdr + eh.e_phoff);
	place_checks(ph, eh.e_phnum, c, n);
	for (pos = hlen; (got = read(pfd[0], buf, sizeof(buf))) > 0; pos += got)
		scan_chunk(buf, pos, got, c, n);
	close(pfd[0]);
	pthread_join(th, NULL);
	errno = d.err;
	ASSERT_EQ(d.ret, 0);
	free(hdr);
}

TEST(whole_ram_dump_leaves_poisoned_pages_out)
{
	static uint8_t marker[PAGE_SZ];
	struct check c[HPAGE_SUBPAGES + 2];
	uint64_t head, thp;
	char old[8] = "N";
	uint8_t *mine = locked_page(0);
	int n = 0, ret, bad = 0, zeroed = 0;

	need_memory_failure();
	/* a whole-RAM dump of the guest takes long on the debug kernel */
	alarm(3600);
	head = poisoned_shared_hugetlb();
	/* without THP in the kernel, the hugetlb page alone */
	thp = thp_built() ? poisoned_thp_subpage() : 0;
	if (!thp)
		TH_LOG("no transparent huge pages in this kernel: hugetlb only");
	memset(c, 0, sizeof(c));
	/* all of the hugetlb page while it is whole, else its subpage 1 */
	for (unsigned long i = 0; i < HPAGE_SUBPAGES; i++)
		if (i == 1 || whole_hugetlb_poisoned(head))
			c[n++].pa = head + i * PAGE_SZ;
	if (thp)
		c[n++].pa = thp;
	/* and a healthy page of ours, which a whole-RAM dump must carry */
	for (unsigned int i = 0; i < PAGE_SZ; i++)
		marker[i] = (uint8_t)(i * 13 + 7);
	memcpy(mine, marker, PAGE_SZ);
	c[n].pa = virt_to_phys_pagemap(mine);
	ASSERT_NE(c[n].pa, 0);
	c[n++].want = marker;

	read_line(WHOLE_RAM, old, sizeof(old));
	ASSERT_EQ(write_line(WHOLE_RAM, "1"), 0);
	dump_and_check(c, n);
	ret = write_line(WHOLE_RAM, old[0] == 'Y' ? "1" : "0");
	ASSERT_EQ(ret, 0);

	ASSERT_TRUE(c[n - 1].in_file);
	ASSERT_EQ(c[n - 1].seen, PAGE_SZ);
	ASSERT_EQ(c[n - 1].bad, 0);
	for (int i = 0; i < n - 1; i++) {
		/* in a PT_LOAD, its bytes must all be there and zero */
		if (!c[i].in_file || (c[i].seen == PAGE_SZ && !c[i].bad))
			continue;
		if (!bad++ || c[i].pa == thp)
			TH_LOG("poisoned page %#llx is in the dump%s",
			       (unsigned long long)c[i].pa,
			       c[i].bad ? " with data" : ", cut short");
	}
	for (int i = 0; i < n - 1; i++)
		zeroed += c[i].in_file;
	TH_LOG("%d poisoned pages: %d absent, %d in a PT_LOAD, %d of them with data",
	       n - 1, n - 1 - zeroed, zeroed, bad);
	ASSERT_EQ(bad, 0);
}
