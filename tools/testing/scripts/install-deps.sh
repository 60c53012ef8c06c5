#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing bsdmem needs on a Debian 12 host.
# Idempotent: only missing packages are fetched. Kernel versions are
# discovered from the archive, never hard-coded.
set -euo pipefail

need_kunit=${NEED_KUNIT:-1}

newest() {
	# newest package name matching an anchored regex, by version sort
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1
}

pkgs="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
      busybox-static qemu-system-x86 qemu-utils ccache sparse gcc-multilib
      python3 rsync xz-utils zstd gzip file
      linux-headers-amd64 linux-image-amd64
      kexec-tools makedumpfile crash python3-drgn libzstd-dev"
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

img612=$(newest '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$')
ver612=${img612#linux-image-}
ver612=${ver612%-unsigned}
pkgs="$pkgs $img612 linux-headers-$ver612"
# The debug vmlinux of the default 6.1 kernel, for crash and drgn.
abi61=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/.*Depends: linux-image-\(6\.1\.[^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$abi61" ] && [ "${NEED_DBG:-1}" = 1 ] && pkgs="$pkgs linux-image-$abi61-dbg"
[ "$need_kunit" = 1 ] && pkgs="$pkgs linux-source-6.12"
pkgs="$pkgs ${EXTRA_PKGS:-}"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi
