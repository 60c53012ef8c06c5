#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test level on both generic stock kernels and on the
# newest kernel in Debian's archive (7.x); the build and a smoke level on the cloud
# and rt flavours of 6.1 and 6.12 and on trixie's 6.12. Each level prints
# TAP-style lines ("ok - name", "not ok - name", "ok - name # SKIP why");
# this script shows them, counts them and ends with one line
#   N passed, N failed, N skipped
# Exit status 1 when anything failed.
set -uo pipefail

top=$(realpath "$(dirname "$0")/../..")
cd "$top"
export BUILD=${BUILD:-$top/build}
export BSDMEM_RESULTS=$BUILD/results
rm -rf "$BSDMEM_RESULTS"
mkdir -p "$BSDMEM_RESULTS"
tally="$BSDMEM_RESULTS/tally"
: > "$tally"
start=$(date +%s)

# run_level NAME CMD...: run a level, show and keep its TAP lines. A level
# that fails without reporting a failed test counts as one failure itself.
run_level() {
	local name=$1 out="$BSDMEM_RESULTS/$1.out" rc t0=$SECONDS
	shift
	echo "=== $name"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	grep -E '^(not )?ok - ' "$out" >> "$tally"
	if [ $rc -ne 0 ] && ! grep -q '^not ok - ' "$out"; then
		echo "not ok - $name.exit_status_$rc" | tee -a "$tally"
	fi
	echo "=== $name: $((SECONDS - t0))s"
}

kvers=$(tools/testing/scripts/kernels.sh)
nk=$(echo "$kvers" | grep -c .)
if [ "$nk" -eq 2 ]; then
	echo "ok - kernels.both_stock_kernels_installed" >> "$tally"
else
	echo "not ok - kernels.both_stock_kernels_installed # found: $kvers" | tee -a "$tally"
fi

fvers=$(tools/testing/scripts/kernels.sh flavours)
if [ "$(echo "$fvers" | grep -c .)" -eq 4 ]; then
	echo "ok - kernels.flavour_kernels_installed" >> "$tally"
else
	echo "not ok - kernels.flavour_kernels_installed # found: $fvers" | tee -a "$tally"
fi

# Kernels newer than bookworm's, fetched into the cache and never
# installed (fetch-kernel.sh): the newest in Debian's archive, with its
# debug vmlinux for the readers, gets every level; trixie's 6.12 the smoke
# level. They are fetched in the background (mostly downloads) while the
# installed kernels are tested, one after the other (they share apt's
# cache); each writes its release to fetch-NAME.kver.
fetch() {
	local name=$1 log="$BSDMEM_RESULTS/fetch-$1.log" k
	shift
	if k=$(tools/testing/scripts/fetch-kernel.sh "$@" 2>"$log"); then
		echo "ok - kernels.fetch_$name" >> "$tally"
		echo "$k" > "$BSDMEM_RESULTS/fetch-$name.kver"
	else
		echo "not ok - kernels.fetch_$name" | tee -a "$tally"
		sed 's/^/# /' "$log" | tail -20
	fi
}
fetch_all() {
	local newest k

	# First the debug vmlinux of an installed kernel without its -dbg
	# package (6.12), for the readers: run-readers.sh waits for it, and
	# run-debugging.sh fails without it.
	for k in $kvers; do
		tools/testing/scripts/debug-vmlinux.sh --fetch "$k" >/dev/null
	done
	newest=$(tools/testing/scripts/apt-private.sh newest \
		'^linux-image-[0-9]+\.[0-9]+\.[0-9]+\+deb[0-9]+-amd64$')
	newest=${newest#linux-image-}
	fetch newest "${newest:-no-kernel-found}"
	# the debug vmlinux apart: a failure there must not lose the kernel
	[ -s "$BSDMEM_RESULTS/fetch-newest.kver" ] &&
		fetch newest_dbg --dbg "$newest"
	fetch trixie_6_12 newest-6.12
}
fetched() {
	cat "$BSDMEM_RESULTS/fetch-$1.kver" 2>/dev/null
}
# its own process group, so that an interrupted make check takes it along
export tally kvers
export -f fetch fetch_all
setsid bash -c fetch_all > "$BSDMEM_RESULTS/fetch.out" 2>&1 &
fetch_pid=$!
trap 'kill -- -$fetch_pid 2>/dev/null' EXIT

run_level lint tools/testing/scripts/checkpatch.sh
# The tiers (README: which tier runs where), each over a list of kernels.
build_tier() {
	for k in "$@"; do
		run_level "build.$k" tools/testing/scripts/build-module.sh "$k"
	done
}
# The debugging level runs where a reader is required of it (drgn on 6.1
# and 6.12, crash on 6.1): on the installed kernels, not on the newest,
# where it would cost minutes to judge nothing (a skip, said once).
full_tier() {
	for k in "$@"; do
		run_level "selftests.$k" tools/testing/run-selftests.sh "$k"
		run_level "readers.$k" tools/testing/run-readers.sh "$k"
		case " ${kvers//$'\n'/ } " in
		*" $k "*)
			run_level "debugging.$k" tools/testing/run-debugging.sh "$k" ;;
		*)
			echo "ok - debugging.$k # SKIP neither crash nor drgn is required on $k: the level runs on ${kvers//$'\n'/ }" |
				tee -a "$tally" ;;
		esac
	done
}
smoke_tier() {
	for k in "$@"; do
		run_level "smoke.$k" tools/testing/run-smoke.sh "$k"
	done
}

build_tier $kvers $fvers
run_level build.tools sh -c 'make -s tools >/dev/null && echo "ok - build.tools"'
run_level kunit tools/testing/kunit/run-kunit.sh
run_level debug tools/testing/run-debug-tier.sh
# the same, with PREEMPT_RT: the locking of Debian's rt flavour under lockdep
run_level kunit-rt env BSDMEM_KUNIT_VARIANT=rt tools/testing/kunit/run-kunit.sh
run_level debug-rt tools/testing/run-debug-tier.sh rt
full_tier $kvers
smoke_tier $fvers

echo "=== fetch (waiting for it)"
wait "$fetch_pid"
cat "$BSDMEM_RESULTS/fetch.out"
newest=$(fetched newest)
trixie612=$(fetched trixie_6_12)
echo "fetched: ${newest:-(no newest kernel)} ${trixie612:-(no trixie 6.12)}"
build_tier $newest $trixie612
full_tier $newest
smoke_tier $trixie612

passed=$(grep -c '^ok - ' "$tally" | tr -d ' ')
skipped=$(grep -c '^ok - .*# SKIP' "$tally" | tr -d ' ')
failed=$(grep -c '^not ok - ' "$tally" | tr -d ' ')
passed=$((passed - skipped))
echo
if [ "$failed" -ne 0 ]; then
	echo "FAILED:"
	grep '^not ok - ' "$tally" | sed 's/^/  /'
fi
echo "make check took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
