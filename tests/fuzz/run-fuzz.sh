#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A bounded libFuzzer run of one target from its seed corpus (copied, so the
# tree is not written to). FUZZ_SECONDS (default 10) bounds it; a crash, leak
# or assertion fails it and leaves the input in FUZZ_ARTIFACTS (default /tmp).
#   run-fuzz.sh TARGET SEED_DIR
set -euo pipefail
target=$1 seeds=$2
secs=${FUZZ_SECONDS:-10}
artifacts=${FUZZ_ARTIFACTS:-/tmp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds/." "$work/"
log="$work/.log"
rc=0
"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$(basename "$target")-" "$work" > "$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" != 0 ]; then
    tail -n 40 "$log"
    echo "FAIL: $(basename "$target") exit $rc after ${execs:-?} executions"
    exit 1
fi
echo "FUZZ $(basename "$target") executions=${execs:-0} seconds=$secs corpus=$(ls "$work" | wc -l)"
