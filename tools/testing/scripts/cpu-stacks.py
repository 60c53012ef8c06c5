# SPDX-License-Identifier: GPL-2.0
"""Every CPU's registers in a live dump, as the readers take them.

    drgn -q -c CORE -s VMLINUX -s SPINNER.KO cpu-stacks.py FACTS \\
        spinner NCPU SPIN_CPU SPIN_PID SPIN_START SPIN_END VMLINUX \
        SPINNER.KO WORKDIR
    drgn -q -c CORE -s VMLINUX cpu-stacks.py FACTS \\
        dumping VMLINUX BSDMEM.KO WORKDIR

FACTS is vmcore-layout.py --facts of CORE ("prstatus CPU PID PT_REGS"
and "kerneloffset HEX" lines). The checks:

  spinner   the spinning CPU (SPIN_CPU, SPIN_PID, spinner_spin() in
            [SPIN_START, SPIN_END), hex): it holds its CPU until the dump
            is written, so its note, its runqueue and its stack agree. Its
            note's pid is the spinner's, which is that CPU's rq->curr; the
            spinner's backtrace (drgn takes the note's registers for a task
            on a CPU) and a backtrace from the note itself start in
            spinner_spin() and, where drgn has the module's debug info
            (drgn 0.0.22: kernels before 6.4), name spinner_spin and every
            frame down to kthread(); so does gdb's backtrace from the note
            (as for the dumping thread, below), on every kernel.
  dumping   the dumping thread: exactly one note is the bsdmem-dump
            thread's, and a backtrace from it has named frames, a bsdmem
            function first, down through bsdmem_dump_thread() to
            kthread(): the thread takes its
            registers in a frame that lasts until the dump is written.
            The backtrace is gdb's, as drgn 0.0.22 places no module's
            debug info on 6.4 and later: drgn writes WORKDIR/stack-MODULE.core,
            an ELF core of the note and the thread's stack (vmalloc'd:
            gdb reads no page tables), and WORKDIR/stack-MODULE.gdb, which gives
            gdb the vmlinux at the dump's KASLR offset and bsdmem.ko at
            its sections' addresses in the dump.

The spinner check also prints where every other CPU's note says it was.
Those CPUs kept running after the NMI while the dump copied memory:
their stacks under the note's rsp are overwritten, and rq->curr may be
another task ("# cpu N moved on since the NMI"). They are not judged.
Exit status 1 (an AssertionError) when the check fails.
"""
import os
import struct
import subprocess
import sys

from drgn import Object
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.pid import find_task

prog = globals()["prog"]
THREAD_SIZE = 4 * 4096  # x86_64 without KASAN, as Debian builds it


def note_trace(regs):
    """drgn's backtrace from a note's registers (struct pt_regs bytes)."""
    return prog.stack_trace(Object.from_bytes_(prog, "struct pt_regs", regs))


def names_of(trace):
    """The names of the functions (inlined ones left out)."""
    return [f.name for f in trace if not f.is_inline]


def comm(task):
    return task.comm.string_().decode()


def named_down_to_kthread(names, what):
    assert "kthread" in names, f"{what}: no kthread() under {names}"
    upto = names[:names.index("kthread")]
    assert all(upto), f"{what}: frames without a name: {upto}"


def check_spinner(notes, spin_cpu, spin_pid, start, end):
    pid, regs = notes[spin_cpu]
    assert pid == spin_pid, f"CPU {spin_cpu}: pr_pid {pid}, not {spin_pid}"
    curr = per_cpu(prog["runqueues"], spin_cpu).curr
    assert curr.pid.value_() == spin_pid, \
        f"CPU {spin_cpu} runs pid {curr.pid.value_()}, not the spinner"
    spinner = find_task(prog, spin_pid)
    assert spinner, "no spinner task"
    assert spinner.comm.string_() == b"spinner/%d" % spin_cpu, comm(spinner)
    for what, trace in (("the spinner's stack", prog.stack_trace(spinner)),
                        (f"CPU {spin_cpu}'s note", note_trace(regs))):
        print(f"{what}:\n{trace}")
        pc = trace[0].pc
        assert start <= pc < end, \
            f"{what}: starts at {pc:#x}, not in spinner_spin() " \
            f"[{start:#x}, {end:#x})"
        names = names_of(trace)
        if names[0] is None:
            print(f"{what}: no debug info for the spinner module here: "
                  f"its pc alone checked")
            continue
        assert names[0] == "spinner_spin", f"{what}: {names}"
        named_down_to_kthread(names, what)


def check_spinner_gdb(notes, spin_cpu, offset, vmlinux, ko, workdir):
    names = gdb_note_frames(notes[spin_cpu], "spinner", offset, vmlinux, ko,
                            workdir)
    named_down_to_kthread(names, "gdb")
    # gdb shows inlined functions as frames (rdtsc() in spinner_spin())
    assert "spinner_spin" in names[:3], f"gdb: no spinner_spin in {names}"


def dumper_cpus(notes):
    """The CPUs whose note names the bsdmem-dump thread."""
    out = []
    for cpu, (pid, _) in notes.items():
        task = find_task(prog, pid) if pid > 0 else None
        if task and task.comm.string_() == b"bsdmem-dump":
            out.append(cpu)
    return out


def show_others(notes, skip):
    for cpu, (pid, regs) in sorted(notes.items()):
        if cpu in skip:
            continue
        curr = per_cpu(prog["runqueues"], cpu).curr
        if curr.pid.value_() != pid:
            print(f"# cpu {cpu} moved on since the NMI (pr_pid {pid}, "
                  f"rq->curr {curr.pid.value_()} {comm(curr)})")
        else:
            print(f"# cpu {cpu}: pr_pid {pid} ({comm(curr)}) still runs "
                  f"there, but nothing held it where the NMI found it: "
                  f"not judged")
        try:
            print(note_trace(regs))
        except Exception as e:  # a stale stack: anything can happen
            print(f"no backtrace: {type(e).__name__}: {e}")


def stack_core(path, pid, regs, base, stack):
    """An ELF core: one NT_PRSTATUS (pid, regs) and the stack at base."""
    prstatus = bytearray(336)
    struct.pack_into("<i", prstatus, 32, pid)
    prstatus[112:112 + len(regs)] = regs
    note = struct.pack("<III", 5, len(prstatus), 1) + b"CORE\0\0\0\0" + prstatus
    phoff, phnum = 64, 2
    noteoff = phoff + 56 * phnum
    loadoff = (noteoff + len(note) + 4095) & ~4095
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                       4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
    pnote = struct.pack("<IIQQQQQQ", 4, 0, noteoff, 0, 0, len(note), 0, 4)
    pload = struct.pack("<IIQQQQQQ", 1, 6, loadoff, base, 0, len(stack),
                        len(stack), 4096)
    with open(path, "wb") as f:
        f.write(ehdr + pnote + pload + note)
        f.seek(loadoff)
        f.write(stack)


def module_sections(name):
    """A module's section addresses, from its sysfs attributes."""
    for mod in list_for_each_entry("struct module",
                                   prog["modules"].address_of_(), "list"):
        if mod.name.string_().decode() == name:
            return sect_attrs(mod.sect_attrs)
    return {}


def sect_attrs(sa):
    """Name -> address of each section attribute: a counted array of
    {battr, address} before 6.14, then the group's NULL-terminated list
    of bin_attributes, each address in ->private."""
    try:
        n = sa.nsections.value_()
    except AttributeError:
        out, attrs = {}, sa.grp.bin_attrs
        for i in range(1 << 12):
            ba = attrs[i]
            if not ba:
                break
            out[ba.attr.name.string_().decode()] = ba.private.value_()
        return out
    return {sa.attrs[i].battr.attr.name.string_().decode():
            sa.attrs[i].address.value_() for i in range(n)}


def gdb_frames(core, module, offset, vmlinux, ko, workdir):
    """gdb's backtrace of the core's thread: each frame's function."""
    sects = module_sections(module)
    assert ".text" in sects, f"{module} is not in the dump's module list"
    more = " ".join(f"-s {n} {a:#x}" for n, a in sorted(sects.items())
                    if n != ".text")
    cmds = os.path.join(workdir, f"stack-{module}.gdb")
    with open(cmds, "w") as f:
        f.write("set pagination off\nset confirm off\n"
                f"symbol-file -o {offset:#x} {vmlinux}\n"
                f"add-symbol-file {ko} {sects['.text']:#x} {more}\n"
                f"core-file {core}\nbt\n")
    out = subprocess.run(["gdb", "-batch", "-nx", "-x", cmds],
                         stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=120).stdout
    frames = []
    for line in out.splitlines():
        w = line.split()
        if not w or not w[0].startswith("#") or not w[0][1:].isdigit():
            continue
        print(line)
        # "#N  func (args) at ..." or "#N  0xADDR in func (args) ..."
        if w[0] == "#0":
            frames = []  # the core's frame when loaded, then bt's
        name = w[3] if len(w) > 3 and w[2] == "in" else w[1]
        frames.append(None if name.startswith("0x") or name == "??"
                      else name)
    return frames


def gdb_note_frames(note, module, offset, vmlinux, ko, workdir):
    """gdb's backtrace from a note, on the stack of the note's task."""
    pid, regs = note
    base = find_task(prog, pid).stack.value_()
    core = os.path.join(workdir, f"stack-{module}.core")
    stack_core(core, pid, regs, base, prog.read(base, THREAD_SIZE))
    print(f"pid {pid}, stack at {base:#x}: gdb's backtrace from its note")
    return gdb_frames(core, module, offset, vmlinux, ko, workdir)


def check_dumping(notes, offset, vmlinux, ko, workdir):
    cpus = dumper_cpus(notes)
    assert len(cpus) == 1, f"{len(cpus)} notes name the bsdmem-dump thread"
    print(f"CPU {cpus[0]}: the bsdmem-dump thread")
    names = gdb_note_frames(notes[cpus[0]], "bsdmem", offset, vmlinux, ko,
                            workdir)
    named_down_to_kthread(names, "the dumping thread")
    assert names[0].startswith("bsdmem_") and \
        "bsdmem_dump_thread" in names, \
        f"not bsdmem's first and the thread's function: {names}"


def main():
    notes, offset = {}, 0
    with open(sys.argv[1]) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "prstatus":
                notes[int(w[1])] = (int(w[2]), bytes.fromhex(w[3]))
            elif w and w[0] == "kerneloffset":
                offset = int(w[1], 16)
    if sys.argv[2] == "spinner":
        ncpu, spin_cpu, spin_pid = map(int, sys.argv[3:6])
        start, end = (int(a, 16) for a in sys.argv[6:8])
        assert len(notes) == ncpu, f"{len(notes)} notes for {ncpu} CPUs"
        check_spinner(notes, spin_cpu, spin_pid, start, end)
        check_spinner_gdb(notes, spin_cpu, offset, *sys.argv[8:11])
        show_others(notes, [spin_cpu] + dumper_cpus(notes))
    else:
        check_dumping(notes, offset, *sys.argv[3:6])


main()
