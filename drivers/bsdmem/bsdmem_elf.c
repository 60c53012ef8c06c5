// SPDX-License-Identifier: GPL-2.0
/*
 * The ELF core layout of a live dump, as the kernel lays out /proc/vmcore
 * for kdump so that vmcore-dmesg, makedumpfile, crash and drgn read it:
 * one PT_NOTE first, a PT_LOAD for the kernel image, then one PT_LOAD per
 * run of dumped physical pages at its direct-map address; the notes
 * hold one NT_PRSTATUS per CPU. Pure layout arithmetic and byte packing:
 * KUnit checks it without a kernel to dump.
 */
#include <linux/align.h>
#include <linux/bitops.h>
#include <linux/bitmap.h>
#include <linux/elf.h>
#include <linux/elfcore.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/ptrace.h>
#include <asm/user.h>
#include "bsdmem.h"
#include "bsdmem_dump.h"

/* Bytes of one note with this name and descriptor size. */
size_t bsdmem_elf_note_size(const char *name, size_t descsz)
{
	return sizeof(struct elf64_note) + ALIGN(strlen(name) + 1, 4) +
	       ALIGN(descsz, 4);
}

/* Append a note at buf; returns the bytes written. */
size_t bsdmem_elf_note_put(void *buf, const char *name, u32 type,
			   const void *desc, size_t descsz)
{
	struct elf64_note *n = buf;
	size_t namesz = strlen(name) + 1;
	u8 *p = buf;

	memset(buf, 0, bsdmem_elf_note_size(name, descsz));
	n->n_namesz = namesz;
	n->n_descsz = descsz;
	n->n_type = type;
	p += sizeof(*n);
	memcpy(p, name, namesz);
	p += ALIGN(namesz, 4);
	memcpy(p, desc, descsz);
	return bsdmem_elf_note_size(name, descsz);
}

/* Total bytes of a complete note (header, name, descriptor), or 0 if bad. */
size_t bsdmem_elf_note_total(const void *note, size_t avail)
{
	const struct elf64_note *n = note;
	size_t len;

	if (avail < sizeof(*n) || n->n_namesz > avail || n->n_descsz > avail)
		return 0;
	len = sizeof(*n) + ALIGN((size_t)n->n_namesz, 4) +
	      ALIGN((size_t)n->n_descsz, 4);
	return len <= avail ? len : 0;
}

/* Where a complete note's descriptor starts in it; its size in *descsz. */
size_t bsdmem_elf_note_desc(const void *note, size_t *descsz)
{
	const struct elf64_note *n = note;

	*descsz = n->n_descsz;
	return sizeof(*n) + ALIGN((size_t)n->n_namesz, 4);
}

/*
 * ELF_CORE_COPY_REGS needs an unexported helper for the inactive GS base;
 * a dump of a running kernel has no use for segment bases anyway.
 */
static void bsdmem_regs_to_prstatus(struct elf_prstatus *prs,
				    const struct pt_regs *r)
{
	struct user_regs_struct *u = (struct user_regs_struct *)&prs->pr_reg;

	BUILD_BUG_ON(sizeof(*u) != sizeof(prs->pr_reg));
	u->r15 = r->r15;
	u->r14 = r->r14;
	u->r13 = r->r13;
	u->r12 = r->r12;
	u->bp = r->bp;
	u->bx = r->bx;
	u->r11 = r->r11;
	u->r10 = r->r10;
	u->r9 = r->r9;
	u->r8 = r->r8;
	u->ax = r->ax;
	u->cx = r->cx;
	u->dx = r->dx;
	u->si = r->si;
	u->di = r->di;
	u->orig_ax = r->orig_ax;
	u->ip = r->ip;
	u->cs = r->cs;
	u->flags = r->flags;
	u->sp = r->sp;
	u->ss = r->ss;
}

/* Bytes of one CPU's NT_PRSTATUS note. */
size_t bsdmem_elf_prstatus_size(void)
{
	return bsdmem_elf_note_size("CORE", sizeof(struct elf_prstatus));
}

/*
 * One CPU's NT_PRSTATUS note at buf: its registers and pid, as kdump's
 * crash_save_cpu() writes them. regs is NULL for a CPU whose registers
 * are unknown: they are left zero. Returns the bytes written.
 */
size_t bsdmem_elf_prstatus_put(void *buf, const struct pt_regs *regs,
			       pid_t pid)
{
	struct elf_prstatus prs;

	memset(&prs, 0, sizeof(prs));
	if (regs)
		bsdmem_regs_to_prstatus(&prs, regs);
	prs.common.pr_pid = pid;
	return bsdmem_elf_note_put(buf, "CORE", NT_PRSTATUS, &prs,
				   sizeof(prs));
}

size_t bsdmem_elf_headers_size(unsigned int nsegs)
{
	return sizeof(struct elf64_hdr) +
	       (nsegs + 2) * sizeof(struct elf64_phdr);
}

/* Page data starts page-aligned after the headers and notes. */
u64 bsdmem_elf_data_offset(unsigned int nsegs, size_t notes_len)
{
	return ALIGN(bsdmem_elf_headers_size(nsegs) + notes_len, PAGE_SIZE);
}

static void bsdmem_elf_load(struct elf64_phdr *ph, u64 off, u64 vaddr,
			    u64 paddr, u64 len)
{
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_W | PF_X;
	ph->p_offset = off;
	ph->p_vaddr = vaddr;
	ph->p_paddr = paddr;
	ph->p_filesz = len;
	ph->p_memsz = len;
	ph->p_align = 0;
}

/*
 * Write the ELF header and program headers into buf (at least
 * bsdmem_elf_headers_size(l->nsegs) bytes). Returns -EINVAL when the
 * program header count does not fit e_phnum.
 */
int bsdmem_elf_build_headers(void *buf, const struct bsdmem_elf_layout *l)
{
	struct elf64_hdr *eh = buf;
	struct elf64_phdr *ph = buf + sizeof(*eh);
	u64 off = bsdmem_elf_data_offset(l->nsegs, l->notes_len);
	unsigned int i;

	if (l->nsegs > BSDMEM_MAX_SEGS)
		return -EINVAL;
	memset(buf, 0, bsdmem_elf_headers_size(l->nsegs));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = l->nsegs + 2;

	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = bsdmem_elf_headers_size(l->nsegs);
	ph[0].p_filesz = l->notes_len;
	ph[0].p_memsz = l->notes_len;

	bsdmem_elf_load(&ph[1], off, l->kimage_vaddr, l->kimage_paddr,
			l->kimage_len);
	off += l->kimage_len;
	for (i = 0; i < l->nsegs; i++) {
		u64 paddr = l->segs[i].start_pfn << PAGE_SHIFT;
		u64 len = l->segs[i].npages << PAGE_SHIFT;

		bsdmem_elf_load(&ph[i + 2], off, l->direct_map_base + paddr,
				paddr, len);
		off += len;
	}
	return 0;
}

/*
 * Runs of set bits in the plan become segments; holes shorter than
 * max_hole pages between runs are absorbed (written as zeros). Returns
 * the number of segments, which may exceed max_segs (then only max_segs
 * are stored): the caller retries with a larger max_hole.
 */
unsigned int bsdmem_plan_segments(const unsigned long *bitmap,
				  unsigned long nbits, unsigned long max_hole,
				  struct bsdmem_seg *segs,
				  unsigned int max_segs)
{
	unsigned long start, end = 0, last_end = 0;
	unsigned int n = 0;

	while ((start = find_next_bit(bitmap, nbits, end)) < nbits) {
		end = find_next_zero_bit(bitmap, nbits, start);
		if (n && start - last_end <= max_hole) {
			if (n <= max_segs)
				segs[n - 1].npages = end - segs[n - 1].start_pfn;
		} else {
			if (n < max_segs) {
				segs[n].start_pfn = start;
				segs[n].npages = end - start;
			}
			n++;
		}
		last_end = end;
	}
	return n;
}

/*
 * Take page frames [start_pfn, start_pfn + npages) out of the segments
 * (sorted, disjoint), trimming those that reach into the range and
 * splitting one that spans it. Returns the new count, or max_segs + 1
 * when a split finds no room (segs is then half done: the caller plans
 * the segments again with more holes merged).
 */
unsigned int bsdmem_plan_carve(struct bsdmem_seg *segs, unsigned int nsegs,
			       unsigned int max_segs, u64 start_pfn,
			       u64 npages)
{
	u64 end = start_pfn + npages;
	unsigned int i, j = 0;

	if (!npages)
		return nsegs;
	for (i = 0; i < nsegs; i++) {
		u64 s = segs[i].start_pfn, e = s + segs[i].npages;

		if (e <= start_pfn || s >= end) {
			segs[j++] = segs[i];
			continue;
		}
		if (s < start_pfn && e > end) {
			if (nsegs >= max_segs)
				return max_segs + 1;
			/* room after i; j <= i, so segs[j + 1] is free too */
			memmove(&segs[i + 2], &segs[i + 1],
				(nsegs - i - 1) * sizeof(*segs));
			nsegs++;
			i++;
			segs[j].start_pfn = s;
			segs[j++].npages = start_pfn - s;
			segs[j].start_pfn = end;
			segs[j++].npages = e - end;
			continue;
		}
		if (s < start_pfn) {
			segs[j].start_pfn = s;
			segs[j++].npages = start_pfn - s;
		} else if (e > end) {
			segs[j].start_pfn = end;
			segs[j++].npages = e - end;
		}
	}
	return j;
}
