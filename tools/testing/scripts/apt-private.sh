#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apt on suites newer than the host's bookworm (trixie, trixie-backports,
# sid), through a configuration of our own under the build cache. The
# machine's sources, lists and installed packages are never touched:
# packages are only downloaded (and unpacked by the callers) into the
# cache, and dpkg never sees them.
#
#   apt-private.sh update              fetch the package lists (once a day)
#   apt-private.sh newest REGEX        newest package name matching REGEX
#   apt-private.sh version PKG         candidate version of PKG
#   apt-private.sh srcversion PKG      version of source package PKG (sid)
#   apt-private.sh versions PKG        every version of PKG, newest first
#   apt-private.sh depends PKG[=VER]   names PKG depends on directly
#   apt-private.sh download DIR PKG[=VER]..
#                                      download .debs into DIR, print paths
#   apt-private.sh source DIR PKG      download and unpack a source package
#
# Environment: BSDMEM_CACHE (default ~/.cache/bsdmem),
# BSDMEM_MIRROR (default http://deb.debian.org/debian),
# BSDMEM_SECURITY_MIRROR (default: BSDMEM_MIRROR with -security, or
# http://deb.debian.org/debian-security).
set -euo pipefail

cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
mirror=${BSDMEM_MIRROR:-http://deb.debian.org/debian}
# the security archive: beside a mirror of one's own, or Debian's
if [ -n "${BSDMEM_MIRROR:-}" ]; then
	security=${BSDMEM_SECURITY_MIRROR:-$mirror-security}
else
	security=${BSDMEM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
fi
apt=$cache/apt
mkdir -p "$apt"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d}
apt=$(realpath "$apt")

# trixie-backports is pinned like any other suite: apt picks the highest
# version of a package, whichever suite has it.
# Written anew each time, and renamed into place: other runs may be
# reading the old one (make check fetches in the background).
cat >"$apt/etc/sources.list.$$" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security trixie-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
EOS
mv -f "$apt/etc/sources.list.$$" "$apt/etc/sources.list"
cat >"$apt/etc/preferences.d/backports" <<EOS
Package: *
Pin: release a=trixie-backports
Pin-Priority: 500
EOS
: >>"$apt/status"

# apt reads its configuration (/etc/apt/apt.conf.d) before any -o option
# is seen: the host's hooks (APT::Update::Post-Invoke), its default
# release and its foreign architectures would apply here too. APT_CONFIG
# is read first and sends apt to a parts directory of our own instead.
# Proxies of the environment (http_proxy) still apply. Release files are
# not refused for their age: the archive this runs against may be a
# snapshot, whose sid Release has outlived its Valid-Until.
cat >"$apt/apt.conf" <<EOS
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$apt/etc/apt.conf.d";
APT::Architectures { "amd64"; };
EOS
export APT_CONFIG="$apt/apt.conf"

opts=(-o "Dir::Etc::sourcelist=$apt/etc/sources.list"
      -o "Dir::Etc::sourceparts=-"
      -o "Dir::Etc::preferences=$apt/etc/preferences"
      -o "Dir::Etc::preferencesparts=$apt/etc/preferences.d"
      -o "Dir::Etc::parts=$apt/etc/apt.conf.d"
      -o "Dir::State::lists=$apt/lists"
      -o "Dir::State::status=$apt/status"
      -o "Dir::Cache=$apt"
      -o "Dir::Cache::archives=$apt/archives"
      -o "APT::Sandbox::User=root"
      -o "Debug::NoLocking=1"
      -o "APT::Get::List-Cleanup=0"
      -o "Acquire::Check-Valid-Until=false"
      -o "Dir::Cache::pkgcache="
      -o "Dir::Cache::srcpkgcache="
      -o "Acquire::Languages=none")

private_update() {
	# One update a day is enough; a failed one is retried next time.
	# A stamp of our own: apt dates the lists as the mirror does. One
	# update at a time (apt's own locking is off: it would take the
	# host's lock files); the others wait for it and find the stamp.
	# No binary caches (pkgcache) are written, which two runs at once
	# could clobber: lists only.
	exec 8>"$apt/.update.lock"
	flock 8
	if [ -n "$(find "$apt/updated" -mmin -1440 2>/dev/null)" ]; then
		flock -u 8
		return 0
	fi
	# a list that could not be fetched is an error, not a warning, or a
	# day would go by with some suites missing
	if apt-get "${opts[@]}" -qq --error-on=any update; then
		touch "$apt/updated"
	elif [ -n "$(find "$apt/lists" -maxdepth 1 -name '*Packages*' | head -n 1)" ]; then
		# Stale lists still name real packages: go on with them, loudly.
		echo "apt-private: update failed, using the lists of" \
			"$(date -r "$apt/lists" '+%F %R')" >&2
	else
		flock -u 8
		return 1
	fi
	flock -u 8
}

cmd=${1:-}
shift || true
case $cmd in
update)
	private_update ;;
newest)
	private_update
	apt-cache "${opts[@]}" search --names-only "$1" | awk '{print $1}' |
		sort -V | tail -n 1 ;;
version)
	private_update
	apt-cache "${opts[@]}" policy "$1" |
		sed -n 's/^ *Candidate: *//p' | grep -v '(none)' ;;
srcversion)
	private_update
	apt-cache "${opts[@]}" showsrc --only-source "$1" |
		sed -n 's/^Version: *//p' | sort -V | tail -n 1 | grep . ;;
versions)
	private_update
	apt-cache "${opts[@]}" madison "$1" |
		awk -F' *[|] *' '$3 ~ /Packages/ {print $2}' |
		sort -urV ;;
depends)
	private_update
	apt-cache "${opts[@]}" show "$1" | sed -n '/^Depends:/{s/^Depends: *//p;q}' |
		tr ',' '\n' | sed 's/^ *//; s/[ (].*//; /^$/d' ;;
download)
	private_update
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${opts[@]}" -qq download "$@" >/dev/null)
	# The file of the version asked for (an epoch's colon is %3a in
	# the name), or of the only or newest one in DIR.
	for p in "$@"; do
		if [ "${p#*=}" != "$p" ]; then
			v=${p#*=}
			ls "$dir/${p%%=*}_${v//:/%3a}_"*.deb
		else
			ls "$dir/${p}_"*.deb | sort -V | tail -n 1
		fi
	done ;;
source)
	private_update
	mkdir -p "$1"
	(cd "$1" && apt-get "${opts[@]}" -qq source "$2" >/dev/null) ;;
*)
	echo "usage: see the header of $0" >&2
	exit 2 ;;
esac
