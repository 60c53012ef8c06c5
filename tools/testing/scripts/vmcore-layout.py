#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The layout of an ELF vmcore, and how two of them differ.

    vmcore-layout.py CORE              headers, notes and segments
    vmcore-layout.py REFERENCE CORE    the same for both, then what differs
    vmcore-layout.py --facts CORE      what debugging-drgn.py needs of it
                                       (CORE may be kdump-compressed too):
                                       "rip CPU ADDRESS" and "prstatus CPU
                                       PID PT_REGS" (struct pt_regs in hex)
                                       per NT_PRSTATUS, "kerneloffset HEX"
                                       and "phys_base N" (from VMCOREINFO;
                                       phys_base if no PT_LOAD maps the
                                       kernel image)
    vmcore-layout.py --check CORE [REFERENCE NM]
                                       what a reader needs of the segments:
                                       no physical page in two PT_LOADs, and
                                       no page of the kernel image PT_LOAD
                                       zeros where the direct map has its
                                       data, nor, in the parts of the image
                                       the kernel never frees (text, rodata,
                                       data, bss: their bounds from NM, the
                                       vmlinux's nm output), where REFERENCE
                                       (QEMU's dump of physical memory of
                                       the same guest) has; exit status 1
                                       and why if not

Notes: each note's name, type and size; for NT_PRSTATUS the pid and the
registers readers start a backtrace from; VMCOREINFO line by line.
Segments: the PT_LOADs by kind (kernel image, direct map, other), the
physical memory they cover, PT_LOADs whose physical ranges overlap, and
pages that the kernel image PT_LOAD has as zeros while a direct-map
PT_LOAD of the same physical page has data.
run-debugging.sh writes it for bsdmem's dump and QEMU's dump of the same
guest, so that what a reader takes from one and not the other can be
traced to the file.
"""
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS = 1
# struct elf_prstatus on x86-64: pr_pid at 32, pr_reg (27 longs) at 112
PRSTATUS_PID = 32
PRSTATUS_REG = 112
REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi "
        "orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()
KERNEL_MAP = 0xffffffff80000000
PAGE = 4096


class Core:
    def __init__(self, path):
        self.path = path
        self.kdump = False
        with open(path, "rb") as f:
            ehdr = f.read(64)
            if ehdr[:8] == b"KDUMP   ":
                self.read_kdump(f)
                return
            if ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
                raise SystemExit(f"{path}: not an ELF64 file")
            (self.type, self.machine, _, _, phoff, shoff, _, _, phentsize,
             phnum) = struct.unpack_from("<HHIQQQIHHH", ehdr, 16)
            if phnum == 0xffff:
                # PN_XNUM: the count is section header 0's sh_info
                f.seek(shoff + 44)
                phnum = struct.unpack("<I", f.read(4))[0]
            f.seek(phoff)
            self.phdrs = [struct.unpack("<IIQQQQQQ", f.read(phentsize)[:56])
                          for _ in range(phnum)]
            self.notes = []
            for p in self.phdrs:
                if p[0] == PT_NOTE:
                    f.seek(p[2])
                    self.notes += parse_notes(f.read(p[5]))
        self.loads = [p for p in self.phdrs if p[0] == PT_LOAD]

    def read_kdump(self, f):
        """The kdump-compressed format: its notes only (the sub header in
        the block after the header: offset_note and size_note at 48)."""
        self.kdump = True
        self.phdrs, self.loads = [], []
        f.seek(PAGE + 48)
        off, size = struct.unpack("<QQ", f.read(16))
        f.seek(off)
        self.notes = parse_notes(f.read(size))

    def vmcoreinfo(self):
        for name, ntype, desc in self.notes:
            if name == "VMCOREINFO":
                text = desc.rstrip(b"\0").decode(errors="replace")
                return dict(l.split("=", 1) for l in text.splitlines()
                            if "=" in l)
        return {}

    def prstatus(self):
        out = []
        for name, ntype, desc in self.notes:
            if ntype == NT_PRSTATUS and name == "CORE":
                pid = struct.unpack_from("<i", desc, PRSTATUS_PID)[0]
                regs = dict(zip(REGS, struct.unpack_from(
                    "<27Q", desc, PRSTATUS_REG)))
                out.append((pid, regs))
        return out

    def kinds(self):
        """PT_LOADs by the address space of p_vaddr: the kernel text map
        (the image, modules), the direct map, other (0: physical only)."""
        k = {"kernel text map": [], "direct map": [], "other": []}
        for p in self.loads:
            vaddr = p[3]
            if vaddr >= KERNEL_MAP:
                k["kernel text map"].append(p)
            elif vaddr >= 0xff00000000000000:
                k["direct map"].append(p)
            else:
                k["other"].append(p)
        return k

    def overlaps(self):
        """Pairs of PT_LOADs whose physical ranges overlap."""
        ranges = sorted((p[4], p[4] + p[6], i) for i, p in
                        enumerate(self.loads) if p[6])
        out = []
        if not ranges:
            return out
        widest = ranges[0]      # of those seen, the one ending last
        for r in ranges[1:]:
            if r[0] < widest[1]:
                out.append((widest, r))
            if r[1] > widest[1]:
                widest = r
        return out


    def image_zeros(self):
        """Pages of the kernel image PT_LOAD that are all zeros where a
        direct-map PT_LOAD has data for the same physical page: a reader
        that finds a physical page in the first PT_LOAD holding it (crash
        does) reads zeros there."""
        image = self.kinds()["kernel text map"]
        out = []
        if len(image) != 1:
            return out
        img = image[0]
        zero = bytes(PAGE)
        with open(self.path, "rb") as f:
            for p in self.kinds()["direct map"]:
                lo = max(p[4], img[4])
                hi = min(p[4] + p[5], img[4] + img[5])
                for pa in range(lo, hi, PAGE):
                    f.seek(img[2] + pa - img[4])
                    if f.read(PAGE) != zero:
                        continue
                    f.seek(p[2] + pa - p[4])
                    if f.read(PAGE) != zero:
                        out.append(pa)
        return out


def phys_pages(core):
    """Physical page address -> file offset, of a dump's PT_LOADs."""
    pages = {}
    for p in core.loads:
        for pa in range(p[4] & ~(PAGE - 1), p[4] + p[5], PAGE):
            pages.setdefault(pa, p[2] + pa - p[4])
    return pages


# The parts of the kernel image that stay reserved: the gaps between
# them, init memory and the brk area's unused tail are freed at boot, and
# QEMU's dump has stale data where bsdmem's, rightly, has none.
KEPT = (("_text", "_etext"), ("__start_rodata", "__end_rodata"),
        ("_sdata", "_edata"), ("__bss_start", "__bss_stop"))
# within them, freed too: the unused part of .bss..decrypted
FREED = (("__start_bss_decrypted_unused", "__end_bss_decrypted"),)


def kept_pages(nm_path, offset):
    """Link-time bounds (nm output) -> virtual pages, KASLR offset added."""
    syms = {}
    with open(nm_path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3:
                syms[w[2]] = int(w[0], 16)
    pages = set()
    for lo, hi in KEPT:
        start = (syms[lo] + offset) & ~(PAGE - 1)
        pages.update(range(start, syms[hi] + offset, PAGE))
    for lo, hi in FREED:
        if lo in syms and hi in syms:
            pages.difference_update(range(syms[lo] + offset,
                                          syms[hi] + offset, PAGE))
    return pages


def image_vs_reference(core, ref, nm_path):
    """Pages of core's kernel image PT_LOAD, in the parts never freed, that
    are zeros while ref (a dump of physical memory of the same guest, taken
    just before) has data in the same physical page; and how many pages
    were compared."""
    image = core.kinds()["kernel text map"]
    if len(image) != 1:
        return [], 0
    img = image[0]
    offset = int(core.vmcoreinfo().get("KERNELOFFSET", "0"), 16)
    kept = kept_pages(nm_path, offset)
    where = phys_pages(ref)
    zero = bytes(PAGE)
    zeros, shared = [], 0
    with open(core.path, "rb") as f, open(ref.path, "rb") as g:
        for pa in range(img[4], img[4] + img[5], PAGE):
            if pa not in where or img[3] + pa - img[4] not in kept:
                continue
            shared += 1
            f.seek(img[2] + pa - img[4])
            if f.read(PAGE) != zero:
                continue
            g.seek(where[pa])
            if g.read(PAGE) != zero:
                zeros.append(pa)
    return zeros, shared


def check(core, ref, nm_path):
    """--check: prints what is wrong; 1 if anything is."""
    bad = 0
    overlaps = core.overlaps()
    for a, b in overlaps:
        pa, pb = core.loads[a[2]], core.loads[b[2]]
        print(f"overlap: PT_LOAD paddr {pa[4]:#x}-{pa[4] + pa[6]:#x} (vaddr "
              f"{pa[3]:#x}) and paddr {pb[4]:#x}-{pb[4] + pb[6]:#x} (vaddr "
              f"{pb[3]:#x}) hold the same physical pages")
        bad = 1
    image = core.kinds()["kernel text map"]
    if len(image) != 1:
        print(f"{len(image)} PT_LOADs of the kernel image, not 1")
        return 1
    zeros = core.image_zeros()
    if zeros:
        print(f"kernel image PT_LOAD: {len(zeros)} pages of zeros where a "
              f"direct-map PT_LOAD has data, the first at paddr "
              f"{zeros[0]:#x}")
        bad = 1
    if ref:
        zeros, shared = image_vs_reference(core, ref, nm_path)
        print(f"kernel image PT_LOAD: {image[0][5] // PAGE} pages, "
              f"{shared} of them kept by the kernel and compared with the "
              f"reference")
        if not shared:
            print("no page of the kernel image PT_LOAD in the reference")
            bad = 1
        if zeros:
            print(f"kernel image PT_LOAD: {len(zeros)} pages of zeros where "
                  f"the reference has data, the first at paddr "
                  f"{zeros[0]:#x} (image offset {zeros[0] - image[0][4]:#x})")
            bad = 1
    return bad


def parse_notes(data):
    notes, off = [], 0
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, off)
        off += 12
        name = data[off:off + namesz].rstrip(b"\0").decode(errors="replace")
        off += (namesz + 3) & ~3
        desc = data[off:off + descsz]
        off += (descsz + 3) & ~3
        notes.append((name, ntype, desc))
    return notes


def show(c):
    print(f"== {c.path}")
    print(f"e_type {c.type} e_machine {c.machine} e_phnum {len(c.phdrs)}")
    print("notes:", ", ".join(f"{n}/{t}({len(d)})" for n, t, d in c.notes))
    for i, (pid, r) in enumerate(c.prstatus()):
        zero = sum(1 for v in r.values() if v == 0)
        print(f"  NT_PRSTATUS {i}: pr_pid {pid} rip {r['rip']:#x} "
              f"rsp {r['rsp']:#x} rbp {r['rbp']:#x} cs {r['cs']:#x} "
              f"ss {r['ss']:#x} ({zero} of 27 registers zero)")
    info = c.vmcoreinfo()
    print(f"  VMCOREINFO: {len(info)} lines, OSRELEASE "
          f"{info.get('OSRELEASE')}, KERNELOFFSET {info.get('KERNELOFFSET')}"
          f", CRASHTIME {info.get('CRASHTIME', '(none)')}")
    for kind, ps in c.kinds().items():
        if not ps:
            continue
        size = sum(p[6] for p in ps)
        print(f"PT_LOAD {kind}: {len(ps)}, {size >> 20} MiB in the file")
        for p in ps[:3]:
            print(f"  paddr {p[4]:#x} vaddr {p[3]:#x} filesz {p[5]:#x} "
                  f"memsz {p[6]:#x} flags {p[1]:#x} align {p[7]:#x}")
        if len(ps) > 3:
            print(f"  ... {len(ps) - 3} more")
    zeros = c.image_zeros()
    if zeros:
        img = c.kinds()["kernel text map"][0]
        print(f"kernel image PT_LOAD: {len(zeros)} pages of zeros where a "
              f"direct-map PT_LOAD has data, the first at paddr "
              f"{zeros[0]:#x} (image offset {zeros[0] - img[4]:#x})")
    overlaps = c.overlaps()
    if len(overlaps) > 6:
        print(f"overlap: {len(overlaps)} pairs of PT_LOADs, the first 6:")
    for a, b in overlaps[:6]:
        pa, pb = c.loads[a[2]], c.loads[b[2]]
        print(f"overlap: PT_LOAD paddr {pa[4]:#x}-{pa[4] + pa[6]:#x} (vaddr "
              f"{pa[3]:#x}) and paddr {pb[4]:#x}-{pb[4] + pb[6]:#x} (vaddr "
              f"{pb[3]:#x})")


def compare(ref, core):
    print(f"== differences, {ref.path} -> {core.path}")
    ri, ci = ref.vmcoreinfo(), core.vmcoreinfo()
    for k in sorted(set(ri) | set(ci)):
        if ri.get(k) != ci.get(k):
            print(f"VMCOREINFO {k}: {ri.get(k)} -> {ci.get(k)}")
    rn = [(n, t) for n, t, _ in ref.notes]
    cn = [(n, t) for n, t, _ in core.notes]
    if rn != cn:
        print(f"notes: {rn} -> {cn}")
    rp, cp = ref.prstatus(), core.prstatus()
    for i in range(max(len(rp), len(cp))):
        a = rp[i] if i < len(rp) else None
        b = cp[i] if i < len(cp) else None
        if a is None or b is None:
            print(f"NT_PRSTATUS {i}: {'present' if a else 'absent'} -> "
                  f"{'present' if b else 'absent'}")
            continue
        zero_a = [k for k, v in a[1].items() if v == 0 and k in
                  ("rip", "rsp", "cs", "ss")]
        zero_b = [k for k, v in b[1].items() if v == 0 and k in
                  ("rip", "rsp", "cs", "ss")]
        if a[0] != b[0] or zero_a != zero_b:
            print(f"NT_PRSTATUS {i}: pr_pid {a[0]} -> {b[0]}, zero among "
                  f"rip/rsp/cs/ss {zero_a or 'none'} -> {zero_b or 'none'}")
    rk, ck = ref.kinds(), core.kinds()
    for kind in rk:
        if len(rk[kind]) != len(ck[kind]):
            print(f"PT_LOAD {kind}: {len(rk[kind])} -> {len(ck[kind])}")
    print(f"overlapping PT_LOAD pairs: {len(ref.overlaps())} -> "
          f"{len(core.overlaps())}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--facts":
        c = Core(sys.argv[2])
        # NT_PRSTATUS notes are one per CPU, in CPU order
        for cpu, (pid, regs) in enumerate(c.prstatus()):
            print(f"rip {cpu} {regs['rip']:#x}")
            # pr_reg begins with struct pt_regs (r15 ... ss)
            pt_regs = struct.pack("<21Q", *(regs[r] for r in REGS[:21]))
            print(f"prstatus {cpu} {pid} {pt_regs.hex()}")
        print(f"kerneloffset {c.vmcoreinfo().get('KERNELOFFSET', '0')}")
        phys_base = c.vmcoreinfo().get("NUMBER(phys_base)")
        # (libkdumpfile maps the image of a kdump-compressed dump itself)
        if not c.kinds()["kernel text map"] and phys_base and not c.kdump:
            print(f"phys_base {phys_base}")
        return
    if len(sys.argv) in (3, 5) and sys.argv[1] == "--check":
        sys.exit(check(Core(sys.argv[2]),
                       Core(sys.argv[3]) if len(sys.argv) == 5 else None,
                       sys.argv[4] if len(sys.argv) == 5 else None))
    cores = [Core(p) for p in sys.argv[1:]]
    if not 1 <= len(cores) <= 2:
        raise SystemExit("usage: vmcore-layout.py [REFERENCE] CORE")
    for c in cores:
        show(c)
    if len(cores) == 2:
        compare(*cores)


if __name__ == "__main__":
    main()
