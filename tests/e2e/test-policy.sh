#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The memory policy in active mode on real QEMU, under host pressure made by
# a memory limit on the cgroup that holds the QEMU processes:
#  1. an idle workspace gives memory back first (its balloon inflates, and
#     the fragmented free memory it held leaves the host at once), while a
#     busy one keeps memory_max;
#  2. once the busy one is taken from too, a stall in it (guest PSI, from a
#     memory.high throttle inside the guest) gives it memory_max back at
#     once, and the policy leaves it alone for the hold time although the
#     host stays short;
#  3. when the limit goes, balloons drift back to memory_max;
#  4. SetMemoryRange on a running workspace (hocusctl set-memory).
. "$(dirname "$0")/lib.sh"

# Thresholds in proportion to two small TCG guests (the defaults are for
# hosts with many workspaces): pressure below 30 % of the budget available,
# calm again at 40 %.
# Under TCG an idle guest next to a busy one uses a few % of a core.
write_config '"metrics": { "idle_after_s": 5, "idle_cpu_percent": 25 },
  "policy": { "mode": "active", "headroom_pressure_pct": 30, "headroom_calm_pct": 40,
              "headroom_critical_pct": 5, "calm_after_s": 8, "hold_s": 30,
              "reclaim_lead_s": 2 }'
start_hocusd
[ "$(mgr_prop PolicyMode)" = '"active"' ] || fail "PolicyMode is $(mgr_prop PolicyMode), want active"

new_name idle pol-idle
new_name busy pol-busy
hocusctl create "$idle" >/dev/null
hocusctl create "$busy" >/dev/null
measure "boot_seconds_idle=$(boot "$idle") boot_seconds_busy=$(boot "$busy")"

machine_cgroup "$busy"
note "machine cgroup: $MACHINE_CG"

# The busy one computes; the idle one frees 200 MiB in 4 KiB pieces and
# then sleeps, so that it holds fragmented free memory when pressure comes.
guest_run "$busy" 10 "( while :; do :; done ) > /dev/null 2>&1 &" >/dev/null
guest_run "$idle" 10 "hocus-mem frag 400 > /tmp/frag.log 2>&1 &" >/dev/null
guest_wait_for "$idle" /tmp/frag.log fragmented 120
is_idle() { [ "$(ws_prop "$1" Idle)" = true ]; }
poll 60 1 is_idle "$idle" ||
    fail "$idle did not turn idle (CpuUsage $(ws_prop "$idle" CpuUsage))"
! is_idle "$busy" || fail "$busy is idle although it computes"

# Pressure: the limit at what the machine cgroup uses now plus 100 MiB,
# again whenever what was given back let the host out of pressure.
squeeze() {
    local usage
    usage=$(cat "$USAGE_FILE")
    limit=$((usage + 100 * 1024 * 1024))
    set_machine_limit "$limit"
    note "limit $((limit >> 20)) MiB (usage $((usage >> 20)) MiB)"
}
keep_short() {
    case $(mgr_prop PolicyHostLevel) in
    '"pressure"' | '"critical"') ;;
    *) squeeze ;;
    esac
}
idle_rss0=$(domain_rss "$idle")
note "idle RSS $(mib "$idle_rss0") MiB"
squeeze
t0=$(now)

taken() { [ "$(ws_prop "$1" PolicyTargetBytes)" -lt $((1024 << 20)) ]; }
poll 30 1 taken "$idle" || fail "no memory was taken from $idle: $(hocusctl policy)"
t_taken=$(elapsed "$t0")
budget=$(mgr_prop PolicyBudgetBytes)
[ "$budget" -le "$limit" ] && [ "$budget" -ge $((limit - 200 * 1024 * 1024)) ] ||
    fail "PolicyBudgetBytes is $budget, not the cgroup limit (last set: $limit)"
# The idle one first: the busy one is taken from only once what the idle
# one can still give (down to its floor) no longer covers the need.
for _ in $(seq 1 45); do
    taken "$busy" && break
    keep_short
    sleep 2
done
taken "$busy" || fail "$busy was never taken from under lasting pressure: $(hocusctl policy)"
log=$(hocusctl --json policy -n 200 | jq -c '[.decisions[] | select(.reclaim_bytes == 0)]')
first=$(jq -r '.[0].workspace' <<< "$log")
[ "$first" = "$idle" ] || fail "the first balloon decision was for $first, not $idle"
given=$(jq --arg busy "$busy" '(map(.workspace == $busy) | index(true)) as $b |
    .[:$b] | map(.previous_bytes - .target_bytes) | add / 1048576 | floor' <<< "$log")
[ "$given" -ge 256 ] || fail "$idle gave only $given MiB before $busy was taken from: $log"
# What inflating the balloon of a guest that holds fragmented free memory returns.
poll 20 1 bash -c "[ \$(awk '/^VmRSS:/ {print \$2}' /proc/$(qemu_pid "$idle")/status) -lt $((idle_rss0 - 100 * 1024)) ]" ||
    fail "$idle's RSS went only from $(mib "$idle_rss0") to $(mib "$(domain_rss "$idle")") MiB"
measure "idle_taken_after_s=$t_taken idle_gave_before_busy_mib=$given idle_rss_mib=$(mib "$idle_rss0")->$(mib "$(domain_rss "$idle")") returned_within_s=$(elapsed "$t0") idle_balloon_mib=$(($(ws_prop "$idle" BalloonBytes) >> 20)) idle_state=$(ws_prop "$idle" PolicyState)"

# 2. The busy one has been taken from; a stall in it now.
busy_target=$(($(ws_prop "$busy" PolicyTargetBytes) >> 20))
# A stall in the busy guest: a process in a cgroup whose memory.high is far
# below what it allocates is throttled, which the guest's PSI counts.
guest_run "$busy" 10 "mkdir -p /sys/fs/cgroup/stall && echo +memory > /sys/fs/cgroup/cgroup.subtree_control && echo 16M > /sys/fs/cgroup/stall/memory.high" >/dev/null ||
    fail "cannot make a cgroup with memory.high in $busy"
guest_run "$busy" 10 "sh -c 'echo \$\$ > /sys/fs/cgroup/stall/cgroup.procs && exec hocus-mem alloc 48 40' > /dev/null 2>&1 &" >/dev/null
t1=$(now)
protected() { [ "$(ws_prop "$busy" PolicyState)" = '"protected"' ]; }
poll 40 1 protected || fail "$busy was not protected: guest $(ws_prop "$busy" Guest); $(hocusctl policy)"
t_protected=$(elapsed "$t1")
[ "$(ws_prop "$busy" PolicyTargetBytes)" = $((1024 << 20)) ] ||
    fail "$busy's target is $(ws_prop "$busy" PolicyTargetBytes) while protected, not memory_max"
reason=$(ws_prop "$busy" PolicyReason)
[[ $reason == *"guest PSI some avg10"* ]] || fail "protected for another reason: $reason"
poll 20 1 bash -c "[ \$(busctl --address '$BUS' --json=short get-property dev.hocus.Hocusd1 $(ws_path "$busy") dev.hocus.Hocusd1.Workspace BalloonBytes | jq .data) -ge $(((1024 - 8) << 20)) ]" ||
    fail "$busy's balloon did not go back to memory_max"
# Held: for the next 10 s nothing is taken from it though the host is short.
squeeze
for _ in $(seq 1 10); do
    taken "$busy" && fail "$busy was taken from during its hold: $(hocusctl policy)"
    sleep 1
done
level=$(mgr_prop PolicyHostLevel)
measure "busy_target_before_mib=$busy_target protected_after_s=$t_protected host_level_during_hold=$level reason=$reason"
[ "$level" = '"pressure"' ] || [ "$level" = '"critical"' ] || note "the host left pressure during the hold ($level)"

# 3. The limit goes: after calm_after_s balloons drift back to memory_max.
lift_machine_limit
t2=$(now)
back() { ! taken "$idle" && ! taken "$busy"; }
poll 90 1 back || fail "balloons did not drift back: $(hocusctl policy)"
measure "back_to_max_after_s=$(elapsed "$t2")"

# 4. A new range for a running workspace: above the new maximum it is
# ballooned down at once, the next boot gets that memory, and it cannot
# grow past what it was started with.
hocusctl set-memory "$idle" --min 300M --max 768M >/dev/null
under_768() { [ "$(ws_prop "$idle" BalloonBytes)" -le $(((768 + 4) << 20)) ]; }
poll 20 1 under_768 || fail "$idle's balloon is $(ws_prop "$idle" BalloonBytes) after set-memory --max 768M"
[ "$(ws_prop "$idle" MemoryMinBytes)" = $((300 << 20)) ] || fail "MemoryMinBytes is $(ws_prop "$idle" MemoryMinBytes)"
target_ok() { [ "$(ws_prop "$idle" PolicyTargetBytes)" = $((768 << 20)) ]; }
poll 10 1 target_ok || fail "PolicyTargetBytes is $(ws_prop "$idle" PolicyTargetBytes), not the new maximum"
next_boot=$(virsh -c $URI dumpxml --inactive "$idle" | sed -n "s|.*<memory unit='KiB'>\([0-9]*\)</memory>.*|\1|p")
[ "$next_boot" = $((768 * 1024)) ] || fail "the next boot's memory is $next_boot KiB, not 768 MiB"
rc=0
out=$(hocusctl set-memory "$idle" --max 2G 2>&1) || rc=$?
[ "$rc" = 8 ] && [[ $out == *"was started with"* ]] ||
    fail "growing a running workspace past its boot memory: rc $rc, '$out'"
measure "set_memory balloon_mib=$(($(ws_prop "$idle" BalloonBytes) >> 20)) next_boot_kib=$next_boot refused_rc=$rc"
hocusctl policy -n 12
echo PASS
