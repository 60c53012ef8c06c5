// SPDX-License-Identifier: GPL-2.0
/*
 * bsdmem-demo: show /dev/bsdkmem and /dev/bsdmem at work. Reads the kernel
 * banner at its /proc/kallsyms address through /dev/bsdkmem, then writes a
 * message into a page of its own and reads it back at the page's physical
 * address (from /proc/self/pagemap) through /dev/bsdmem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bsdmem.h>

static uint64_t kernel_symbol(const char *name)
{
	char line[512], sym[256], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			found = addr;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

static uint64_t phys_of(const void *p)
{
	uint64_t ent = 0, va = (uintptr_t)p;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &ent, 8, va / 4096 * 8) != 8)
		ent = 0;
	if (fd >= 0)
		close(fd);
	if (!(ent >> 63))
		return 0;
	return (ent & ((1ULL << 55) - 1)) * 4096 + va % 4096;
}

static int show_banner(void)
{
	uint64_t addr = kernel_symbol("linux_banner");
	char buf[160] = { 0 };
	int fd = open(BSDKMEM_DEV_PATH, O_RDONLY);

	if (fd < 0 || !addr) {
		perror("open " BSDKMEM_DEV_PATH " / kallsyms");
		return 1;
	}
	lseek(fd, (off_t)addr, SEEK_SET);
	if (read(fd, buf, sizeof(buf) - 1) < 0) {
		perror("read " BSDKMEM_DEV_PATH);
		return 1;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("linux_banner at %#" PRIx64 " via %s:\n  %s\n", addr,
	       BSDKMEM_DEV_PATH, buf);
	close(fd);
	return 0;
}

static int show_own_page(void)
{
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	char buf[64] = { 0 };
	uint64_t pa;
	int fd;

	if (page == MAP_FAILED)
		return 1;
	snprintf(page, 64, "hello from pid %d", getpid());
	pa = phys_of(page);
	fd = open(BSDMEM_DEV_PATH, O_RDONLY);
	if (fd < 0 || !pa || pread(fd, buf, sizeof(buf) - 1, (off_t)pa) < 0) {
		perror("read " BSDMEM_DEV_PATH);
		return 1;
	}
	printf("my page at virtual %p is physical %#" PRIx64 "; via %s:\n  \"%s\"\n",
	       (void *)page, pa, BSDMEM_DEV_PATH, buf);
	close(fd);
	return strcmp(buf, page) != 0;
}

int main(void)
{
	int rc = show_banner();

	rc |= show_own_page();
	printf("bsdmem demo: %s\n", rc ? "FAILED" : "it works");
	return rc;
}
