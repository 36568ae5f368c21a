#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The control loop against real QEMU: RSS on D-Bus matches /proc, the agent
# channel is consumed, memory the guest frees produces a plausible reclaim
# latency, a SIGSTOPped QEMU neither slows D-Bus nor stops the other
# workspace's figures, a guest that floods its channel with garbage and a
# 10 MiB line disturbs nothing, a reset guest's agent is read again, and
# without /proc the RSS comes from libvirt.
. "$(dirname "$0")/lib.sh"

# 1 MiB per tick, so the 10 MiB line drains in seconds; the default (64 KiB)
# is the same code path, only slower to drain.
write_config '"metrics": { "agent_budget": "1M" }'
start_hocusd
new_name a met-a
new_name b met-b
hocusctl create "$a" >/dev/null
hocusctl create "$b" --cmdline "hocus.agent=off" >/dev/null
measure "boot_seconds_a=$(boot "$a")"
measure "boot_seconds_b=$(boot "$b")"

prop() { ws_prop "$1" "$2"; }
present() { ! prop "$1" Absent | jq -e --arg k "$2" 'index($k) != null' >/dev/null; }

# ---- RSS on D-Bus against /proc/PID/status ----
bracket_rss "$a" proc_rss_bytes ||
    fail "RssBytes $RSS_DBUS is not within 5% of VmRSS ($RSS_BEFORE before, $RSS_AFTER after)"
measure "rss_dbus=$RSS_DBUS rss_proc_before=$RSS_BEFORE rss_proc_after=$RSS_AFTER"
[ "$(prop "$a" AgentConnected)" = true ] || fail "hocusd is not connected to $a's agent channel"
[ "$(prop "$a" Guest | jq '.mem_total.data > 500000000')" = true ] ||
    fail "no guest memory figures from the agent: $(prop "$a" Guest)"
present "$a" GuestUsedBytes || fail "no balloon statistics for $a"
present "$a" FootprintRatio || fail "no footprint ratio for $a"
note "$(hocusctl status)"

# ---- the balloon statistics map to the guest's own figures ----
# GuestFreeBytes is the guest's MemFree and GuestCacheBytes its Cached (from
# the balloon driver); the agent reads the same two from /proc/meminfo. In an
# idle guest they agree within a few MiB (MemAvailable, the wrong mapping,
# is some 10 MiB away from MemFree here).
mapped=false
for _ in 1 2 3 4 5; do
    g=$(prop "$a" Guest)
    d_free=$(( $(prop "$a" GuestFreeBytes) - $(jq '.mem_free.data' <<< "$g") ))
    d_cache=$(( $(prop "$a" GuestCacheBytes) - $(jq '.mem_cached.data' <<< "$g") ))
    d_free=${d_free#-} d_cache=${d_cache#-}
    if [ "$d_free" -le 4194304 ] && [ "$d_cache" -le 4194304 ]; then mapped=true; break; fi
    sleep 1
done
measure "balloon_vs_agent free_diff_bytes=$d_free cache_diff_bytes=$d_cache"
$mapped || fail "balloon statistics and the agent disagree: free by $d_free, cache by $d_cache bytes"

# ---- reclaim latency ----
present "$a" ReclaimLatencySec && fail "a reclaim latency before anything was freed"
settle_rss "$a"
# A kernel message on the console can hide guest_run's end marker; the log
# file below is the real evidence that the command ran.
guest_run "$a" 10 "hocus-mem alloc 400 2 > /tmp/m.log 2>&1 &" >/dev/null ||
    note "no end marker from the console; waiting for the helper's log instead"
guest_wait_for "$a" /tmp/m.log freed 120
poll 60 1 present "$a" ReclaimLatencySec || fail "no reclaim latency 60 s after the guest freed 400 MiB"
# The guest's free memory can grow by the 400 MiB over two balloon samples
# (seen once: 107 MiB, then the rest). Each jump is its own measurement and
# the properties show the latest, so wait for the one that covers most of it.
covers_most() { [ "$(prop "$a" ReclaimBytes)" -ge $(( 200 * 1048576 )) ]; }
poll 60 1 covers_most ||
    note "no measurement of 200 MiB or more within 60 s; the last one is checked below"
lat=$(prop "$a" ReclaimLatencySec)
bytes=$(prop "$a" ReclaimBytes)
measure "reclaim_latency_seconds=$lat reclaim_bytes_mib=$(( bytes / 1048576 ))"
awk -v l="$lat" 'BEGIN { exit !(l >= 0 && l <= 30) }' || fail "implausible reclaim latency $lat s"
[ "$bytes" -ge $(( 200 * 1048576 )) ] || fail "the measured jump is only $bytes bytes"

# ---- a stopped QEMU ----
pid_a=$(qemu_pid "$a")
kill -STOP "$pid_a"
t_b0=$(prop "$b" SampleTimeUsec)
worst=0
for i in $(seq 1 10); do
    t0=$(date +%s%N)
    hocusctl --json show "$a" >/dev/null || { kill -CONT "$pid_a"; fail "hocusctl show failed with QEMU stopped"; }
    busctl --address "$BUS" call dev.hocus.Hocusd1 /dev/hocus/Hocusd1 dev.hocus.Hocusd1.Manager \
        GetMetrics >/dev/null || { kill -CONT "$pid_a"; fail "GetMetrics failed with QEMU stopped"; }
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.5
done
t_b1=$(prop "$b" SampleTimeUsec)
kill -CONT "$pid_a"
measure "sigstop_worst_two_calls_ms=$worst b_sample_advanced_usec=$(( t_b1 - t_b0 ))"
# Generous bound for a loaded 2-core TCG host; the benchmark measures the real figure.
[ "$worst" -lt 2000 ] || fail "D-Bus calls took $worst ms with one QEMU stopped"
[ $(( t_b1 - t_b0 )) -ge 3000000 ] || fail "$b's figures stopped updating while $a was stopped"
kill -0 "$HOCUSD_PID" || fail "hocusd died"

# ---- a guest that floods its channel ----
# b runs without the agent (hocus.agent=off), so its console shell can own the port.
port=$(guest_run "$b" 10 'for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = dev.hocus.agent.0 ] && echo /dev/${p##*/}; done')
[ -n "$port" ] || fail "no dev.hocus.agent.0 port in $b"
# While b floods, a's figures and agent lines keep coming and D-Bus answers.
a_seq() { prop "$a" AgentLine | jq -r 'fromjson? | .seq // -1'; }
a_seq0=$(a_seq) a_t0=$(prop "$a" SampleTimeUsec) t0=$(date +%s%N)
(guest_run "$b" 120 "{ printf 'garbage\n{\"v\":1\n\377\376\n{\"v\":2,\"type\":\"telemetry\"}\n'; head -c 10485760 /dev/zero | tr '\\0' x; printf '\n{\"v\":1,\"type\":\"telemetry\",\"seq\":777,\"mem\":{\"total\":68719476736,\"free\":68719476736,\"cached\":0}}\n'; } > $port; echo written" \
    > "$E2E_DIR/flood.out") &
flooder=$!
worst=0
while kill -0 "$flooder" 2>/dev/null; do
    t=$(date +%s%N)
    busctl --address "$BUS" call dev.hocus.Hocusd1 /dev/hocus/Hocusd1 dev.hocus.Hocusd1.Manager \
        GetMetrics >/dev/null || fail "GetMetrics failed during the flood"
    ms=$(( ($(date +%s%N) - t) / 1000000 ))
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.5
done
wait "$flooder" || true
grep -q written "$E2E_DIR/flood.out" || fail "the guest could not write to $port"
flood_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
a_seq1=$(a_seq) a_t1=$(prop "$a" SampleTimeUsec)
measure "flood_ms=$flood_ms getmetrics_during_flood_worst_ms=$worst a_lines_during_flood=$(( a_seq1 - a_seq0 )) a_sample_advanced_ms=$(( (a_t1 - a_t0) / 1000 ))"
# Generous bounds for a loaded 2-core TCG host; the benchmark measures the real figures.
[ "$worst" -lt 2000 ] || fail "GetMetrics took $worst ms during $b's flood"
[ $(( (a_t1 - a_t0) / 1000 )) -ge $(( flood_ms - 3000 )) ] ||
    fail "$a's figures advanced $(( (a_t1 - a_t0) / 1000 )) ms during a $flood_ms ms flood from $b"
[ "$a_seq1" -ge $(( a_seq0 + flood_ms / 3000 )) ] ||
    fail "$a's agent lines went $a_seq0 -> $a_seq1 during a $flood_ms ms flood from $b"
seq_is() { [ "$(prop "$1" AgentLine | jq -r 'fromjson? | .seq // empty')" = "$2" ]; }
poll 60 1 seq_is "$b" 777 ||
    fail "the valid line after the flood did not arrive: $(prop "$b" AgentLine)"
kill -0 "$HOCUSD_PID" || fail "hocusd died during the flood"
# That last line claims 64 GiB in a 1 GiB guest: published clamped to what it was given.
[ "$(prop "$b" Guest | jq '.mem_total.data')" = "$(prop "$b" ConfiguredBytes)" ] ||
    fail "$b's claimed 64 GiB is published as $(prop "$b" Guest | jq -c '.mem_total'), not clamped to $(prop "$b" ConfiguredBytes)"
[ "$(prop "$b" Guest | jq '.mem_free.data')" -le "$(prop "$b" ConfiguredBytes)" ] ||
    fail "$b's free memory is published beyond its configured size"
grep -q "Workspace $b: ignored [1-9][0-9]* invalid agent line(s)" "$E2E_DIR/hocusd.log" ||
    fail "hocusd did not log the invalid lines"
grep -q "and [1-9][0-9]* oversized" "$E2E_DIR/hocusd.log" || fail "the 10 MiB line was not counted"
note "$(grep "ignored" "$E2E_DIR/hocusd.log" | tail -n1)"
# ---- a guest reset: hocusd keeps reading the agent, which starts again ----
a_up() { prop "$a" AgentLine | jq -r 'fromjson? | .uptime_ms // -1'; }
up0=$(a_up)
virsh -c $URI reset "$a" >/dev/null || fail "virsh reset $a failed"
restarted=false
for i in $(seq 1 120); do
    up=$(a_up)
    # The new boot's agent, read for a few lines already.
    if [ "$up" -ge 0 ] && [ "$up" -lt "$up0" ] && [ "$up" -ge 3000 ]; then restarted=true; break; fi
    sleep 1
done
$restarted || fail "no agent lines from $a after its reset (uptime_ms $up0 -> $(a_up))"
[ "$(prop "$a" AgentConnected)" = true ] || fail "AgentConnected is not true after the reset"
measure "agent_lines_again_after_reset_seconds=$i"

note "hocusd RSS: $(rss_kib "$HOCUSD_PID") KiB"
[ "$(rss_kib "$HOCUSD_PID")" -lt 65536 ] || fail "hocusd grew to $(rss_kib "$HOCUSD_PID") KiB"

# ---- /proc unreadable: RSS comes from libvirt's balloon statistics ----
mkdir -p "$E2E_DIR/empty-root"
write_config '"host_root": "'"$E2E_DIR/empty-root"'"'
stop_pid "$HOCUSD_PID"
start_hocusd
poll 50 0.2 present "$a" RssBytes || fail "no RssBytes for $a without /proc: $(prop "$a" Absent)"
# $a was reset above and its RSS still moves (free page reporting).
lv_rss_bytes() {
    local k
    k=$(virsh -c $URI domstats --balloon "$1" | sed -n 's/^ *balloon.rss=//p')
    [ -z "$k" ] || echo $((k * 1024))
}
bracket_rss "$a" lv_rss_bytes ||
    fail "without /proc RssBytes $RSS_DBUS is not within 5% of libvirt's balloon.rss ($RSS_BEFORE before, $RSS_AFTER after)"
measure "rss_dbus_without_proc=$RSS_DBUS rss_libvirt_before=$RSS_BEFORE rss_libvirt_after=$RSS_AFTER"
echo PASS
