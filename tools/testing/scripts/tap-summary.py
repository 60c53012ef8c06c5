#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise the TAP that a guest printed between '@@SUITE name' markers.

    tap-summary.py LEVEL RESULTS_LOG [VERDICT_FILE]

Prints one line per test ('ok - LEVEL.suite.test', 'not ok - ...',
'ok - ... # SKIP reason'), then 'RESULT LEVEL passed failed skipped'.
A suite whose plan ('1..N') does not match the tests it reported counts
one failure, as does a guest verdict other than 'ok' (oops, WARN, timeout).
"""
import re
import sys

TEST = re.compile(r'^(not ok|ok)\s+\d+\s+(.*?)(?:\s+#\s*(SKIP|skip)\s*(.*))?$')
PLAN = re.compile(r'^1\.\.(\d+)')


def main():
    level, log = sys.argv[1], sys.argv[2]
    verdict = 'ok'
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            verdict = f.read().strip() or 'missing verdict'
    passed = failed = skipped = 0
    suite, plan, seen = None, None, 0

    def close_suite():
        nonlocal failed
        if suite is not None and plan is not None and plan != seen:
            print(f'not ok - {level}.{suite}.plan # planned {plan}, ran {seen}')
            failed += 1
        elif suite is not None and plan is None:
            print(f'not ok - {level}.{suite}.plan # no TAP plan (crashed?)')
            failed += 1

    with open(log, errors='replace') as f:
        for raw in f:
            line = raw.rstrip('\r\n')
            if line.startswith('@@SUITE '):
                close_suite()
                suite, plan, seen = line.split(None, 1)[1].strip(), None, 0
                continue
            if suite is None:
                continue
            m = PLAN.match(line)
            if m and plan is None:
                plan = int(m.group(1))
                continue
            m = TEST.match(line)
            if not m:
                if line.startswith('#') and 'not ok' not in line:
                    pass
                continue
            seen += 1
            name = f'{level}.{suite}.{m.group(2)}'
            if m.group(1) == 'not ok':
                failed += 1
                print(f'not ok - {name}')
            elif m.group(3):
                skipped += 1
                print(f'ok - {name} # SKIP {m.group(4)}')
            else:
                passed += 1
                print(f'ok - {name}')
    close_suite()
    if verdict != 'ok':
        print(f'not ok - {level}.guest # {verdict}')
        failed += 1
    print(f'RESULT {level} {passed} {failed} {skipped}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
