#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "debug a stuck system" level for one kernel, with QEMU's dumps of
# the same guest as the reference. One guest boot (guest-debugging.sh,
# under run-guest.sh -Q) leaves tasks blocked in known kernel functions
# (in nanosleep, in the open of a FIFO that has no writer, in the read of
# an empty pipe), logs a unique marker, has QEMU dump the guest
# (dump-guest-memory, with a VMCOREINFO note through qemu_fw_cfg) and
# then takes bsdmem's dumps of the same state: the ELF core, and the
# kdump-compressed format (MEM_KERNELDUMP_KDUMP, TAP names "kdump.NAME",
# read with the same checks as the core). On the
# host, with the kernel's debug vmlinux (debug-vmlinux.sh --fetch: for
# 6.12 it is downloaded into the cache), both are read the same way:
#
#   drgn   (debugging-drgn.py) the blocked tasks' stacks, the module list,
#          per-CPU data (runqueues of every CPU), the log, each CPU's
#          NT_PRSTATUS
#   gdb    (cpu-stacks.py) on bsdmem's dump, a backtrace from the dumping
#          thread's registers: named frames, bsdmem's first, to kthread()
#   crash  sys, log, mod, kmem -v, bt -a (on QEMU's dump each CPU's
#          backtrace shows the function of its registers; on bsdmem's,
#          the dumping thread's CPU, when crash finds it running there)
#          and p runqueues:a
#
# The CPUs other than the dumping one kept running after the NMI that
# took their registers, while memory was copied: their stacks under the
# note's rsp are overwritten, their rq->curr may be another task. They
# are shown ("# cpu N moved on since the NMI"), not judged; the readers
# level judges a CPU that stays stuck (the spinner).
#
# TAP names: NAME is bsdmem's dump, reference.NAME QEMU's (drgn 0.0.22
# needs a PT_LOAD of the kernel image to find the page tables, which
# QEMU's dump does not have: debugging-drgn.py maps the image onto
# physical memory as the kernel does). QEMU's dump being what the
# readers are known to take, a check that fails on it is the reader's
# limit and both are skipped, saying so, except where the reader is
# required: drgn on 6.1 and 6.12, crash on 6.1. drgn's backtraces of the
# running tasks have no reference: drgn 0.0.22 takes a CPU's registers
# only for the task whose pid is the note's pr_pid, as kdump sets it,
# and QEMU writes the CPU number + 1 there. same_as_reference.* compare
# the two: the module lists (drgn and crash), crash's sys but for times,
# load and task count, and the VMCOREINFO notes. layout.txt
# (vmcore-layout.py) shows how the files differ in headers, notes and
# segments; pt_load_no_overlap that no physical page is in two of
# bsdmem's PT_LOADs, kernel_image_pt_load_as_reference that no page of
# bsdmem's kernel image PT_LOAD is zeros where a direct-map PT_LOAD or
# QEMU's dump has the same physical page's data (crash reads the image's
# copy).
#
# Time limits bound a hang, well above what each step takes here (TCG,
# 2 shared cores, other work beside: the guest with QEMU's dump 15-30 s,
# a reader seconds): the guest 300 s, drgn and crash 120 s on bsdmem's
# dump and 300 s on QEMU's (2 GiB), gdb within cpu-stacks.py 120 s; a
# step past its limit is a "not ok - ..._timed_out" line of its own.
#
# Not checked, crash 8.0.2's own limit: on 6.1.192 and later (struct
# pid's numbers a flexible array) it lists only the running tasks, on
# QEMU's dumps too, so its ps and bt PID cannot show blocked tasks; drgn
# does.
set -uo pipefail

kver=$1
top=$(realpath "$(dirname "$0")/../..")
build=${BUILD:-$top/build}
out=${BSDMEM_RESULTS:-$build/results}/debugging-$kver
lvl="debugging.$kver"
scripts=$top/tools/testing/scripts
ko=$build/$kver/drivers/bsdmem/bsdmem.ko
pass=0 fail=0 skip=0
guest_limit=300
# limit DUMP: a reader's time limit on bsdmem's dump or QEMU's (the whole
# guest memory)
limit() { if [ "$1" = reference ]; then echo 300; else echo 120; fi; }

ok() { echo "ok - $lvl.$1"; pass=$((pass + 1)); }
nok() { echo "not ok - $lvl.$1"; [ $# -gt 1 ] && echo "# $2"; fail=$((fail + 1)); }
skp() { echo "ok - $lvl.$1 # SKIP $2"; skip=$((skip + 1)); }
# timed NAME SECS OUT CMD...: CMD, its output in OUT, killed after SECS,
# saying so as NAME_timed_out
timed() {
	local name=$1 secs=$2 o=$3 rc
	shift 3
	timeout -k 10 "$secs" "$@" > "$o" 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		nok "${name}_timed_out" "killed after $secs s: $1"
	fi
	return $rc
}
finish() { echo "RESULT $lvl $pass $fail $skip"; [ $fail -eq 0 ]; exit $?; }

case $kver in
6.1.*) drgn_required=1 crash_required=1 ;;
6.12.*) drgn_required=1 crash_required=0 ;;
*) drgn_required=0 crash_required=0 ;;
esac

rm -rf "$out"
mkdir -p "$out"
if ! vmlinux=$("$scripts/debug-vmlinux.sh" --fetch "$kver" 2>"$out/debug-vmlinux.log"); then
	nok debug_vmlinux "no debug vmlinux: $(tail -n 1 "$out/debug-vmlinux.log")"
	finish
fi
ok debug_vmlinux

disk="$out/disk.img"
truncate -s 1G "$disk"
"$top/tools/testing/qemu/run-guest.sh" -k "$kver" -Q -m "$ko" \
	-s "$top/tools/testing/qemu/guest-debugging.sh" \
	-b "$build/tools/tests" -M virtio_blk -M virtio_pci -M zstd_compress \
	-M qemu_fw_cfg -d "$disk" -o "$out/guest" -t $guest_limit
tr -d '\r' < "$out/guest/results.log" > "$out/results"
case $(cat "$out/guest/verdict") in
timeout*) nok guest_timed_out "$(cat "$out/guest/verdict")" ;;
esac
if grep -q '^@@GUEST-DONE 0$' "$out/results" &&
   [ "$(cat "$out/guest/verdict")" = ok ]; then
	ok guest
else
	nok guest "$(cat "$out/guest/verdict"); see $out/results"
	sed 's/^/# /' "$out/results" | tail -n 20
fi

# What the guest left for the readers to find.
{
	sed -n 's/^@@TASK /task /p' "$out/results"
	sed -n 's/^@@MARKER /marker /p; s/^@@RELEASE /release /p; s/^@@CPUS /cpus /p' "$out/results"
} > "$out/expect"
marker=$(sed -n 's/^marker //p' "$out/expect")
release=$(sed -n 's/^release //p' "$out/expect")
cpus=$(sed -n 's/^cpus //p' "$out/expect")
if [ "$(grep -c '^task ' "$out/expect")" -ne 3 ] || [ -z "$marker" ] ||
   [ -z "$release" ] || [ -z "$cpus" ]; then
	nok guest_tasks_blocked "the guest did not report its 3 tasks, marker, release and CPUs"
	finish
fi
ok guest_tasks_blocked

# The dumps: QEMU's in the guest's directory, ours on the disk.
ref=$out/guest/qemu-core
core=$out/core
if grep -q '^@@QEMU-DUMP-ANSWER Y$' "$out/results" && [ -s "$ref" ]; then
	ok reference.qemu_dump
else
	nok reference.qemu_dump "no QEMU dump; see $out/guest/qemu-dump.log"
	sed 's/^/# /' "$out/guest/qemu-dump.log" | tail -n 5
fi
head -c 4096 "$disk" | tr -d '\0' > "$out/index"
read -r _ off len < <(grep '^core ' "$out/index")
if [ -n "${off:-}" ] &&
   dd if="$disk" of="$core" bs=1M iflag=skip_bytes,count_bytes \
	skip="$off" count="$len" status=none && [ -s "$core" ]; then
	ok bsdmem_dump
else
	nok bsdmem_dump "no dump on the disk; see $out/results"
fi
# and the kdump-compressed one, taken right after (MEM_KERNELDUMP_KDUMP)
kdump=$out/kdump
read -r _ off len < <(grep '^kdump ' "$out/index")
if [ -n "${off:-}" ] &&
   dd if="$disk" of="$kdump" bs=1M iflag=skip_bytes,count_bytes \
	skip="$off" count="$len" status=none && [ -s "$kdump" ]; then
	ok kdump.bsdmem_dump
else
	nok kdump.bsdmem_dump "no kdump-compressed dump on the disk; see $out/results"
fi
rm -f "$disk"
[ -s "$core" ] || finish

# Headers, notes and segments side by side; each dump's registers.
for d in reference:"$ref" bsdmem:"$core" kdump:"$kdump"; do
	cp "$out/expect" "$out/expect-${d%%:*}"
	[ -s "${d#*:}" ] &&
		python3 "$scripts/vmcore-layout.py" --facts "${d#*:}" >> "$out/expect-${d%%:*}"
done
# A physical page that the kernel image PT_LOAD has as zeros while a
# direct-map PT_LOAD has its data reads as zeros in crash, which takes
# the first PT_LOAD holding a physical address.
if [ -s "$ref" ]; then
	python3 "$scripts/vmcore-layout.py" "$ref" "$core" > "$out/layout.txt" 2>&1
else
	python3 "$scripts/vmcore-layout.py" "$core" > "$out/layout.txt" 2>&1
fi
# What readers need of bsdmem's segments: vmcore-layout.py --check
python3 "$scripts/vmcore-layout.py" --check "$core" > "$out/check-alone.txt" 2>&1
if ! grep -q '^overlap: ' "$out/check-alone.txt"; then
	ok pt_load_no_overlap
else
	nok pt_load_no_overlap "$(grep -c '^overlap: ' "$out/check-alone.txt") pairs; see $out/check-alone.txt"
	grep -m 3 '^overlap: ' "$out/check-alone.txt" | sed 's/^/# /'
fi
if [ -s "$ref" ]; then
	nm "$vmlinux" > "$out/vmlinux.nm"
	python3 "$scripts/vmcore-layout.py" --check "$core" "$ref" \
		"$out/vmlinux.nm" > "$out/check.txt" 2>&1
	rm -f "$out/vmlinux.nm"
else
	cp "$out/check-alone.txt" "$out/check.txt"
	echo "no reference" >> "$out/check.txt"
fi
sed -n 's/^\(kernel image PT_LOAD: [0-9]* pages, .*\)/# \1/p' "$out/check.txt"
bad=$(grep -v -e '^overlap: ' -e '^kernel image PT_LOAD: [0-9]* pages, ' "$out/check.txt")
if [ -z "$bad" ]; then
	ok kernel_image_pt_load_as_reference
else
	nok kernel_image_pt_load_as_reference "$(echo "$bad" | head -n 2 | tr '\n' ';'); see $out/check.txt"
fi
if [ -s "$ref" ]; then
	if grep -q '^  VMCOREINFO: 0 lines' "$out/layout.txt"; then
		nok same_as_reference.vmcoreinfo "a dump without VMCOREINFO (QEMU's: no qemu_fw_cfg?); see $out/layout.txt"
	elif grep -q '^VMCOREINFO ' "$out/layout.txt"; then
		nok same_as_reference.vmcoreinfo "$(grep -m 3 '^VMCOREINFO ' "$out/layout.txt" | tr '\n' ';')"
	else
		ok same_as_reference.vmcoreinfo
	fi
fi

# result FILE NAME: "ok", or why not, from a reader's results file of
# lines "CHECK ok NAME" / "CHECK fail NAME why" / "CHECK skip NAME why"
# ("skip: why" for the last: a check with nothing to judge in that dump)
result() {
	local r
	r=$(grep -m 1 -E "^CHECK (ok|fail|skip) $2( |\$)" "$1" 2>/dev/null)
	case $r in
	"CHECK ok $2") echo ok ;;
	"CHECK skip $2 "*) echo "skip: ${r#"CHECK skip $2 "}" ;;
	"CHECK fail $2 "*) echo "${r#"CHECK fail $2 "}" ;;
	*) echo "no result (the reader failed: see ${1%.checks}.out)" ;;
	esac
}

# judge READER NAME REQUIRED: the check NAME on QEMU's dump and on each
# of bsdmem's (the ELF core, then the kdump-compressed one: "kdump.")
judge() {
	local reader=$1 name=$2 req=$3 r c d pre

	r=$(result "$out/$reader-reference.checks" "$name")
	if [ "$r" = ok ]; then
		ok "reference.${reader}_$name"
	elif [ "$req" = 1 ]; then
		nok "reference.${reader}_$name" "$r"
	else
		skp "reference.${reader}_$name" "$reader cannot on $kver, even on QEMU's dump: $r"
		skp "${reader}_$name" "$reader cannot on $kver, even on QEMU's dump"
		skp "kdump.${reader}_$name" "$reader cannot on $kver, even on QEMU's dump"
		return
	fi
	for d in bsdmem kdump; do
		pre=${d%bsdmem}
		pre=${pre:+$pre.}
		c=$(result "$out/$reader-$d.checks" "$name")
		if [ "$c" = ok ]; then
			ok "$pre${reader}_$name"
		elif [ "${c#skip: }" != "$c" ]; then
			skp "$pre${reader}_$name" "${c#skip: }"
		else
			nok "$pre${reader}_$name" "$c"
		fi
	done
}

# drgn: one run per dump, bsdmem's debug info for its frames. drgn
# 0.0.22 (Debian 12) does not know the ORC format of Linux 6.4 and later
# (the kernels with .orc_header), and fails a stack that needs ORC (entry
# code) instead of ending it there: it gets copies without the ORC
# sections, and unwinds with the DWARF CFI (.debug_frame) alone.
drgn_syms=(-s "$vmlinux" -s "$ko")
drgn_ver=$(drgn --version | awk 'NR == 1 { print $2 }')
if readelf -S "$vmlinux" | grep -F .orc_header >/dev/null &&
   [ "$(printf '%s\n' "$drgn_ver" 0.0.22 | sort -V | tail -n 1)" = 0.0.22 ]; then
	objcopy -R .orc_unwind -R .orc_unwind_ip "$vmlinux" "$out/vmlinux.no-orc" &&
	objcopy -R .orc_unwind -R .orc_unwind_ip "$ko" "$out/bsdmem.no-orc.ko" &&
		drgn_syms=(-s "$out/vmlinux.no-orc" -s "$out/bsdmem.no-orc.ko")
fi
for d in reference:"$ref" bsdmem:"$core" kdump:"$kdump"; do
	if [ -s "${d#*:}" ]; then
		timed "drgn_${d%%:*}" "$(limit "${d%%:*}")" "$out/drgn-${d%%:*}.out" \
			drgn -q -c "${d#*:}" "${drgn_syms[@]}" \
			"$scripts/debugging-drgn.py" "$out/expect-${d%%:*}"
	else
		echo "no dump" > "$out/drgn-${d%%:*}.out"
	fi
	grep '^CHECK ' "$out/drgn-${d%%:*}.out" > "$out/drgn-${d%%:*}.checks"
done
rm -f "$out/vmlinux.no-orc" "$out/bsdmem.no-orc.ko"
judge drgn release $drgn_required
while read -r _ _ label _; do
	judge drgn "stack_$label" $drgn_required
done < <(grep '^task ' "$out/expect")
judge drgn cpu_notes $drgn_required
grep -E '^# cpu [0-9]+ ' "$out/drgn-bsdmem.out"
# The dumping thread's note: gdb's backtrace from it (cpu-stacks.py)
if timed dumping_cpu_stack "$(limit bsdmem)" "$out/dumping_cpu_stack.log" \
	drgn -q -c "$core" -s "$vmlinux" "$scripts/cpu-stacks.py" \
	"$out/expect-bsdmem" dumping "$vmlinux" "$ko" "$out"; then
	ok dumping_cpu_stack
else
	nok dumping_cpu_stack "$(grep -m 1 '^AssertionError' "$out/dumping_cpu_stack.log"); see $out/dumping_cpu_stack.log"
fi
judge drgn modules $drgn_required
judge drgn percpu $drgn_required
judge drgn log $drgn_required

# crash: one session per dump, each command's output in its own file,
# and "sym RIP" of each CPU's registers in the dump.
# --kaslr=auto: crash 8.0.2 looks for KASLR by itself only in a kernel
# with the module_load_offset symbol; the offset is in VMCOREINFO.
crash_cmds=(sys:sys log:log mod:mod kmem_v:"kmem -v" bt_a:"bt -a"
	    percpu:"p runqueues:a")
crash_session() {
	local d=$1 f=$2 c cpu rip

	rm -rf "$out/crash-$d"
	mkdir -p "$out/crash-$d"
	{
		for c in "${crash_cmds[@]}"; do
			echo "${c#*:} > $out/crash-$d/${c%%:*}"
		done
		while read -r _ cpu rip; do
			[ "$rip" = 0x0 ] || echo "sym $rip > $out/crash-$d/sym_cpu$cpu"
		done < <(grep '^rip ' "$out/expect-$d")
		echo quit
	} > "$out/crash-$d.cmds"
	timed "crash_$d" "$(limit "$d")" "$out/crash-$d.out" \
		crash -s --kaslr=auto "$vmlinux" "$f" < "$out/crash-$d.cmds"
}

# bt_a_check DIR CPU: CPU's block of bt -a has a backtrace that shows
# the function of the CPU's rip in the dump (as crash's frame or its
# "exception RIP"); handler frames may come before it.
bt_a_check() {
	local dir=$1 cpu=$2 sym

	sym=$(awk 'NR == 1 { sub(/\+.*/, "", $3); print $3 }' "$dir/sym_cpu$cpu" 2>/dev/null)
	if [ -z "$sym" ]; then
		echo "CPU $cpu has no registers in the dump"
		return 1
	fi
	awk -v c="$cpu" -v sym="$sym" '
		/^PID: / { cur = -1; for (i = 1; i < NF; i++) if ($i == "CPU:") cur = $(i + 1) }
		cur != c { next }
		/^ *#[0-9]+ / { frames++; if ($3 == sym) found = 1 }
		index($0, "[exception RIP: " sym "+") { found = 1 }
		END {
			if (frames < 2)
				printf "CPU %d: no backtrace\n", c
			else if (!found)
				printf "CPU %d: the backtrace does not show %s, where its registers in the dump are\n", c, sym
			exit !(frames >= 2 && found)
		}' "$dir/bt_a"
}

# bt_a_cpus DIR DUMP: the CPUs whose backtrace in bt -a must show their
# registers' function, one per line: every CPU of QEMU's dump (the guest
# stopped); of bsdmem's, the one whose note is the bsdmem-dump thread's,
# if crash finds that thread running there (its frame lasts until the
# dump is written). The others are named in DIR/bt_a.info.
bt_a_cpus() {
	local dir=$1 cpu pid curr comm

	: > "$dir/bt_a.info"
	for ((cpu = 0; cpu < cpus; cpu++)); do
		if [ "$2" = reference ]; then
			echo "$cpu"
			continue
		fi
		pid=$(awk -v c="$cpu" '$1 == "prstatus" && $2 == c { print $3 }' "$out/expect-$2")
		read -r curr comm < <(awk -v c="$cpu" '
			/^PID: / { for (i = 1; i < NF; i++) if ($i == "CPU:" && $(i + 1) == c) {
				for (j = 1; j < NF; j++) { if ($j == "PID:") p = $(j + 1); if ($j == "COMMAND:") m = $(j + 1) }
				print p, m; exit } }' "$dir/bt_a")
		if [ "${curr:-}" = "$pid" ] && [ "${comm:-}" = '"bsdmem-dump"' ]; then
			echo "$cpu"
		elif [ "${curr:-}" = "$pid" ]; then
			echo "# cpu $cpu: crash: pr_pid $pid still runs there, but nothing held it where the NMI found it: not judged" >> "$dir/bt_a.info"
		else
			echo "# cpu $cpu moved on since the NMI (crash: pr_pid ${pid:-none}, now ${curr:-no task} ${comm:-})" >> "$dir/bt_a.info"
		fi
	done
}

# thread_elsewhere DIR DUMP: crash's bt -a shows the bsdmem-dump thread,
# with its note's pid, running on a CPU other than its note's
thread_elsewhere() {
	local cpu pid

	read -r cpu pid < <(awk '$1 == "prstatus" { print $2, $3 }' "$out/expect-$2" |
		while read -r c p; do
			grep -q "^PID: $p .*COMMAND: \"bsdmem-dump\"" "$1/bt_a" &&
				echo "$c $p"
		done | head -n 1)
	[ -n "${pid:-}" ] &&
		grep "^PID: $pid .*COMMAND: \"bsdmem-dump\"" "$1/bt_a" |
		grep -qv " CPU: $cpu "
}

# crash_checks DIR DUMP: the checks of one session, as CHECK lines
crash_checks() {
	local dir=$1 why cpu bad="" n=0

	if [ ! -s "$dir/sys" ]; then
		why=$(grep -m 1 -E '^crash: |invalid structure|cannot' "$dir.out" | head -c 200)
		for c in sys log mod kmem_v bt_a percpu; do
			echo "CHECK fail $c crash did not start: ${why:-no output}"
		done
		return
	fi
	if grep -qF "RELEASE: $release" "$dir/sys" &&
	   grep -qE "^ +CPUS: $cpus\$" "$dir/sys"; then
		echo "CHECK ok sys"
	else
		echo "CHECK fail sys no RELEASE: $release and CPUS: $cpus"
	fi
	if grep -qF "$marker" "$dir/log"; then
		echo "CHECK ok log"
	else
		echo "CHECK fail log the marker is not in the log"
	fi
	sed -n 's/^ *[0-9a-f]\{16\} \{1,\}\([A-Za-z0-9_]\{1,\}\) .*/\1/p' \
		"$dir/mod" | sort > "$dir/mod.names"
	if grep -qx bsdmem "$dir/mod.names"; then
		echo "CHECK ok mod"
	else
		echo "CHECK fail mod bsdmem is not listed: $(grep -m 1 -v '^ *MODULE' "$dir/mod")"
	fi
	if grep -q '^ *VMAP_AREA' "$dir/kmem_v" &&
	   grep -q '^[0-9a-f]\{16\} ' "$dir/kmem_v" &&
	   ! grep -q '^kmem: ' "$dir/kmem_v"; then
		echo "CHECK ok kmem_v"
	else
		echo "CHECK fail kmem_v $(grep -m 1 -v 'VMAP_AREA' "$dir/kmem_v")"
	fi
	for ((cpu = 0; cpu < cpus; cpu++)); do
		grep -q "^PID: .* CPU: $cpu " "$dir/bt_a" ||
			bad="$bad${bad:+; }CPU $cpu: no task in bt -a"
	done
	for cpu in $(bt_a_cpus "$dir" "$2"); do
		why=$(bt_a_check "$dir" "$cpu") || bad="$bad${bad:+; }$why"
		n=$((n + 1))
	done
	[ "$2" = reference ] || echo "# crash bt -a: $n CPU(s) judged" >> "$dir/bt_a.info"
	if [ -z "$bad" ] && [ "$n" -eq 0 ] && thread_elsewhere "$dir" "$2"; then
		echo "CHECK skip bt_a no CPU to judge: crash shows the dumping thread running on another CPU than its note's"
	elif [ -z "$bad" ] && [ "$n" -eq 0 ] &&
	     grep -q 'COMMAND: "bsdmem-dump"' "$dir/bt_a"; then
		echo "CHECK fail bt_a crash shows a bsdmem-dump thread whose pid no note names"
	elif [ -z "$bad" ] && [ "$n" -eq 0 ]; then
		# the runqueues are copied one after the other: a thread that
		# moved between the two copies runs on neither (its note is
		# judged by pid in dumping_cpu_stack)
		echo "CHECK skip bt_a no CPU to judge: crash shows the dumping thread running on no CPU (it moved while the runqueues were copied)"
	elif [ -z "$bad" ]; then
		echo "CHECK ok bt_a"
	else
		echo "CHECK fail bt_a $bad"
	fi
	for ((cpu = 0; cpu < cpus; cpu++)); do
		awk -v c="$cpu" '
			$0 ~ "^per_cpu\\(runqueues, " c "\\)" { in_rq = 1; next }
			/^per_cpu\(/ { in_rq = 0 }
			in_rq && $0 ~ "^  cpu = " c "," { found = 1 }
			END { exit !found }' "$dir/percpu" ||
			break
	done
	if [ "$cpu" -eq "$cpus" ]; then
		echo "CHECK ok percpu"
	else
		echo "CHECK fail percpu no per_cpu(runqueues, $cpu) with cpu = $cpu"
	fi
}

for d in reference:"$ref" bsdmem:"$core" kdump:"$kdump"; do
	if [ -s "${d#*:}" ]; then
		crash_session "${d%%:*}" "${d#*:}"
		crash_checks "$out/crash-${d%%:*}" "${d%%:*}" > "$out/crash-${d%%:*}.checks"
	else
		: > "$out/crash-${d%%:*}.checks"
	fi
done
for c in sys log mod kmem_v bt_a percpu; do
	judge crash "$c" $crash_required
done
cat "$out/crash-bsdmem/bt_a.info" 2>/dev/null

# same_as_reference.NAME REF OURS: the same, when read from both
same() {
	local name=$1

	if [ ! -s "$2" ] || [ ! -s "$3" ]; then
		skp "same_as_reference.$name" "not read from both dumps"
	elif diff -u "$2" "$3" > "$out/$name.diff"; then
		ok "same_as_reference.$name"
	else
		nok "same_as_reference.$name" "see $out/$name.diff"
		sed 's/^/# /' "$out/$name.diff" | head -n 12
	fi
}
for d in reference bsdmem; do
	sed -n 's/^# MODULES //p' "$out/drgn-$d.out" | tr ' ' '\n' > "$out/drgn-$d.modules"
	[ -s "$out/crash-$d/sys" ] &&
		grep -vE '^ *(DUMPFILE|DATE|UPTIME|LOAD AVERAGE|TASKS):' \
			"$out/crash-$d/sys" > "$out/crash-$d/sys.fields"
done
same drgn_modules "$out/drgn-reference.modules" "$out/drgn-bsdmem.modules"
same crash_mod "$out/crash-reference/mod.names" "$out/crash-bsdmem/mod.names"
same crash_sys "$out/crash-reference/sys.fields" "$out/crash-bsdmem/sys.fields"

# QEMU's dump is the whole guest memory (2 GiB): kept only to look into a
# failure, without its blocks of zeros (free memory, mostly).
if [ $fail -eq 0 ]; then
	rm -f "$ref"
elif [ -f "$ref" ]; then
	fallocate --dig-holes "$ref" 2>/dev/null
fi
finish
