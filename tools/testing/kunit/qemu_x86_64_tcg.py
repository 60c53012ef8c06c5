# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for bsdmem: the stock x86_64 config, but pinned
# to TCG. KVM is present on some CI hosts yet hangs, and KUnit gains
# nothing from it, so never let QEMU pick an accelerator by itself.
# Two CPUs: the dump's register collection sends the other one an NMI.
#
# Loaded by tools/testing/kunit/kunit.py of the kernel tree, which has its
# own directory on sys.path, hence the absolute import.

from qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0',
			   # qboot is faster than SeaBIOS and doesn't mess up
			   # the terminal.
			   extra_qemu_params=['-accel', 'tcg', '-smp', '2',
					      '-bios', 'qboot.rom'])
