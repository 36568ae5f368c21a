#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite from a fresh Debian 12 machine, as root:
# installs packages, builds, installs, builds the guest image, starts
# libvirtd/virtlogd/D-Bus if they are not running, runs every suite (lint,
# unit, integration, end-to-end), then the unit and integration suites again
# under ASan+UBSan and under valgrind (scripts/sanitizers.sh),
# and a bounded libFuzzer run of every parser (scripts/fuzz.sh), and stops
# what it started.
#   scripts/test.sh [--allow-skips] [--suite NAME]... [meson test options]
# With meson test options (a chosen suite, say), only the main suites run.
# A test that would be skipped (missing root, libvirtd, QEMU, the image, a
# tool) fails the run: everything it needs is installed and started here.
# --allow-skips (HD_ALLOW_SKIPS=1) lets it skip instead, for a developer on a
# partial machine; under CI=true skips always fail.
set -euo pipefail
case "${1:-}" in
-h | --help)
    # The comment at the top of this file is its usage.
    sed -n '3,/^$/{s/^# \{0,1\}//p}' "$0"
    exit 0
    ;;
esac
. "$(dirname "$0")/lib.sh"
need_root
export HD_ALLOW_SKIPS=0
if [ "${1:-}" = --allow-skips ]; then
    shift
    if [ "${CI:-}" = true ]; then
        say "--allow-skips is ignored under CI=true: a skipped test fails the run"
    else
        export HD_ALLOW_SKIPS=1
    fi
fi

"$HOCUS_ROOT/scripts/setup.sh"
"$HOCUS_ROOT/scripts/services.sh" start
trap '"$HOCUS_ROOT/scripts/services.sh" stop' EXIT

# Which accelerator this host gives workspaces, and why (the e2e tests'
# hocusd reuses this verdict from /var/lib/hocusd/accelerator.json).
say "Choosing the accelerator (hocusd --probe-accelerator)"
"$HOCUS_PREFIX/sbin/hocusd" --probe-accelerator 2>&1 | sed 's/^/    /'

say "Running the test suites"
start=$(date +%s)
rc=0
HD_GUEST_DIR="$HOCUS_GUEST_DIR" meson test -C "$HOCUS_BUILD" --print-errorlogs "$@" || rc=$?
# Every test says why it would skip and fails instead (tests/lib/skip.sh,
# hd_test_skip()); this catches one that exits 77 some other way.
skipped=$(grep -c '"result": "SKIP"' "$HOCUS_BUILD/meson-logs/testlog.json" || true)
if [ "$skipped" -gt 0 ] && [ "$HD_ALLOW_SKIPS" != 1 ]; then
    say "$skipped test(s) skipped; a skip fails this run (--allow-skips to allow)"
    rc=1
fi
say "Tests finished in $(( $(date +%s) - start )) s (exit $rc); log: $HOCUS_BUILD/meson-logs/testlog.txt"
if [ $# -eq 0 ]; then
    start=$(date +%s)
    "$HOCUS_ROOT/scripts/sanitizers.sh" || rc=1
    "$HOCUS_ROOT/scripts/fuzz.sh" --seconds 10 || rc=1
    say "Sanitizer and fuzzing runs finished in $(( $(date +%s) - start )) s (exit $rc)"
fi
exit $rc
