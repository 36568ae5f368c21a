#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A workspace boots on real QEMU with the whole recipe in its definition,
# survives hocusd being SIGKILLed and libvirtd being restarted, stops
# gracefully when its guest honours the ACPI power button and is powered off
# at stop_timeout_s when it does not.
. "$(dirname "$0")/lib.sh"

# DAMON_RECLAIM is off by default; on here so that its parameters are checked too.
write_config '"stop_timeout_s": 45, "damon_reclaim": { "enabled": true }'
start_hocusd
new_name ws life

note "create and boot $ws"
hocusctl create "$ws" >/dev/null
t0=$(now)
hocusctl start "$ws" >/dev/null
line=$(first_agent_line "$ws" 120)
boot=$(elapsed "$t0")
[ -n "$line" ] || fail "the guest sent nothing on dev.hocus.agent.0"
echo "$line" | jq -e . >/dev/null || fail "first agent line is not JSON: $line"
measure "boot_seconds=$boot accelerator=$(accelerator)"
note "guest said: ${line:0:200}"

note "the recipe is in the live definition, under the accelerator hocusd chose"
note "accelerator: $(accelerator) ($(mgr_prop VirtualizationReason))"
xml=$(virsh -c $URI dumpxml "$ws")
for want in "<domain type='$(domain_type)'" \
    "<memballoon model='virtio' autodeflate='on' freePageReporting='on'>" \
    "<stats period='1'/>" \
    "discard='unmap' detect_zeroes='unmap'" \
    "page_reporting.page_reporting_order=0" \
    "transparent_hugepage=never" \
    "damon_reclaim.enabled=Y" \
    "name='dev.hocus.agent.0' state='connected'" \
    "<hocus:workspace xmlns:hocus=\"https://hocus.dev/xmlns/hocusd/1\""; do
    grep -qF "$want" <<< "$xml" || fail "dumpxml lacks: $want"
done
if grep -q nosharepages <<< "$xml"; then fail "guest memory must stay mergeable by KSM"; fi
pid=$(qemu_pid "$ws")
measure "qemu_rss_kib_after_boot=$(rss_kib "$pid")"

note "SIGKILL hocusd; a new one finds $ws still running"
kill -9 "$HOCUSD_PID"
wait "$HOCUSD_PID" 2>/dev/null || true
[ "$(qemu_pid "$ws")" = "$pid" ] || fail "QEMU changed while hocusd was dead"
kill -0 "$pid" || fail "QEMU died with hocusd"
start_hocusd
[ "$(state_of "$ws")" = running ] || fail "restarted hocusd does not see $ws running"

note "restart libvirtd; hocusd reconnects by itself"
libvirtd_stop
libvirtd_start
kill -0 "$HOCUSD_PID" || fail "hocusd died when libvirtd restarted"
kill -0 "$pid" || fail "QEMU died when libvirtd restarted"
[ "$(state_of "$ws")" = running ] || fail "$ws not running after the reconnect"
grep -q "Lost the libvirt connection" "$E2E_DIR/hocusd.log" || fail "no log line for the lost connection"

note "graceful stop: the guest honours the ACPI power button, well before stop_timeout_s (45 s)"
t0=$(now)
hocusctl stop "$ws" --timeout 60 >/dev/null
secs=$(elapsed "$t0")
measure "acpi_stop_seconds=$secs"
[ "$(state_of "$ws")" = shutoff ] || fail "$ws is $(state_of "$ws") after stop"
grep -q "Workspace $ws did not shut down within" "$E2E_DIR/hocusd.log" &&
    fail "the graceful stop of $ws was forced"
grep -q "Workspace $ws: powered off" "$E2E_DIR/hocusd.log" && fail "$ws was powered off, not shut down"
awk -v s="$secs" 'BEGIN { exit !(s < 40) }' || fail "the ACPI stop took $secs s, near stop_timeout_s"

note "forced stop: a guest that ignores the power button is powered off at stop_timeout_s (8 s)"
write_config '"stop_timeout_s": 8'
stop_pid "$HOCUSD_PID"
start_hocusd
boot "$ws" >/dev/null
guest_run "$ws" 10 "rm /etc/acpi/PWRF/00000080" || fail "cannot remove the guest's power-button handler"
t0=$(now)
hocusctl stop "$ws" --timeout 60 >/dev/null
secs=$(elapsed "$t0")
measure "forced_stop_seconds=$secs"
[ "$(state_of "$ws")" = shutoff ] || fail "$ws is $(state_of "$ws") after the forced stop"
grep -q "Workspace $ws did not shut down within 8 s; powering it off" "$E2E_DIR/hocusd.log" ||
    fail "the log does not say that $ws was forced"
grep -q "Workspace $ws: powered off" "$E2E_DIR/hocusd.log" || fail "the log does not say powered off"
# GLib's second timers may fire up to 1/4 s early.
awk -v s="$secs" 'BEGIN { exit !(s >= 7.5 && s < 30) }' || fail "the forced stop took $secs s, not about 8"

note "delete"
disk=$(virsh -c $URI vol-path "$ws.qcow2" --pool hocusd-e2e)
[ -f "$disk" ] || fail "no disk file $disk"
hocusctl delete "$ws" >/dev/null
if virsh -c $URI dominfo "$ws" >/dev/null 2>&1; then fail "domain still defined after delete"; fi
[ ! -e "$disk" ] || fail "disk $disk still there after delete"

note "a start that QEMU refuses: its words reach hocusctl and stay on the workspace"
new_name bad lasterr
hocusctl create "$bad" >/dev/null
rm -f "$E2E_IMAGES/$bad.qcow2" # behind hocusd's back: QEMU cannot open the disk
rc=0
out=$(hocusctl start "$bad" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "start without a disk succeeded"
note "hocusctl start said: $out"
grep -q "$bad.qcow2" <<< "$out" || fail "start's error does not name the missing disk: $out"
last=$(hocusctl --json show "$bad" | jq -r .last_error)
[ -n "$last" ] && grep -q "$bad.qcow2" <<< "$last" || fail "LastError is '$last'"
[ "$(hocusctl --json show "$bad" | jq -r .last_error_usec)" != 0 ] || fail "no LastErrorUsec"
hocusctl show "$bad" | grep -q "^Last error:   .*$bad.qcow2" || fail "show does not print the last error"
hocusctl status | grep -q "^  $bad: .*$bad.qcow2" || fail "status does not print the last error"
note "a disk file already named like a new workspace's: AlreadyExists, and the file is left alone"
new_name dup exists
echo "somebody's data" > "$E2E_IMAGES/$dup.qcow2"
sum=$(sha256sum < "$E2E_IMAGES/$dup.qcow2")
rc=0
out=$(hocusctl create "$dup" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "create over an existing $dup.qcow2 succeeded"
grep -q "already exists" <<< "$out" || fail "create said: $out"
[ "$(sha256sum < "$E2E_IMAGES/$dup.qcow2")" = "$sum" ] || fail "$dup.qcow2 was changed"
if virsh -c $URI dominfo "$dup" >/dev/null 2>&1; then fail "a domain $dup was left defined"; fi
listed "$dup" && fail "hocusd lists $dup"
note "a define libvirt refuses: the error reaches the caller and the new volume is deleted"
new_name rb rollback
stop_pid "$HOCUSD_PID"
HD_FAULT_DEFINE_NAME="$rb" LD_PRELOAD="$HD_FAULT_DEFINE" start_hocusd
rc=0
out=$(hocusctl create "$rb" 2>&1) || rc=$?
note "hocusctl create said: $out"
[ "$rc" != 0 ] || fail "create $rb succeeded although libvirt refused its definition"
grep -q "hd-fault-define" <<< "$out" || fail "the error does not carry libvirt's reason: $out"
[ -e "$E2E_IMAGES/$rb.qcow2" ] && fail "$rb.qcow2 was left behind after the failed define"
virsh -c $URI vol-list hocusd-e2e | grep -q " $rb.qcow2 " && fail "libvirt still lists volume $rb.qcow2"
if virsh -c $URI dominfo "$rb" >/dev/null 2>&1; then fail "a domain $rb was defined"; fi
listed "$rb" && fail "hocusd lists $rb"
note "the same name is free once libvirt accepts the definition again"
stop_pid "$HOCUSD_PID"
start_hocusd
hocusctl create "$rb" >/dev/null || fail "create $rb failed after the rollback"
[ -e "$E2E_IMAGES/$rb.qcow2" ] || fail "$rb.qcow2 missing after the second create"
hocusctl delete "$rb" >/dev/null || fail "delete $rb failed"
echo "PASS"
