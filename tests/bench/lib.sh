# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the benchmark scripts: where results go and how raw figures are
# recorded. Source it after tests/e2e/lib.sh (which brings the private bus,
# hocusd, the guest console helpers and the clean-up at exit).

: "${BENCH_OUT:?set by run.sh}"
RAW="$BENCH_OUT/raw.jsonl"      # one JSON object per measurement
SERIES="$BENCH_OUT/series"      # RSS time series, one file per run of a job
mkdir -p "$SERIES"
CLK_TCK=$(getconf CLK_TCK)

# record JSON: append one measurement (compacted, validated by jq).
record() { jq -c . <<< "$1" >> "$RAW"; }

# CPU time (user + system, in clock ticks) of a process and all its threads.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# sample_rss FILE NAME=PID...: until killed (or the runner is gone), every
# 200 ms append "time name rss_kib" for each process to FILE. Runs in the
# background.
sample_rss() {
    local file=$1 pair name pid rss key val rest
    shift
    while kill -0 $$ 2>/dev/null; do
        for pair in "$@"; do
            name=${pair%%=*} pid=${pair#*=}
            rss=
            while read -r key val rest; do
                [ "$key" = VmRSS: ] && { rss=$val; break; }
            done 2>/dev/null < "/proc/$pid/status" || true
            [ -n "$rss" ] && printf '%s %s %s\n' "$(now)" "$name" "$rss"
        done
        sleep 0.2
    done >> "$file"
}
