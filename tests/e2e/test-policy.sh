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
#  3. when the limit goes, balloons drift back to memory_max.
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

# The memory cgroup that holds the QEMU processes (libvirt's "machine"),
# and its limit file: v1 memory.limit_in_bytes, v2 memory.max.
cg_line=$(grep -E '^[0-9]+:(memory|[^:]*,memory[^:]*):|^0::' "/proc/$(qemu_pid "$busy")/cgroup" |
          sort | tail -n1)
case $cg_line in
0::*) CG=/sys/fs/cgroup/unified$(dirname "${cg_line#0::}")
      [ -d "$CG" ] || CG=/sys/fs/cgroup$(dirname "${cg_line#0::}")
      LIMIT_FILE=$CG/memory.max USAGE_FILE=$CG/memory.current UNLIMITED=max ;;
*)    CG=/sys/fs/cgroup/memory$(dirname "${cg_line##*:}")
      LIMIT_FILE=$CG/memory.limit_in_bytes USAGE_FILE=$CG/memory.usage_in_bytes UNLIMITED=-1 ;;
esac
[ -w "$LIMIT_FILE" ] || skip "no writable memory limit for the machine cgroup ($LIMIT_FILE)"
note "machine cgroup: $CG"
hd_at_exit 'echo $UNLIMITED > "$LIMIT_FILE" 2>/dev/null || true'

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
    echo "$limit" > "$LIMIT_FILE"
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
# The idle one first: while it is above its floor the busy one keeps memory_max.
floor_reached() { [ "$(ws_prop "$idle" PolicyState)" = '"at-floor"' ]; }
while ! floor_reached; do
    awk -v e="$(elapsed "$t0")" 'BEGIN { exit !(e < 90) }' ||
        fail "$idle did not reach its floor within 90 s: $(hocusctl policy)"
    if taken "$busy"; then
        fail "$busy was taken from while $idle was above its floor: $(hocusctl policy)"
    fi
    keep_short
    sleep 2
done
first=$(hocusctl --json policy -n 200 | jq -r '[.decisions[] | select(.reclaim_bytes == 0)][0].workspace')
[ "$first" = "$idle" ] || fail "the first balloon decision was for $first, not $idle"
# What inflating the balloon of a guest that holds fragmented free memory returns.
poll 20 1 bash -c "[ \$(awk '/^VmRSS:/ {print \$2}' /proc/$(qemu_pid "$idle")/status) -lt $((idle_rss0 - 100 * 1024)) ]" ||
    fail "$idle's RSS went only from $(mib "$idle_rss0") to $(mib "$(domain_rss "$idle")") MiB"
measure "idle_taken_after_s=$t_taken idle_rss_mib=$(mib "$idle_rss0")->$(mib "$(domain_rss "$idle")") returned_within_s=$(elapsed "$t0") idle_balloon_mib=$(($(ws_prop "$idle" BalloonBytes) >> 20)) idle_state=$(ws_prop "$idle" PolicyState)"

# 2. The host stays short; the busy one is next.
for _ in $(seq 1 30); do
    taken "$busy" && break
    keep_short
    sleep 2
done
taken "$busy" || fail "$busy was never taken from under lasting pressure: $(hocusctl policy)"
busy_target=$(($(ws_prop "$busy" PolicyTargetBytes) >> 20))
# A stall in the busy guest: a process in a cgroup whose memory.high is far
# below what it allocates is throttled, which the guest's PSI counts.
guest_run "$busy" 10 "mkdir -p /sys/fs/cgroup/stall && echo +memory > /sys/fs/cgroup/cgroup.subtree_control && echo 16M > /sys/fs/cgroup/stall/memory.high && ( echo \$\$ > /sys/fs/cgroup/stall/cgroup.procs; exec hocus-mem alloc 48 40 ) > /dev/null 2>&1 &" >/dev/null
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
echo "$UNLIMITED" > "$LIMIT_FILE"
t2=$(now)
back() { ! taken "$idle" && ! taken "$busy"; }
poll 90 1 back || fail "balloons did not drift back: $(hocusctl policy)"
measure "back_to_max_after_s=$(elapsed "$t2")"
hocusctl policy -n 12
echo PASS
