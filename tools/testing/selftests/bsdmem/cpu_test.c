// SPDX-License-Identifier: GPL-2.0
/*
 * Memory ranges on CPUs without MTRRs (and without PAT): run in guests
 * booted with -cpu qemu64,-mtrr and -cpu qemu64,-mtrr,-pat.
 *   no MTRR, PAT on:   nothing to report (ENXIO) until a range is made
 *   no MTRR, no PAT:   EOPNOTSUPP for GET and SET
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include "harness.h"
#include "util.h"
#include "range_util.h"

static int cpu_has(const char *flag)
{
	char line[4096], want[64];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(want, sizeof(want), " %s ", flag);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			line[strcspn(line, "\n")] = ' ';
			found = strstr(line, want) != NULL;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

TEST(ranges_follow_cpu_features)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDWR);
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };
	int pat = access(PAT_LIST, F_OK) == 0;
	uint64_t len, bar = vga_bar0(&len);

	if (cpu_has("mtrr"))
		SKIP("this guest has MTRRs: boot with -cpu qemu64,-mtrr");
	TH_LOG("PAT %s", pat ? "enabled" : "disabled");
	if (!pat) {
		ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, &op), EOPNOTSUPP);
		ASSERT_ERRNO(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ,
				       MDF_UNCACHEABLE, "x"), EOPNOTSUPP);
		return;
	}
	ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, &op), ENXIO);
	ASSERT_NE(bar, 0);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_UPDATE, bar, PAGE_SZ,
			    MDF_WRITECOMBINE, "x"), 0);
	ASSERT_EQ(ioctl(fd, MEMRANGE_GET, &op), 0);
	ASSERT_EQ(op.mo_arg[0], 1);
	ASSERT_EQ(range_set(fd, MEMRANGE_SET_REMOVE, bar, PAGE_SZ, 0, NULL), 0);
	op.mo_arg[0] = 0;
	ASSERT_ERRNO(ioctl(fd, MEMRANGE_GET, &op), ENXIO);
}
