// SPDX-License-Identifier: GPL-2.0
/*
 * strict_devmem=1 against the kernel's own strict /dev/mem, in one guest:
 * the same 16 bytes read (and, where a wrong answer cannot hurt the guest,
 * written) through both devices, and the same page mapped through both,
 * must give the same errno and the same data.
 *
 * The kernel's answer is the reference only if the kernel really is
 * built with CONFIG_STRICT_DEVMEM and CONFIG_IO_STRICT_DEVMEM and was not
 * booted with iomem=relaxed: that is checked, not assumed.
 *
 * /dev/mem's read and write also refuse anything above high_memory
 * (valid_phys_addr_range(), EFAULT) whether strict or not; bsdmem has no
 * such limit by design. Where that check refuses the read, the test says
 * so and derives the answer strict /dev/mem gives for the page from its
 * mmap, which has no such limit: EPERM there means bsdmem's read must be
 * EPERM, a mapping means bsdmem's read must succeed with the mapped data.
 *
 * Run with bsdmem loaded with strict_devmem=1.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include "harness.h"
#include "util.h"

#define DEVMEM_PATH	"/dev/mem"
#define LOW_LIMIT	0x100000ULL	/* the first MiB */
#define PEEK		16

/* One /proc/iomem line: the tree is kept as depth-first order + depth. */
struct region {
	uint64_t start, end;	/* inclusive, as printed */
	int depth;
	char name[64];
};

static struct region regions[512];
static int nr_regions;

static void load_iomem(void)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	ASSERT_TRUE(f != NULL);
	nr_regions = 0;
	while (nr_regions < (int)ARRAY_SIZE(regions) &&
	       fgets(line, sizeof(line), f)) {
		struct region *r = &regions[nr_regions];
		unsigned long long s, e;
		char *colon = strstr(line, " : ");
		int indent = strspn(line, " ");

		if (!colon || sscanf(line, " %llx-%llx", &s, &e) != 2)
			continue;
		colon[strcspn(colon, "\n")] = '\0';
		r->start = s;
		r->end = e;
		r->depth = indent / 2;
		snprintf(r->name, sizeof(r->name), "%s", colon + 3);
		nr_regions++;
	}
	fclose(f);
	/* Without CAP_SYS_ADMIN every address reads as 0. */
	ASSERT_GT(nr_regions, 0);
	ASSERT_NE(regions[nr_regions - 1].start, 0);
}

/* The parent of regions[i], NULL at the top level. */
static const struct region *parent_of(int i)
{
	for (int j = i - 1; j >= 0; j--)
		if (regions[j].depth < regions[i].depth)
			return &regions[j];
	return NULL;
}

static const struct region *find_region(const char *name, int depth,
					uint64_t min_start)
{
	for (int i = 0; i < nr_regions; i++)
		if (!strcmp(regions[i].name, name) && regions[i].start >= min_start &&
		    (depth < 0 || regions[i].depth == depth))
			return &regions[i];
	return NULL;
}

/* Does any region at any depth overlap [a, b]? */
static bool any_region_overlaps(uint64_t a, uint64_t b, const struct region *except)
{
	for (int i = 0; i < nr_regions; i++)
		if (&regions[i] != except && regions[i].start <= b && regions[i].end >= a)
			return true;
	return false;
}

/*
 * What /dev/mem's valid_phys_addr_range() admits: addr + count up to
 * __pa(high_memory), which on x86-64 is the end of the highest RAM.
 */
static uint64_t devmem_rw_limit(void)
{
	uint64_t limit = 0;

	for (int i = 0; i < nr_regions; i++)
		if (regions[i].depth == 0 && !strcmp(regions[i].name, "System RAM") &&
		    regions[i].end + 1 > limit)
			limit = regions[i].end + 1;
	return limit;
}

static bool pci_address(const char *s)
{
	unsigned int dom, bus, dev, fn;
	char tail;

	return sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4;
}

/* The answer of one access: the errno (0 for success) and the data. */
struct answer {
	int err;
	uint8_t data[PEEK];
};

static void do_read(int fd, uint64_t addr, struct answer *a)
{
	ssize_t n;

	memset(a, 0xa5, sizeof(*a));
	errno = 0;
	n = pread(fd, a->data, PEEK, (off_t)addr);
	a->err = n == PEEK ? 0 : n < 0 ? errno : EIO;
}

static void do_write(int fd, uint64_t addr, const uint8_t *src, struct answer *a)
{
	ssize_t n;

	errno = 0;
	n = pwrite(fd, src, PEEK, (off_t)addr);
	a->err = n == PEEK ? 0 : n < 0 ? errno : EIO;
}

/* Map the page holding addr read-only and shared, and peek at addr. */
static void do_mmap(int fd, uint64_t addr, struct answer *a)
{
	uint64_t page = addr & ~(PAGE_SZ - 1);
	void *p;

	memset(a, 0xa5, sizeof(*a));
	errno = 0;
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		a->err = errno;
		return;
	}
	a->err = 0;
	/* Device memory: one byte load each, in order. */
	for (int i = 0; i < PEEK; i++)
		a->data[i] = __atomic_load_n((uint8_t *)p + (addr - page) + i,
					     __ATOMIC_RELAXED);
	munmap(p, PAGE_SZ);
}

static const char *err_name(int err)
{
	return err ? strerror(err) : "ok";
}

static void log_answer(const char *what, const struct answer *a)
{
	char hex[3 * PEEK + 1] = "";

	if (!a->err)
		for (int i = 0; i < PEEK; i++)
			sprintf(hex + 3 * i, " %02x", a->data[i]);
	TH_LOG("  %-16s %s%s", what, err_name(a->err), hex);
}

static bool same(const struct answer *a, const struct answer *b)
{
	return a->err == b->err && (a->err || !memcmp(a->data, b->data, PEEK));
}

static int fd_mem = -1, fd_bsd = -1;

static void open_both(int flags)
{
	fd_mem = open(DEVMEM_PATH, flags);
	if (fd_mem < 0)
		TH_LOG("open %s: %s", DEVMEM_PATH, strerror(errno));
	ASSERT_GE(fd_mem, 0);
	fd_bsd = open_dev(BSDMEM_DEV_PATH, flags);
}

/*
 * Read and map addr through both devices and compare. expect_map is
 * what strict /dev/mem must answer for the mapping (0 or EPERM): a
 * check that the sample really is of the kind the test names.
 */
static void compare_at(const char *what, uint64_t addr, int expect_map)
{
	struct answer mr, br, mm, bm, want;
	uint64_t limit = devmem_rw_limit();

	open_both(O_RDONLY);
	do_read(fd_mem, addr, &mr);
	do_read(fd_bsd, addr, &br);
	do_mmap(fd_mem, addr, &mm);
	do_mmap(fd_bsd, addr, &bm);
	TH_LOG("%s at 0x%llx:", what, (unsigned long long)addr);
	log_answer("/dev/mem read", &mr);
	log_answer("/dev/bsdmem read", &br);
	log_answer("/dev/mem mmap", &mm);
	log_answer("/dev/bsdmem mmap", &bm);

	/* The sample is what it claims to be. */
	EXPECT_EQ(mm.err, expect_map);

	want = mr;
	if (addr + PEEK > limit) {
		/* valid_phys_addr_range(): EFAULT whatever the page. */
		EXPECT_EQ(mr.err, EFAULT);
		TH_LOG("  /dev/mem read is refused above high_memory (0x%llx) whatever strictness says:",
		       (unsigned long long)limit);
		TH_LOG("  bsdmem read compared with /dev/mem's mmap of the page instead");
		want = mm;
	}
	if (!same(&br, &want)) {
		TH_LOG("  MISMATCH: bsdmem read differs from strict /dev/mem");
		bt_shared->failed = 1;
	}
	/* A low RAM page reads as zeros but maps with its contents, in both. */
	if (!same(&bm, &mm)) {
		TH_LOG("  MISMATCH: bsdmem mmap differs from strict /dev/mem");
		bt_shared->failed = 1;
	}
}

/*
 * Write the bytes that are there (src, or as the kernel's own mapping
 * shows them) back through both devices: the same return, whatever it
 * is. Only on pages where either outcome is harmless.
 */
static void compare_write_at(const char *what, uint64_t addr,
			     const uint8_t *src)
{
	struct answer cur, mw, bw;

	open_both(O_RDWR);
	if (src) {
		memcpy(cur.data, src, PEEK);
	} else {
		do_mmap(fd_mem, addr, &cur);
		ASSERT_EQ(cur.err, 0);
	}
	do_write(fd_mem, addr, cur.data, &mw);
	do_write(fd_bsd, addr, cur.data, &bw);
	TH_LOG("%s at 0x%llx, write back:", what, (unsigned long long)addr);
	TH_LOG("  %-16s %s", "/dev/mem", err_name(mw.err));
	TH_LOG("  %-16s %s", "/dev/bsdmem", err_name(bw.err));
	EXPECT_EQ(bw.err, mw.err);
}

static void setup(void)
{
	char val[8], path[300], line[256], cmdline[4096];
	bool strict = false, io_strict = false;
	struct utsname u;
	FILE *f;

	ASSERT_EQ(read_line("/sys/module/bsdmem/parameters/strict_devmem",
			    val, sizeof(val)), 0);
	if (val[0] != 'Y')
		TH_LOG("bsdmem must be loaded with strict_devmem=1");
	ASSERT_EQ(val[0], 'Y');

	ASSERT_EQ(uname(&u), 0);
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		TH_LOG("%s: %s: cannot tell how the kernel's /dev/mem is built",
		       path, strerror(errno));
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		strict |= !strcmp(line, "CONFIG_STRICT_DEVMEM=y\n");
		io_strict |= !strcmp(line, "CONFIG_IO_STRICT_DEVMEM=y\n");
	}
	fclose(f);
	ASSERT_TRUE(strict);
	ASSERT_TRUE(io_strict);
	ASSERT_EQ(read_line("/proc/cmdline", cmdline, sizeof(cmdline)), 0);
	ASSERT_TRUE(strstr(cmdline, "iomem=relaxed") == NULL);
	load_iomem();
}

TEST(kernel_devmem_is_strict_and_io_strict)
{
	setup();
}

/* RAM below 1 MiB: reads see zeros, mappings see the contents. */
TEST(low_ram_page)
{
	const struct region *r;
	struct answer m;
	uint64_t a;

	setup();
	r = find_region("System RAM", 0, 0);
	ASSERT_TRUE(r != NULL);
	ASSERT_LT(r->start, LOW_LIMIT);
	/* A page whose contents are not zeros, or the test proves nothing. */
	open_both(O_RDONLY);
	for (a = (r->start + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	     a + PAGE_SZ <= r->end + 1; a += PAGE_SZ) {
		static const uint8_t zero[PEEK];

		do_mmap(fd_mem, a, &m);
		ASSERT_EQ(m.err, 0);
		if (memcmp(m.data, zero, PEEK))
			break;
	}
	if (a + PAGE_SZ > r->end + 1) {
		TH_LOG("every low RAM page starts with 16 zero bytes: using 0x%llx",
		       (unsigned long long)r->start);
		a = r->start;
	}
	compare_at("low RAM", a, 0);
	compare_write_at("low RAM", a, NULL);
}

/*
 * A page that is only partly RAM (the EBDA's, on a PC) counts as RAM:
 * zeros too, though page_is_ram() says no.
 */
TEST(low_mixed_page)
{
	setup();
	for (int i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];
		uint64_t a = r->end + 1;

		if (r->depth || strcmp(r->name, "System RAM") || a >= LOW_LIMIT ||
		    !(a & (PAGE_SZ - 1)))
			continue;
		/* the first bytes past the RAM, in the RAM's last page */
		compare_at("low page part RAM, part not", a, 0);
		return;
	}
	SKIP("no page below 1 MiB is partly RAM in this guest");
}

TEST(bios_rom)
{
	setup();
	compare_at("BIOS ROM", 0xf0000, 0);
	compare_write_at("BIOS ROM", 0xf0000, NULL);
}

TEST(ram_above_1mib)
{
	uint8_t *p = locked_page(0x3c);
	uint64_t pa = virt_to_phys_pagemap(p);

	setup();
	ASSERT_GE(pa, LOW_LIMIT);
	compare_at("own RAM page", pa, EPERM);
	compare_write_at("own RAM page", pa, p + pa % PAGE_SZ);
	ASSERT_EQ(p[0], 0x3c);
}

TEST(kernel_code)
{
	const struct region *r;

	setup();
	r = find_region("Kernel code", -1, 0);
	ASSERT_TRUE(r != NULL);
	compare_at("Kernel code", r->start, EPERM);
}

/* Firmware tables the kernel may hold mapped write-back. */
TEST(acpi_or_reserved_above_1mib)
{
	const struct region *r;

	setup();
	r = find_region("ACPI Tables", 0, LOW_LIMIT);
	if (!r)
		r = find_region("Reserved", 0, LOW_LIMIT);
	ASSERT_TRUE(r != NULL);
	compare_at(r->name, r->start, 0);
}

/*
 * The RSDT, which the kernel's ACPI code may hold mapped write-back:
 * found from the RSDP in the BIOS area, as biosdecode finds it.
 */
TEST(acpi_rsdt_page)
{
	uint8_t bios[0x20000];
	uint32_t rsdt = 0;

	setup();
	open_both(O_RDONLY);
	ASSERT_EQ(pread(fd_mem, bios, sizeof(bios), 0xe0000), (ssize_t)sizeof(bios));
	for (size_t off = 0; off + 20 <= sizeof(bios); off += 16) {
		if (!memcmp(bios + off, "RSD PTR ", 8)) {
			memcpy(&rsdt, bios + off + 16, sizeof(rsdt));
			break;
		}
	}
	if (!rsdt)
		SKIP("no ACPI RSDP in 0xe0000-0xfffff");
	compare_at("ACPI RSDT", rsdt, 0);
}

/* A busy region the kernel claimed (IO_STRICT_DEVMEM refuses it). */
TEST(busy_mmio_kernel_claimed)
{
	const struct region *r;

	setup();
	r = find_region("IOAPIC 0", -1, LOW_LIMIT);
	ASSERT_TRUE(r != NULL);
	compare_at("IOAPIC 0 (busy)", r->start, EPERM);
}

/*
 * A PCI BAR that a driver claimed: a region nested in a BAR named by the
 * device's address. Only where a driver is bound to a PCI device with a
 * memory BAR (virtio-pci, for one): said so when there is none.
 */
TEST(busy_pci_bar_claimed_by_driver)
{
	setup();
	for (int i = 0; i < nr_regions; i++) {
		const struct region *p = parent_of(i);

		if (!p || !pci_address(p->name) || pci_address(regions[i].name) ||
		    regions[i].start < LOW_LIMIT)
			continue;
		TH_LOG("%s claims BAR %s", regions[i].name, p->name);
		compare_at("driver-claimed PCI BAR", regions[i].start, EPERM);
		return;
	}
	SKIP("no PCI memory BAR is claimed by a driver in this guest");
}

/* A page in a PCI window that no resource at all covers. */
TEST(unclaimed_non_ram)
{
	const struct region *w;
	uint64_t a;

	setup();
	w = find_region("PCI Bus 0000:00", 0, LOW_LIMIT);
	ASSERT_TRUE(w != NULL);
	for (a = (w->start + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	     a + PAGE_SZ - 1 <= w->end; a += PAGE_SZ)
		if (!any_region_overlaps(a, a + PAGE_SZ - 1, w))
			break;
	ASSERT_LE(a + PAGE_SZ - 1, w->end);
	compare_at("unclaimed PCI window page", a, 0);
}

/* A PCI BAR no driver claimed: not busy, so allowed. */
TEST(unclaimed_pci_bar)
{
	setup();
	for (int i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (!pci_address(r->name) || r->start < LOW_LIMIT ||
		    (i + 1 < nr_regions && regions[i + 1].depth > r->depth))
			continue;
		compare_at(r->name, r->start, 0);
		return;
	}
	SKIP("every PCI memory BAR is claimed by a driver");
}
