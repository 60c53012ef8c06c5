/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bsdmem internal interfaces. The pure functions (bsdmem_logic.c) take no
 * locks and touch no hardware so that KUnit can call them directly.
 */
#ifndef _BSDMEM_H
#define _BSDMEM_H

#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/fs.h>
#include <uapi/linux/bsdmem.h>

#define BSDMEM_NAME	"bsdmem"
#define BSDKMEM_NAME	"bsdkmem"

/* FreeBSD's IOC_IN is Linux's _IOC_READ: its _IOW commands look like _IOR. */
#define MEMRANGE_SET_BSD	_IOR('m', 51, struct mem_range_op)
#define MEM_KERNELDUMP_BSD	_IOR('m', 53, struct mem_livedump_arg)

/* The 32-bit layout of struct mem_range_op; the other structures match. */
struct mem_range_op32 {
	u32	mo_desc;
	s32	mo_arg[2];
};

#define MEMRANGE_GET32		_IOWR('m', 50, struct mem_range_op32)
#define MEMRANGE_SET32		_IOW('m', 51, struct mem_range_op32)
#define MEMRANGE_SET32_BSD	_IOR('m', 51, struct mem_range_op32)

/* An ioctl request with the caller's layout already resolved. */
struct bsdmem_range_req {
	void __user	*desc;
	int		arg[2];
};

/* bsdmem_logic.c: pure helpers */
int bsdmem_cmd_normalize(unsigned int cmd, bool compat, unsigned int *out);
bool bsdmem_phys_range_ok(u64 addr, u64 len, unsigned int phys_bits);
bool bsdmem_kaddr_range_ok(u64 addr, u64 len, unsigned int va_bits);
size_t bsdmem_chunk_len(u64 pos, size_t count);

/*
 * Where the kernel's address space has the direct map and the memmap
 * (vmemmap): KASLR moves both and packs vmalloc right after the RAM it
 * found, so the direct map may end well before its MAXMEM maximum.
 */
struct bsdmem_klayout {
	u64	direct_base;		/* PAGE_OFFSET */
	u64	direct_max;		/* MAXMEM */
	u64	vmalloc_base;		/* VMALLOC_START, just above it */
	u64	vmemmap_base;		/* VMEMMAP_START */
	u64	vmemmap_limit;		/* CPU_ENTRY_AREA_BASE, fixed above it */
	u64	page_struct_size;	/* sizeof(struct page) */
};

enum bsdmem_kregion {
	BSDMEM_KR_OTHER,	/* vmalloc, modules, the kernel image, ... */
	BSDMEM_KR_DIRECT,
	BSDMEM_KR_VMEMMAP,
};

enum bsdmem_kregion bsdmem_kaddr_region(u64 addr,
					const struct bsdmem_klayout *l,
					u64 *pfn);
/* bsdmem_access.c: this kernel's layout */
void bsdmem_klayout_current(struct bsdmem_klayout *l);
int bsdmem_lseek_pos(u64 cur, s64 off, int whence, u64 *newpos);

/* bsdmem_mtrr.c: firmware MTRR registers to descriptors (pure) */
#define BSDMEM_MTRR_NR_FIXED	88
#define BSDMEM_MTRR_MAX_VAR	32
#define BSDMEM_MTRR_FIXED_MSRS	11

struct bsdmem_mtrr_regs {
	bool	present;
	u64	cap;
	u64	def_type;
	u64	fixed[BSDMEM_MTRR_FIXED_MSRS];	/* 0x250, 0x258, 0x259, 0x268-0x26f */
	u64	var_base[BSDMEM_MTRR_MAX_VAR];
	u64	var_mask[BSDMEM_MTRR_MAX_VAR];
};

int bsdmem_mtrr_type_to_flag(unsigned int type);
int bsdmem_mtrr_decode(const struct bsdmem_mtrr_regs *r, unsigned int phys_bits,
		       struct mem_range_desc *out);

/* bsdmem_logic.c: memory range rules (pure) */
#define BSDMEM_CACHE_TYPES	(MDF_UNCACHEABLE | MDF_WRITECOMBINE | \
				 MDF_WRITETHROUGH | MDF_WRITEBACK | \
				 MDF_WRITEPROTECT)
/*
 * A RAM range pins every page and keeps an array of them; 64 GiB is 128
 * MiB of array and 2^24 pages for set_memory_*(), which counts in int.
 */
#define BSDMEM_RANGE_MAX_LEN	(64ULL << 30)
int bsdmem_range_validate(u64 base, u64 len, int flags, unsigned int phys_bits);
bool bsdmem_ranges_overlap(u64 a_base, u64 a_len, u64 b_base, u64 b_len);

/* bsdmem_range.c: the range table and its use by the devices */
struct bsdmem_range_user {		/* a mapping that pins the table */
	struct list_head	node;
	u64			base;
	u64			len;
};

void bsdmem_ranges_release_all(void);
int bsdmem_range_user_add(struct bsdmem_range_user *u, bool *read_only);
void bsdmem_range_user_del(struct bsdmem_range_user *u);
bool bsdmem_ranges_cover(unsigned long start_pfn, unsigned long end_pfn);
int bsdmem_range_check_write(u64 phys, u64 len);
int bsdmem_range_cache_type(u64 phys);

/* bsdmem_mmap.c: /dev/bsdmem mappings, faulted page by page */
int bsdmem_mmap_setup(struct file *file, struct vm_area_struct *vma);
bool bsdmem_maps_hold(unsigned long start_pfn, unsigned long end_pfn);
void bsdmem_mmap_exit(void);
/* the largest folio a reference can hold: a 1 GiB hugetlb page */
#define BSDMEM_FOLIO_MAX_PAGES	(SZ_1G >> PAGE_SHIFT)

/* bsdmem_hotplug.c: memory offline against pinned and mapped pages */
int bsdmem_hotplug_register(void);
void bsdmem_hotplug_unregister(void);

/* bsdmem_strict.c: Linux's strict /dev/mem rules (strict_devmem=1) */
/*
 * The answers of Linux's devmem_is_allowed(): refuse, allow, or allow
 * with reads seeing zeros (RAM in the first megabyte).
 */
#define BSDMEM_STRICT_LOW_PFNS	(0x100000UL >> PAGE_SHIFT)
enum { BSDMEM_STRICT_REFUSE, BSDMEM_STRICT_ALLOW, BSDMEM_STRICT_ZERO };
int bsdmem_strict_decide(unsigned long pfn, bool ram, bool exclusive);
int bsdmem_strict_pfn_allowed(unsigned long pfn);
bool bsdmem_strict_range_allowed(u64 phys, u64 len);

/* bsdmem_extract.c: the pure part of the page-table lookup */
u64 bsdmem_leaf_phys(unsigned long leaf_pfn, u64 leaf_size, u64 addr);
int bsdmem_extract_lookup(struct mm_struct *mm, struct mem_extract *me);

/* bsdmem_access.c: one page-bounded step of a transfer */
enum bsdmem_space { BSDMEM_PHYS, BSDMEM_KVIRT };
ssize_t bsdmem_access_step(enum bsdmem_space space, u64 pos, void *buf,
			   size_t len, bool write, unsigned int f_flags);
int bsdmem_kmap_present(unsigned long addr, bool write, u64 *phys);
extern struct mutex bsdmem_uc_lock;
unsigned int bsdmem_phys_bits(void);
unsigned int bsdmem_va_bits(void);

/* bsdmem_page.c: may a RAM page be touched, and a safe copy of it */
void bsdmem_page_access_begin(void);
void bsdmem_page_access_end(void);
void bsdmem_page_block_changing(unsigned long start, unsigned long end);
void bsdmem_page_block_settled(void);
bool bsdmem_page_changing(unsigned long pfn);
bool bsdmem_page_any_changing(void);
bool bsdmem_page_poisoned(struct page *page);
int bsdmem_ram_page_usable(unsigned long pfn);
struct folio *bsdmem_page_hold(unsigned long pfn);
bool bsdmem_reserved_page_stays(unsigned long pfn);

/* bsdmem_dump.c: the kernel image */
bool bsdmem_kimage_contains(unsigned long va);
int bsdmem_copy_ram(void *dst, const void *src, size_t len);

/* bsdmem_dump_regs.c: the dump's NMI handler goes at module exit */
void bsdmem_dump_regs_exit(void);

/* bsdmem_ioctl.c */
long bsdmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long bsdmem_compat_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg);

/* one function per ioctl, each in its own file */
int bsdmem_memrange_get(struct bsdmem_range_req *req);
int bsdmem_memrange_set(struct bsdmem_range_req *req);
int bsdmem_extract_paddr(void __user *arg);
int bsdmem_kerneldump(void __user *arg);

/* bsdmem_dev.c */
int bsdmem_lockdown_check(void);
int bsdmem_privilege_check(void);
int bsdmem_dev_register(void);
void bsdmem_dev_unregister(void);

extern bool bsdmem_strict_devmem;

#endif /* _BSDMEM_H */
