# SPDX-License-Identifier: GPL-2.0
"""What a debugger needs from a dump of a stuck system, asked of drgn.

    drgn -q -c CORE -s VMLINUX debugging-drgn.py EXPECT

EXPECT has one fact per line, as the guest of run-debugging.sh printed
them: "task PID LABEL FUNCTION...", "marker TEXT", "release R", "cpus N";
and, from vmcore-layout.py --facts, each CPU's NT_PRSTATUS, "rip CPU
ADDRESS" and "prstatus CPU PID PT_REGS", and "phys_base N" for a dump
of physical memory only
(QEMU's): drgn 0.0.22 needs the kernel image mapped by a PT_LOAD to find
the page tables (later drgn takes phys_base from VMCOREINFO itself), so
the script maps it, as the kernel does, onto physical memory from
phys_base.
Each check prints one line, "CHECK ok NAME" or "CHECK fail NAME why",
with what it found before it as "# " lines:

  release          init_uts_ns names the guest's release
  stack_LABEL      the blocked task's kernel stack holds every FUNCTION
                   (A|B: either)
  cpu_notes        one NT_PRSTATUS per CPU, each with registers (rip,
                   rsp) and the pid of a task of the dump (0: idle)
The backtrace from the dumping thread's note is cpu-stacks.py's. The
other CPUs kept running after the NMI that took their registers,
while the dump copied memory: their stacks below the note's rsp, and
their rq->curr, describe a later moment. Their backtraces from the notes
are printed, "moved on since the NMI" where rq->curr is no longer the
note's task, and not judged.
  modules          the module list (walked from "modules") has bsdmem
  percpu           per_cpu(runqueues, N).cpu is N on every CPU
  log              the kernel log holds the marker
"""
import sys

from drgn import Object
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.pid import find_task
from drgn.helpers.linux.printk import get_dmesg


def check(name, fn, *args):
    try:
        fn(*args)
        print(f"CHECK ok {name}", flush=True)
    except Exception as e:  # any failure of the reader is the answer
        print(f"CHECK fail {name} {type(e).__name__}: {e}".splitlines()[0],
              flush=True)


def note(*args):
    for line in " ".join(str(a) for a in args).splitlines():
        print("#", line)


def release(want):
    got = prog["init_uts_ns"].name.release.string_().decode()
    note("release", got)
    assert got == want, f"release {got}, not {want}"


def stack(pid, funcs):
    task = find_task(prog, pid)
    assert task, f"no task {pid}"
    trace = prog.stack_trace(task)
    note(f"pid {pid} ({task.comm.string_().decode()}):\n{trace}")
    names = [f.name for f in trace]
    missing = [f for f in funcs if not set(f.split("|")) & set(names)]
    assert not missing, f"{', '.join(missing)} not in the stack of {pid}"


def note_trace(regs):
    """A backtrace from a note's registers (struct pt_regs, as bytes)."""
    return prog.stack_trace(Object.from_bytes_(prog, "struct pt_regs", regs))


def cpu_notes(ncpus, notes):
    assert len(notes) == ncpus, f"{len(notes)} NT_PRSTATUS notes for {ncpus} CPUs"
    for cpu in range(ncpus):
        assert cpu in notes, f"no NT_PRSTATUS of CPU {cpu}"
        pid, regs = notes[cpu]
        r = Object.from_bytes_(prog, "struct pt_regs", regs)
        curr = per_cpu(prog["runqueues"], cpu).curr
        note(f"CPU {cpu}: pr_pid {pid}, rip {r.ip.value_():#x}, "
             f"rsp {r.sp.value_():#x}; rq->curr now pid "
             f"{curr.pid.value_()} ({curr.comm.string_().decode()})")
        assert pid >= 0, f"CPU {cpu}: pr_pid {pid} (did not answer)"
        assert r.ip.value_() and r.sp.value_(), f"CPU {cpu}: rip or rsp zero"
        # a task that ran at the NMI may have exited before the pid
        # table was copied; the dumping thread's is judged by
        # dumping_cpu_stack
        if pid and not find_task(prog, pid):
            # an exited pid was handed out before the dump's pid table
            # (idr_next: the next pid to hand out)
            nxt = prog["init_pid_ns"].idr.idr_next.value_()
            assert pid < nxt, \
                f"CPU {cpu}: pr_pid {pid} is no task, and no pid handed out yet (next {nxt})"
            note(f"CPU {cpu}: pr_pid {pid} exited since the NMI")


def dumper_cpus(notes):
    """The CPUs whose note names the bsdmem-dump thread."""
    out = []
    for cpu, (pid, _) in notes.items():
        task = find_task(prog, pid) if pid > 0 else None
        if task and task.comm.string_() == b"bsdmem-dump":
            out.append(cpu)
    return out


def other_cpus(notes):
    """Informational: where the other CPUs were at the NMI, from their
    notes, and whether the task there then still ran there."""
    dumper = dumper_cpus(notes)
    for cpu, (pid, regs) in sorted(notes.items()):
        if cpu in dumper:
            continue
        curr = per_cpu(prog["runqueues"], cpu).curr.pid.value_()
        if curr != pid:
            print(f"# cpu {cpu} moved on since the NMI (pr_pid {pid}, "
                  f"rq->curr {curr})")
        else:
            print(f"# cpu {cpu}: pr_pid {pid} still runs there, but "
                  f"nothing held it where the NMI found it: not judged")
        try:
            note(note_trace(regs))
        except Exception as e:  # a stale stack: anything can happen
            note(f"no backtrace: {type(e).__name__}: {e}")


def modules():
    names = sorted(m.name.string_().decode() for m in list_for_each_entry(
        "struct module", prog["modules"].address_of_(), "list"))
    note("MODULES", " ".join(names))
    assert "bsdmem" in names, "bsdmem is not in the module list"


def percpu(ncpus):
    for cpu in range(ncpus):
        rq = per_cpu(prog["runqueues"], cpu)
        note(f"per_cpu(runqueues, {cpu}): cpu {rq.cpu.value_()}, "
             f"nr_running {rq.nr_running.value_()}, curr "
             f"{rq.curr.comm.string_().decode()}")
        assert rq.cpu.value_() == cpu, f"runqueue of CPU {cpu} says {rq.cpu}"


def log(marker):
    assert marker.encode() in get_dmesg(prog), "marker not in the log"


# x86-64's __START_KERNEL_map, and the size of the kernel image mapping
KERNEL_MAP, KERNEL_MAP_SIZE = 0xFFFFFFFF80000000, 1 << 30


def map_kernel_image(phys_base):
    def read(address, count, offset, physical):
        return prog.read(phys_base + offset, count, True)

    prog.add_memory_segment(KERNEL_MAP, KERNEL_MAP_SIZE, read)


def main():
    tasks, facts, notes = [], {}, {}
    with open(sys.argv[1]) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "task":
                tasks.append((int(w[1]), w[2], w[3:]))
            elif w[0] == "prstatus":
                notes[int(w[1])] = (int(w[2]), bytes.fromhex(w[3]))
            elif w[0] == "rip":
                pass
            else:
                facts[w[0]] = w[1]
    if "phys_base" in facts:
        map_kernel_image(int(facts["phys_base"]))
    ncpus = int(facts["cpus"])
    check("release", release, facts["release"])
    for pid, label, funcs in tasks:
        check(f"stack_{label}", stack, pid, funcs)
    check("cpu_notes", cpu_notes, ncpus, notes)
    if "phys_base" not in facts:
        # a live dump's (bsdmem's): QEMU stops the guest, no CPU is "dumping"
        other_cpus(notes)
    check("modules", modules)
    check("percpu", percpu, ncpus)
    check("log", log, facts["marker"])


main()
