#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the stock kernel versions bsdmem is tested on, one per line, each
# only if its image and headers are both present:
#
#   kernels.sh [generic]  Debian's default 6.1 (what linux-image-amd64
#                         depends on) and the newest installed 6.12
#   kernels.sh flavours   the cloud and rt flavours of the same two: the
#                         6.1 ABI above and the 6.12 version above (or,
#                         without a generic 6.12, the newest of the flavour)
#   kernels.sh all        both lists, generic first
#
# Versions are matched by exact name: a flavour's vmlinuz in /boot is never
# taken for the generic kernel, nor the other way round.
set -eu

what=${1:-generic}

have() { [ -f "/boot/vmlinuz-$1" ] && [ -e "/lib/modules/$1/build/Makefile" ]; }

# newest612 SUFFIX: the newest 6.12.N+deb12-SUFFIX with image and headers
newest612() {
	local v

	for v in $(ls /boot 2>/dev/null |
		   sed -n "s/^vmlinuz-\(6\.12\.[0-9]*+deb12-$1\)\$/\1/p" | sort -rV); do
		if have "$v"; then
			echo "$v"
			return
		fi
	done
}

v61=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	grep -o 'linux-image-6\.1\.[^ ,]*-amd64' | head -n 1 | sed 's/^linux-image-//')
v612=$(newest612 amd64)

generic() {
	[ -n "$v61" ] && have "$v61" && echo "$v61"
	[ -n "$v612" ] && echo "$v612"
	return 0
}

flavours() {
	local fl k

	for fl in cloud rt; do
		k=${v61:+${v61%-amd64}-$fl-amd64}
		[ -n "$k" ] && have "$k" && echo "$k"
		if [ -n "$v612" ]; then
			k=${v612%-amd64}-$fl-amd64
			have "$k" && echo "$k"
		else
			newest612 "$fl-amd64"
		fi
	done
	return 0
}

case $what in
generic) generic ;;
flavours) flavours ;;
all) generic; flavours ;;
*) echo "usage: $0 [generic|flavours|all]" >&2; exit 2 ;;
esac
