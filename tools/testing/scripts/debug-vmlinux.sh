#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug vmlinux of a stock kernel, which crash and drgn need: print
# its path, or nothing and exit 1 when there is none.
#
#   debug-vmlinux.sh [--fetch] KVER
#
# Looked for in this order:
#   /usr/lib/debug/boot/vmlinux-KVER   linux-image-KVER-dbg installed
#                                      (make deps does it for 6.1)
#   $BSDMEM_CACHE/dbg/vmlinux-KVER     taken out of that package by --fetch
#   $BSDMEM_CACHE/kernels/KVER/root/usr/lib/debug/boot/vmlinux-KVER
#                                      fetch-kernel.sh --dbg (newer suites)
# (BSDMEM_CACHE defaults to ~/.cache/bsdmem.)
#
# --fetch gets a missing one. For a kernel installed from the host's
# archive (/boot/vmlinuz-KVER, 6.12), its -dbg package of the image's
# exact version (about 1 GB) is downloaded with apt-get download, never
# installed: only the vmlinux is kept, and appears by one rename, so a
# fetch that died is never taken for a vmlinux. For a kernel in the
# cache, fetch-kernel.sh --dbg. A fetch holds a lock for that kernel; a
# lookup meanwhile waits for it (make check fetches in the background).
set -euo pipefail

here=$(dirname "$(realpath "$0")")
cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
fetch=0
if [ "${1:-}" = --fetch ]; then
	fetch=1
	shift
fi
[ $# -eq 1 ] || { echo "usage: debug-vmlinux.sh [--fetch] KVER" >&2; exit 2; }
kver=$1

die() {
	echo "debug-vmlinux: $kver: $*" >&2
	exit 1
}

lookup() {
	local v

	for v in "/usr/lib/debug/boot/vmlinux-$kver" \
		 "$cache/dbg/vmlinux-$kver" \
		 "$cache/kernels/$kver/root/usr/lib/debug/boot/vmlinux-$kver"; do
		if [ -s "$v" ]; then
			echo "$v"
			return 0
		fi
	done
	return 1
}

mkdir -p "$cache/dbg"
exec 9>"$cache/dbg/.lock-$kver"
if [ $fetch = 0 ]; then
	flock -s 9
	lookup
	exit
fi
flock 9
lookup && exit 0

if [ ! -e "/boot/vmlinuz-$kver" ] && [ -d "$cache/kernels/$kver" ]; then
	"$here/fetch-kernel.sh" --dbg "$kver" >/dev/null
	lookup || die "fetch-kernel.sh --dbg left no vmlinux"
	exit 0
fi

# The package that put the image in /boot, and its version: the debug
# vmlinux must come from the same build.
img=$(dpkg -S "/boot/vmlinuz-$kver" 2>/dev/null | cut -d: -f1) ||
	die "no package owns /boot/vmlinuz-$kver, and no kernel of that name is in $cache/kernels"
ver=$(dpkg-query -W -f='${Version}' "$img")
pkg=linux-image-$kver-dbg
echo "debug-vmlinux: downloading $pkg=$ver (about 1 GB) for its vmlinux" >&2

rm -rf "$cache/dbg/.tmp-$kver".*
tmp=$(mktemp -d "$cache/dbg/.tmp-$kver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
(cd "$tmp" && apt-get -qq "${sandbox[@]}" download "$pkg=$ver") >&2 ||
	die "apt-get download $pkg=$ver failed (apt-get update? the archive may have moved on from $ver)"
deb=$(ls "$tmp"/*.deb)
# Where the packages use /usr/lib/modules, boot/vmlinux-KVER is a link
# to lib/modules/KVER/vmlinux: every vmlinux is unpacked, the link followed.
mkdir "$tmp/x"
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -C "$tmp/x" --wildcards './usr/lib/debug/*vmlinux*' ||
	die "cannot unpack a vmlinux from $deb"
rm -f "$deb"
v=$(realpath -e "$tmp/x/usr/lib/debug/boot/vmlinux-$kver") && [ -s "$v" ] ||
	die "no usr/lib/debug/boot/vmlinux-$kver in $pkg"
mv "$v" "$cache/dbg/vmlinux-$kver"
echo "$cache/dbg/vmlinux-$kver"
