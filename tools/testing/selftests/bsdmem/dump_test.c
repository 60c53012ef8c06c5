// SPDX-License-Identifier: GPL-2.0
/*
 * MEM_KERNELDUMP: the errors in abi.md's order, a dump blocked on a pipe
 * (EBUSY for a second one, SIGKILL stopping it, rmmod refused meanwhile),
 * EPIPE and ENOSPC followed by good dumps, pipes and sockets, and the ELF
 * layout the readers rely on. The readers themselves run on the host.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "harness.h"
#include "util.h"

#define CORE		"/tmp/bsdmem-test.core"
#define PROGRESS	"/sys/module/bsdmem/parameters/dump_progress"

static int dump(int fd, int comp)
{
	struct mem_livedump_arg a = { .fd = fd, .compression = comp };
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int ret = ioctl(mem, MEM_KERNELDUMP, &a);
	int err = errno;

	close(mem);
	errno = err;
	return ret;
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

static void wait_for_progress(void)
{
	long long planned = 0, written = 0;

	for (int i = 0; i < 600; i++) {
		FILE *f = fopen(PROGRESS, "r");

		if (f && fscanf(f, "%lld %lld", &planned, &written) != 2)
			written = 0;
		if (f)
			fclose(f);
		if (written > 0)
			return;
		usleep(50000);
	}
}

/*
 * A dump blocked on a full pipe: a second dump is EBUSY, rmmod is refused,
 * SIGKILL ends the dumper, and the next dump works.
 */
TEST(blocked_dump_busy_killed_then_next_works)
{
	int blocked[2], fds[2], status;
	struct drain d;
	pid_t pid;

	ASSERT_EQ(pipe(blocked), 0);
	pid = fork();
	if (pid == 0) {
		close(blocked[0]);
		dump(blocked[1], KERNELDUMP_COMP_NONE);
		_exit(0);
	}
	close(blocked[1]);
	wait_for_progress();
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_ERRNO(dump(fds[1], KERNELDUMP_COMP_NONE), EBUSY);
	ASSERT_NE(system("rmmod bsdmem 2>/dev/null"), 0);
	ASSERT_EQ(access(BSDMEM_DEV_PATH, F_OK), 0);
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	close(blocked[0]);
	ASSERT_EQ(dump_drained(fds, KERNELDUMP_COMP_NONE, &d), 0);
	ASSERT_GT(d.bytes, 1 << 20);
	ASSERT_EQ(memcmp(d.head, ELFMAG, SELFMAG), 0);
}

TEST(closed_pipe_is_epipe)
{
	int fds[2];

	ASSERT_EQ(pipe(fds), 0);
	close(fds[0]);
	ASSERT_ERRNO(dump(fds[1], KERNELDUMP_COMP_ZSTD), EPIPE);
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

TEST(elf_layout_as_vmcore)
{
	const Elf64_Ehdr *eh;
	uint64_t text = kallsyms_lookup("_text");
	uint64_t pob_sym = kallsyms_lookup("page_offset_base"), pob = 0;
	int kfd = open_dev(BSDKMEM_DEV_PATH, O_RDONLY);
	uint64_t prev_end = 0;

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

	/* the kernel image: _text at its physical address */
	ASSERT_EQ(phdr(1)->p_type, PT_LOAD);
	ASSERT_EQ(phdr(1)->p_vaddr, text);
	/*
	 * _text to _end (less the unused brk the kernel gave back), bss
	 * included, nothing of the allocator's beyond
	 */
	ASSERT_LE(phdr(1)->p_vaddr + phdr(1)->p_filesz,
		  (kallsyms_lookup("_end") + PAGE_SZ - 1) & ~(PAGE_SZ - 1));
	ASSERT_GE(phdr(1)->p_vaddr + phdr(1)->p_filesz,
		  kallsyms_lookup("__bss_stop"));
	for (int i = 2; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = phdr(i);

		ASSERT_EQ(p->p_type, PT_LOAD);
		ASSERT_EQ(p->p_align, 0);
		ASSERT_EQ(p->p_vaddr, pob + p->p_paddr);
		ASSERT_GE(p->p_paddr, prev_end);
		ASSERT_EQ(p->p_paddr % PAGE_SZ, 0);
		ASSERT_LE(p->p_offset + p->p_filesz, core_len);
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

/* NT_PRSTATUS per CPU with pr_pid = CPU + 1, then VMCOREINFO verbatim. */
TEST(notes_prstatus_per_cpu_and_vmcoreinfo)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), seen = 0;
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
			int pid;

			ASSERT_EQ(strcmp(name, "CORE"), 0);
			/* pr_pid follows pr_info (12), pr_cursig and padding, pr_sigpend, pr_sighold */
			memcpy(&pid, desc + 32, sizeof(pid));
			ASSERT_EQ(pid, ++seen);
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
