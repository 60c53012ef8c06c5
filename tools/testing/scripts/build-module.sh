#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build bsdmem.ko for one kernel in build/<kver>/, with W=1 and sparse;
# any warning fails. Prints a TAP line and keeps the log.
#
# The kernel's tree is /lib/modules/<kver>/build (an installed headers
# package) or, for a kernel of a newer suite, the one fetch-kernel.sh
# prepared in the cache ($BSDMEM_CACHE/kernels/<kver>/build).
#
# A sparse pass that did not run fails too. kbuild quietly goes on without
# a checker it cannot use: from 7.x it prints "C=2 specified, but sparse is
# not available or not up to date" (bookworm's sparse 0.6.4 is too old for
# those kernels) and builds without sparse, and a stub or broken sparse
# prints nothing either way. So sparse must first report the one fault
# planted in a canary module built with the same flags, and the module's
# log must hold kbuild's CHECK line for every object of bsdmem.ko.
#
# Then a self-check (BSDMEM_SPARSE_SELFCHECK=0 skips it) runs this script
# again with a stub sparse first in PATH, and with make wrapped to act as
# 7.x kbuild does without a usable sparse: both runs must say "not ok".
set -uo pipefail

kver=$1
script=$(realpath "$0")
top=$(realpath "$(dirname "$0")/../../..")
build=${BUILD:-$top/build}
dir="$build/$kver"
log="$dir/build.log"
kdir="/lib/modules/$kver/build"
cached="${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}/kernels/$kver/build"
name="build.$kver.module_w1_sparse_clean"
# kbuild's words when it drops the checker (scripts/checker-valid.sh)
dropped='specified, but .* is not available or not up to date'

fail() {
	local f=$1

	shift
	[ -f "$f" ] && sed 's/^/# /' "$f" | tail -40
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'
	echo "not ok - $name"
	exit 1
}

# What to do about a sparse that does not run, for every failure below.
sparse_help() {
	cat <<EOF
sparse did not check the code, so this is not a sparse-clean build.
sparse in PATH: $(sparse --version 2>/dev/null || echo none) at $(command -v sparse || echo -).
Use a sparse that knows this kernel's C. tools/testing/scripts/build-sparse.sh
builds Debian sid's into the build cache, and this script puts it first in
PATH; bookworm's sparse 0.6.4 is too old for 7.x kernels. Do not drop C=2.
EOF
}

mkdir -p "$dir"
[ -f "$kdir/Makefile" ] || kdir=$cached
[ -f "$kdir/Makefile" ] ||
	fail /dev/null "no tree to build against: neither /lib/modules/$kver/build" \
		"nor $cached; for a kernel of a newer suite run" \
		"tools/testing/scripts/fetch-kernel.sh $kver"

# The sparse that knows every kernel we build for (bookworm's is too old
# for 7.x): sid's, built once into the cache by build-sparse.sh. The
# self-check's runs below keep the stub they put first in PATH.
if [ -z "${BSDMEM_SPARSE_READY:-}" ]; then
	sparse_bin=$("$top/tools/testing/scripts/build-sparse.sh") ||
		fail "" "build-sparse.sh could not provide a sparse (see above)"
	export PATH="$sparse_bin:$PATH" BSDMEM_SPARSE_READY=1
fi

# 1. The canary: sparse must find what it always finds.
canary="$dir/sparse-canary"
rm -rf "$canary"
mkdir -p "$canary"
cat >"$canary/canary.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
/* For sparse only: a __user pointer dereferenced, which gcc accepts. */
#include <linux/compiler.h>
#include <linux/module.h>

int bsdmem_sparse_canary(int __user *p);
int bsdmem_sparse_canary(int __user *p)
{
	return *p;
}
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := canary.o' >"$canary/Makefile"
make -C "$kdir" M="$canary" W=1 C=2 CONFIG_DEBUG_INFO_BTF_MODULES= \
	modules >"$canary/build.log" 2>&1
rc=$?
if grep -qE "$dropped" "$canary/build.log"; then
	fail "$canary/build.log" "kbuild ran without sparse:" \
		"$(grep -m1 -E "$dropped" "$canary/build.log")" "$(sparse_help)"
fi
if [ $rc -ne 0 ]; then
	fail "$canary/build.log" "the sparse canary module did not build" \
		"$(sparse_help)"
fi
if ! grep -qE '^ *CHECK +(.*/)?canary\.c$' "$canary/build.log" ||
   ! grep -qE 'canary\.c:[0-9]+:[0-9]+: warning: dereference of noderef expression' \
	"$canary/build.log"; then
	fail "$canary/build.log" \
		"sparse ran on $canary/canary.c but missed its __user dereference" \
		"$(sparse_help)"
fi

# 2. The module.
rsync -a --delete "$top/drivers" "$top/include" "$dir/"
# BTF for modules needs the kernel's vmlinux, which headers do not ship.
make -C "$kdir" M="$dir/drivers/bsdmem" W=1 C=2 \
	CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$log" 2>&1
rc=$?
warn=$(grep -E 'warning:|error:|Error ' "$log")
if [ $rc -ne 0 ] || [ -n "$warn" ] || [ ! -f "$dir/drivers/bsdmem/bsdmem.ko" ]; then
	fail "$log"
fi
if grep -qE "$dropped" "$log"; then
	fail "$log" "kbuild ran without sparse:" \
		"$(grep -m1 -E "$dropped" "$log")" "$(sparse_help)"
fi
# bsdmem.mod lists the module's objects; C=2 checks each source every time
objs=$(grep -E '\.o$' "$dir/drivers/bsdmem/bsdmem.mod" 2>/dev/null)
[ -n "$objs" ] || fail "$log" "no object list in $dir/drivers/bsdmem/bsdmem.mod"
# Paths are absolute before 6.13 and relative to the module from then on
# (which has bsdmem.mod say ./x.o and CHECK say x.c).
checked=$(awk '$1 == "CHECK" { sub(/^\.\//, "", $2); print $2 }' "$log")
unchecked=""
for o in $objs; do
	o=${o#./}
	grep -qxF "${o%.o}.c" <<<"$checked" || unchecked="$unchecked ${o##*/}"
done
[ -z "$unchecked" ] ||
	fail "$log" "no CHECK (sparse) line for:$unchecked" "$(sparse_help)"
echo "ok - $name"
echo "# checked by sparse $(sparse --version 2>/dev/null) from $(command -v sparse)"

# 3. The self-check: a sparse that did not run is reported as a failure.
[ "${BSDMEM_SPARSE_SELFCHECK:-1}" = 1 ] || exit 0
self="$dir/sparse-selfcheck"
rm -rf "$self"
mkdir -p "$self/stub" "$self/oldkbuild"
cat >"$self/stub/sparse" <<'EOF'
#!/bin/sh
# a sparse that checks nothing: an old version string, silence, success
[ "${1:-}" = --version ] && echo "0.6.4 (stub)"
exit 0
EOF
cat >"$self/oldkbuild/make" <<EOF
#!/bin/sh
# kbuild of a kernel too new for this sparse: warns, then builds without it
echo "Makefile:1180: C=2 specified, but sparse is not available or not up to date" >&2
exec $(command -v make) "\$@" C=0
EOF
chmod +x "$self/stub/sparse" "$self/oldkbuild/make"
bad=""
for fake in stub oldkbuild; do
	out=$(PATH="$self/$fake:$PATH" BUILD="$self/build-$fake" \
		BSDMEM_SPARSE_SELFCHECK=0 "$script" "$kver" 2>&1)
	rc=$?
	echo "$out" >"$self/$fake.out"
	if [ $rc -eq 0 ] || ! grep -q "^not ok - $name\$" <<<"$out" ||
	   ! grep -q "sparse did not check the code" <<<"$out"; then
		bad="$bad $fake"
	fi
done
if [ -n "$bad" ]; then
	for fake in $bad; do
		sed "s/^/# $fake: /" "$self/$fake.out" | tail -20
	done
	echo "not ok - build.$kver.sparse_not_run_is_a_failure # passed with:$bad"
	exit 1
fi
rm -rf "$self"
echo "ok - build.$kver.sparse_not_run_is_a_failure"
