#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The dump reader level for one stock kernel: a guest logs a unique marker
# and writes a live dump of each compression onto a virtio disk; on the
# host the real readers must take them: gunzip -t, zstd -t, vmcore-dmesg
# and makedumpfile --dump-dmesg (the marker in the log), and with Debian's
# debug vmlinux, crash (log, sys, ps, mod, kmem -v) and drgn
# (init_uts_ns.name.release). The kdump-compressed dumps (plain, zlib,
# zstd, and zlib through a pipe in the flattened format) are read as they
# are: makedumpfile --dump-dmesg (plain, zlib), makedumpfile -R (the
# flattened one), drgn, and crash (log, sys, mod, bt -a from the notes).
# Then the differential check: a second guest
# with a hot-plugged DIMM takes a whole-RAM dump and a minidump back to
# back, and every page a drgn walk of the kernel's structures reads in the
# first must be in the second (scripts/dump-diff.py).
#
# Every CPU's registers: the guest has 3 CPUs, and the plain dump is taken
# while the spinner module (tools/testing/spinner, built here against the
# kernel) keeps CPU 1 spinning with interrupts disabled. Each CPU's
# NT_PRSTATUS must hold registers, the spinning CPU's an ip inside
# spinner_spin() and the spinner's pid (prstatus-check.py, on every
# kernel); with the debug vmlinux, drgn's stack trace of the spinning
# thread, and backtraces from CPU 1's note by drgn and by gdb (which
# knows the module's frames on every kernel, drgn 0.0.22 before 6.4
# only), must start there, and crash's bt -a shows spinner_spin on CPU 1
# (cpu-stacks.py). The spinner holds its CPU until the
# dump is written, so its note and its stack agree; the other CPUs kept
# running after the NMI while memory was copied, so their notes describe
# an earlier moment than their stacks: they are shown ("# cpu N moved on
# since the NMI"), not judged, but for the dumping thread's, which takes
# its registers in a frame that lasts until the dump is written: gdb's
# backtrace from that note must have named frames, bsdmem's first, down
# through bsdmem_dump_thread() to kthread() (drgn_dumping_cpu_stack).
#
# Time limits bound a hang, well above what each step takes here (TCG,
# 2 shared cores, other work beside: a guest 15-30 s, a reader on a
# minidump seconds): the guests 300 s and 600 s (a whole-RAM dump),
# crash and drgn on a minidump 120 s, drgn on the whole-RAM dump 600 s;
# a step past its limit fails as "not ok - NAME # timed out after N s".
#
# The debug vmlinux (linux-image-KVER-dbg) is the installed one, which
# make deps installs for the 6.1 kernel, where its absence fails; or, for
# a kernel of a newer suite, the one fetch-kernel.sh --dbg put in the
# cache. Without one crash and drgn are skipped, saying why.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
out=${BSDMEM_RESULTS:-$build/results}/readers-$kver
lvl="readers.$kver"
cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
vmlinux=$("$top/tools/testing/scripts/debug-vmlinux.sh" "$kver") || vmlinux=/usr/lib/debug/boot/vmlinux-$kver
pass=0 fail=0 skip=0

ok() { echo "ok - $lvl.$1"; pass=$((pass + 1)); }
nok() { echo "not ok - $lvl.$1"; [ $# -gt 1 ] && echo "# $2"; fail=$((fail + 1)); }
skp() { echo "ok - $lvl.$1 # SKIP $2"; skip=$((skip + 1)); }
check() { local name=$1; shift; if "$@" >"$out/$name.log" 2>&1; then ok "$name"; else nok "$name" "see $out/$name.log"; fi; }
# check_t SECS NAME CMD...: check, CMD killed after SECS seconds
check_t() {
	local secs=$1 name=$2 rc
	shift 2
	timeout -k 10 "$secs" "$@" >"$out/$name.log" 2>&1
	rc=$?
	case $rc in
	0) ok "$name" ;;
	124|137) echo "not ok - $lvl.$name # timed out after $secs s"
		fail=$((fail + 1)) ;;
	*) nok "$name" "see $out/$name.log" ;;
	esac
}
# guest_failed NAME DIR: a guest's failure, a timeout said as such
guest_failed() {
	case $(cat "$2/verdict") in
	timeout*) echo "not ok - $lvl.$1 # timed out: $(cat "$2/verdict")"
		fail=$((fail + 1)) ;;
	*) nok "$1" "$(cat "$2/verdict")" ;;
	esac
	sed 's/^/# /' "$2/results.log" | tail -20
}
finish() { echo "RESULT $lvl $pass $fail $skip"; [ $fail -eq 0 ]; exit $?; }

mkdir -p "$out"
rm -f "$out"/core*

# The spinner, built W=1 against the kernel as bsdmem is (build-module.sh).
kdir=/lib/modules/$kver/build
[ -f "$kdir/Makefile" ] || kdir=$cache/kernels/$kver/build
spin_dir=$build/$kver/spinner
spin_ko=$spin_dir/spinner.ko
rm -rf "$spin_dir" "$out/spinner-bin"
mkdir -p "$spin_dir" "$out/spinner-bin"
cp "$top"/tools/testing/spinner/* "$spin_dir/"
if make -C "$kdir" M="$spin_dir" W=1 CONFIG_DEBUG_INFO_BTF_MODULES= modules \
	> "$out/spinner_build.log" 2>&1 &&
   ! grep -qE 'warning:|error:' "$out/spinner_build.log" && [ -f "$spin_ko" ]; then
	ok spinner_build
else
	nok spinner_build "see $out/spinner_build.log"
	finish
fi
cp "$spin_ko" "$out/spinner-bin/"

disk="$out/disk.img"
truncate -s 0 "$disk"
truncate -s 1G "$disk"

if ! "$top/tools/testing/qemu/run-guest.sh" -k "$kver" \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-readers.sh" \
	-b "$build/tools/tests" -b "$out/spinner-bin" -p 3 \
	-M virtio_blk -M virtio_pci -M zstd_compress \
	-d "$disk" -o "$out/guest" -t 300; then
	guest_failed guest_dumps "$out/guest"
	finish
fi
ok guest_dumps
tag() { sed -n "s/^@@$1 //p" "$out/guest/results.log" | tr -d '\r'; }
marker=$(tag MARKER)
release=$(tag RELEASE)
ncpu=$(tag NCPU)
spin_cpu=$(tag SPINNER_CPU)
spin_pid=$(tag SPINNER_PID)
spin_start=$(tag SPINNER_SYM)
# spinner_spin()'s end: its start plus its size in the module's symbols
spin_size=$(nm -S "$spin_ko" | awk '$4 == "spinner_spin" { print $2 }')
spin_end=$(printf '%x' $((0x${spin_start:-0} + 0x${spin_size:-0})))

# The index in the first 4 KiB: "name offset length" per dump.
head -c 4096 "$disk" | tr -d '\0' > "$out/index"
while read -r name off len; do
	dd if="$disk" of="$out/$name" bs=1M iflag=skip_bytes,count_bytes \
		skip="$off" count="$len" status=none
done < "$out/index"
for f in core core.gz core.zst kdump kdump.gz kdump.zst kdump-flat.gz; do
	[ -s "$out/$f" ] || { nok "extract_$f" "missing from the disk index"; finish; }
done

# The spin ended at the dump's NMI, not at its time limit.
spin=$(tag SPIN)
if [ "${spin%% *}" = nmi ]; then
	ok spinner_stopped_by_nmi
else
	nok spinner_stopped_by_nmi "spinner: ${spin:-no result}"
fi
check prstatus_every_cpu "$top/tools/testing/scripts/prstatus-check.py" \
	"$out/core" "${ncpu:-0}" "${spin_cpu:-0}" "${spin_pid:--1}" \
	"${spin_start:-0}" "$spin_end"

check gunzip_t gunzip -t "$out/core.gz"
check zstd_t zstd -q -t "$out/core.zst"
gunzip -c "$out/core.gz" > "$out/core-gz" 2>/dev/null
zstd -q -d -c "$out/core.zst" > "$out/core-zst" 2>/dev/null

for c in core core-gz core-zst; do
	check "vmcore_dmesg_$c" sh -c "vmcore-dmesg '$out/$c' | grep -F '$marker'"
done
for c in core core-zst; do
	rm -f "$out/$c.dmesg"
	check "makedumpfile_dump_dmesg_$c" sh -c \
		"makedumpfile --dump-dmesg '$out/$c' '$out/$c.dmesg' && grep -F '$marker' '$out/$c.dmesg'"
done

# The kdump-compressed dumps (MEM_KERNELDUMP_KDUMP), read as they are:
# makedumpfile takes the log out of the plain and the zlib one (Debian's
# has no zstd), and turns the flattened one (written into a pipe) back
# into the standard layout; crash and drgn open them all below.
for c in kdump kdump.gz; do
	rm -f "$out/$c.dmesg"
	check "makedumpfile_dump_dmesg_$c" sh -c \
		"makedumpfile --dump-dmesg '$out/$c' '$out/$c.dmesg' && grep -F '$marker' '$out/$c.dmesg'"
done
rm -f "$out/kdump-restored" "$out/kdump-restored.dmesg"
check makedumpfile_R_flattened sh -c \
	"makedumpfile -R '$out/kdump-restored' < '$out/kdump-flat.gz' && cmp -n 8 '$out/kdump-restored' '$out/kdump.gz'"
check makedumpfile_dump_dmesg_kdump-restored sh -c \
	"makedumpfile --dump-dmesg '$out/kdump-restored' '$out/kdump-restored.dmesg' && grep -F '$marker' '$out/kdump-restored.dmesg'"
kdumps="kdump kdump.gz kdump.zst kdump-restored"

# crash and drgn need the ~860 MB debug vmlinux.
if [ ! -f "$vmlinux" ]; then
	case $kver in
	6.1.*)
		why="no /usr/lib/debug/boot/vmlinux-$kver: install linux-image-$kver-dbg (make deps)"
		nok crash_log "$why"
		nok crash_bt_spinner "$why"
		nok drgn_release "$why"
		nok drgn_cpu_stacks "$why"
		nok drgn_dumping_cpu_stack "$why"
		for c in $kdumps; do
			nok "crash_$c" "$why"
			nok "drgn_release_$c" "$why"
		done ;;
	*)
		why="no debug vmlinux for $kver (linux-image-$kver-dbg; for a kernel in the cache, tools/testing/scripts/fetch-kernel.sh --dbg $kver)"
		skp crash_log "$why"
		skp crash_bt_spinner "$why"
		skp drgn_release "$why"
		skp drgn_cpu_stacks "$why"
		skp drgn_dumping_cpu_stack "$why"
		for c in $kdumps; do
			skp "crash_$c" "$why"
			skp "drgn_release_$c" "$why"
		done ;;
	esac
	finish
fi
# --kaslr=auto: crash 8.0.2 (Debian 12) looks for KASLR only in a kernel
# with the module_load_offset symbol (6.1 has it, 7.3 not); without it,
# it reads the kernel at its link-time addresses and finds nothing. The
# offset is in the dump's vmcoreinfo (KERNELOFFSET).
# bt -a starts each active task from its CPU's NT_PRSTATUS only with
# DWARF unwinding on (crash 8.0.2 otherwise takes the notes of a kdump's
# panic task alone); the spinner is still CPU 1's task when the dump
# copies the runqueues, as it holds the CPU until the dump is written.
printf 'mod -s spinner %s\nlog\nsys\nps\nset unwind on\nbt -a\nquit\n' \
	"$spin_ko" > "$out/crash.cmds"
# crash_run NAME OPTION...: a session, its output in $out/NAME.out
crash_run() {
	local name=$1
	shift
	timeout -k 10 120 crash -s --kaslr=auto "$@" "$vmlinux" "$out/core" \
		> "$out/$name.out" 2>&1
	case $? in
	124|137) echo "not ok - $lvl.${name}_session # timed out after 120 s"
		fail=$((fail + 1)) ;;
	esac
}
crash_run crash < "$out/crash.cmds"
limit=$(grep -m1 'invalid structure member offset' "$out/crash.out")
if grep -qF "$marker" "$out/crash.out" &&
   grep -qF "RELEASE: $release" "$out/crash.out"; then
	ok crash_log
	# bt -a: the spinning CPU's stack starts in spinner_spin
	if awk -v cpu="$spin_cpu" '
		/^PID: .* CPU: / { on = ($0 ~ ("CPU: " cpu "[^0-9]")) }
		on && /spinner_spin/ { found = 1 }
		END { exit !found }' "$out/crash.out"; then
		ok crash_bt_spinner
	else
		# e.g. "cannot access vmalloc'd module memory": no module symbols
		nok crash_bt_spinner "no spinner_spin on CPU $spin_cpu in bt -a ($(grep -m1 -o 'WARNING: cannot access.*' "$out/crash.out")): see $out/crash.out"
	fi
elif [ -n "$limit" ]; then
	# A crash older than the kernel's structures gives up as it starts,
	# whatever the dump (7.x has no struct kmem_cache_cpu, which crash
	# 8.0.2 needs for SLUB). Its minimal mode still reads the log.
	skp crash_log "$(crash --version | grep -m1 -o 'crash [0-9.]*') does not know $kver's structures: ${limit#crash: }"
	skp crash_bt_spinner "crash cannot start on $kver (see crash_log); drgn checks the stacks"
	printf 'log\nquit\n' | crash_run crash-minimal --minimal
	if grep -qF "$marker" "$out/crash-minimal.out"; then
		ok crash_minimal_log
	else
		nok crash_minimal_log "see $out/crash-minimal.out"
	fi
else
	nok crash_log "see $out/crash.out"
	nok crash_bt_spinner "crash did not start: see $out/crash.out"
fi
# Modules and vmalloc: crash walks page tables into module memory; a
# segment that claims a page twice, zeros first (freed init memory the
# kernel reused as a page table), broke both.
if [ -z "$limit" ]; then
	printf 'mod\nkmem -v\nquit\n' | crash_run crash-mod
	bad=$(grep -m1 -E 'invalid kernel module size|cannot access vmalloc|invalid/corrupt|read error' "$out/crash-mod.out")
	if [ -z "$bad" ] && grep -qw bsdmem "$out/crash-mod.out"; then
		ok crash_mod
	else
		nok crash_mod "${bad:-bsdmem not listed}; see $out/crash-mod.out"
	fi
	if [ -z "$bad" ] && grep -q 'VMAP_AREA' "$out/crash-mod.out" &&
	   grep -qE '^ *ffff[0-9a-f]+ +ffff[0-9a-f]+ +ffff[0-9a-f]+ - ffff' "$out/crash-mod.out"; then
		ok crash_kmem_v
	else
		nok crash_kmem_v "${bad:-no vmap areas}; see $out/crash-mod.out"
	fi
fi
cat > "$out/drgn.py" <<PY
release = prog["init_uts_ns"].name.release.string_().decode()
print("release", release)
n = sum(1 for _ in __import__("drgn.helpers.linux.pid", fromlist=["for_each_task"]).for_each_task(prog))
print("tasks", n)
assert release == "$release", release
assert n > 10, n
PY
check_t 120 drgn_release drgn -q -c "$out/core" -s "$vmlinux" "$out/drgn.py"

# The kdump-compressed dumps: drgn (libkdumpfile) opens each as it is;
# crash reads the log, the modules, and a backtrace on every CPU from
# the registers in the notes (or, where it cannot start, the log in its
# minimal mode).
printf 'log\nsys\nmod\nbt -a\nquit\n' > "$out/crash-kdump.cmds"
for c in $kdumps; do
	check_t 120 "drgn_release_$c" drgn -q -c "$out/$c" -s "$vmlinux" "$out/drgn.py"
	if [ -n "$limit" ]; then
		printf 'log\nquit\n' | timeout -k 10 120 crash -s --minimal \
			--kaslr=auto "$vmlinux" "$out/$c" > "$out/crash-$c.out" 2>&1
		if grep -qF "$marker" "$out/crash-$c.out"; then
			ok "crash_minimal_log_$c"
		else
			nok "crash_minimal_log_$c" "see $out/crash-$c.out"
		fi
		continue
	fi
	timeout -k 10 120 crash -s --kaslr=auto "$vmlinux" "$out/$c" \
		< "$out/crash-kdump.cmds" > "$out/crash-$c.out" 2>&1
	why=""
	grep -qF "$marker" "$out/crash-$c.out" || why="no marker in the log"
	grep -qF "RELEASE: $release" "$out/crash-$c.out" || why="$why${why:+; }no RELEASE: $release"
	grep -qE '^ *[0-9a-f]{16} +bsdmem ' "$out/crash-$c.out" ||
		why="$why${why:+; }bsdmem not in mod"
	# every CPU's task with a backtrace, but for one that the dumping
	# thread may have left while the runqueues were copied (crash then
	# finds it on two CPUs); the dump's own work (its thread or a
	# worker) among them
	n=0
	for ((cpu = 0; cpu < ${ncpu:-0}; cpu++)); do
		awk -v c="$cpu" '/^PID: / { on = ($0 ~ (" CPU: " c " ")) }
			on && /^ *#0 / { f = 1 } END { exit !f }' \
			"$out/crash-$c.out" && n=$((n + 1))
	done
	[ $n -ge $((${ncpu:-0} - 1)) ] && [ $n -gt 0 ] ||
		why="$why${why:+; }bt -a has backtraces of $n of ${ncpu:-0} CPUs"
	grep -qE '^ *#[0-9]+ .* bsdmem_[a-z_]+ at ' "$out/crash-$c.out" ||
		why="$why${why:+; }no bsdmem frame in bt -a"
	if [ -z "$why" ]; then
		ok "crash_$c"
	else
		nok "crash_$c" "$why; see $out/crash-$c.out"
	fi
done
# Each CPU's registers, from the notes (cpu-stacks.py): the spinner's
# strictly; the dumping thread's from the frame it took them in; the
# other CPUs shown, not judged (they moved on since the NMI).
python3 "$top/tools/testing/scripts/vmcore-layout.py" --facts "$out/core" > "$out/facts"
check_t 120 drgn_cpu_stacks drgn -q -c "$out/core" -s "$vmlinux" -s "$spin_ko" \
	"$top/tools/testing/scripts/cpu-stacks.py" "$out/facts" spinner \
	"${ncpu:-0}" "${spin_cpu:-0}" "${spin_pid:--1}" "${spin_start:-0}" \
	"$spin_end" "$vmlinux" "$spin_ko" "$out"
grep '^# cpu ' "$out/drgn_cpu_stacks.log"
check_t 120 drgn_dumping_cpu_stack drgn -q -c "$out/core" -s "$vmlinux" \
	"$top/tools/testing/scripts/cpu-stacks.py" "$out/facts" dumping \
	"$vmlinux" "$build/$kver/drivers/bsdmem/bsdmem.ko" "$out"
grep -m 1 '^AssertionError' "$out/drgn_dumping_cpu_stack.log" | sed 's/^/# /'

# The differential check: a whole-RAM dump and a minidump of the same
# moment, with the hot-plugged DIMM online (a smaller guest: 2 x 512 MiB
# and the 1 GiB DIMM). drgn walks the structures a debugger uses in the
# first; every page the walk read must be in the second (dump-diff.py).
# An Intel CPU without RDCL_NO, so that the kernel isolates its page
# tables (PTI) and writes the user half of each order-1 PGD;
# no_timer_check, since TCG on a busy host can fail the IO-APIC timer
# check at boot ("IO-APIC + timer doesn't work!").
dout="$out/diff"
mkdir -p "$dout"
rm -f "$dout"/core* "$dout"/whole* "$dout"/pages.json
ddisk="$dout/disk.img"
truncate -s 0 "$ddisk"
truncate -s 2G "$ddisk"
if ! "$top/tools/testing/qemu/run-guest.sh" -k "$kver" -D -r 512 \
	-c qemu64,vendor=GenuineIntel \
	-m "$build/$kver/drivers/bsdmem/bsdmem.ko" \
	-s "$top/tools/testing/qemu/guest-dumpdiff.sh" \
	-b "$build/tools/tests" -M virtio_blk -M virtio_pci -M zstd_compress \
	-a "memhp_default_state=offline no_timer_check" -d "$ddisk" \
	-o "$dout/guest" -t 600; then
	guest_failed dumpdiff_guest "$dout/guest"
	finish
fi
blocks=$(sed -n 's/^@@DIMM_BLOCKS //p' "$dout/guest/results.log" | tr -d '\r')
if [ "${blocks:-0}" -gt 0 ]; then
	ok dumpdiff_guest
else
	nok dumpdiff_guest "no DIMM memory block online; see $dout/guest/results.log"
	finish
fi
head -c 4096 "$ddisk" | tr -d '\0' > "$dout/index"
while read -r name off len; do
	dd if="$ddisk" bs=1M iflag=skip_bytes,count_bytes skip="$off" \
		count="$len" status=none | zstd -q -d -o "$dout/${name%.zst}"
done < "$dout/index"
rm -f "$ddisk"
if [ ! -s "$dout/whole" ] || [ ! -s "$dout/core" ]; then
	nok dumpdiff_record "a dump is missing from the disk index"
	finish
fi
check_t 600 dumpdiff_record drgn -q -c "$dout/whole" -s "$vmlinux" \
	"$top/tools/testing/scripts/dump-diff.py" record "$dout/pages.json"
if [ -s "$dout/pages.json" ]; then
	check_t 300 dumpdiff_minidump_has_walked_pages drgn -q \
		-c "$dout/core" -s "$vmlinux" \
		"$top/tools/testing/scripts/dump-diff.py" check "$dout/pages.json"
	grep -E '^# (MISSING|first misses|forgiven|emptied|checked)' \
		"$out/dumpdiff_minidump_has_walked_pages.log" | head -30
else
	nok dumpdiff_minidump_has_walked_pages "nothing recorded"
fi
rm -f "$dout/whole"
finish
