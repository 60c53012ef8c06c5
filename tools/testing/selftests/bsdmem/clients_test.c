// SPDX-License-Identifier: GPL-2.0
/*
 * Real /dev/mem clients against /dev/bsdmem: Debian's dmidecode and
 * biosdecode (the dmidecode package), as a user would point them at it,
 * and the ACPI RSDT that biosdecode names, read and mapped.
 *
 * The programs are dynamically linked; run-guest.sh copies them into the
 * guest with their libraries. Missing programs fail the test: the suite
 * exists to run them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/mman.h>
#include "harness.h"
#include "util.h"

#define DMIDECODE	"/usr/sbin/dmidecode"
#define BIOSDECODE	"/usr/sbin/biosdecode"
#define OUT_MAX		(256 * 1024)

/* Run cmd through the shell; its stdout (NUL-terminated) and status. */
static char *run(const char *cmd, int *status)
{
	char *out = calloc(1, OUT_MAX);
	size_t n = 0, got;
	FILE *p;

	ASSERT_TRUE(out != NULL);
	p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	while (n < OUT_MAX - 1 &&
	       (got = fread(out + n, 1, OUT_MAX - 1 - n, p)) > 0)
		n += got;
	*status = pclose(p);
	TH_LOG("$ %s: exit %d, %zu bytes", cmd,
	       WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, n);
	return out;
}

static void need(const char *prog)
{
	if (access(prog, X_OK))
		TH_LOG("%s: %s (install-deps.sh installs the dmidecode package, run-guest.sh copies it)",
		       prog, strerror(errno));
	ASSERT_EQ(access(prog, X_OK), 0);
}

/* The lines of s starting with prefix, in order, one string. */
static char *lines_with(const char *s, const char *prefix)
{
	char *out = calloc(1, OUT_MAX), *o = out;
	size_t plen = strlen(prefix);

	ASSERT_TRUE(out != NULL);
	for (const char *l = s; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);

		if (!strncmp(l, prefix, plen)) {
			memcpy(o, l, len);
			o += len;
		}
		l += len;
	}
	return out;
}

/* Print each line of s as a TAP comment. */
static void show(const char *tag, const char *s)
{
	for (const char *l = s; *l; ) {
		const char *nl = strchr(l, '\n');
		int len = nl ? (int)(nl - l) : (int)strlen(l);

		TH_LOG("%s%.*s", tag, len, l);
		l += len + (nl != NULL);
	}
}

TEST(dmidecode_no_sysfs_shows_every_sysfs_structure)
{
	char *sys, *bsd, *hs, *hb;
	int st;

	need(DMIDECODE);
	ASSERT_EQ(access("/sys/firmware/dmi/tables/DMI", R_OK), 0);
	sys = run(DMIDECODE " 2>&1", &st);
	ASSERT_EQ(st, 0);
	ASSERT_TRUE(strstr(sys, "Getting SMBIOS data from sysfs.") != NULL);
	bsd = run(DMIDECODE " --no-sysfs -d " BSDMEM_DEV_PATH " 2>&1", &st);
	EXPECT_EQ(st, 0);
	ASSERT_TRUE(strstr(bsd, "Scanning " BSDMEM_DEV_PATH " for entry point.") != NULL);

	hs = lines_with(sys, "Handle 0x");
	hb = lines_with(bsd, "Handle 0x");
	show("sysfs:  ", hs);
	ASSERT_NE(strlen(hs), 0);
	if (strcmp(hs, hb)) {
		show("bsdmem: ", hb);
		TH_LOG("the structures differ");
	}
	ASSERT_EQ(strcmp(hs, hb), 0);
	/* Decoded from the same bytes, the structures read the same. */
	ASSERT_EQ(strcmp(strstr(sys, "Handle 0x"), strstr(bsd, "Handle 0x")), 0);
}

TEST(biosdecode_agrees_with_dev_mem)
{
	char *mem, *bsd;
	int st;

	need(BIOSDECODE);
	mem = run(BIOSDECODE " -d /dev/mem 2>&1", &st);
	ASSERT_EQ(st, 0);
	bsd = run(BIOSDECODE " -d " BSDMEM_DEV_PATH " 2>&1", &st);
	EXPECT_EQ(st, 0);
	show("/dev/mem: ", mem);
	/* Agreeing on nothing would prove nothing. */
	ASSERT_TRUE(strstr(mem, "SMBIOS") != NULL);
	ASSERT_TRUE(strstr(mem, "ACPI") != NULL);
	if (strcmp(mem, bsd))
		show("/dev/bsdmem: ", bsd);
	ASSERT_EQ(strcmp(mem, bsd), 0);
}

/*
 * The RSDT and XSDT addresses biosdecode prints (on the device named),
 * 0 where it prints none.
 */
static void acpi_tables(const char *dev, uint64_t *rsdt, uint64_t *xsdt)
{
	char cmd[128], *out, *p;
	unsigned int hi, lo;
	int st;

	need(BIOSDECODE);
	snprintf(cmd, sizeof(cmd), BIOSDECODE " -d %s 2>&1", dev);
	out = run(cmd, &st);
	ASSERT_EQ(st, 0);
	*rsdt = *xsdt = 0;
	p = strstr(out, "RSD Table 32-bit Address: 0x");
	if (p && sscanf(p, "RSD Table 32-bit Address: 0x%x", &lo) == 1)
		*rsdt = lo;
	p = strstr(out, "XSD Table 64-bit Address: 0x");
	if (p && sscanf(p, "XSD Table 64-bit Address: 0x%8x%8x", &hi, &lo) == 2)
		*xsdt = (uint64_t)hi << 32 | lo;
	TH_LOG("biosdecode -d %s: RSDT 0x%" PRIx64 ", XSDT 0x%" PRIx64,
	       dev, *rsdt, *xsdt);
	ASSERT_TRUE(*rsdt || *xsdt);
}

/* An ACPI table: signature, sane length, bytes summing to zero. */
static void check_table(const uint8_t *t, const char *sig, uint32_t len)
{
	uint8_t sum = 0;

	TH_LOG("  signature \"%.4s\", length %u", (const char *)t, len);
	ASSERT_EQ(memcmp(t, sig, 4), 0);
	for (uint32_t i = 0; i < len; i++)
		sum += t[i];
	ASSERT_EQ(sum, 0);
}

static uint32_t table_len(const uint8_t *hdr)
{
	uint32_t len;

	memcpy(&len, hdr + 4, sizeof(len));
	return len;
}

/* The table at pa through read(2): pread and lseek + read. */
static void read_table(int flags, uint64_t pa, const char *sig)
{
	int fd = open_dev(BSDMEM_DEV_PATH, flags);
	uint8_t hdr[36], *t;
	uint32_t len;

	errno = 0;
	ASSERT_EQ(pread(fd, hdr, sizeof(hdr), (off_t)pa), (ssize_t)sizeof(hdr));
	len = table_len(hdr);
	ASSERT_GE(len, sizeof(hdr));
	ASSERT_LE(len, 1 << 20);
	t = malloc(len);
	ASSERT_TRUE(t != NULL);
	ASSERT_EQ(lseek(fd, (off_t)pa, SEEK_SET), (off_t)pa);
	ASSERT_EQ(read(fd, t, len), (ssize_t)len);
	check_table(t, sig, len);
	free(t);
	close(fd);
}

/* The table at pa through a shared read-only mapping of its pages. */
static void map_table(uint64_t pa, const char *sig)
{
	int fd = open_dev(BSDMEM_DEV_PATH, O_RDONLY);
	uint64_t base = pa & ~(PAGE_SZ - 1);
	size_t span = 2 * PAGE_SZ;
	uint8_t *m, *t;
	uint32_t len;

	errno = 0;
	m = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t)base);
	ASSERT_MAPPED(m);
	t = m + (pa - base);
	len = table_len(t);
	ASSERT_GE(len, 36);
	if (pa - base + len > span) {
		munmap(m, span);
		span = (pa - base + len + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
		m = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t)base);
		ASSERT_MAPPED(m);
		t = m + (pa - base);
	}
	check_table(t, sig, len);
	munmap(m, span);
	close(fd);
}

TEST(acpi_rsdt_read)
{
	uint64_t rsdt, xsdt;

	acpi_tables("/dev/mem", &rsdt, &xsdt);
	if (rsdt)
		read_table(O_RDONLY, rsdt, "RSDT");
	if (xsdt)
		read_table(O_RDONLY, xsdt, "XSDT");
}

/*
 * O_SYNC asks for uncached access, but the kernel holds the tables
 * write-back and PAT refuses an uncached alias: the read is still served,
 * with the type the kernel holds.
 */
TEST(acpi_rsdt_read_o_sync)
{
	uint64_t rsdt, xsdt;

	acpi_tables("/dev/mem", &rsdt, &xsdt);
	if (rsdt)
		read_table(O_RDONLY | O_SYNC, rsdt, "RSDT");
	if (xsdt)
		read_table(O_RDONLY | O_SYNC, xsdt, "XSDT");
}

TEST(acpi_rsdt_mmap)
{
	uint64_t rsdt, xsdt;

	acpi_tables("/dev/mem", &rsdt, &xsdt);
	if (rsdt)
		map_table(rsdt, "RSDT");
	if (xsdt)
		map_table(xsdt, "XSDT");
}
