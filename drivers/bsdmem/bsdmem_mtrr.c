// SPDX-License-Identifier: GPL-2.0
/*
 * Firmware MTRRs as FreeBSD's mem(4) reports them: 88 fixed-range
 * descriptors when fixed ranges are enabled, then one per enabled variable
 * MTRR. Pure decoding of register values (read elsewhere) so that KUnit
 * can feed it any values, invalid ones included.
 */
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/errno.h>
#include <linux/string.h>
#include "bsdmem.h"

#define MTRR_CAP_VCNT		0xffULL
#define MTRR_CAP_FIX		BIT_ULL(8)
#define MTRR_DEF_FE		BIT_ULL(10)
#define MTRR_DEF_E		BIT_ULL(11)
#define MTRR_MASK_VALID		BIT_ULL(11)

/* MTRR memory type to FreeBSD attribute. */
int bsdmem_mtrr_type_to_flag(unsigned int type)
{
	switch (type) {
	case 0:
		return MDF_UNCACHEABLE;
	case 1:
		return MDF_WRITECOMBINE;
	case 4:
		return MDF_WRITETHROUGH;
	case 5:
		return MDF_WRITEPROTECT;
	case 6:
		return MDF_WRITEBACK;
	}
	return MDF_UNKNOWN;
}

static void bsdmem_fw_desc(struct mem_range_desc *d, u64 base, u64 len,
			   int flags)
{
	memset(d, 0, sizeof(*d));
	d->mr_base = base;
	d->mr_len = len;
	d->mr_flags = flags | MDF_FIRMWARE | MDF_ACTIVE | MDF_FIXACTIVE;
	strscpy(d->mr_owner, "BIOS", sizeof(d->mr_owner));
}

/* The fixed ranges: 8 x 64K from 0, 16 x 16K from 0x80000, 64 x 4K from 0xC0000. */
static int bsdmem_mtrr_fixed(const struct bsdmem_mtrr_regs *r,
			     struct mem_range_desc *out)
{
	static const struct { u64 base, size; int msrs; } groups[] = {
		{ 0x00000, SZ_64K, 1 },
		{ 0x80000, SZ_16K, 2 },
		{ 0xC0000, SZ_4K, 8 },
	};
	int g, m, b, n = 0, msr = 0;

	for (g = 0; g < ARRAY_SIZE(groups); g++) {
		u64 base = groups[g].base;

		for (m = 0; m < groups[g].msrs; m++, msr++) {
			for (b = 0; b < 8; b++, n++, base += groups[g].size) {
				unsigned int type = (r->fixed[msr] >> (8 * b)) & 0xff;

				if (out)
					bsdmem_fw_desc(&out[n], base, groups[g].size,
						       MDF_FIXBASE | MDF_FIXLEN |
						       bsdmem_mtrr_type_to_flag(type));
			}
		}
	}
	return n;
}

/* MTRR ranges must be a power of two long, at least 4K, aligned to it. */
static bool bsdmem_mtrr_range_valid(u64 base, u64 len)
{
	return len >= SZ_4K && is_power_of_2(len) && !(base & (len - 1));
}

/*
 * Decode into out (may be NULL to count). Returns the number of firmware
 * descriptors: 0 when MTRRs are disabled or absent.
 */
int bsdmem_mtrr_decode(const struct bsdmem_mtrr_regs *r, unsigned int phys_bits,
		       struct mem_range_desc *out)
{
	u64 physmask = (BIT_ULL(phys_bits) - 1) & ~0xfffULL;
	unsigned int i, vcnt = r->cap & MTRR_CAP_VCNT;
	int n = 0;

	if (!r->present || !(r->def_type & MTRR_DEF_E) || phys_bits < 32 ||
	    phys_bits > 52)
		return 0;
	if ((r->cap & MTRR_CAP_FIX) && (r->def_type & MTRR_DEF_FE))
		n = bsdmem_mtrr_fixed(r, out);

	vcnt = min_t(unsigned int, vcnt, BSDMEM_MTRR_MAX_VAR);
	for (i = 0; i < vcnt; i++) {
		u64 base = r->var_base[i] & physmask;
		u64 mask = r->var_mask[i] & physmask;
		u64 len = (~mask & (physmask | 0xfffULL)) + 1;
		int flags;

		if (!(r->var_mask[i] & MTRR_MASK_VALID))
			continue;
		flags = bsdmem_mtrr_type_to_flag(r->var_base[i] & 0xff);
		if (!bsdmem_mtrr_range_valid(base, len))
			flags |= MDF_BOGUS;
		if (out)
			bsdmem_fw_desc(&out[n], base, len, flags);
		n++;
	}
	return n;
}
