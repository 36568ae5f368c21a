#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A guest that reads a 400 MiB file and goes idle gives the page cache back:
# hocus-agent reclaims it, free page reporting returns it. The same guest
# without the agent's reclaim (hocus.reclaim=0) keeps it.
. "$(dirname "$0")/lib.sh"

write_config
start_hocusd
new_name ws cache
new_name control cache-noagent
hocusctl create "$ws" >/dev/null
define_variant "$ws" "$control" "s|</cmdline>| hocus.reclaim=0</cmdline>|"

# cache_cycle WS SECS: warm up with a small separate file (so that the
# pre-read level is an idle workspace's steady state: filesystem metadata,
# the agent's small cache floor), then read 400 MiB, go idle, and follow RSS
# for SECS. Prints "base_kib peak_kib final_kib seconds_to_within_15pct".
cache_cycle() {
    local ws=$1 secs=$2 base peak final took
    guest_run "$ws" 240 "hocus-disk prepare 400" >/dev/null || fail "$ws: cannot prepare the file"
    guest_run "$ws" 120 "hocus-disk cache 64" >/dev/null || fail "$ws: cannot warm up"
    settle_rss "$ws"
    base=$(domain_rss "$ws")
    start_rss_sampler "$ws"
    guest_run "$ws" 240 "hocus-disk cache 400" >/dev/null || fail "$ws: cannot read the file"
    peak=$(stop_rss_sampler "$ws")
    read -r final took <<< "$(wait_rss_below "$ws" $((base * 115 / 100)) "$secs")" || true
    echo "$base $peak $final $took"
}

measure "boot_seconds_$ws=$(boot "$ws")"
read -r base peak final took <<< "$(cache_cycle "$ws" 60)"
measure "cache_agent base_mib=$(mib "$base") peak_mib=$(mib "$peak") after_mib=$(mib "$final") seconds_to_within_15pct=$took"
note "agent: $(first_agent_line "$ws" 10 | jq -c .reclaim)"
virsh -c $URI destroy "$ws" >/dev/null     # one VM at a time: no contention

measure "boot_seconds_$control=$(boot "$control")"
read -r cbase cpeak cfinal ctook <<< "$(cache_cycle "$control" 60)"
ccached=$(guest_run "$control" 10 "awk '/^Cached:/ {print \$2}' /proc/meminfo")
measure "cache_no_agent base_mib=$(mib "$cbase") peak_mib=$(mib "$cpeak") after_60s_mib=$(mib "$cfinal") guest_cached_mib=$(mib "${ccached:-0}")"

[ $((peak - base)) -gt $((100 * 1024)) ] || fail "the read did not raise RSS; the test measures nothing"
[ "$took" != 60 ] || fail "with the agent RSS stayed above base + 15% for 60 s ($(mib "$final") MiB)"
[ "$ctook" = 60 ] || fail "without the agent RSS came back too: the control does not isolate the agent"
[ "${ccached:-0}" -gt $((300 * 1024)) ] || fail "the control guest dropped its cache (Cached ${ccached} KiB)"
echo PASS
