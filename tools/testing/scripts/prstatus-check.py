#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the NT_PRSTATUS notes of a bsdmem dump, without a debug vmlinux.

  prstatus-check.py CORE NCPU SPIN_CPU SPIN_PID SPIN_START SPIN_END

One note per online CPU (NCPU, all online, so note i is CPU i), each with
registers (ip, sp, cs) and a pid >= 0: every CPU answered. The note of
SPIN_CPU, spinning with interrupts disabled in the spinner module, holds
SPIN_PID, an ip in [SPIN_START, SPIN_END) (hex, spinner_spin() from the
guest's /proc/kallsyms and its size), kernel cs and interrupts off.
Prints one line per CPU; exit status 1 and the reasons when anything is
wrong.
"""
import struct
import sys

NT_PRSTATUS = 1
PRSTATUS_SIZE = 336
PR_PID = 32
PR_REG = 112
# struct user_regs_struct, in pr_reg
REGS = ('r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs '
        'flags sp ss fs_base gs_base ds es fs gs').split()
KERNEL_CS = 0x10
X86_EFLAGS_IF = 1 << 9


def notes(core):
    """The (type, name, desc) of every note in the first PT_NOTE."""
    with open(core, 'rb') as f:
        eh = f.read(64)
        if eh[:4] != b'\x7fELF':
            raise SystemExit(f'{core}: not an ELF file')
        phoff, = struct.unpack_from('<Q', eh, 32)
        f.seek(phoff)
        ptype, _, off, _, _, filesz = struct.unpack('<IIQQQQ', f.read(40))
        if ptype != 4:
            raise SystemExit(f'{core}: program header 0 is not PT_NOTE')
        f.seek(off)
        data = f.read(filesz)
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from('<III', data, pos)
        name = data[pos + 12:pos + 12 + namesz].rstrip(b'\0').decode()
        dpos = pos + 12 + (namesz + 3) // 4 * 4
        yield ntype, name, data[dpos:dpos + descsz]
        pos = dpos + (descsz + 3) // 4 * 4


def main():
    core, ncpu, spin_cpu, spin_pid = sys.argv[1], *map(int, sys.argv[2:5])
    start, end = (int(a, 16) for a in sys.argv[5:7])
    bad = []
    cpus = [d for t, n, d in notes(core) if t == NT_PRSTATUS and n == 'CORE']
    if len(cpus) != ncpu:
        bad.append(f'{len(cpus)} NT_PRSTATUS notes for {ncpu} CPUs')
    for cpu, desc in enumerate(cpus):
        if len(desc) != PRSTATUS_SIZE:
            bad.append(f'CPU {cpu}: descriptor of {len(desc)} bytes')
            continue
        pid, = struct.unpack_from('<i', desc, PR_PID)
        r = dict(zip(REGS, struct.unpack_from(f'<{len(REGS)}Q', desc, PR_REG)))
        print(f'# CPU {cpu}: pid {pid} ip {r["ip"]:#x} sp {r["sp"]:#x} '
              f'cs {r["cs"]:#x} flags {r["flags"]:#x}')
        if not (r['ip'] and r['sp'] and r['cs']):
            bad.append(f'CPU {cpu}: registers missing (ip, sp or cs zero)')
        if pid < 0:
            bad.append(f'CPU {cpu}: pr_pid {pid}: the CPU did not answer')
        if cpu != spin_cpu:
            continue
        if pid != spin_pid:
            bad.append(f'CPU {cpu}: pr_pid {pid}, not the spinner\'s {spin_pid}')
        if not start <= r['ip'] < end:
            bad.append(f'CPU {cpu}: ip {r["ip"]:#x} not in spinner_spin() '
                       f'[{start:#x}, {end:#x})')
        if r['cs'] != KERNEL_CS or r['flags'] & X86_EFLAGS_IF:
            bad.append(f'CPU {cpu}: not in the kernel with interrupts off')
    if spin_cpu >= len(cpus):
        bad.append(f'no note for the spinning CPU {spin_cpu}')
    for b in bad:
        print(f'# {b}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
