// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_KERNELDUMP: the errors in abi.md's order, a dump blocked on a pipe
 * (EBUSY for a second one, SIGKILL stopping it, rmmod refused meanwhile),
 * EPIPE and ENOSPC followed by good dumps, pipes and sockets, and the ELF
 * layout the readers rely on. The readers themselves run on the host.
 *
 * The caller writes the dump as write(2) would: its RLIMIT_FSIZE
 * (EFBIG, SIGXFSZ), SIGPIPE, the file position after a partial dump and
 * with O_APPEND, its I/O accounting, the LSM checks of its writes;
 * suspend freezes a dump blocked on a stopped reader, and caught signals,
 * SIGSTOP and SIGCONT neither end a dump nor make it spin. Those, and the
 * cgroup v2 freezer's case, run a gzip dump to its end: in dump_test
 * only, dump_test_32 skips them. CPUs going offline and online during a
 * dump neither end nor spoil it (dump_test only, too).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "harness.h"
#include "util.h"
#include "bpf_lsm.h"

#define CORE		"/tmp/bsdmem-test.core"
#define PROGRESS	"/sys/module/bsdmem/parameters/dump_progress"

/* struct elf_prstatus of x86-64: its size, pr_reg and three registers */
#define PRSTATUS_SIZE	336
#define PR_REG		112
#define PRS_IP		16
#define PRS_CS		17
#define PRS_SP		19
#define KERNEL_CS	0x10
#define USER32_CS	0x23
#define USER_CS		0x33

static int dump(int fd, int comp)
{
	return kerneldump(fd, comp, 0);
}

struct drain {
	int fd;
	long long bytes;
	unsigned char head[8];
};

static void *drainer(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		if (d->bytes < 8)
			memcpy(d->head + d->bytes, buf,
			       n < 8 - d->bytes ? n : 8 - d->bytes);
		d->bytes += n;
	}
	return NULL;
}

/* A dump into the write end of fds[1] while a thread drains fds[0]. */
static int dump_drained(int fds[2], int comp, struct drain *d)
{
	pthread_t th;
	int ret, err;

	d->fd = fds[0];
	d->bytes = 0;
	pthread_create(&th, NULL, drainer, d);
	ret = dump(fds[1], comp);
	err = errno;
	close(fds[1]);
	pthread_join(th, NULL);
	close(fds[0]);
	errno = err;
	return ret;
}

TEST(errors_in_abi_order)
{
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int ro = open("/proc/version", O_RDONLY);
	struct mem_livedump_arg a = { 0 };

	a.flags = 1;
	a.fd = -1;
	a.compression = 9;
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EINVAL);	/* flags first */
	a.flags = 0;
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EBADF);	/* then the fd */
	a.fd = 12345;
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EBADF);
	a.fd = ro;
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EBADF);	/* read-only */
	a.fd = 1;
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EINVAL);	/* compression */
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, NULL), EFAULT);
	/* FreeBSD's encoding reaches the same checks */
	ASSERT_ERRNO(ioctl(mem, _IOR('m', 53, struct mem_livedump_arg), &a), EINVAL);
	/* and the privilege comes before everything */
	a.flags = 1;
	ASSERT_EQ(drop_cap_sys_rawio(), 0);
	ASSERT_ERRNO(ioctl(mem, MEM_KERNELDUMP, &a), EPERM);
}

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

/*
 * Until the dumper (pid) has written pages and is blocked: however long
 * that takes on a slow kernel, the harness stops a hang. The counters keep
 * the last dump's numbers until the next one starts, hence "changed".
 */
static void wait_for_progress(pid_t pid, long long planned0,
			      long long written0)
{
	long long planned, written;

	for (;;) {
		read_progress(&planned, &written);
		if ((planned != planned0 || written != written0) &&
		    written > 0 && written < planned)
			return;
		ASSERT_EQ(waitpid(pid, NULL, WNOHANG), 0);
		usleep(20000);
	}
}

/* The pid of a task named comm (a kernel thread too), 0 if none. */
static pid_t find_task(const char *comm)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ASSERT_TRUE(dir != NULL);
	while (!found && (e = readdir(dir))) {
		char path[300], name[64];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!read_line(path, name, sizeof(name)) && !strcmp(name, comm))
			found = atoi(e->d_name);
	}
	closedir(dir);
	return found;
}

/*
 * A dump blocked on a full pipe: a second dump is EBUSY, rmmod is refused,
 * SIGKILL ends the dumper, and the next dump works.
 */
TEST(blocked_dump_busy_killed_then_next_works)
{
	int blocked[2], fds[2], status;
	long long planned0, written0;
	struct drain d;
	pid_t pid;

	ASSERT_EQ(pipe(blocked), 0);
	read_progress(&planned0, &written0);
	pid = fork();
	if (pid == 0) {
		close(blocked[0]);
		dump(blocked[1], KERNELDUMP_COMP_NONE);
		_exit(0);
	}
	close(blocked[1]);
	wait_for_progress(pid, planned0, written0);
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_ERRNO(dump(fds[1], KERNELDUMP_COMP_NONE), EBUSY);
	ASSERT_NE(system("rmmod bsdmem 2>/dev/null"), 0);
	ASSERT_EQ(access(BSDMEM_DEV_PATH, F_OK), 0);
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	/* the dump's thread is gone too (a moment after the caller) */
	while (find_task("bsdmem-dump"))
		usleep(10000);
	close(blocked[0]);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_NONE, &d), 0);
	ASSERT_GT(d.bytes, 1 << 20);
	ASSERT_EQ(memcmp(d.head, ELFMAG, SELFMAG), 0);
}

/* A pipe without readers: EPIPE, and SIGPIPE to the caller, as write(2). */
TEST(closed_pipe_is_epipe_and_sigpipe)
{
	int fds[2], status;
	pid_t pid;

	ASSERT_EQ(pipe(fds), 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_ERRNO(dump(fds[1], KERNELDUMP_COMP_ZSTD), EPIPE);
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		dump(fds[1], KERNELDUMP_COMP_NONE);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGPIPE);
}

TEST(full_filesystem_is_enospc_then_a_good_dump)
{
	int fd, fds[2];
	struct drain d;

	mkdir("/tmp/small", 0700);
	ASSERT_EQ(mount("tmpfs", "/tmp/small", "tmpfs", 0, "size=4m"), 0);
	fd = open("/tmp/small/core", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_ERRNO(dump(fd, KERNELDUMP_COMP_NONE), ENOSPC);
	close(fd);
	umount("/tmp/small");
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_NONE, &d), 0);
	ASSERT_EQ(memcmp(d.head, ELFMAG, SELFMAG), 0);
}

TEST(compressed_streams_carry_their_magic)
{
	static const unsigned char gz[] = { 0x1f, 0x8b, 8 };
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct drain d;
	int fds[2];

	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_GZIP, &d), 0);
	ASSERT_EQ(memcmp(d.head, gz, sizeof(gz)), 0);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_ZSTD, &d), 0);
	ASSERT_EQ(memcmp(d.head, zst, sizeof(zst)), 0);
}

/* ---- the layout, on one dump written to a file ---- */

static uint8_t *core;
static size_t core_len;

static void load_core(void)
{
	struct stat st;
	int fd = open(CORE, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(dump(fd, KERNELDUMP_COMP_NONE), 0);
	/* the file position advanced over the dump, as write(2) would */
	ASSERT_EQ(fstat(fd, &st), 0);
	ASSERT_EQ(lseek(fd, 0, SEEK_CUR), st.st_size);
	core_len = st.st_size;
	core = mmap(NULL, core_len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAPPED(core);
	close(fd);
	unlink(CORE);
}

static const Elf64_Phdr *phdr(int i)
{
	const Elf64_Ehdr *eh = (const void *)core;

	return (const void *)(core + eh->e_phoff + i * sizeof(Elf64_Phdr));
}

static const void *find(const void *hay, size_t hlen, const void *needle,
			size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/*
 * Free (buddy) or a user page, as /proc/kpageflags shows it: not the
 * kernel's. A slab page or a page table is the kernel's whatever else is
 * set: 6.12 reports slab pages as KPF_ANON (and KPF_KSM), reading the
 * slab's fields where a folio has its mapping.
 */
static int page_free_or_user(uint64_t pa)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(pread(fd, &flags, 8, (off_t)(pa / PAGE_SZ * 8)), 8);
	close(fd);
	/* KPF_SLAB, KPF_PGTABLE */
	if (flags & (1ULL << 7 | 1ULL << 26))
		return 0;
	/* KPF_LRU, KPF_BUDDY, KPF_MMAP, KPF_ANON */
	return !!(flags & (1ULL << 5 | 1ULL << 10 | 1ULL << 11 | 1ULL << 12));
}

/*
 * The brk's pages past brk_end that are in the dump (data in the image
 * segment) although free or a user page both before (free_before) and
 * after the dump: each logged, their number returned.
 */
static int brk_free_pages_taken(uint64_t text, uint64_t end, uint64_t code,
				uint64_t brk_base, uint64_t brk_end,
				const uint8_t *free_before)
{
	int taken = 0;

	for (uint64_t va = brk_end; va < end; va += PAGE_SZ) {
		const uint8_t *in = core + phdr(1)->p_offset + (va - text);
		int dump_data = 0;

		for (unsigned int i = 0; i < PAGE_SZ; i++)
			dump_data |= in[i];
		if (dump_data && free_before[(va - brk_base) / PAGE_SZ] &&
		    page_free_or_user(code + (va - text))) {
			TH_LOG("%#llx, past the used brk (%#llx), free or a user page before and after the dump, is in it",
			       (unsigned long long)va,
			       (unsigned long long)brk_end);
			taken++;
		}
	}
	return taken;
}

/* Sample which of the brk's pages are free or a user page now. */
static void brk_sample(uint64_t text, uint64_t end, uint64_t code,
		       uint64_t brk_base, uint8_t *free_now)
{
	for (uint64_t va = brk_base; va < end; va += PAGE_SZ)
		free_now[(va - brk_base) / PAGE_SZ] =
			page_free_or_user(code + (va - text));
}

TEST(elf_layout_as_vmcore)
{
	const Elf64_Ehdr *eh;
	uint64_t text = kallsyms_lookup("_text"), end = kallsyms_lookup("_end");
	uint64_t bss_stop = kallsyms_lookup("__bss_stop");
	uint64_t brk_base = kallsyms_lookup("__brk_base");
	uint64_t pob_sym = kallsyms_lookup("page_offset_base"), pob = 0;
	uint64_t brk_end = 0, code, bss, bss_last = 0;
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t prev_end = 0;
	/* the brk's unused pages free or user before the dump (4096 at most) */
	static uint8_t free_before[4096];

	ASSERT_LE((end - brk_base) / PAGE_SZ, sizeof(free_before));
	code = iomem_find("Kernel code", NULL);
	ASSERT_NE(code, 0);
	brk_sample(text, end, code, brk_base, free_before);
	load_core();
	eh = (const void *)core;
	ASSERT_EQ(memcmp(eh->e_ident, ELFMAG, SELFMAG), 0);
	ASSERT_EQ(eh->e_ident[EI_CLASS], ELFCLASS64);
	ASSERT_EQ(eh->e_type, ET_CORE);
	ASSERT_EQ(eh->e_machine, EM_X86_64);
	ASSERT_GE(eh->e_phnum, 3);
	ASSERT_LT(eh->e_phnum, 65535);
	ASSERT_EQ(phdr(0)->p_type, PT_NOTE);
	ASSERT_EQ(kread(kfd, &pob, 8, pob_sym), 8);

	/*
	 * The kernel image is /proc/vmcore's "kernel text" segment, exactly:
	 * _text to _end, at _text's physical address (the start of "Kernel
	 * code" in /proc/iomem, whose "Kernel bss" ends at __bss_stop).
	 */
	ASSERT_NE(text, 0);
	ASSERT_NE(end, 0);
	ASSERT_NE(brk_base, 0);
	code = iomem_find("Kernel code", NULL);
	bss = iomem_find("Kernel bss", &bss_last);
	ASSERT_NE(code, 0);
	ASSERT_NE(bss, 0);
	ASSERT_EQ(bss_last + 1 - code, bss_stop - text);
	ASSERT_EQ(phdr(1)->p_type, PT_LOAD);
	ASSERT_EQ(phdr(1)->p_vaddr, text);
	ASSERT_EQ(phdr(1)->p_paddr, code);
	ASSERT_EQ(phdr(1)->p_vaddr + phdr(1)->p_filesz, end);
	ASSERT_EQ(phdr(1)->p_memsz, phdr(1)->p_filesz);
	/*
	 * The brk the kernel used (DMI tables, early page tables) is in. What
	 * it did not use is the allocator's, unless memblock took it at boot:
	 * it is in the image segment only if the kernel has it now (the
	 * direct-map segments leave the image's frames to it), never free or
	 * a user page. Whether it was free throughout the dump cannot be
	 * seen, only before and after: a page allocated to the kernel and
	 * freed again meanwhile is rightly in. So a page taken counts only
	 * if it is taken in three dumps in a row, each sampled before and
	 * after: a plan that takes free pages does it every time.
	 */
	ASSERT_EQ(kread(kfd, &brk_end, 8, kallsyms_lookup("_brk_end")), 8);
	ASSERT_GE(brk_end, brk_base);
	ASSERT_LE(brk_end, end);
	for (uint64_t va = brk_base; va < brk_end; va += PAGE_SZ) {
		const uint8_t *in = core + phdr(1)->p_offset + (va - text);
		static uint8_t live[PAGE_SZ];
		int live_data = 0, dump_data = 0;

		for (unsigned int i = 0; i < PAGE_SZ; i++)
			dump_data |= in[i];
		ASSERT_EQ(kread(kfd, live, PAGE_SZ, va), PAGE_SZ);
		for (unsigned int i = 0; i < PAGE_SZ; i++)
			live_data |= live[i];
		ASSERT_EQ(!!dump_data, !!live_data);
	}
	if (brk_free_pages_taken(text, end, code, brk_base, brk_end,
				 free_before)) {
		const uint8_t *first = core;
		size_t first_len = core_len;
		int again = 0;

		for (int i = 0; i < 2; i++) {
			brk_sample(text, end, code, brk_base, free_before);
			load_core();
			again = brk_free_pages_taken(text, end, code, brk_base,
						     brk_end, free_before);
			munmap(core, core_len);
			if (!again)
				break;
		}
		core = (uint8_t *)first;
		core_len = first_len;
		ASSERT_EQ(again, 0);
	}
	for (int i = 2; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = phdr(i);

		ASSERT_EQ(p->p_type, PT_LOAD);
		ASSERT_EQ(p->p_align, 0);
		ASSERT_EQ(p->p_vaddr, pob + p->p_paddr);
		ASSERT_GE(p->p_paddr, prev_end);
		ASSERT_EQ(p->p_paddr % PAGE_SZ, 0);
		ASSERT_LE(p->p_offset + p->p_filesz, core_len);
		/* no frame of the image's twice, not even in a merged hole */
		ASSERT_TRUE(p->p_paddr + p->p_memsz <= phdr(1)->p_paddr ||
			    p->p_paddr >= phdr(1)->p_paddr + phdr(1)->p_memsz);
		prev_end = p->p_paddr + p->p_memsz;
	}
	ASSERT_EQ(phdr(eh->e_phnum - 1)->p_offset +
		  phdr(eh->e_phnum - 1)->p_filesz, core_len);
	/* the kernel image holds the banner at its physical address too */
	{
		uint64_t banner = kallsyms_lookup("linux_banner");
		char want[32];

		ASSERT_EQ(read_line("/proc/version", want, sizeof(want)), 0);
		ASSERT_EQ(memcmp(core + phdr(1)->p_offset + (banner - text),
				 want, 20), 0);
	}
}

/*
 * An NT_PRSTATUS per online CPU, each with that CPU's registers (none
 * zero: every CPU answered) and the pid of the task running there, as
 * kdump's crash_save_cpu() writes them; then VMCOREINFO verbatim.
 */
TEST(notes_prstatus_per_cpu_and_vmcoreinfo)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), seen = 0, tasks = 0;
	unsigned long long vpa = 0;
	unsigned int vlen = 0;
	const uint8_t *p, *end;
	char line[64];
	uint8_t *want;
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);

	load_core();
	p = core + phdr(0)->p_offset;
	end = p + phdr(0)->p_filesz;
	while (p < end) {
		const Elf64_Nhdr *n = (const void *)p;
		const char *name = (const char *)(n + 1);
		const uint8_t *desc = p + sizeof(*n) + ((n->n_namesz + 3) & ~3);
		size_t len = sizeof(*n) + ((n->n_namesz + 3) & ~3) +
			     ((n->n_descsz + 3) & ~3);

		if (n->n_type == NT_PRSTATUS) {
			uint64_t ip, cs, sp;
			int pid;

			ASSERT_EQ(strcmp(name, "CORE"), 0);
			ASSERT_EQ(n->n_descsz, PRSTATUS_SIZE);
			/* pr_pid follows pr_info (12), pr_cursig and padding, pr_sigpend, pr_sighold */
			memcpy(&pid, desc + 32, sizeof(pid));
			/* pr_reg: user_regs_struct, 8 bytes per register */
			memcpy(&ip, desc + PR_REG + 8 * PRS_IP, 8);
			memcpy(&cs, desc + PR_REG + 8 * PRS_CS, 8);
			memcpy(&sp, desc + PR_REG + 8 * PRS_SP, 8);
			TH_LOG("CPU note %d: pid %d ip %#llx cs %#llx sp %#llx",
			       seen, pid, (unsigned long long)ip,
			       (unsigned long long)cs, (unsigned long long)sp);
			ASSERT_NE(ip, 0);
			ASSERT_NE(sp, 0);
			ASSERT_TRUE(cs == KERNEL_CS || cs == USER_CS ||
				    cs == USER32_CS);
			ASSERT_GE(pid, 0);
			/* the idle task (pid 0) runs in the kernel only */
			if (!pid)
				ASSERT_EQ(cs, KERNEL_CS);
			tasks += pid != 0;
			seen++;
		} else {
			ASSERT_EQ(seen, ncpu);
			ASSERT_EQ(strcmp(name, "VMCOREINFO"), 0);
			ASSERT_EQ(read_line("/sys/kernel/vmcoreinfo", line,
					    sizeof(line)), 0);
			int fields = sscanf(line, "%llx %x", &vpa, &vlen);

			ASSERT_EQ(fields, 2);
			ASSERT_LE(len, vlen);
			want = malloc(len);
			ASSERT_EQ(pread(fd, want, len, (off_t)vpa), (ssize_t)len);
			ASSERT_MEMEQ(p, want, len);
			ASSERT_TRUE(find(desc, n->n_descsz, "OSRELEASE=", 10) != NULL);
			ASSERT_TRUE(find(desc, n->n_descsz, "CRASHTIME=", 10) == NULL);
			ASSERT_TRUE(p + len == end);
		}
		p += len;
	}
	ASSERT_EQ(seen, ncpu);
	/* the dumping CPU runs the dump's kernel thread */
	ASSERT_GE(tasks, 1);
}

/* Kernel memory (the log) is in; a user page is not. */
TEST(page_selection_kernel_in_user_out)
{
	char kmark[64], umark[64];
	int kmsg = open("/dev/kmsg", O_WRONLY);
	uint8_t *page = locked_page(0);
	unsigned int seed = (unsigned int)time(NULL) ^ getpid();

	snprintf(kmark, sizeof(kmark), "bsdmem-kernel-marker-%u", rand_r(&seed));
	snprintf(umark, sizeof(umark), "bsdmem-user-marker-%u-%u", rand_r(&seed),
		 rand_r(&seed));
	for (unsigned int off = 0; off + 64 <= PAGE_SZ; off += 64)
		memcpy(page + off, umark, strlen(umark));
	ASSERT_GE(kmsg, 0);
	ASSERT_GT(write(kmsg, kmark, strlen(kmark)), 0);
	load_core();
	ASSERT_TRUE(find(core, core_len, kmark, strlen(kmark)) != NULL);
	ASSERT_TRUE(find(core, core_len, umark, strlen(umark)) == NULL);
}

TEST(progress_reports_planned_and_written)
{
	long long planned = -1, written = -1;
	FILE *f;

	load_core();
	f = fopen(PROGRESS, "r");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fscanf(f, "%lld %lld", &planned, &written), 2);
	fclose(f);
	ASSERT_GT(planned, 0);
	ASSERT_EQ(planned, written);
	ASSERT_EQ(planned * (long long)PAGE_SZ, (long long)(core_len -
		  phdr(1)->p_offset));
}

/* ---- the caller writes: its limits, its accounting, its LSM checks ---- */

#define FSIZE_LIMIT	(3LL * 1024 * 1024 + 4321)

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long long)st.st_size;
}

/* A plain dump into fd with RLIMIT_FSIZE set: its errno, or 0. */
static int dump_fsize_limited(int fd)
{
	struct rlimit rl;
	int ret;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = FSIZE_LIMIT;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ret = dump(fd, KERNELDUMP_COMP_NONE) ? errno : 0;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
	return ret;
}

/* A plain dump into CORE with RLIMIT_FSIZE set: its errno, or 0. */
static int dump_with_fsize_limit(void)
{
	int fd, ret;

	fd = open(CORE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ret = dump_fsize_limited(fd);
	close(fd);
	return ret;
}

TEST(fsize_limit_is_efbig_with_sigxfsz_ignored)
{
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(dump_with_fsize_limit(), EFBIG);
	/* written up to the limit, as write(2) writes, and not a byte past */
	ASSERT_EQ(file_size(CORE), FSIZE_LIMIT);
	unlink(CORE);
}

TEST(fsize_limit_kills_with_sigxfsz_by_default)
{
	struct rlimit nocore = { 0, 0 };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		signal(SIGXFSZ, SIG_DFL);
		_exit(dump_with_fsize_limit());
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		TH_LOG("the caller exited with %d", WEXITSTATUS(status));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGXFSZ);
	ASSERT_LE(file_size(CORE), FSIZE_LIMIT);
	unlink(CORE);
}

#define PREFIX		"written before the dump\n"
#define PREFIX_LEN	((long long)sizeof(PREFIX) - 1)

/*
 * A dump that fails partway moves the file position by what it wrote, as
 * write(2) does: past the partial dump, which a retry on the same
 * descriptor then does not overwrite. Here ENOSPC, the dump starting
 * after bytes already in the file.
 */
TEST(enospc_moves_the_position_past_what_was_written)
{
	char head[PREFIX_LEN + SELFMAG];
	int fd;

	mkdir("/tmp/small", 0700);
	ASSERT_EQ(mount("tmpfs", "/tmp/small", "tmpfs", 0, "size=4m"), 0);
	fd = open("/tmp/small/core", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, PREFIX, PREFIX_LEN), PREFIX_LEN);
	ASSERT_ERRNO(dump(fd, KERNELDUMP_COMP_NONE), ENOSPC);
	ASSERT_GT(file_size("/tmp/small/core"), PREFIX_LEN + (1 << 20));
	ASSERT_EQ(lseek(fd, 0, SEEK_CUR), file_size("/tmp/small/core"));
	ASSERT_EQ(pread(fd, head, sizeof(head), 0), (long long)sizeof(head));
	ASSERT_MEMEQ(head, PREFIX, PREFIX_LEN);
	ASSERT_MEMEQ(head + PREFIX_LEN, ELFMAG, SELFMAG);
	close(fd);
	umount("/tmp/small");
}

/*
 * With O_APPEND the dump goes to the end of the file whatever the
 * position, and the position ends up there, as with write(2): here
 * after a dump that RLIMIT_FSIZE ended with EFBIG.
 */
TEST(efbig_with_o_append_appends_and_moves_the_position)
{
	char head[PREFIX_LEN + SELFMAG];
	int fd;

	signal(SIGXFSZ, SIG_IGN);
	fd = open(CORE, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, PREFIX, PREFIX_LEN), PREFIX_LEN);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	ASSERT_EQ(dump_fsize_limited(fd), EFBIG);
	ASSERT_EQ(file_size(CORE), FSIZE_LIMIT);
	ASSERT_EQ(lseek(fd, 0, SEEK_CUR), FSIZE_LIMIT);
	ASSERT_EQ(pread(fd, head, sizeof(head), 0), (long long)sizeof(head));
	ASSERT_MEMEQ(head, PREFIX, PREFIX_LEN);
	ASSERT_MEMEQ(head + PREFIX_LEN, ELFMAG, SELFMAG);
	close(fd);
	unlink(CORE);
}

/* A field of /proc/self/io (the whole process), -1 if there is none. */
static long long proc_io(const char *field)
{
	char line[128];
	long long val = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/io", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			val = atoll(line + len + 1);
	if (f)
		fclose(f);
	return val;
}

/* The bytes of a dump are the caller's writes, in its accounting. */
TEST(writes_are_accounted_to_the_caller)
{
	long long before = proc_io("wchar"), after;
	struct drain d;
	int fds[2];

	if (before < 0)
		SKIP("no /proc/self/io (CONFIG_TASK_IO_ACCOUNTING)");
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_NONE, &d), 0);
	after = proc_io("wchar");
	ASSERT_GT(d.bytes, 1 << 20);
	ASSERT_GE(after - before, d.bytes);
}

/*
 * The LSMs check the dump's writes as the caller's: a BPF LSM program
 * refuses every write of the caller (and no one else's), and the dump
 * fails at its first write with EPERM, having written nothing.
 */
TEST(lsm_checks_the_writes_as_the_callers)
{
	static char log[65536];
	int go[2], fd, link, status;
	long btf_id;
	pid_t pid;
	char c;

	if (!bpf_lsm_active())
		SKIP("the BPF LSM is not active (/sys/kernel/security/lsm)");
	btf_id = btf_vmlinux_func("bpf_lsm_file_permission");
	if (btf_id <= 0)
		SKIP("no BTF id for bpf_lsm_file_permission (%ld)", btf_id);
	fd = open(CORE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(255);
		_exit(dump(fd, KERNELDUMP_COMP_NONE) ? errno : 0);
	}
	close(go[0]);
	link = bpf_lsm_deny_writes_of(pid, btf_id, log, sizeof(log));
	if (link < 0)
		TH_LOG("BPF: %s\n%s", strerror(errno), log);
	ASSERT_GE(link, 0);
	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	close(link);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), EPERM);
	ASSERT_EQ(file_size(CORE), 0);
	/* the program gone, the same dump goes through */
	ASSERT_EQ(dump(fd, KERNELDUMP_COMP_NONE), 0);
	ASSERT_GT(file_size(CORE), 1 << 20);
	close(fd);
	unlink(CORE);
}

/*
 * The dumps below run to completion in a guest under TCG and take most of
 * this file's time, and the compat ioctl adds nothing to how a dump runs
 * once it started: they are in the 64-bit build (dump_test) only, and
 * dump_test_32 does not list them.
 */
#ifdef __x86_64__

/* ---- signals and the freezer ---- */

/*
 * gunzip -t on the read end of p, stopped before it reads: a reader that
 * checks the gzip stream (CRC and length) once it is let go.
 */
static pid_t start_stopped_checker(int p[2])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		raise(SIGSTOP);
		execlp("gunzip", "gunzip", "-t", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(waitpid(pid, &status, WUNTRACED), pid);
	ASSERT_TRUE(WIFSTOPPED(status));
	return pid;
}


/* Caught: a handler that runs once the ioctl has returned. */
static void on_signal(int sig)
{
	(void)sig;
}

/* A gzip dump into p[1] in a child, with SIGUSR1 and SIGINT caught. */
static pid_t start_dumper(int p[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_signal };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		_exit(dump(p[1], KERNELDUMP_COMP_GZIP) ? errno : 0);
	}
	return pid;
}

/*
 * Until the written pages of a running dump stand still for a second.
 * Bounded by the dump itself, which a stopped reader stops.
 */
static void wait_for_standstill(pid_t pid)
{
	long long planned, written, last = -1;

	for (;;) {
		read_progress(&planned, &written);
		if (written == last)
			return;
		last = written;
		ASSERT_EQ(waitpid(pid, NULL, WNOHANG), 0);
		sleep(1);
	}
}

/*
 * A gzip dump into a pipe whose reader (gunzip -t) is stopped, and the
 * progress counters before it started.
 */
static void start_blocked_dump(pid_t *reader, pid_t *dumper,
			       long long *planned0, long long *written0)
{
	int p[2];

	ASSERT_EQ(pipe(p), 0);
	*reader = start_stopped_checker(p);
	read_progress(planned0, written0);
	*dumper = start_dumper(p);
	close(p[0]);
	close(p[1]);
}

static void expect_exit_0(pid_t pid, const char *who)
{
	int status;

	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		TH_LOG("%s: %s %d", who, WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) :
		       WTERMSIG(status));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

/*
 * Suspend's freezer, tested without sleeping (pm_test "freezer": freeze
 * every task, wait, thaw), while a dump is blocked on a full pipe whose
 * reader is stopped (frozen in turn). Then the dump goes on to a stream
 * that gunzip -t accepts.
 */
TEST(suspend_freezes_a_dump_blocked_on_a_stopped_reader)
{
	long long planned0, written0;
	char states[128];
	pid_t reader, dumper;
	int ret, err;

	if (access("/sys/power/pm_test", W_OK))
		SKIP("no /sys/power/pm_test (CONFIG_PM_DEBUG)");
	if (read_line("/sys/power/state", states, sizeof(states)) ||
	    !strstr(states, "freeze"))
		SKIP("no \"freeze\" in /sys/power/state");
	start_blocked_dump(&reader, &dumper, &planned0, &written0);
	wait_for_progress(dumper, planned0, written0);
	wait_for_standstill(dumper);
	ASSERT_EQ(write_line("/sys/power/pm_test", "freezer"), 0);
	ret = write_line("/sys/power/state", "freeze");
	err = errno;
	write_line("/sys/power/pm_test", "none");
	errno = err;
	ASSERT_EQ(ret, 0);
	ASSERT_EQ(kill(reader, SIGCONT), 0);
	expect_exit_0(dumper, "the dump");
	expect_exit_0(reader, "gunzip -t");
}

/* utime + stime of a task, in clock ticks. */
static long long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	p = strrchr(buf, ')');
	ASSERT_TRUE(p != NULL);
	/* state ppid pgrp session tty tpgid flags 4 fault counts, then these */
	n = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st);
	ASSERT_EQ(n, 2);
	return ut + st;
}

/* Send the dumper the caught signals, once per measurement. */
static void send_caught_signals(pid_t dumper)
{
	ASSERT_EQ(kill(dumper, SIGUSR1), 0);
	ASSERT_EQ(kill(dumper, SIGINT), 0);
}

/*
 * The milliseconds of CPU the dumper and the dump's thread use in one
 * second (wall_ms, measured) in which the dump stood still, poke (if any)
 * done before each try: a dump blocked on its reader must sleep.
 */
static long long blocked_cpu_ms(pid_t dumper, pid_t thread,
				void (*poke)(pid_t), long long *wall_ms)
{
	double hz = sysconf(_SC_CLK_TCK), t0, t1;
	long long planned, w0, w1, cpu0, cpu1;

	do {
		wait_for_standstill(dumper);
		if (poke)
			poke(dumper);
		read_progress(&planned, &w0);
		cpu0 = cpu_ticks(dumper) + cpu_ticks(thread);
		t0 = bt_now();
		sleep(1);
		cpu1 = cpu_ticks(dumper) + cpu_ticks(thread);
		t1 = bt_now();
		read_progress(&planned, &w1);
	} while (w1 != w0);
	*wall_ms = (t1 - t0) * 1000;
	return (cpu1 - cpu0) * 1000 / hz;
}

/*
 * Caught signals (SIGUSR1, SIGINT with a handler) stay pending while the
 * dump runs, since they can only be delivered when the ioctl returns:
 * blocked on a full pipe, the caller and the thread must sleep through
 * them (less than a quarter of a CPU while they wait, measured), then
 * go on. SIGSTOP and SIGCONT do not end the dump either. The stream is
 * whole: gunzip -t checks its CRC and length.
 */
TEST(caught_signals_neither_end_nor_spin_a_dump)
{
	long long planned0, written0, cpu_ms, wall_ms;
	pid_t reader, dumper, thread;

	start_blocked_dump(&reader, &dumper, &planned0, &written0);
	wait_for_progress(dumper, planned0, written0);
	thread = find_task("bsdmem-dump");
	ASSERT_GT(thread, 0);
	cpu_ms = blocked_cpu_ms(dumper, thread, send_caught_signals, &wall_ms);
	TH_LOG("blocked with signals pending: %lld ms of CPU in %lld ms",
	       cpu_ms, wall_ms);
	ASSERT_LT(cpu_ms * 4, wall_ms);
	ASSERT_EQ(kill(dumper, SIGSTOP), 0);
	usleep(100000);
	ASSERT_EQ(kill(dumper, SIGCONT), 0);
	/* let the reader go; signals keep coming until the dump is over */
	ASSERT_EQ(kill(reader, SIGCONT), 0);
	for (;;) {
		int status;
		pid_t w = waitpid(dumper, &status, WNOHANG);

		ASSERT_GE(w, 0);
		if (w == dumper) {
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(WEXITSTATUS(status), 0);
			break;
		}
		kill(dumper, SIGUSR1);
		kill(dumper, SIGINT);
		usleep(2000);
	}
	expect_exit_0(reader, "gunzip -t");
}

#define CGROUP2		"/sys/fs/cgroup"
#define CGROUP_DIR	CGROUP2 "/bsdmem-dump-test"

/* cgroup.events says "frozen 1"? */
static int cgroup_frozen(void)
{
	char line[64];
	int frozen = 0;
	FILE *f = fopen(CGROUP_DIR "/cgroup.events", "r");

	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "frozen 1\n"))
			frozen = 1;
	fclose(f);
	return frozen;
}

/*
 * The cgroup v2 freezer traps a task only on its way back to user space:
 * while the caller is in the ioctl, its pending trap interrupts every
 * write blocked on the full pipe. The dump must go on without spinning
 * (less than a quarter of a CPU while blocked), its cgroup reports frozen
 * once the ioctl returns, and after the thaw the dump's result is 0 and
 * the stream whole.
 */
TEST(cgroup2_freezer_neither_ends_nor_spins_a_dump)
{
	long long planned0, written0, cpu_ms, wall_ms;
	pid_t reader, dumper, thread;
	char pid[32];

	if (access(CGROUP2 "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROUP2, "cgroup2", 0, NULL))
		SKIP("no cgroup2 at " CGROUP2 " (%s)", strerror(errno));
	rmdir(CGROUP_DIR);
	ASSERT_EQ(mkdir(CGROUP_DIR, 0755), 0);
	if (access(CGROUP_DIR "/cgroup.freeze", W_OK)) {
		rmdir(CGROUP_DIR);
		SKIP("no cgroup.freeze (a kernel before 5.2)");
	}
	start_blocked_dump(&reader, &dumper, &planned0, &written0);
	snprintf(pid, sizeof(pid), "%d", (int)dumper);
	ASSERT_EQ(write_line(CGROUP_DIR "/cgroup.procs", pid), 0);
	wait_for_progress(dumper, planned0, written0);
	thread = find_task("bsdmem-dump");
	ASSERT_GT(thread, 0);
	ASSERT_EQ(write_line(CGROUP_DIR "/cgroup.freeze", "1"), 0);
	cpu_ms = blocked_cpu_ms(dumper, thread, NULL, &wall_ms);
	TH_LOG("blocked, its cgroup freezing: %lld ms of CPU in %lld ms",
	       cpu_ms, wall_ms);
	ASSERT_LT(cpu_ms * 4, wall_ms);
	/* in the ioctl, the caller is not frozen yet */
	ASSERT_EQ(cgroup_frozen(), 0);
	ASSERT_EQ(kill(reader, SIGCONT), 0);
	/* the dump ends, the caller returns to user space and is frozen */
	while (!cgroup_frozen())
		usleep(20000);
	ASSERT_EQ(write_line(CGROUP_DIR "/cgroup.freeze", "0"), 0);
	expect_exit_0(dumper, "the dump");
	expect_exit_0(reader, "gunzip -t");
	ASSERT_EQ(rmdir(CGROUP_DIR), 0);
}

/* ---- CPUs going and coming while a dump runs ---- */

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

/* Shared with the toggler: every access through __atomic builtins. */
struct toggles {
	int stop;
	int done;	/* offline-online rounds */
	int failed;
};

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define BUMP(x)		__atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

/* The CPU notes; -1 if one is of a CPU that did not answer (pr_pid -1). */
static int count_cpu_notes(void)
{
	const uint8_t *p = core + phdr(0)->p_offset;
	const uint8_t *end = p + phdr(0)->p_filesz;
	int n = 0;

	while (p < end) {
		const Elf64_Nhdr *nh = (const void *)p;
		const uint8_t *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3);

		if (nh->n_type == NT_PRSTATUS) {
			uint64_t ip;
			int pid;

			memcpy(&pid, desc + 32, sizeof(pid));
			memcpy(&ip, desc + PR_REG + 8 * PRS_IP, 8);
			if (pid < 0 || !ip)
				return -1;
			n++;
		}
		p += sizeof(*nh) + ((nh->n_namesz + 3) & ~3) +
		     ((nh->n_descsz + 3) & ~3);
	}
	return n;
}

/*
 * CPU 1 offline and online again, until told to stop or the test is gone;
 * online at exit.
 */
static pid_t start_cpu_toggler(struct toggles *t)
{
	pid_t parent = getpid(), pid = fork();

	if (pid)
		return pid;
	while (!LOAD(t->stop) && getppid() == parent) {
		if (write_line(CPU1_ONLINE, "0") || write_line(CPU1_ONLINE, "1"))
			BUMP(t->failed);
		else
			BUMP(t->done);
	}
	_exit(write_line(CPU1_ONLINE, "1") ? 1 : 0);
}

/*
 * CPU hotplug goes on while the registers are collected (no CPU goes
 * offline while the NMIs are sent; each one asked answers before it
 * can), while the pages are planned (their per-CPU lists included) and
 * written: the dump completes, with one note, registers and a pid for
 * each CPU online when it asked.
 */
TEST(cpu_hotplug_during_a_dump)
{
	struct toggles *t;
	int rounds, notes, i;
	char line[8];
	pid_t pid;

	if (access(CPU1_ONLINE, W_OK))
		SKIP("CPU 1 cannot go offline here");
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAPPED(t);
	pid = start_cpu_toggler(t);
	ASSERT_GE(pid, 0);
	/* by its progress: the first round, or its failure */
	for (i = 0; i < 6000 && !LOAD(t->done) && !LOAD(t->failed); i++)
		usleep(10000);
	rounds = LOAD(t->done);
	load_core();
	rounds = LOAD(t->done) - rounds;
	STORE(t->stop, 1);
	expect_exit_0(pid, "the CPU toggler");
	TH_LOG("%d offline-online rounds during the dump, %d failed",
	       rounds, LOAD(t->failed));
	ASSERT_EQ(LOAD(t->failed), 0);
	ASSERT_GE(rounds, 1);
	notes = count_cpu_notes();
	ASSERT_GE(notes, 1);
	ASSERT_LE(notes, sysconf(_SC_NPROCESSORS_CONF));
	ASSERT_EQ(read_line(CPU1_ONLINE, line, sizeof(line)), 0);
	ASSERT_EQ(line[0], '1');
	munmap(core, core_len);
	/* and with every CPU back, a note for each */
	load_core();
	ASSERT_EQ(count_cpu_notes(), sysconf(_SC_NPROCESSORS_ONLN));
}

#endif /* __x86_64__ */
