#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The unit and integration suites again, on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan), then the unit suite under valgrind
# memcheck. scripts/test.sh runs it after the main suites; by hand (as root,
# services started as for scripts/test.sh):
#   scripts/sanitizers.sh [--no-valgrind]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
valgrind=true
[ "${1:-}" = --no-valgrind ] && valgrind=false
build=${HOCUS_ASAN_BUILD:-$HOCUS_ROOT/build-asan}
if [ ! -f "$build/build.ninja" ]; then
    say "Configuring the sanitizer build in $build (ASan+UBSan)"
    meson setup "$build" "$HOCUS_ROOT" -De2e=false -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
say "Building with ASan+UBSan"
ninja -C "$build" >/dev/null
# Any UBSan report fails the test. Leaks are checked in the unit suite; in
# the integration suite hocusd exits while its libvirt teardown thread may
# still hold a connection's memory (by design it never waits for libvirtd on
# the way out), so there ASan checks memory errors only.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
say "Unit suite under ASan+UBSan, with leak checks"
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
    meson test -C "$build" --suite unit --no-rebuild --print-errorlogs || rc=1
say "Integration suite (hocusd and its clients) under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=0 \
    meson test -C "$build" --suite integration --no-rebuild --print-errorlogs || rc=1
if $valgrind; then
    say "Unit suite under valgrind memcheck (build: $HOCUS_BUILD)"
    meson test -C "$HOCUS_BUILD" --suite core --suite io --no-rebuild --print-errorlogs \
        --wrapper "valgrind --error-exitcode=99 --errors-for-leak-kinds=definite --leak-check=full --quiet" ||
        rc=1
fi
exit $rc
