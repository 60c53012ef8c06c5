#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch a Debian kernel of a suite newer than the host's (trixie,
# trixie-backports, sid: see apt-private.sh) into the build cache, with a
# tree to build out-of-tree modules against, and print its release. The
# machine's /boot, /lib/modules and dpkg are never touched.
#
#   fetch-kernel.sh [--dbg] SELECTOR
#
# SELECTOR is a release as uname -r prints it (7.3.4+deb13-amd64,
# 6.12.117+deb13-cloud-amd64), or newest-M[.N][-FLAVOUR]: the newest
# release of M.x (or M.N.x) in the flavour (amd64 by default), e.g.
# newest-7, newest-6.12-cloud-amd64. --dbg also fetches the debug vmlinux
# (a 1.2 GB package) for crash and drgn.
#
# Under $BSDMEM_CACHE/kernels (default ~/.cache/bsdmem/kernels):
#   KVER/root    the image's packages unpacked as dpkg would install them,
#                with boot/{vmlinuz,config,System.map}-KVER and
#                lib/modules/KVER (modules.dep made by depmod) wherever
#                the packages put them; with --dbg,
#                usr/lib/debug/boot/vmlinux-KVER
#   KVER/build   what modules are built against (make -C KVER/build M=..),
#                a link to obj/KVER: the kbuild output of the image's
#                config, "make olddefconfig modules_prepare" with the
#                host's gcc, and the headers package's Module.symvers.
#                Debian's headers package itself is no use here: its
#                kbuild programs are built for the newer suite.
#   KVER/info    what was fetched, and how the config changed
#   src/VERSION  the linux-source package's tree for one version, shared
#                by its flavours, kept to what out-of-tree builds read:
#                Documentation, drivers, fs, net, sound and samples keep
#                their Kconfig and Makefiles only (as Debian's headers
#                packages ship none of their private headers either)
#
# KVER appears by one rename once everything in it is ready, so a fetch
# that died never looks done and the next run starts it again; a run that
# finds KVER only prints it. Remove a kernel with rm -rf KVER obj/KVER.
# BSDMEM_JOBS (default 2) bounds make's jobs.
set -euo pipefail

here=$(dirname "$(realpath "$0")")
apt="$here/apt-private.sh"
cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
kernels=$cache/kernels
jobs=${BSDMEM_JOBS:-2}

die() {
	echo "fetch-kernel: error: $*" >&2
	exit 1
}

note() {
	echo "fetch-kernel: $*" >&2
}

dbg=0
if [ "${1:-}" = --dbg ]; then
	dbg=1
	shift
fi
[ $# -eq 1 ] || die "usage: fetch-kernel.sh [--dbg] RELEASE|newest-M[.N][-FLAVOUR]"
sel=$1

done_already() {
	[ -f "$kernels/$1/build/Makefile" ] &&
		[ -f "$kernels/$1/root/boot/vmlinuz-$1" ] &&
		{ [ $dbg = 0 ] ||
		  [ -s "$kernels/$1/root/usr/lib/debug/boot/vmlinux-$1" ]; }
}

# The release, from the package lists for newest-*: a generic image is
# linux-image-M.N.P, an ABI (+debNN, or -NN as up to 6.1), the flavour;
# the -dbg and -unsigned packages and other flavours do not match.
case $sel in
newest-*)
	spec=${sel#newest-}
	[[ $spec =~ ^([0-9]+)(\.[0-9]+)?(-([a-z0-9-]+))?$ ]] ||
		die "bad selector '$sel': newest-M[.N][-FLAVOUR], e.g. newest-7"
	series=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
	flavour=${BASH_REMATCH[4]:-amd64}
	re="^linux-image-${series//./\\.}"
	[ -n "${BASH_REMATCH[2]}" ] || re="$re\\.[0-9]+"
	re="$re\\.[0-9]+(\\+[a-z0-9]+|-[0-9]+)-$flavour\$"
	pkg=$("$apt" newest "$re") ||
		die "apt-private.sh newest failed (no package lists?)"
	[ -n "$pkg" ] || die "no kernel image matches $re in trixie, trixie-backports or sid"
	kver=${pkg#linux-image-} ;;
*)
	[[ $sel =~ ^[0-9]+\.[0-9]+\.[0-9]+[a-z0-9.+-]*$ ]] ||
		die "bad selector '$sel': a release (7.3.4+deb13-amd64) or newest-M[.N][-FLAVOUR]"
	kver=$sel ;;
esac

if done_already "$kver"; then
	echo "$kver"
	exit 0
fi

mkdir -p "$kernels/src" "$kernels/obj"
kernels=$(realpath "$kernels")
exec 9>"$kernels/.lock-$kver"
flock 9
if done_already "$kver"; then
	echo "$kver"
	exit 0
fi
final=$kernels/$kver
obj=$kernels/obj/$kver
log=$kernels/.log-$kver
# what a run that died left
rm -rf "$kernels/.tmp-$kver".*
tmp=$(mktemp -d "$kernels/.tmp-$kver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: >"$log"

img=linux-image-$kver
ver=$("$apt" version "$img") ||
	die "no package $img in trixie, trixie-backports or sid"
series=$(echo "$kver" | cut -d. -f1,2)
srcpkg=linux-source-$series
srcvers=$("$apt" versions "$srcpkg" | tr '\n' ' ')
grep -qxF "$ver" <<<"${srcvers// /$'\n'}" ||
	die "$img is $ver, but there is no $srcpkg of that version" \
		"(${srcvers:-no $srcpkg at all}): cannot build modules for it"
note "$kver: $img $ver, $srcpkg"

# Unpack a package's files into a root, or one member of it to stdout.
unpack() {
	dpkg-deb -x "$1" "$2" || die "cannot unpack $1"
	rm -f "$1"
}

member() {
	dpkg-deb --fsys-tarfile "$1" | tar -xO --wildcards "$2"
}

# The debug vmlinux alone (a 7.8 GB package unpacked) is kept. Where
# the packages use /usr/lib/modules, boot/vmlinux-KVER is a link to
# lib/modules/KVER/vmlinux: all of them are unpacked, the link followed.
debug_vmlinux() {
	local deb v dir=$1/root/usr/lib/debug/boot

	note "downloading $img-dbg (1.2 GB) for its vmlinux"
	deb=$("$apt" download "$tmp/debs" "$img-dbg=$ver") ||
		die "cannot download $img-dbg=$ver"
	mkdir -p "$tmp/dbg"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp/dbg" --wildcards './usr/lib/debug/*vmlinux*' ||
		die "cannot unpack a vmlinux from $deb"
	rm -f "$deb"
	v=$(realpath -e "$tmp/dbg/usr/lib/debug/boot/vmlinux-$kver") &&
		[ -s "$v" ] || die "no usr/lib/debug/boot/vmlinux-$kver in $deb"
	mkdir -p "$dir"
	mv "$v" "$dir/vmlinux-$kver"
	echo "debug vmlinux: $img-dbg=$ver" >>"$1/info"
}

# Fetched before without --dbg: the vmlinux joins it by one rename.
if [ $dbg = 1 ] && [ -f "$final/build/Makefile" ]; then
	debug_vmlinux "$final"
	echo "$kver"
	exit 0
fi

stage=$tmp/k
root=$stage/root
mkdir -p "$root"

# 1. The image: from 7.x a meta package whose files are in
# linux-{base,binary,modules}-KVER, all of the same version.
pkgs=("$img=$ver")
for d in $("$apt" depends "$img=$ver"); do
	[[ $d == *-"$kver" ]] && pkgs+=("$d=$ver")
done
note "downloading ${pkgs[*]%%=*} linux-headers-$kver"
debs=$("$apt" download "$tmp/debs" "${pkgs[@]}" \
	"linux-headers-$kver=$ver") || die "cannot download ${pkgs[*]}"
for deb in $debs; do
	case ${deb##*/} in
	linux-headers-*)
		member "$deb" "./usr/src/linux-headers-$kver/Module.symvers" \
			>"$tmp/Module.symvers" ||
			die "no Module.symvers in $deb"
		rm -f "$deb" ;;
	*)
		unpack "$deb" "$root" ;;
	esac
done

# Where dpkg's postinst and the tools look: /boot and /lib/modules,
# linked to /usr/lib/modules/KVER when the packages use that.
mods=""
for d in lib/modules/$kver usr/lib/modules/$kver; do
	[ -d "$root/$d" ] && [ ! -L "$root/$d" ] && mods=$d
done
[ -n "$mods" ] || die "no lib/modules/$kver in ${pkgs[*]}"
if [ "$mods" != "lib/modules/$kver" ]; then
	mkdir -p "$root/lib/modules"
	ln -s "../../$mods" "$root/lib/modules/$kver"
fi
mkdir -p "$root/boot"
for f in vmlinuz config System.map; do
	[ -e "$root/boot/$f-$kver" ] && continue
	[ -e "$root/$mods/$f" ] || die "no $f for $kver in ${pkgs[*]}"
	ln -s "../$mods/$f" "$root/boot/$f-$kver"
done
depmod -b "$root" "$kver" >>"$log" 2>&1 ||
	die "depmod failed, see $log"
[ -s "$root/lib/modules/$kver/modules.dep" ] || die "depmod made no modules.dep"

# 2. The source tree, once per version.
srcdir=$kernels/src/${ver//[^A-Za-z0-9.+_-]/_}
exec 8>"$kernels/.lock-src-${srcdir##*/}"
flock 8
if [ ! -f "$srcdir/Makefile" ]; then
	note "downloading and unpacking $srcpkg $ver"
	rm -rf "$srcdir" "$kernels/src/.tmp-${srcdir##*/}".*
	stmp=$(mktemp -d "$kernels/src/.tmp-${srcdir##*/}.XXXXXX")
	deb=$("$apt" download "$tmp/debs" "$srcpkg=$ver") ||
		die "cannot download $srcpkg=$ver"
	member "$deb" "./usr/src/linux-source-$series.tar.xz" |
		tar -xJ -C "$stmp" --strip-components=1 ||
		die "cannot unpack the source tarball of $deb"
	rm -f "$deb"
	[ -f "$stmp/Makefile" ] || die "no Makefile in $deb's tarball"
	for d in Documentation drivers fs net sound samples; do
		[ -d "$stmp/$d" ] || continue
		find "$stmp/$d" ! -type d ! -name 'Kconfig*' \
			! -name 'Makefile*' ! -name 'Kbuild*' -delete
		find "$stmp/$d" -depth -type d -empty -delete
	done
	mv -T "$stmp" "$srcdir"
fi
flock -u 8

# 3. The module build tree. Rust is switched off: the host has no
# toolchain for this kernel's Rust, and C modules do not need it.
note "make olddefconfig modules_prepare in $obj (log: $log)"
rm -rf "$obj"
mkdir -p "$obj"
cp "$root/boot/config-$kver" "$obj/.config"
"$srcdir/scripts/config" --file "$obj/.config" --disable RUST
kmake=(make -C "$srcdir" O="$obj" KERNELRELEASE="$kver")
{ "${kmake[@]}" olddefconfig &&
  "${kmake[@]}" -j"$jobs" modules_prepare; } >>"$log" 2>&1 ||
	die "make olddefconfig modules_prepare failed: $(tail -n 5 "$log")"
cp "$tmp/Module.symvers" "$obj/Module.symvers"
rel=$(cat "$obj/include/config/kernel.release")
[ "$rel" = "$kver" ] || die "the tree says release $rel, not $kver"

# A module built here must carry the image's vermagic: the loader's
# check, since these kernels have no MODVERSIONS.
mkdir -p "$tmp/canary"
printf '%s\n' '// SPDX-License-Identifier: GPL-2.0' \
	'#include <linux/module.h>' 'MODULE_LICENSE("GPL");' \
	'MODULE_DESCRIPTION("fetch-kernel.sh canary");' \
	>"$tmp/canary/canary.c"
echo 'obj-m := canary.o' >"$tmp/canary/Makefile"
make -C "$obj" M="$tmp/canary" modules >>"$log" 2>&1 ||
	die "a module does not build in $obj: $(tail -n 5 "$log")"
magic=$(modinfo -F vermagic "$tmp/canary/canary.ko")
stock=$(find "$root/$mods/kernel" -name '*.ko*' -print -quit)
want=$(modinfo -F vermagic "$stock")
[ "$magic" = "$want" ] ||
	die "vermagic '$magic' of a module built here is not '$want' of $stock"
ln -s "../obj/$kver" "$stage/build"

{
	echo "release: $kver"
	echo "packages: ${pkgs[*]} linux-headers-$kver=$ver"
	echo "source: $srcpkg=$ver in $srcdir"
	echo "built with: $(gcc --version | head -n 1)"
	echo "vermagic: $magic"
	echo "config changes (image -> build tree):"
	"$srcdir/scripts/diffconfig" "$root/boot/config-$kver" "$obj/.config"
} >"$stage/info"
[ $dbg = 1 ] && debug_vmlinux "$stage"

# Done: in place by one rename (a broken tree of the same name is moved
# aside first).
if [ -e "$final" ]; then
	mv -T "$final" "$tmp/old"
fi
mv -T "$stage" "$final"
echo "$kver"
