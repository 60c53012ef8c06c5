#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing bsdmem needs on a Debian 12 host.
# Idempotent: only missing packages are fetched. Kernel versions are
# discovered from the archive, never hard-coded.
#
# Besides the generic kernels, the cloud and rt flavours of the same two
# ABIs (NEED_FLAVOURS=0 leaves them out): about 270 MB of packages, and each
# image comes with its modules into /lib/modules and /boot.
set -euo pipefail

need_kunit=${NEED_KUNIT:-1}
need_flavours=${NEED_FLAVOURS:-1}

newest() {
	# newest package name matching an anchored regex, by version sort
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1
}

pkgs="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
      busybox-static qemu-system-x86 qemu-utils ccache sparse gcc-multilib
      python3 rsync xz-utils zstd gzip file
      linux-headers-amd64 linux-image-amd64
      kexec-tools makedumpfile crash python3-drgn gdb libzstd-dev"
# gdb: cpu-stacks.py unwinds a note through module frames with it.
# build-sparse.sh (sid's sparse for kernels newer than bookworm's 0.6.4)
# needs only build-essential (gcc, make, dpkg-dev) and xz-utils from above.
# Real /dev/mem clients the guests run against /dev/bsdmem (clients_test).
pkgs="$pkgs dmidecode"

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (or install the packages yourself)" >&2
	exit 1
fi

if [ ! -f /var/lib/apt/lists/lock ] || \
   [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi

# The image of kernel $1: the signed package, which a Secure Boot machine
# can boot (GRUB makes the newest kernel its default); the unsigned build
# of the same kernel, if that is what is installed already (the two
# conflict: asking for the other would remove it).
image_pkg() {
	if dpkg-query -W -f='${Status}' "linux-image-$1-unsigned" 2>/dev/null |
		grep -q "ok installed" ||
		! apt-cache show "linux-image-$1" >/dev/null 2>&1; then
		echo "linux-image-$1-unsigned"
	else
		echo "linux-image-$1"
	fi
}

img612=$(newest '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$')
ver612=${img612#linux-image-}
ver612=${ver612%-unsigned}
pkgs="$pkgs $(image_pkg "$ver612") linux-headers-$ver612"
# The debug vmlinux of the default 6.1 kernel, for crash and drgn.
abi61=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/.*Depends: linux-image-\(6\.1\.[^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$abi61" ] && [ "${NEED_DBG:-1}" = 1 ] && pkgs="$pkgs linux-image-$abi61-dbg"
[ "$need_kunit" = 1 ] && pkgs="$pkgs linux-source-6.12"

# The flavours, by exact name: the 6.1 ABI that linux-image-amd64 depends
# on and the 6.12 version found above, signed images as for the generic
# ones. A name the archive does not know is an error here, not a kernel
# quietly left out later.
flavour_pkgs() {
	local k=$1 img=$2 p

	for p in "$img" "linux-headers-$k"; do
		if ! apt-cache show "$p" >/dev/null 2>&1; then
			echo "install-deps: no package $p in the archive" >&2
			exit 1
		fi
		echo "$p"
	done
}
if [ "$need_flavours" = 1 ]; then
	if [ -z "$abi61" ] || [ -z "$img612" ]; then
		echo "install-deps: no 6.1 ABI or 6.12 version found for the flavours" >&2
		exit 1
	fi
	for fl in cloud rt; do
		k61=${abi61%-amd64}-$fl-amd64
		k612=${ver612%-amd64}-$fl-amd64
		pkgs="$pkgs $(flavour_pkgs "$k61" "linux-image-$k61")"
		pkgs="$pkgs $(flavour_pkgs "$k612" "$(image_pkg "$k612")")"
	done
fi
pkgs="$pkgs ${EXTRA_PKGS:-}"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	# Only new packages: one that needs a newer version of something
	# installed (libc6, libssl3, a kbuild...) would upgrade the machine,
	# and one that conflicts would remove something: the administrator's
	# call, not make check's.
	upgrades=$(apt-get -s install --no-install-recommends $missing |
		sed -n -e 's/^Inst \([^ ]*\) \[\([^]]*\)\].*/\1 (\2 installed)/p' \
		       -e 's/^Remv \([^ ]*\).*/\1 (removed)/p')
	if [ -n "$upgrades" ]; then
		echo "install-deps: installing$missing would upgrade or remove:" >&2
		echo "$upgrades" | sed 's/^/  /' >&2
		echo "install-deps: upgrade those first (apt-get upgrade), or install the packages yourself" >&2
		exit 1
	fi
	echo "install-deps: installing:$missing"
	# Written down first, so that an interrupted install is listed too:
	# what to remove after testing, and nothing the machine had before.
	manifest=${BSDMEM_CACHE:-$HOME/.cache/bsdmem}/installed-packages
	mkdir -p "$(dirname "$manifest")"
	printf '%s\n' $missing >>"$manifest"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-remove \
		--no-install-recommends $missing >/dev/null
fi
