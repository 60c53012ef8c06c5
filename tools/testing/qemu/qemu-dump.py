#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Take QEMU dumps (dump-guest-memory) when the guest asks for them.

    qemu-dump.py RESULTS_LOG QMP_SOCKET CONTROL_SOCKET OUTDIR

run-guest.sh -Q starts this beside QEMU. It follows the guest script's
output (RESULTS_LOG, the second serial port); for each line

    @@QEMU-DUMP NAME

it has QEMU write an ELF dump of the whole guest to OUTDIR/NAME through
QMP (dump-guest-memory, not paged: physical memory as the guest sees it,
with a VMCOREINFO note when the guest's qemu_fw_cfg gave one to the
vmcoreinfo device). QEMU stops the guest while it dumps. (A paged dump,
with the guest's virtual mappings, is no use with two NUMA nodes: QEMU
7.2 cuts the direct map's PT_LOAD at the end of the first node's memory
and the rest reads as zeros.) The answer goes
back on the guest's third serial port (CONTROL_SOCKET): one byte, "Y"
for a dump written, "N" otherwise; the guest script waits for it.

It ends when QEMU closes the QMP socket. Its log goes to stderr.
"""
import json
import os
import re
import socket
import sys
import time


def log(*args):
    print("qemu-dump:", *args, file=sys.stderr, flush=True)


def connect(path):
    """Connect to a socket QEMU serves, once QEMU has made it."""
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            time.sleep(0.2)


class Qmp:
    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b""
        self.reply()            # the greeting
        self.call("qmp_capabilities")

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QEMU closed the QMP socket")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def reply(self):
        """The next message that is not an event."""
        while True:
            msg = self.line()
            if "event" in msg:
                log("event", msg["event"])
                continue
            return msg

    def call(self, cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        msg = self.reply()
        if "error" in msg:
            raise RuntimeError(f"{cmd}: {msg['error'].get('desc', msg)}")
        return msg.get("return")


def requests(results):
    """Yield each NAME of a @@QEMU-DUMP line the guest writes, as it comes."""
    pending = b""
    with open(results, "rb") as f:
        while True:
            data = f.read()
            if not data:
                time.sleep(0.2)
                yield None
                continue
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                m = re.match(rb"@@QEMU-DUMP ([A-Za-z0-9._-]+)\s*$", line)
                if m:
                    yield m.group(1).decode()


def dump(qmp, path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    t0 = time.monotonic()
    # synchronous: QMP answers once the file is complete
    qmp.call("dump-guest-memory", paging=False, protocol="file:" + path)
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise RuntimeError(f"{path} is no ELF file")
    log(f"{path}: {os.path.getsize(path)} bytes in "
        f"{time.monotonic() - t0:.1f}s")


def main():
    results, qmp_path, ctl_path, outdir = sys.argv[1:5]
    qmp = Qmp(qmp_path)
    ctl = connect(ctl_path)
    for name in requests(results):
        if name is None:
            # between lines: notice QEMU going away
            qmp.call("query-status")
            continue
        log("guest asks for", name)
        try:
            dump(qmp, os.path.join(outdir, name))
            answer = b"Y"
        except (RuntimeError, OSError) as e:
            log("dump failed:", e)
            answer = b"N"
        ctl.sendall(answer)


if __name__ == "__main__":
    try:
        main()
    except (EOFError, BrokenPipeError, ConnectionResetError) as e:
        log("done:", e)
