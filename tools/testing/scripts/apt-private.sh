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
#   apt-private.sh download DIR PKG..  download .debs into DIR, print paths
#   apt-private.sh source DIR PKG      download and unpack a source package
#
# Environment: BSDMEM_CACHE (default ~/.cache/bsdmem),
# BSDMEM_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
mirror=${BSDMEM_MIRROR:-http://deb.debian.org/debian}
apt=$cache/apt
mkdir -p "$apt"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d}
apt=$(realpath "$apt")

# trixie-backports is pinned like any other suite: apt picks the highest
# version of a package, whichever suite has it.
cat >"$apt/etc/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
EOS
cat >"$apt/etc/preferences.d/backports" <<EOS
Package: *
Pin: release a=trixie-backports
Pin-Priority: 500
EOS
: >>"$apt/status"

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
      -o "Acquire::Languages=none")

private_update() {
	# one update a day is enough; a failed one is retried next time
	if [ -n "$(find "$apt/lists" -maxdepth 1 -name '*sid*Packages*' \
		-mmin -1440 2>/dev/null | head -n 1)" ]; then
		return 0
	fi
	apt-get "${opts[@]}" -qq update
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
download)
	private_update
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${opts[@]}" -qq download "$@" >/dev/null)
	for p in "$@"; do
		ls "$dir/${p}_"*.deb
	done ;;
source)
	private_update
	mkdir -p "$1"
	(cd "$1" && apt-get "${opts[@]}" -qq source "$2" >/dev/null) ;;
*)
	echo "usage: see the header of $0" >&2
	exit 2 ;;
esac
