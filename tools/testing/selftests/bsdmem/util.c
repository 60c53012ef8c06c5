// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#define BT_NO_MAIN
#include "harness.h"
#include "util.h"

uint64_t virt_to_phys_pagemap(const void *addr)
{
	uint64_t ent = 0, va = (uint64_t)(uintptr_t)addr;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), (va / PAGE_SZ) * sizeof(ent)) !=
	    sizeof(ent))
		ent = 0;
	close(fd);
	if (!(ent & PM_PRESENT) || !(ent & PM_PFN_MASK))
		return 0;
	return (ent & PM_PFN_MASK) * PAGE_SZ + va % PAGE_SZ;
}

uint64_t kallsyms_lookup(const char *name)
{
	char line[512], sym[256], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

unsigned int cpu_phys_bits(void)
{
	char line[256];
	unsigned int bits = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &bits) == 1)
			break;
	fclose(f);
	return bits;
}

int drop_cap_sys_rawio(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_SYS_RAWIO / 32].effective &= ~(1U << (CAP_SYS_RAWIO % 32));
	data[CAP_SYS_RAWIO / 32].permitted &= ~(1U << (CAP_SYS_RAWIO % 32));
	data[CAP_SYS_RAWIO / 32].inheritable &= ~(1U << (CAP_SYS_RAWIO % 32));
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0))
		return -1;
	return syscall(SYS_capset, &hdr, data);
}

void *locked_page(int fill)
{
	void *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE,
		       -1, 0);

	if (p == MAP_FAILED) {
		TH_LOG("mmap: %s", strerror(errno));
		_exit(BT_EXIT_FAIL);
	}
	memset(p, fill, PAGE_SZ);
	return p;
}

int open_dev(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0) {
		TH_LOG("open %s: %s", path, strerror(errno));
		_exit(BT_EXIT_FAIL);
	}
	return fd;
}

int kerneldump(int fd, int comp, int flags)
{
	struct mem_livedump_arg a = { .fd = fd, .flags = flags,
				      .compression = comp };
	int mem = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	int ret = ioctl(mem, MEM_KERNELDUMP, &a);
	int err = errno;

	close(mem);
	errno = err;
	return ret;
}

int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * lseek's return value is not trusted: a 32-bit _llseek reports offsets
 * with bit 63 set as (int)offset, but the file position is set all the
 * same; only a real error sets errno.
 */
static int kseek(int fd, uint64_t addr)
{
	errno = 0;
	lseek(fd, (off_t)addr, SEEK_SET);
	return errno ? -1 : 0;
}

ssize_t kread(int fd, void *buf, size_t len, uint64_t addr)
{
	if (kseek(fd, addr))
		return -1;
	return read(fd, buf, len);
}

ssize_t kwrite(int fd, const void *buf, size_t len, uint64_t addr)
{
	if (kseek(fd, addr))
		return -1;
	return write(fd, buf, len);
}

int probe_access(uint8_t *p, bool write)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		/* atomic: the compiler must not drop the access tested */
		uint8_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

		if (write)
			__atomic_store_n(p, v, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

uint64_t iomem_find(const char *name, uint64_t *end)
{
	unsigned long long s, e;
	char line[256];
	uint64_t found = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strstr(line, " : ");

		if (!colon || sscanf(line, " %llx-%llx", &s, &e) != 2)
			continue;
		colon[strcspn(colon, "\n")] = '\0';
		if (!strcmp(colon + 3, name)) {
			found = s;
			if (end)
				*end = e;
		}
	}
	fclose(f);
	return found;
}

int write_line(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

int stay_on_this_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

int drain_page_batches(void)
{
	return write_line("/proc/sys/vm/compact_memory", "1");
}
