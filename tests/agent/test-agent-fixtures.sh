#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real hocus-agent binary against fixture /proc and /sys trees (--root):
# a complete guest, and guests with PSI, cgroup v2, DAMON missing or with
# garbage in their files. The agent must keep writing valid lines, say what is
# missing, and exit 0 after --count lines.
set -euo pipefail
agent=$1
. "$(dirname "$0")/../lib/skip.sh"
command -v jq >/dev/null || skip "jq is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

full_tree() {
    local r=$1
    mkdir -p "$r/proc/pressure" "$r/sys/fs/cgroup" "$r/sys/kernel/mm/transparent_hugepage" \
        "$r/sys/module/page_reporting/parameters" "$r/sys/module/damon_reclaim/parameters" \
        "$r/sys/bus/virtio/drivers/virtio_balloon/virtio3" "$r/sys/bus/virtio/devices/virtio3"
    printf 'MemTotal: 1001356 kB\nMemFree: 412340 kB\nMemAvailable: 812000 kB\nBuffers: 0 kB\nCached: 421888 kB\nActive(file): 12000 kB\nInactive(file): 408000 kB\nAnonPages: 10240 kB\nShmem: 512 kB\nMlocked: 0 kB\n' > "$r/proc/meminfo"
    printf 'some avg10=0.00 avg60=0.00 avg300=0.00 total=100\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=50\n' > "$r/proc/pressure/memory"
    echo "console=ttyS0" > "$r/proc/cmdline"
    echo "cpu io memory pids" > "$r/sys/fs/cgroup/cgroup.controllers"
    echo "anon 1048576" > "$r/sys/fs/cgroup/memory.stat"
    : > "$r/sys/fs/cgroup/memory.reclaim"
    echo "always madvise [never]" > "$r/sys/kernel/mm/transparent_hugepage/enabled"
    echo 0 > "$r/sys/module/page_reporting/parameters/page_reporting_order"
    echo 0000011100000000000000000000000000000000 > "$r/sys/bus/virtio/devices/virtio3/features"
    for p in enabled:N kdamond_pid:-1 nr_reclaim_tried_regions:0 bytes_reclaim_tried_regions:0 \
             nr_reclaimed_regions:0 bytes_reclaimed_regions:0 nr_quota_exceeds:0; do
        echo "${p#*:}" > "$r/sys/module/damon_reclaim/parameters/${p%%:*}"
    done
}

# run NAME: two lines from the agent on fixture $tmp/NAME; prints the last.
run() {
    local out
    out=$("$agent" --root "$tmp/$1" --stdout --count 2 --interval-ms 100 --lock-process none)
    [ "$(wc -l <<< "$out")" = 2 ] || { echo "FAIL $1: expected 2 lines, got: $out"; exit 1; }
    while IFS= read -r l; do
        jq -e '.v == 1 and .type == "telemetry"' >/dev/null <<< "$l" ||
            { echo "FAIL $1: bad line: $l"; exit 1; }
        [ ${#l} -lt 4096 ] || { echo "FAIL $1: line too long"; exit 1; }
    done <<< "$out"
    tail -n1 <<< "$out"
}

expect() {  # case jq-expression
    jq -e "$2" >/dev/null <<< "$3" || { echo "FAIL $1: $2 on $3"; exit 1; }
    echo "ok   $1: $2"
}

full_tree "$tmp/full"
l=$(run full)
expect full '.recipe.ok == true and (.recipe.missing | length) == 0' "$l"
expect full '.mem.total == 1025388544 and .cgroup.file == 430080000' "$l"
expect full '.recipe.damon_reclaim.enabled == false' "$l"
expect full '.reclaim.enabled == true and .reclaim.ops >= 1' "$l"
# Asked for half of (420000 KiB - 16 MiB floor), and really wrote it to
# memory.reclaim (the fixture file keeps the last write), without an error.
expect full ".reclaim.requested_bytes == $(( (420000 * 1024 - 16 * 1048576) / 2 ))" "$l"
expect full '.reclaim.errors == 0' "$l"
written=$(cat "$tmp/full/sys/fs/cgroup/memory.reclaim")
[ "$written" = "$(jq -r .reclaim.last_step_bytes <<< "$l")" ] ||
    { echo "FAIL full: memory.reclaim holds '$written', the agent reports $(jq -c .reclaim <<< "$l")"; exit 1; }
echo "ok   full: memory.reclaim holds the $written bytes asked for"

cp -r "$tmp/full" "$tmp/nopsi"; rm -r "$tmp/nopsi/proc/pressure"
l=$(run nopsi)
expect nopsi '.psi.some == null and .recipe.psi == false and (.recipe.missing | index("psi")) != null' "$l"
expect nopsi '.recipe.ok == false and .reclaim.enabled == true' "$l"

cp -r "$tmp/full" "$tmp/nocg"; rm -r "$tmp/nocg/sys/fs/cgroup"
l=$(run nocg)
expect nocg '(.recipe.missing | index("cgroup2_memory")) != null and .cgroup.anon == null' "$l"
# No cgroup: the file figure comes from /proc/meminfo, and reclaim writes fail (counted).
expect nocg '.cgroup.file == 430080000' "$l"
expect nocg '.reclaim.ops >= 1 and .reclaim.errors == .reclaim.ops' "$l"

cp -r "$tmp/full" "$tmp/nodamon"; rm -r "$tmp/nodamon/sys/module/damon_reclaim"
l=$(run nodamon)
expect nodamon '.recipe.damon_reclaim == null and (.recipe.missing | index("damon_reclaim")) != null' "$l"

cp -r "$tmp/full" "$tmp/garbage"
head -c 3000 /dev/urandom > "$tmp/garbage/proc/meminfo"
printf 'some avg10=banana\n' > "$tmp/garbage/proc/pressure/memory"
printf '[[[[' > "$tmp/garbage/sys/kernel/mm/transparent_hugepage/enabled"
echo 99999999999999999999999 > "$tmp/garbage/sys/module/page_reporting/parameters/page_reporting_order"
l=$(run garbage)
expect garbage '.mem == null and .psi.some == null and .recipe.thp == null' "$l"
expect garbage '.recipe.page_reporting_order == null and .recipe.ok == false' "$l"

mkdir -p "$tmp/empty"
l=$(run empty)
# Six: free_page_reporting is not listed separately when no balloon is bound.
expect empty '.mem == null and .recipe.balloon == false and (.recipe.missing | length) == 6' "$l"
echo PASS
