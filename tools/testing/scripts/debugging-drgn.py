# SPDX-License-Identifier: GPL-2.0
"""What a debugger needs from a dump of a stuck system, asked of drgn.

    drgn -q -c CORE -s VMLINUX debugging-drgn.py EXPECT

EXPECT has one fact per line, as the guest of run-debugging.sh printed
them: "task PID LABEL FUNCTION...", "marker TEXT", "release R", "cpus N";
and, from vmcore-layout.py --facts, the rip of each CPU's NT_PRSTATUS,
"rip CPU ADDRESS", and "phys_base N" for a dump of physical memory only
(QEMU's): drgn 0.0.22 needs the kernel image mapped by a PT_LOAD to find
the page tables (later drgn takes phys_base from VMCOREINFO itself), so
the script maps it, as the kernel does, onto physical memory from
phys_base.
Each check prints one line, "CHECK ok NAME" or "CHECK fail NAME why",
with what it found before it as "# " lines:

  release          init_uts_ns names the guest's release
  stack_LABEL      the blocked task's kernel stack holds every FUNCTION
                   (A|B: either)
  active_cpuN      the task running on CPU N has a backtrace of named
                   frames that starts at the rip of that CPU's NT_PRSTATUS
                   (drgn 0.0.22 takes a CPU's registers for its running
                   task only when pr_pid is that task's pid, as kdump
                   sets it; else it unwinds from the task's last switch)
  modules          the module list (walked from "modules") has bsdmem
  percpu           per_cpu(runqueues, N).cpu is N on every CPU
  log              the kernel log holds the marker
"""
import sys

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


def active(cpu, rip):
    task = per_cpu(prog["runqueues"], cpu).curr
    trace = prog.stack_trace(task)
    note(f"CPU {cpu}, pid {task.pid.value_()} "
         f"({task.comm.string_().decode()}):\n{trace}")
    assert rip, f"CPU {cpu} has no registers in the dump (rip 0)"
    assert trace[0].pc == rip, \
        f"the backtrace starts at {trace[0].pc:#x}, not at the dump's " \
        f"rip {rip:#x} (pr_pid not the running task's pid?)"
    names = [f.name for f in trace]
    assert len(names) >= 2 and all(names[:2]), \
        f"frames without a name: {names[:2]}"


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
    tasks, facts, rips = [], {}, {}
    with open(sys.argv[1]) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "task":
                tasks.append((int(w[1]), w[2], w[3:]))
            elif w[0] == "rip":
                rips[int(w[1])] = int(w[2], 16)
            else:
                facts[w[0]] = w[1]
    if "phys_base" in facts:
        map_kernel_image(int(facts["phys_base"]))
    ncpus = int(facts["cpus"])
    check("release", release, facts["release"])
    for pid, label, funcs in tasks:
        check(f"stack_{label}", stack, pid, funcs)
    for cpu in range(ncpus):
        check(f"active_cpu{cpu}", active, cpu, rips.get(cpu, 0))
    check("modules", modules)
    check("percpu", percpu, ncpus)
    check("log", log, facts["marker"])


main()
