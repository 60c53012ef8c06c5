#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: run the benchmarks in a QEMU guest of each stock kernel, print
# one table and write it to build/bench.txt.
set -euo pipefail

top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
table=$build/bench.txt
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

# The rival in the same guest: Debian's makedumpfile, with the dynamic
# loader and the libraries it links, run through that loader there.
mdf=$build/bench-makedumpfile
rm -rf "$mdf"
mkdir -p "$mdf"
cp "$(command -v makedumpfile)" "$mdf/"
ldd "$mdf/makedumpfile" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
	while read -r lib; do cp -L "$lib" "$mdf/"; done
[ -f "$mdf/ld-linux-x86-64.so.2" ] || { echo "bench: no ld-linux-x86-64.so.2 for makedumpfile" >&2; exit 1; }

# guest KVER NAME NCPU SCRIPT: one guest's BENCH lines into the table
guest() {
	local kver=$1 out=$build/bench-$1-$2
	"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -p "$3" \
		-m "$build/$kver/drivers/bsdmem/bsdmem.ko" -s "$4" \
		-b "$build/tools/bin" -b "$mdf" -M zstd_compress -o "$out" \
		-t 1800 || { cat "$out/results.log"; exit 1; }
	sed -n "s/^BENCH \([^ ]*\) \([^ ]*\) \(.*\)$/$kver \1 \2 \3/p" \
		"$out/results.log" >> "$rows"
}

kvers=$("$top/tools/testing/scripts/kernels.sh")
for kver in $kvers; do
	guest "$kver" 2cpu 2 "$top/tools/testing/qemu/guest-bench.sh"
done
# Parallel compression: 1 worker against 4 in a 4-vCPU guest (TCG runs
# each vCPU on a host thread: the host's own cores bound the gain).
guest "$(echo "$kvers" | head -n 1)" 4cpu 4 \
	"$top/tools/testing/qemu/guest-bench-scaling.sh"

{
	echo "bsdmem benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), QEMU TCG guests (2 vCPU, 2 GiB, 2 NUMA nodes; scaling: 4 vCPU), on $(nproc) host CPUs"
	echo "ratio rows: speed = the other's time / ours (above 1: bsdmem is faster); size = ours / the other's"
	printf '%-24s %-10s %-44s %s\n' kernel bench metric value
	while read -r k b m v; do
		printf '%-24s %-10s %-44s %s\n' "$k" "$b" "$m" "$v"
	done < "$rows"
} | tee "$table"
echo "written to $table"
