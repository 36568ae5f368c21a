#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The unit and integration suites again, on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan), leaks checked in both; then under
# valgrind memcheck: the core and io unit suites, the integration suite with
# every hocusd it starts running under valgrind, and the in-process service
# and libvirt-connection tests. A memory error or a definite leak fails the
# run: in hocusd, the integration tests see the tools' exit status 99 when
# they stop it (tests/lib/hd-test-env.c). scripts/test.sh runs this after the main suites;
# by hand (as root, services started as for scripts/test.sh):
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
# Any UBSan report fails the test; so does any leak, in the test programs and
# in hocusd (exit status 99 for the harness to see).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:exitcode=99
export LSAN_OPTIONS=exitcode=99
rc=0
say "Unit suite under ASan+UBSan, with leak checks"
meson test -C "$build" --suite unit --no-rebuild --print-errorlogs || rc=1
say "Integration suite (hocusd and its clients) under ASan+UBSan, with leak checks"
meson test -C "$build" --suite integration --no-rebuild --print-errorlogs || rc=1
unset ASAN_OPTIONS LSAN_OPTIONS
if $valgrind; then
    vg="valgrind --error-exitcode=99 --errors-for-leak-kinds=definite --leak-check=full --quiet"
    say "Unit suite under valgrind memcheck (build: $HOCUS_BUILD)"
    meson test -C "$HOCUS_BUILD" --suite core --suite io --no-rebuild --print-errorlogs \
        --wrapper "$vg" || rc=1
    say "Integration suite with hocusd under valgrind memcheck"
    HD_TEST_HOCUSD_WRAPPER="$vg" meson test -C "$HOCUS_BUILD" --suite integration --no-rebuild \
        --print-errorlogs --timeout-multiplier 4 || rc=1
    say "In-process service and libvirt-connection tests under valgrind memcheck"
    meson test -C "$HOCUS_BUILD" service-core hypervisor --no-rebuild --print-errorlogs \
        --timeout-multiplier 4 --wrapper "$vg" || rc=1
fi
exit $rc
