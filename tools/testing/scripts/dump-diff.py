# SPDX-License-Identifier: GPL-2.0
"""Differential check of a minidump against a whole-RAM dump (drgn script).

  drgn -q -c WHOLE -s VMLINUX dump-diff.py record PAGES.json
  drgn -q -c MINI  -s VMLINUX dump-diff.py check  PAGES.json

record walks the kernel structures a debugger uses in the whole-RAM dump
(tasks and their stacks, modules, slab caches, page tables, the struct
pages of every zone, the hot-plugged DIMM's among them, per-CPU areas,
the printk ring) and notes every physical page the walk read, page
tables included, as a debugger reads them. check reads each of those
pages in the minidump of the same moment: each must be there, with data
if it had data in the whole-RAM dump (a page that reads as zeros may be
a hole the plan merged into a segment: a page it left out). A page
missing in the minidump, or zeros there, is forgiven only when the minidump's own struct page says
it is free (buddy or per-CPU list), a user page or of another owner
(type, flags, slab cache, head) than in the whole-RAM dump by then, or
it is one of the minidump's own buffers: the two dumps are taken one
after the other, and the plan follows what it sees. A page the plan
misses keeps its struct page: the DIMM's struct page arrays before the
fix, for instance, untyped, unreferenced tails in both dumps.
Prints the first misses with the structure they belong to; exit 1 on any.
"""
import bisect
import json
import struct
import sys

from drgn import FaultError, Object, cast
from drgn.helpers.linux.cpumask import for_each_possible_cpu
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.mm import pfn_to_page
from drgn.helpers.linux.nodemask import for_each_online_node
from drgn.helpers.linux.percpu import per_cpu_ptr
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.slab import for_each_slab_cache

prog = globals()["prog"]
PAGE = 4096
ADDR_MASK = 0x000FFFFFFFFFF000
PRESENT, HUGE = 1, 0x80
THREAD_SIZE = 4 * PAGE  # x86_64 without KASAN, as Debian builds it
ZERO = bytes(PAGE)
KERNEL_MAP = 0xFFFFFFFF80000000  # __START_KERNEL_map


def sizeof(name):
    return prog.type(name).size


def cache_size(cachep, name):
    """What a slab object really takes: its cache's object_size (struct
    kmem_cache ends in an array sized at boot), else the type's size."""
    try:
        return prog[cachep].object_size.value_()
    except (KeyError, LookupError):
        return sizeof(name)


def pflags(page):
    """page->flags, an unsigned long or (7.x) a memdesc_flags_t."""
    f = page.flags
    return f.f.value_() if hasattr(f, "f") else f.value_()


def pfn_of(page):
    return (page.value_() - prog["vmemmap_base"].value_()) // sizeof("struct page")


def head_of(page):
    """compound_head(): a tail's compound_head (compound_info in 7.x) has
    bit 0 set and points to the head, or (7.x with HVO) is a mask."""
    f = page.compound_info if hasattr(page, "compound_info") else page.compound_head
    h = f.value_()
    if not h & 1:
        return page
    base = prog["vmemmap_base"].value_()
    head = h - 1 if base <= h - 1 < base + (1 << 44) else page.value_() & h
    return Object(prog, "struct page *", value=head)


def order_of(page):
    """The order of a compound page's head (folio_order()), 0 otherwise."""
    if not pflags(page) & (1 << prog["PG_head"].value_()):
        return 0
    if hasattr(page[1], "compound_order"):
        return page[1].compound_order.value_()
    return cast("struct folio *", page)._flags_1.value_() & 0xFF


def page_sig(pfn):
    """Who owns a page, as its struct page says: type, flags that tell
    owners apart, ->mapping (a slab's cache), whether it has a reference,
    its compound head. None if the struct page cannot be read."""
    try:
        p = pfn_to_page(prog, pfn)
        f = pflags(p)
        bits = 0
        for flag in ("PG_reserved", "PG_lru", "PG_head", "PG_slab"):
            try:
                bits |= f & (1 << prog[flag].value_())
            except (KeyError, LookupError):
                pass
        return [p.page_type.value_() & 0xFFFFFFFF, bits, p.mapping.value_(),
                p._refcount.counter.value_() == 0, head_of(p).value_()]
    except FaultError:
        return None


class Walk:
    """Translates and notes the pages a walk reads in the whole-RAM dump."""

    def __init__(self):
        self.pages = {}  # pfn -> label of the first structure that read it
        self.tables = {}  # physical address of a table -> its 512 entries
        self.ptes = {}  # pfn of a last-level table -> the address it maps
        l5 = 0
        try:
            l5 = prog["__pgtable_l5_enabled"].value_()
        except (KeyError, LookupError):
            pass
        self.shifts = [48, 39, 30, 21, 12] if l5 else [39, 30, 21, 12]
        # swapper_pg_dir is in the kernel image, not the direct map
        phys_base = prog.read_u64(prog.symbol("phys_base").address)  # no type
        # __pa_symbol(): phys_base may be "negative" under KASLR, wrapping
        self.kpgd = (prog["init_mm"].pgd.value_() - KERNEL_MAP + phys_base) % (1 << 64)

    def note(self, pfn, label):
        self.pages.setdefault(pfn, label)

    def table(self, pa, label):
        self.note(pa >> 12, "page table (" + label + ")")
        t = self.tables.get(pa)
        if t is None:
            t = struct.unpack("<512Q", prog.read(pa, PAGE, True))
            self.tables[pa] = t
        return t

    def translate(self, va, label, pgd=None):
        pa = self.kpgd if pgd is None else pgd
        for shift in self.shifts:
            if shift == 12:
                self.pte_table(pa, va)
            e = self.table(pa, label)[(va >> shift) & 511]
            if not e & PRESENT:
                return None
            if shift in (21, 30) and e & HUGE:
                base = e & ADDR_MASK & ~((1 << shift) - 1)
                return base | (va & ((1 << shift) - 1))
            pa = e & ADDR_MASK
        return pa | (va & (PAGE - 1))

    def touch(self, va, size, label):
        """The walk reads [va, va + size): note its pages."""
        va = int(va)
        end = va + int(size)
        va &= ~(PAGE - 1)
        while va < end:
            try:
                pa = self.translate(va, label)
            except FaultError:
                pa = None
            if pa is not None:
                self.note(pa >> 12, label)
            va += PAGE

    def tree(self, pa, level, label, first=0, last=511, va=0):
        """Note every table of a page-table tree (user half: last=255)."""
        t = self.table(pa, label)
        shift = self.shifts[level]
        top = self.shifts[0] + 9
        for i in range(first, last + 1):
            e = t[i]
            if not e & PRESENT or shift == 12:
                continue
            if shift in (21, 30) and e & HUGE:
                continue
            sub = va | (i << shift)
            if sub & (1 << (top - 1)):
                sub |= ((1 << 64) - 1) & ~((1 << top) - 1)
            if level + 2 == len(self.shifts):
                self.pte_table(e & ADDR_MASK, sub)
            try:
                self.tree(e & ADDR_MASK, level + 1, label, va=sub)
            except FaultError:
                pass

    def pte_table(self, pa, va):
        """A last-level table and the 2 MiB of addresses it maps."""
        self.ptes.setdefault(pa >> 12, va & ~((1 << 21) - 1))


def counted(walk, what, fn):
    """Run one walk; the pages it added, or None if it stopped on an error."""
    before = len(walk.pages)
    try:
        fn()
    except (FaultError, LookupError, AttributeError, ValueError, TypeError) as e:
        print("# walk of %s stopped: %r" % (what, e))
        return None
    n = len(walk.pages) - before
    print("# %s: %d new pages" % (what, n))
    return n


def walk_tasks(w):
    ts = cache_size("task_struct_cachep", "struct task_struct")
    mms = cache_size("mm_cachep", "struct mm_struct")
    pti = True
    try:
        prog.symbol("pti_init")
    except LookupError:
        pti = False
    for t in for_each_task(prog):
        comm = t.comm.string_().decode(errors="replace")
        if comm.startswith("bsdmem-dump"):
            continue  # the whole-RAM dump's own thread, gone by the next
        who = "%d %s" % (t.pid.value_(), comm)
        w.touch(t.value_(), ts, "task_struct of " + who)
        w.touch(t.stack.value_(), THREAD_SIZE, "stack of " + who)
        mm = t.mm
        if mm:
            w.touch(mm.value_(), mms, "mm_struct of " + who)
            pgd = w.translate(mm.pgd.value_(), "mm of " + who)
            if pgd is not None:
                w.tree(pgd, 0, "user page tables of " + who, 0, 255)
                if pti:  # the user half of an order-1 PGD allocation
                    w.note((pgd >> 12) + 1, "PTI user PGD of " + who)


def walk_modules(w):
    ms = sizeof("struct module")
    for mod in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
        name = mod.name.string_().decode()
        w.touch(mod.value_(), ms, "struct module " + name)
        if hasattr(mod, "mem"):
            for m in mod.mem:
                if m.size:
                    w.touch(m.base.value_(), m.size.value_(), "module memory of " + name)
        else:
            for lay in ("core_layout", "data_layout"):
                if hasattr(mod, lay) and getattr(mod, lay).size:
                    l = getattr(mod, lay)
                    w.touch(l.base.value_(), l.size.value_(), "module memory of " + name)


def bounded(entries, limit):
    """A list read from a dump may have changed while it was written, and
    loop: at most limit entries, then FaultError."""
    for i, e in enumerate(entries):
        if i >= limit:
            raise FaultError("list longer than %d entries: changed while dumped" % limit, 0)
        yield e


def cache_nodes(s):
    for nid in for_each_online_node(prog):
        n = s.per_node[nid].node if hasattr(s, "per_node") else s.node[nid]
        if n:
            yield n


def walk_slab(w):
    cs = cache_size("kmem_cache", "struct kmem_cache")
    ns = cache_size("kmem_cache_node", "struct kmem_cache_node")
    changed = 0
    for s in for_each_slab_cache(prog):
        name = s.name.string_().decode()
        w.touch(s.value_(), cs, "kmem_cache " + name)
        if hasattr(s, "cpu_slab"):
            cc = sizeof("struct kmem_cache_cpu")
            for cpu in for_each_possible_cpu(prog):
                w.touch(per_cpu_ptr(s.cpu_slab, cpu).value_(), cc, "kmem_cache_cpu of " + name)
        for n in cache_nodes(s):
            w.touch(n.value_(), ns, "kmem_cache_node of " + name)
            try:
                for slab in bounded(list_for_each_entry("struct slab", n.partial.address_of_(),
                                                        "slab_list"), n.nr_partial.value_() + 64):
                    page = cast("struct page *", slab)
                    va = prog["page_offset_base"].value_() + pfn_of(page) * PAGE
                    w.touch(va, PAGE << order_of(page), "partial slab of " + name)
            except FaultError:
                changed += 1  # a list that changed while the dump was written
    if changed:
        print("# %d partial lists changed while dumped, walked in part" % changed)


def walk_page_tables(w):
    w.tree(w.kpgd, 0, "kernel page tables")


def walk_vmemmap(w):
    base, ps = prog["vmemmap_base"].value_(), sizeof("struct page")
    per_page = PAGE // ps
    for nid in for_each_online_node(prog):
        pgdat = prog["node_data"][nid]
        for zone in pgdat.node_zones:
            if not zone.present_pages:
                continue
            start = zone.zone_start_pfn.value_()
            end = start + zone.spanned_pages.value_()
            label = "struct pages of node %d zone %s" % (nid, zone.name.string_().decode())
            pfn = start - start % per_page
            while pfn < end:
                w.touch(base + pfn * ps, PAGE, label)
                pfn += per_page


def walk_percpu(w):
    """The static per-CPU variables of each CPU (runqueues, current_task),
    at the start of its unit of the first chunk; the rest of a unit may
    have gone back to the allocator. (Only the size is taken from the
    symbols: drgn moves __per_cpu_start by the KASLR offset, though on 6.1
    it is an offset into the unit.)"""
    size = prog.symbol("__per_cpu_end").address - prog.symbol("__per_cpu_start").address
    base = prog["pcpu_base_addr"].value_()
    offs = prog["pcpu_unit_offsets"]
    for cpu in for_each_possible_cpu(prog):
        w.touch(base + offs[cpu].value_(), size, "per-CPU area of CPU %d" % cpu)


def walk_printk(w):
    prb = prog["prb"]
    d = prb.desc_ring
    n = 1 << d.count_bits.value_()
    w.touch(d.descs.value_(), n * sizeof("struct prb_desc"), "printk descriptors")
    w.touch(d.infos.value_(), n * sizeof("struct printk_info"), "printk infos")
    t = prb.text_data_ring
    w.touch(t.data.value_(), 1 << t.size_bits.value_(), "printk text ring")


def record(path):
    w = Walk()
    need = {}
    for what, fn in (("tasks and their stacks", walk_tasks),
                     ("modules", walk_modules),
                     ("slab caches", walk_slab),
                     ("page tables", walk_page_tables),
                     ("struct pages (vmemmap)", walk_vmemmap),
                     ("per-CPU areas", walk_percpu),
                     ("printk ring", walk_printk)):
        need[what] = counted(w, what, lambda: fn(w))
    dimm = [p for p, l in w.pages.items() if l.endswith("zone Movable")]
    print("# struct pages of ZONE_MOVABLE (the DIMM): %d pages" % len(dimm))
    out = []
    spans = sorted(vmalloc_spans())
    for pfn, label in sorted(w.pages.items()):
        try:
            data = prog.read(pfn << 12, PAGE, True)
        except FaultError:
            continue  # not RAM the whole-RAM dump could read
        va = w.ptes.get(pfn)
        out.append([pfn, label, data != ZERO, page_sig(pfn), va,
                    None if va is None else spans_in(spans, va)])
    json.dump(out, open(path, "w"))
    print("# recorded %d pages" % len(out))
    # every walk must have gone through and found pages of its own
    empty = [k for k, v in need.items() if not v]
    if empty or not dimm:
        print("walks failed or found nothing: %s" % ", ".join(empty + ([] if dimm else ["the DIMM"])))
        sys.exit(1)


def typed(page):
    """Has the page a type (buddy, table, slab in 7.x, ...)?"""
    pt = page.page_type.value_() & 0xFFFFFFFF
    try:
        prog["PGTY_buddy"]
        return 0xF0 <= pt >> 24 < 0xFF
    except (KeyError, LookupError):
        return pt != 0xFFFFFFFF and pt & 0xF0000000 == 0xF0000000  # 6.1


def page_type_is_buddy(page):
    pt = page.page_type.value_() & 0xFFFFFFFF
    try:
        return pt >> 24 == prog["PGTY_buddy"].value_()
    except (KeyError, LookupError):
        return pt & 0xF0000080 == 0xF0000000  # 6.1: PAGE_TYPE_BASE, PG_buddy


def free_buddy(pfn):
    """is_free_buddy_page(), on the minidump's struct pages."""
    for order in range(11):
        head = pfn & ~((1 << order) - 1)
        try:
            p = pfn_to_page(prog, head)
            if page_type_is_buddy(p) and p.private.value_() >= order:
                return True
        except FaultError:
            return False
    return False


def pcp_free():
    """Page frames on the per-CPU free lists in the minidump."""
    free = set()
    low = prog["MIGRATE_PCPTYPES"].value_() * 4  # PAGE_ALLOC_COSTLY_ORDER + 1
    for nid in for_each_online_node(prog):
        for zone in prog["node_data"][nid].node_zones:
            if not zone.present_pages:
                continue
            for cpu in for_each_possible_cpu(prog):
                pcp = per_cpu_ptr(zone.per_cpu_pageset, cpu)
                for i, lst in enumerate(pcp.lists):
                    order = i // prog["MIGRATE_PCPTYPES"].value_() if i < low else 9
                    try:
                        for page in bounded(list_for_each_entry("struct page", lst.address_of_(), "pcp_list"),
                                            pcp.count.value_() + 64):
                            pfn = pfn_of(page)
                            free.update(range(pfn, pfn + (1 << order)))
                    except FaultError:
                        pass
    return free


def module_ranges(name):
    for mod in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
        if mod.name.string_().decode() != name:
            continue
        if hasattr(mod, "mem"):
            return [(m.base.value_(), m.base.value_() + m.size.value_()) for m in mod.mem]
        return [(l.base.value_(), l.base.value_() + l.size.value_())
                for l in (mod.core_layout, mod.init_layout)]
    return []


def vmap_areas():
    try:
        head = prog["vmap_area_list"].address_of_()  # 6.1
        yield from bounded(list_for_each_entry("struct vmap_area", head, "list"), 1 << 20)
    except KeyError:
        nodes = prog["vmap_nodes"]  # 6.9 and later: per-node lists
        for i in range(prog["nr_vmap_nodes"].value_()):
            head = nodes[i].busy.head.address_of_()
            yield from bounded(list_for_each_entry("struct vmap_area", head, "list"), 1 << 20)


def vmalloc_spans():
    """The live vmalloc areas, as (start, end) of what they may map: an
    area with a vm_struct ends in a guard page that is never mapped (a
    kthread's stack reaches into the next 2 MiB by its guard page alone,
    and puts nothing into that table)."""
    return [(va.va_start.value_(), va.va_end.value_() - (PAGE if va.vm else 0))
            for va in vmap_areas()]


def spans_in(spans, va):
    """The areas of spans (sorted, disjoint (start, end)) in the 2 MiB at
    va: the last one starting below va, then those starting inside."""
    end = va + (1 << 21)
    out = []
    for s, e in spans[max(bisect.bisect_left(spans, (va, 0)) - 1, 0):]:
        if s >= end:
            break
        if e > va:
            out.append([s, e])
    return out


def emptied_pte_table(va, before, live):
    """A last-level table that mapped vmalloc or module areas in the
    whole-RAM dump (before: those areas in the 2 MiB at va), none of which
    is left in the minidump: vunmap() cleared its entries and left the
    table. An area in the range that is new in the minidump may have been
    mapped after the table was copied (a kworker's stack, in a range the
    lazy purge gave back): the kernel image goes first. Tables of the
    direct map or the kernel image map no areas, and are never forgiven."""
    if va is None or not before:
        return False
    now = set(map(tuple, spans_in(live, va)))
    return not now & set(map(tuple, before))


def own_buffers():
    """Page frames of the minidump's own vmalloc buffers (bitmap, segment
    table, output buffer, compressor workspace), which it leaves out: the
    vmalloc areas that bsdmem's code asked for."""
    ranges = module_ranges("bsdmem")
    own = set()
    for va in vmap_areas():
        vm = va.vm
        if not vm:
            continue
        caller = vm.caller.value_()
        if any(lo <= caller < hi for lo, hi in ranges):
            own.update(pfn_of(vm.pages[i]) for i in range(vm.nr_pages.value_()))
    return own


def state(pfn, pcp, own):
    """Why the minidump may leave pfn out, by its own struct page; or None."""
    if pfn in own:
        return "the minidump's own buffers"
    if free_buddy(pfn):
        return "free (buddy) in the minidump"
    if pfn in pcp:
        return "free (per-CPU list) in the minidump"
    try:
        head = head_of(pfn_to_page(prog, pfn))
        f = pflags(head)
        # ->mapping is the cache of a slab and more of a typed page
        kernel = typed(head) or f & (1 << prog["PG_reserved"].value_())
        try:
            kernel = kernel or f & (1 << prog["PG_slab"].value_())
        except (KeyError, LookupError):
            pass
        if not kernel and (f & (1 << prog["PG_lru"].value_()) or head.mapping.value_()):
            return "a user or page cache page in the minidump"
    except FaultError:
        pass
    return None


def caller_name(addr):
    try:
        return prog.symbol(addr).name
    except LookupError:
        return "%#x" % addr


def areas_in(va):
    """The minidump's live vmalloc areas in the 2 MiB a PTE table maps,
    with who asked for them."""
    out = []
    end = va + (1 << 21)
    for a in vmap_areas():
        s, e = a.va_start.value_(), a.va_end.value_()
        if s < end and va < e:
            who = caller_name(a.vm.caller.value_()) if a.vm else "no vm_struct"
            out.append("%#x-%#x %s" % (s, e, who))
    return out


def describe(pfn, ptes=None):
    try:
        p = pfn_to_page(prog, pfn)
        d = "flags %#x refcount %d page_type %#x" % (
            pflags(p), p._refcount.counter.value_(), p.page_type.value_() & 0xFFFFFFFF)
    except FaultError as e:
        return "struct page unreadable (%s)" % e
    if ptes is not None:
        d += "; PTE table of %#x, live areas there: %s" % (
            ptes, ", ".join(areas_in(ptes)) or "none")
    return d


def check(path):
    recs = json.load(open(path))
    missing, zeros, emptied = [], 0, 0
    sigs, ptes_of = {}, {}
    live = sorted(vmalloc_spans())
    for pfn, label, nonzero, sig, ptes, before in recs:
        sigs[pfn] = sig
        ptes_of[pfn] = ptes
        try:
            data = prog.read(pfn << 12, PAGE, True)
        except FaultError:
            missing.append((pfn, label, "missing"))
            continue
        if nonzero and data == ZERO:
            if emptied_pte_table(ptes, before, live):
                # vunmap() (bsdmem's own buffers of the whole-RAM dump
                # among them) clears the entries, not the table
                emptied += 1
                if spans_in(live, ptes):
                    print("# emptied PTE table %#x of %#x, new areas there now: %s"
                          % (pfn, ptes, ", ".join(areas_in(ptes))))
                continue
            zeros += 1
            missing.append((pfn, label, "zeros"))
    print("# %d pages with data in the whole-RAM dump are zeros in the minidump, judged as missing ones" % zeros)
    print("# %d vmalloc PTE tables emptied since the whole-RAM dump (vunmap), forgiven" % emptied)
    pcp = pcp_free() if missing else set()
    own = own_buffers() if missing else set()
    bad, forgiven = [], {}
    for pfn, label, how in missing:
        why = state(pfn, pcp, own)
        if not why and page_sig(pfn) != sigs[pfn]:
            # allocated or freed since: the dump writes the I/O of its
            # own output meanwhile (bios), and struct pages after the plan
            why = "of another owner than in the whole-RAM dump"
        if why:
            forgiven[why] = forgiven.get(why, 0) + 1
        else:
            bad.append((pfn, label, how))
    print("# %d pages read by the walk, %d not in the minidump (or zeros)" % (len(recs), len(missing)))
    for why, n in sorted(forgiven.items()):
        print("# forgiven: %d pages %s" % (n, why))
    groups = {}
    for pfn, label, how in bad:
        if label.startswith("page table"):
            key = "page tables"
        elif label.startswith("struct pages") or " of " not in label:
            key = label
        else:
            key = label.split(" of ")[0]
        groups.setdefault(key, []).append(pfn)
    for key, pfns in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print("# MISSING %d pages of %s" % (len(pfns), key))
    for pfn, label, how in bad[:20]:
        print("# first misses: pfn %#x (%s) %s: %s" % (pfn, how, label, describe(pfn, ptes_of.get(pfn))))
    print("# checked %d pages: %d missing" % (len(recs), len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    {"record": record, "check": check}[sys.argv[1]](sys.argv[2])
