#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the stock kernel versions bsdmem is tested on, one per line:
# Debian's default 6.1 (what linux-image-amd64 depends on) and the newest
# installed 6.12, each only if its image and headers are both present.
set -eu

have() { [ -f "/boot/vmlinuz-$1" ] && [ -e "/lib/modules/$1/build/Makefile" ]; }

v61=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	grep -o 'linux-image-6\.1\.[^ ,]*-amd64' | head -n 1 | sed 's/^linux-image-//')
[ -n "$v61" ] && have "$v61" && echo "$v61"

for v in $(ls /boot 2>/dev/null | sed -n 's/^vmlinuz-\(6\.12\.[0-9]*+deb12-amd64\)$/\1/p' | sort -rV); do
	if have "$v"; then
		echo "$v"
		break
	fi
done
