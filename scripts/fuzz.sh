#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz and runs each
# from its seed corpus for a bounded time. scripts/test.sh runs it with 10 s
# per target; run it longer by hand:
#   scripts/fuzz.sh [--seconds N]      (default 10 per target)
# A crash leaves its input in build-fuzz/artifacts/; replay it with
#   build-fuzz/tests/fuzz/fuzz-NAME build-fuzz/artifacts/fuzz-NAME-crash-...
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=10
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) secs=$2; shift 2 ;;
    -h | --help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done
build=${HOCUS_FUZZ_BUILD:-$HOCUS_ROOT/build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
    say "Configuring the fuzzing build in $build (clang, ASan+UBSan)"
    CC=clang meson setup "$build" "$HOCUS_ROOT" -Dfuzzing=true -De2e=false \
        -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false >/dev/null
fi
say "Building the fuzz targets"
ninja -C "$build" $(cd "$build" && ninja -t targets all | sed -n 's|^\(tests/fuzz/fuzz-[a-z-]*\): .*|\1|p' | sort -u) >/dev/null
mkdir -p "$build/artifacts"
say "Fuzzing each parser for $secs s"
rc=0
FUZZ_SECONDS=$secs FUZZ_ARTIFACTS=$build/artifacts \
    meson test -C "$build" --suite fuzz --no-rebuild --print-errorlogs --num-processes 2 -v \
    > "$build/fuzz.log" 2>&1 || rc=$?
grep -E '^FUZZ |^FAIL|^Ok:|^Fail:' "$build/fuzz.log" | sed 's/^/    /'
[ "$rc" = 0 ] || say "Fuzzing failed (exit $rc); log: $build/fuzz.log"
exit "$rc"
