#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build sparse from Debian sid's source package, for the kernels that
# bookworm's sparse 0.6.4 is too old for: from 7.x, kbuild first checks that
# the checker knows __typeof_unqual__ (scripts/checker-valid.sh), and
# otherwise prints "C=2 specified, but sparse is not available or not up to
# date" and builds without it.
#
#   tools/testing/scripts/build-sparse.sh
#
# prints the directory holding the sparse binary,
#   ${BSDMEM_CACHE:-~/.cache/bsdmem}/sparse/<version>/bin
# on stdout (put it first in PATH); diagnostics go to stderr. <version> is
# the Debian version of sid's source package (with anything but
# [A-Za-z0-9.+-] turned into '_'), looked up through apt-private.sh, never
# written down here.
#
# Only what kbuild runs is built: the sparse binary, not c2xml, semind,
# test-inspect or sparse-llvm (so no libxml2, sqlite, gtk or llvm), and
# with the host's gcc: Debian patches the Makefile to sid's gcc-N, which
# bookworm does not have, and sparse takes the compiler's own headers from
# the gcc it was built with.
#
# A version is built in sparse/.build.XXXXXX and renamed to sparse/<version>
# only after the new binary passed a self-test (its version; kbuild's
# __typeof_unqual__ probe; a __user dereference it must report), so a version
# directory is always complete, and later runs only look the version up.
# When the lookup fails (no network for the day's apt-private.sh update),
# the newest version already built is used, with a warning.
#
# Needs build-essential (gcc, make, dpkg-dev for dpkg-source) and xz-utils.
# Environment: BSDMEM_CACHE, BSDMEM_SPARSE_JOBS (make -j, default 2).
set -euo pipefail

pkg=sparse
script_dir=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
apt_private=$script_dir/apt-private.sh
jobs=${BSDMEM_SPARSE_JOBS:-2}
cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}

note() { echo "build-sparse: $*" >&2; }
die() {
	echo "build-sparse: error: $*" >&2
	exit 1
}
trap 'die "line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR

mkdir -p "$cache/sparse"
top=$(realpath "$cache/sparse")

# Epoch colons and tildes are poison in make paths.
dir_of() { printf '%s\n' "$top/$(printf '%s' "$1" | tr -c 'A-Za-z0-9.+-' '_')"; }

# The newest complete build in the cache, by Debian version order.
newest_built() {
	local d v best="" bestv=""

	for d in "$top"/*/; do
		d=${d%/}
		[ -x "$d/bin/sparse" ] && [ -s "$d/version" ] || continue
		v=$(cat "$d/version")
		if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$d
			bestv=$v
		fi
	done
	[ -n "$best" ] && printf '%s\n' "$best"
}

# 1. Which version: sid's, or the newest built one when apt cannot say.
if ! version=$("$apt_private" srcversion "$pkg") || [ -z "$version" ]; then
	if best=$(newest_built); then
		note "warning: cannot look up sid's $pkg version (apt-private.sh" \
			"srcversion $pkg failed); using the cached $(cat "$best/version")"
		echo "$best/bin"
		exit 0
	fi
	die "cannot look up sid's $pkg source version (apt-private.sh srcversion" \
		"$pkg failed, see above) and none is built in $top yet"
fi
dir=$(dir_of "$version")
if [ -x "$dir/bin/sparse" ]; then
	echo "$dir/bin"
	exit 0
fi

# 2. Build it, one run at a time per cache.
for tool in gcc make dpkg-source xz; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: apt-get install build-essential xz-utils" \
			"(or run tools/testing/scripts/install-deps.sh)"
done
exec 9>"$top/.lock"
flock 9
if [ -x "$dir/bin/sparse" ]; then	# built by another run meanwhile
	echo "$dir/bin"
	exit 0
fi
rm -rf "$top"/.build.*		# left over by failed or interrupted runs
tmp=$(mktemp -d "$top/.build.XXXXXX")
log=$tmp/build.log
start=$SECONDS
note "building $pkg $version from Debian sid's source in $tmp"

"$apt_private" source "$tmp/src" "$pkg=$version" >&2 ||
	die "downloading source package $pkg=$version failed" \
		"(apt-private.sh source, see above)"
src=$(find "$tmp/src" -mindepth 2 -maxdepth 2 -name Makefile \
	-path "$tmp/src/$pkg-*/Makefile" -printf '%h\n')
[ -n "$src" ] && [ "$(wc -l <<<"$src")" -eq 1 ] ||
	die "no single unpacked $pkg-*/ tree with a Makefile in $tmp/src"

upstream=${version#*:}
upstream=${upstream%-*}
# Parameters on the command line override the Makefile's detection of the
# optional programs; the parent make's MAKEFLAGS (this script runs under
# `make modules`) must not leak in.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$src" -j"$jobs" CC=gcc CFLAGS="-O2 -g" \
		HAVE_LLVM=no HAVE_GTK=no HAVE_LIBXML=no HAVE_SQLITE=no \
		SPARSE_VERSION="$upstream (Debian: $version, bsdmem build)" \
		sparse >"$log" 2>&1; then
	tail -n 30 "$log" | sed 's/^/build-sparse: | /' >&2
	die "make of $pkg $version failed; full log: $log"
fi

root=$tmp/root
install -D -m 755 "$src/sparse" "$root/bin/sparse"
printf '%s\n' "$version" >"$root/version"
cp "$log" "$root/build.log"

# 3. Self-test before the version directory appears.
sparse=$root/bin/sparse
out=$("$sparse" --version 2>&1) ||
	die "$sparse --version failed: $out"
grep -qF "$upstream" <<<"$out" ||
	die "$sparse --version says \"$out\", not $upstream"
cat >"$tmp/unqual.c" <<'EOF'
/* What 7.x kbuild asks of the checker before it runs it. */
static inline int unqual(const int *p)
{
	__typeof_unqual__(*p) x = *p;
	return x;
}
EOF
out=$("$sparse" "$tmp/unqual.c" 2>&1) || true
! grep -q error <<<"$out" ||
	die "$sparse rejects __typeof_unqual__, as kbuild 7.x would find: $out"
cat >"$tmp/user.c" <<'EOF'
#define __user __attribute__((noderef, address_space(__user)))
int get(int __user *p);
int get(int __user *p)
{
	return *p;
}
EOF
out=$("$sparse" "$tmp/user.c" 2>&1) || true
grep -q 'user\.c:5:[0-9]*: warning: dereference of noderef expression' \
	<<<"$out" ||
	die "$sparse missed a __user dereference; it said: ${out:-nothing}"

mv -T "$root" "$dir"
rm -rf "$tmp"
note "$pkg $version built in $((SECONDS - start))s: $dir/bin"
echo "$dir/bin"
