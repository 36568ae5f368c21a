#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmark runner (scripts/bench.sh sets up the machine and calls it).
# Runs B1-B5 with real libvirtd and QEMU, writes raw figures to
# OUT/raw.jsonl and OUT/series/, then tests/bench/report.py turns them into
# OUT/results.json, OUT/report.md and OUT/*.png. docs/performance.md explains
# the figures.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)

usage() {
    cat <<EOF
Usage: tests/bench/run.sh [OPTION]...
Measure the memory recipe (configurations A-D) and hocusd's own cost.

  --out DIR        where the results go (default bench-results/YYYYmmdd-HHMMSS)
  --reps N         repetitions of every figure (default 3; at least 3 for a report)
  --only LIST      comma-separated subset of B1,B2,B3,B4,B5 (default all)
  --sizes LIST     B4 workspace counts (default 10,100,1000,5000)
  --idle-ws N      B3 workspaces per configuration (default 3)
  --b5-ws N        B5 workspaces of 1 GiB, under a limit of half their sum (default 4)
  --publish        also replace the report section of docs/performance.md
  -h, --help       this text

Needs root, a running libvirtd and the guest image (scripts/bench.sh
provides them). Exit status: 0 report written, 1 a benchmark failed, 2 usage.
EOF
}

BENCH_OUT= BENCH_REPS=3 ONLY=B1,B2,B3,B4,B5 SIZES=10,100,1000,5000 IDLE_WS=3 PUBLISH=no
while [ $# -gt 0 ]; do
    case $1 in
    --out) BENCH_OUT=${2:?--out needs a directory}; shift ;;
    --reps) BENCH_REPS=${2:?--reps needs a number}; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --sizes) SIZES=${2:?--sizes needs a list}; shift ;;
    --idle-ws) IDLE_WS=${2:?--idle-ws needs a number}; shift ;;
    --b5-ws) B5_N=${2:?--b5-ws needs a number}; shift ;;
    --publish) PUBLISH=yes ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $BENCH_REPS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --reps must be a positive number" >&2; exit 2; }
[[ $IDLE_WS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --idle-ws must be a positive number" >&2; exit 2; }
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "run.sh: --sizes must be numbers separated by commas" >&2; exit 2; }
for b in ${ONLY//,/ }; do
    case $b in B1 | B2 | B3 | B4 | B5) ;; *) echo "run.sh: unknown benchmark '$b' in --only" >&2; exit 2 ;; esac
done
wants() { [[ ,$ONLY, == *,$1,* ]]; }

. "$ROOT/scripts/lib.sh"   # say, HOCUS_BUILD
BUILD=$HOCUS_BUILD
export HD_HOCUSD=${HD_HOCUSD:-$BUILD/src/hocusd}
export HD_HOCUSCTL=${HD_HOCUSCTL:-$BUILD/src/hocusctl}
export HD_BENCH_DBUS=${HD_BENCH_DBUS:-$BUILD/tests/bench/hd-bench-dbus}
export HD_POLICY=${HD_POLICY:-$ROOT/systemd/dev.hocus.Hocusd1.conf}
export HD_TEST_DATA_DIR=${HD_TEST_DATA_DIR:-$ROOT/tests/data}
for f in "$HD_HOCUSD" "$HD_HOCUSCTL" "$HD_BENCH_DBUS"; do
    [ -x "$f" ] || { echo "run.sh: $f is not built (ninja -C $BUILD)" >&2; exit 1; }
done
BENCH_OUT=${BENCH_OUT:-$ROOT/bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
rm -f "$BENCH_OUT/raw.jsonl"

# The e2e library: the private bus, hocusd, guest console helpers, clean-up at
# exit. A missing prerequisite is an error here, not a skip.
HD_ALLOW_SKIPS=0
. "$ROOT/tests/e2e/lib.sh"
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/daemon.sh"
. "$BENCH_DIR/guests.sh"
. "$BENCH_DIR/overcommit.sh"

started=$(date +%s)
# The accelerator hocusd chooses here, and why (docs/accelerator.md).
accel_probe=$("$HD_HOCUSD" --probe-accelerator 2>/dev/null)
jq -n --arg cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)" \
    --argjson cores "$(nproc)" \
    --argjson mem_kib "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" \
    --arg accel "$(sed -n 's/^accelerator: //p' <<< "$accel_probe" | tr a-z A-Z)" \
    --arg accel_reason "$(sed -n 's/^reason: //p' <<< "$accel_probe")" \
    --arg kernel "$(uname -r)" --arg qemu "$(qemu-system-x86_64 --version | head -n1)" \
    --arg libvirt "$(virsh --version)" \
    --arg commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson reps "$BENCH_REPS" \
    '{cpu: $cpu, cores: $cores, mem_kib: $mem_kib, accel: $accel, accel_reason: $accel_reason, host_kernel: $kernel,
      qemu: $qemu, libvirt: $libvirt, commit: $commit, date: $date, reps: $reps}' \
    > "$BENCH_OUT/machine.json"

# B4 first: it needs hocusd's bus name for itself and a quiet machine.
if wants B4; then
    say "B4: hocusd's cost for ${SIZES//,/, } workspaces (test driver)"
    b4_run ${SIZES//,/ }
fi
if wants B1 || wants B2 || wants B3; then
    write_config
    start_hocusd
    bench_configs
    wants B1 && b1_run
    wants B2 && b2_run
    wants B3 && b3_run "$IDLE_WS"
fi
if wants B5; then
    [ -n "${HOCUSD_PID:-}" ] || { write_config; start_hocusd; }
    b5_run
fi
jq -n --argjson s "$(($(date +%s) - started))" '{runner_seconds: $s}' > "$BENCH_OUT/timing.json"

if [ -s "$BENCH_OUT/raw.jsonl" ]; then # B1-B4 (B5 wrote b5.md itself)
    say "Writing the report"
    python3 "$BENCH_DIR/report.py" "$BENCH_OUT"
    if [ "$PUBLISH" = yes ]; then
        python3 "$BENCH_DIR/report.py" --publish "$ROOT/docs/performance.md" "$BENCH_OUT"
    fi
fi
say "Done in $(($(date +%s) - started)) s: $BENCH_OUT/report.md"
