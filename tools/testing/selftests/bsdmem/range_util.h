/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the MEMRANGE selftests. */
#ifndef BSDMEM_RANGE_UTIL_H
#define BSDMEM_RANGE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/bsdmem.h>

/*
 * x86 keeps the memory type of a RAM page in page flags that
 * /proc/kpageflags shows: WC is PG_arch_1 (bit 38); UC- is PG_uncached
 * (bit 39) up to 6.x and PG_arch_2 (bit 41) on 6.12; WT is both.
 */
#define KPF_ARCH	38
#define KPF_UNCACHED	39
#define KPF_ARCH_2	41
#define MT_WB		0
#define MT_WC		1
#define MT_UC_MINUS	2
#define MT_WT		3
#define PAT_LIST	"/sys/kernel/debug/x86/pat_memtype_list"

static inline int range_set(int fd, int op, uint64_t base, uint64_t len,
			    int flags, const char *owner)
{
	struct mem_range_desc d = { .mr_base = base, .mr_len = len,
				    .mr_flags = flags };
	struct mem_range_op op_arg = { .mo_desc = &d, .mo_arg = { op, 0 } };

	if (owner)
		memcpy(d.mr_owner, owner, strnlen(owner, sizeof(d.mr_owner)));
	return ioctl(fd, MEMRANGE_SET, &op_arg);
}

/* All descriptors into d (at most max); returns the count or -1. */
static inline int range_get_all(int fd, struct mem_range_desc *d, int max)
{
	struct mem_range_op op = { .mo_desc = d, .mo_arg = { max, 0 } };

	if (ioctl(fd, MEMRANGE_GET, &op))
		return -1;
	return op.mo_arg[0];
}

/* The physical base of PCI BAR0 of the QEMU VGA device, 0 if none. */
static inline uint64_t vga_bar0(uint64_t *len)
{
	unsigned long long s = 0, e = 0, fl = 0;
	FILE *f = fopen("/sys/bus/pci/devices/0000:00:02.0/resource", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llx %llx %llx", &s, &e, &fl) != 3 || !s)
		s = 0;
	fclose(f);
	*len = e - s + 1;
	return s;
}

/*
 * Parse one pat_memtype_list line, in either of the formats kernels have
 * used: "PAT: [mem 0x...-0x...] type" and "type @ 0x...-0x...".
 */
static inline int pat_parse(const char *line, char *type, size_t tlen,
			    unsigned long long *s, unsigned long long *e)
{
	const char *p = strstr(line, "[mem ");
	char t[64];

	if (p && sscanf(p, "[mem %llx-%llx] %63s", s, e, t) == 3)
		goto ok;
	if (sscanf(line, "%63s @ %llx-%llx", t, s, e) == 3)
		goto ok;
	return 0;
ok:
	snprintf(type, tlen, "%s", t);
	return 1;
}

/*
 * 1 if pat_memtype_list has an entry starting at start (and, when type is
 * given, ending at end with that type); 0 if not; -1 if unreadable.
 */
static inline int pat_find(const char *type, uint64_t start, uint64_t end)
{
	char line[256], t[64];
	unsigned long long s, e;
	int found = 0;
	FILE *f = fopen(PAT_LIST, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (pat_parse(line, t, sizeof(t), &s, &e) && s == start &&
		    (!type || (e == end && !strcmp(t, type))))
			found = 1;
	fclose(f);
	return found;
}

static inline int pat_has(const char *type, uint64_t start, uint64_t end)
{
	return pat_find(type, start, end);
}

static inline int pat_mentions(uint64_t start)
{
	return pat_find(NULL, start, 0);
}

static inline uint64_t kpage_read(const char *file, uint64_t pa)
{
	uint64_t v = ~0ULL;
	FILE *f = fopen(file, "r");

	if (!f)
		return v;
	if (fseeko(f, (off_t)(pa / 4096 * 8), SEEK_SET) ||
	    fread(&v, 8, 1, f) != 1)
		v = ~0ULL;
	fclose(f);
	return v;
}

/* The RAM memtype of the page at pa, one of MT_*; -1 if unreadable. */
static inline int ram_memtype(uint64_t pa)
{
	uint64_t f = kpage_read("/proc/kpageflags", pa);

	if (f == ~0ULL)
		return -1;
	return (int)((f >> KPF_ARCH) & 1) |
	       (int)(((f >> KPF_UNCACHED) | (f >> KPF_ARCH_2)) & 1) << 1;
}

/* Remove every range that is not the firmware's, left by a failed test. */
static inline void clear_user_ranges(int fd)
{
	static struct mem_range_desc d[512];
	int n = range_get_all(fd, d, 512);

	for (int i = 0; i < n; i++)
		if (!(d[i].mr_flags & MDF_FIRMWARE))
			range_set(fd, MEMRANGE_SET_REMOVE, d[i].mr_base,
				  d[i].mr_len, 0, NULL);
}

#endif
