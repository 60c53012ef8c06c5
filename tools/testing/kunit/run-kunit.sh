#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run bsdmem's KUnit suite in QEMU (TCG only) on a kernel built from
# Debian's linux-source-6.12 package.
#
#   tools/testing/kunit/run-kunit.sh [kunit.py filter_glob]
#
# The source tarball is extracted once per package version into
#   ${BSDMEM_CACHE:-$HOME/.cache/bsdmem}/kunit/linux-source-<version>
# and drivers/bsdmem of this repository is symlinked into it. The kernel
# is built in .../kunit/build-<version> with ccache (CCACHE_DIR under the
# cache too), so later runs only rebuild what changed.
#
# kunit.py's output and the raw console go to $BSDMEM_RESULTS/kunit.log
# (default <repo>/build/results). stdout gets one line per test case,
#   ok - kunit.<suite>.<case>
#   not ok - kunit.<suite>.<case>
#   ok - kunit.<suite>.<case> # SKIP <reason>
# ("# ..." lines carry diagnostics), then
#   RESULT kunit <passed> <failed> <skipped>
# all taken from the KTAP the kernel printed. A failed build, a crashed
# kernel or a run without test cases counts as one failure. Exit status
# is non-zero when anything failed.
#
# BSDMEM_KUNIT_VARIANT=rt builds and runs the same kernel with PREEMPT_RT
# (in .../kunit/build-<version>-rt, lines named kunit-rt.*): spinlocks
# become sleeping locks, so lockdep and DEBUG_ATOMIC_SLEEP there see what
# Debian's rt flavour would do. That config is drivers/bsdmem/.kunitconfig
# without transparent huge pages (PREEMPT_RT excludes them) and without
# KASAN: the plain debug kernel has it, and without it this kernel boots
# several times faster under TCG.
#
# Environment: BSDMEM_CACHE, BSDMEM_RESULTS, BSDMEM_KUNIT_TIMEOUT
# (seconds for the QEMU run, default 1800: a backstop, not a limit),
# BSDMEM_KUNIT_JOBS (default nproc), BSDMEM_VERBOSE=1 (also copy
# kunit.py's output to stderr).

set -euo pipefail

variant=${BSDMEM_KUNIT_VARIANT:-}
case $variant in
'') level=kunit ;;
rt) level=kunit-rt ;;
*) echo "BSDMEM_KUNIT_VARIANT=$variant: only rt is known" >&2; exit 2 ;;
esac

# Anything going wrong before kunit.py runs is reported as one failure.
setup_fail() {
	echo "not ok - $level.setup"
	echo "# $*"
	echo "RESULT $level 0 1 0"
	exit 1
}
trap 'setup_fail "line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR

# This script lives in <repo>/tools/testing/kunit/.
script_dir=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
repo=$(realpath "$script_dir/../../..")
results=${BSDMEM_RESULTS:-$repo/build/results}
log=$results/$level.log
timeout=${BSDMEM_KUNIT_TIMEOUT:-1800}
jobs=${BSDMEM_KUNIT_JOBS:-$(nproc)}
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz

mkdir -p "$results"

[ -f "$repo/drivers/bsdmem/Kconfig" ] ||
	setup_fail "$repo does not look like the bsdmem repository"
[ -f "$tarball" ] || setup_fail "$tarball missing (apt-get install $pkg)"
for tool in python3 qemu-system-x86_64 make gcc flex bison bc; do
	command -v "$tool" >/dev/null || setup_fail "$tool not installed"
done

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
	setup_fail "$pkg is not installed (dpkg-query)"
# Epoch colons and tildes are poison in make paths.
version=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+-' '_')

cache=${BSDMEM_CACHE:-${HOME:?}/.cache/bsdmem}
mkdir -p "$cache/kunit"
cache=$(realpath "$cache")
kdir=$cache/kunit
tree=$kdir/$pkg-$version
build=$kdir/build-$version${variant:+-$variant}

# One run at a time per cache: the tree and build dir are shared.
exec 9>"$kdir/.lock"
flock 9

# 1. Source tree, extracted atomically: a tree only ever appears whole.
if [ ! -d "$tree" ]; then
	rm -rf "$kdir"/.extract.*	# left over by interrupted runs
	tmp=$(mktemp -d "$kdir/.extract.XXXXXX")
	echo "# extracting $tarball into $tree" >&2
	tar -C "$tmp" -xJf "$tarball"
	[ -f "$tmp/$pkg/Makefile" ] || setup_fail "$tarball has no $pkg/ tree"
	mv "$tmp/$pkg" "$tree"
	rmdir "$tmp"
fi

# 2. Link the module into the tree (idempotent).
link=$tree/drivers/bsdmem
if [ -e "$link" ] && [ ! -L "$link" ]; then
	setup_fail "$link exists and is not our symlink"
fi
if [ "$(readlink "$link" || true)" != "$repo/drivers/bsdmem" ]; then
	ln -sfn "$repo/drivers/bsdmem" "$link"
fi

kconfig_line='source "drivers/bsdmem/Kconfig"'
if ! grep -qxF "$kconfig_line" "$tree/drivers/Kconfig"; then
	last=$(grep -n '^endmenu' "$tree/drivers/Kconfig" | tail -n 1 | cut -d: -f1)
	[ -n "$last" ] || setup_fail "no endmenu in $tree/drivers/Kconfig"
	sed -i "${last}i $kconfig_line\\n" "$tree/drivers/Kconfig"
fi
make_line='obj-$(CONFIG_BSDMEM) += bsdmem/'
grep -qxF "$make_line" "$tree/drivers/Makefile" ||
	echo "$make_line" >>"$tree/drivers/Makefile"

# 3. Configure, build and boot through kunit.py.
cc=gcc
hostcc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	hostcc="ccache gcc"
	export CCACHE_DIR=$cache/ccache
	mkdir -p "$CCACHE_DIR"
else
	echo "# ccache not installed: building without it" >&2
fi

kunitconfig=$repo/drivers/bsdmem/.kunitconfig
if [ "$variant" = rt ]; then
	kunitconfig=$build.kunitconfig
	mkdir -p "$build"
	{
		grep -v -e '^CONFIG_TRANSPARENT_HUGEPAGE=' -e '^CONFIG_KASAN=' \
			"$repo/drivers/bsdmem/.kunitconfig"
		echo '# PREEMPT_RT, as in Debian'"'"'s rt flavour (no THP there)'
		echo 'CONFIG_EXPERT=y'
		echo 'CONFIG_PREEMPT_RT=y'
	} >"$kunitconfig.tmp"
	# unchanged content keeps kunit.py from reconfiguring
	if cmp -s "$kunitconfig.tmp" "$kunitconfig"; then
		rm -f "$kunitconfig.tmp"
	else
		mv "$kunitconfig.tmp" "$kunitconfig"
	fi
fi

# test.log is only rewritten when the kernel boots; a stale one must not
# be mistaken for this run's results.
rm -f "$build/test.log"

kunit_cmd=(python3 "$tree/tools/testing/kunit/kunit.py" run
	--arch=x86_64
	--qemu_config="$script_dir/qemu_x86_64_tcg.py"
	--kunitconfig="$kunitconfig"
	--build_dir="$build"
	--make_options="CC=$cc"
	--make_options="HOSTCC=$hostcc"
	--jobs="$jobs"
	--timeout="$timeout"
	"$@")

trap - ERR
set +e
{
	echo "# $(date -u '+%F %T') UTC, $pkg $version, repo $repo"
	printf '$'; printf ' %q' "${kunit_cmd[@]}"; echo
} >"$log"
if [ "${BSDMEM_VERBOSE:-0}" = 1 ]; then
	PYTHONUNBUFFERED=1 "${kunit_cmd[@]}" </dev/null 2>&1 | tee -a "$log" >&2
	kunit_rc=${PIPESTATUS[0]}
else
	PYTHONUNBUFFERED=1 "${kunit_cmd[@]}" </dev/null >>"$log" 2>&1
	kunit_rc=$?
fi
echo "# kunit.py exit status $kunit_rc" >>"$log"
# The kernel just built, for the debug tier to boot: copied while the
# lock is held, since a run from another clone may rebuild the shared
# tree as soon as it is released. Only a kernel that booted and ran its
# tests is kept; a stale one must not stand in for it.
kernel_copy=$results/$level-kernel
rm -rf "$kernel_copy"
if [ -f "$build/test.log" ] && [ -f "$build/arch/x86/boot/bzImage" ]; then
	mkdir -p "$kernel_copy"
	cp "$build/arch/x86/boot/bzImage" "$build/.config" \
		"$build/include/config/kernel.release" "$kernel_copy/"
fi
if [ -f "$build/test.log" ]; then
	{
		echo
		echo "==== raw console output ($build/test.log) ===="
		cat "$build/test.log"
	} >>"$log"
fi

# 4. Summarise from the kernel's KTAP.
python3 - "$build/test.log" "$kunit_rc" "$log" "$repo" "$tree" "$level" <<'EOF'
import os
import re
import sys

test_log, kunit_log, repo, tree = sys.argv[1], sys.argv[3], sys.argv[4], sys.argv[5]
level = sys.argv[6]
kunit_rc = int(sys.argv[2])

VERSION = re.compile(r'\b(K?TAP) version [0-9]+\s*$')
END = re.compile(r'^\s*(List of all partitions:|'
		 r'Kernel panic - not syncing: VFS:|reboot: System halted)')
RESULT = re.compile(r'^(ok|not ok) [0-9]+(?: -)?(?: (.*?))?'
		    r'(?:\s+#\s*(SKIP)\b\s*(.*))?$')
PLAN = re.compile(r'^1\.\.([0-9]+)')
SUBTEST = re.compile(r'^#\s*Subtest:\s*(.*)$')
HEADER = re.compile(r'^(KTAP version|TAP version|# module:|1\.\.)')

out = []		# (status, name, reason, diagnostics)

def add(status, name, reason='', diag=()):
	out.append((status, name, reason, list(diag)))

def tail(path, n, pattern=None):
	try:
		with open(path, errors='replace') as f:
			lines = [l.rstrip('\n') for l in f]
	except OSError:
		return []
	if pattern:
		lines = [l for l in lines if re.search(pattern, l)]
	return lines[-n:]

ran = os.path.exists(test_log)
lines = tail(test_log, 10**7) if ran else []

prefix = None
top_plan = None
suites_done = 0
suite = None		# open suite: name, plan, cases
pending = []		# diagnostics since the last case result
recent = []		# last lines, for crash reports

def close_suite(status=None, reason=''):
	global suite, suites_done
	name, plan, cases = suite['name'], suite['plan'], suite['cases']
	for status_, case, reason_, diag in cases:
		add(status_, f'{name}.{case}', reason_, diag)
	if not cases and status is not None:
		add(status, name, reason)
	elif status == 'fail' and all(c[0] != 'fail' for c in cases):
		add('fail', name + '.suite', 'suite reported not ok')
	if plan is not None and len(cases) < plan:
		add('fail', name + '.crashed',
		    f'kernel output ended after {len(cases)} of {plan} cases',
		    recent[-15:])
	suite = None
	suites_done += 1

for raw in lines:
	raw = raw.rstrip()
	if prefix is None:
		m = VERSION.search(raw)
		if m:
			prefix = m.start()
		continue
	line = raw[prefix:]
	if END.search(line):
		break
	stripped = line.lstrip(' ')
	# keep what followed the last result line, for crash reports
	recent = [] if RESULT.match(stripped) else (recent + [line])[-30:]
	depth = (len(line) - len(stripped)) // 4
	if depth == 0:
		m = PLAN.match(stripped)
		if m and top_plan is None:
			top_plan = int(m.group(1))
			continue
		m = RESULT.match(stripped)
		if m:
			ok, name, skip, reason = m.groups()
			status = 'skip' if skip else ('ok' if ok == 'ok' else 'fail')
			if suite is None:
				suite = {'name': name or '?', 'plan': None, 'cases': []}
			suite['name'] = name or suite['name']
			close_suite(status, reason or '')
			pending = []
		continue
	if depth == 1:
		m = SUBTEST.match(stripped)
		if m:
			if suite is not None:
				close_suite()
			suite = {'name': m.group(1).strip(), 'plan': None, 'cases': []}
			pending = []
			continue
		m = PLAN.match(stripped)
		if m and suite is not None and suite['plan'] is None:
			suite['plan'] = int(m.group(1))
			continue
		m = RESULT.match(stripped)
		if m:
			if suite is None:	# KTAP without "# Subtest:"
				suite = {'name': '?', 'plan': None, 'cases': []}
			ok, name, skip, reason = m.groups()
			status = 'skip' if skip else ('ok' if ok == 'ok' else 'fail')
			suite['cases'].append((status, name, reason or '', pending))
			pending = []
			continue
	if suite is not None and depth >= 1 and not HEADER.match(stripped):
		pending = (pending + [line[4:]])[-40:]

if suite is not None:
	close_suite()
if top_plan is not None and suites_done < top_plan:
	add('fail', 'suites', f'only {suites_done} of {top_plan} suites reported',
	    recent[-15:])

if not out:
	if not ran:
		add('fail', 'build', 'kernel was not configured/built/booted',
		    tail(kunit_log, 25, r'(?i)error|missing:|not all kconfig|\*\*\*') or
		    tail(kunit_log, 25))
	else:
		add('fail', 'boot', 'no KUnit test case ran',
		    tail(test_log, 25))
elif kunit_rc != 0 and not any(o[0] == 'fail' for o in out):
	add('fail', 'run', f'kunit.py exited {kunit_rc}', tail(kunit_log, 15))

# KASAN and UBSAN fail the case that trips them; lockdep, a sleep in
# atomic context or a WARN fail none: the console must be clean as well.
# (The pattern every level judges a console by, lockdep's included.)
with open(os.path.join(repo, 'tools/testing/qemu/console-bad.ere')) as f:
	BAD = re.compile(f.read().strip())
if ran:
	bad = [l for l in lines if BAD.search(l)]
	if bad:
		add('fail', 'console_clean', 'the kernel reported problems',
		    bad[:15])
	else:
		add('ok', 'console_clean')

# Compiler diagnostics in our code, from kunit.py's build output.
# Paths inside the tree are shown relative to it: drivers/bsdmem/x.c.
def show(l):
	return l.replace(tree + '/', '')

shown = {show(d) for o in out for d in o[3]}
warn = []
for l in tail(kunit_log, 10**7, r': (warning|error):'):
	l = show(l)
	if ('bsdmem' in l or repo in l) and l not in warn and l not in shown:
		warn.append(l)
for l in warn[:30]:
	print('# ' + l)

counts = {'ok': 0, 'fail': 0, 'skip': 0}
for status, name, reason, diag in out:
	counts[status] += 1
	if status == 'ok':
		print(f'ok - {level}.{name}')
	elif status == 'skip':
		print(f'ok - {level}.{name} # SKIP {reason}'.rstrip())
	else:
		print(f'not ok - {level}.{name}')
		if reason:
			print('# ' + reason)
		for d in diag:
			print('#   ' + show(d))
print(f'# log: {kunit_log}')
print(f"RESULT {level} {counts['ok']} {counts['fail']} {counts['skip']}")
sys.exit(1 if counts['fail'] else 0)
EOF
