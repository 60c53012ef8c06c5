#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.12) over our
# C sources and headers, one TAP line per file, then a RESULT line.
set -euo pipefail

top=$(realpath "$(dirname "$0")/../../..")
cache=${BSDMEM_CACHE:-$HOME/.cache/bsdmem}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 | tr '~+:' '_-_')
dir="$cache/checkpatch-$ver"
mkdir -p "$cache"

if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	tmp=$(mktemp -d "$cache/.checkpatch.XXXXXX")
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$tmp" \
		--strip-components=1 linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	rm -rf "$dir"
	mv "$tmp" "$dir"
fi

cd "$top"
pass=0 fail=0
for f in $(git ls-files '*.c' '*.h'); do
	if out=$("$dir/scripts/checkpatch.pl" --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,NEW_TYPEDEFS \
		-f "$f" 2>&1); then
		echo "ok - lint.checkpatch.$f"
		pass=$((pass + 1))
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok - lint.checkpatch.$f"
		fail=$((fail + 1))
	fi
done
echo "RESULT lint.checkpatch $pass $fail 0"
[ "$fail" -eq 0 ]
