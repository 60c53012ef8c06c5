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

for kver in $("$top/tools/testing/scripts/kernels.sh"); do
	out=$build/bench-$kver
	"$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
		-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
		-s "$top/tools/testing/qemu/guest-bench.sh" \
		-b "$build/tools/bin" -M zstd_compress -o "$out" -t 900 ||
		{ cat "$out/results.log"; exit 1; }
	sed -n "s/^BENCH \([^ ]*\) \([^ ]*\) \(.*\)$/$kver \1 \2 \3/p" \
		"$out/results.log" >> "$rows"
done

{
	echo "bsdmem benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), QEMU TCG guests (2 vCPU, 2 GiB, 2 NUMA nodes)"
	printf '%-24s %-10s %-44s %s\n' kernel bench metric value
	while read -r k b m v; do
		printf '%-24s %-10s %-44s %s\n' "$k" "$b" "$m" "$v"
	done < "$rows"
} | tee "$table"
echo "written to $table"
