#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A create takes as long as libvirt takes, and hocusctl waits for it: with
# libvirtd stopped (SIGSTOP) for 35 s, longer than D-Bus's 25 s default reply
# timeout that used to fail hocusctl, the create returns success. A client
# that gives up on its own (--timeout) exits 9 saying that hocusd goes on, and
# the workspace appears once libvirtd answers again.
. "$(dirname "$0")/lib.sh"

LV_PID=
resume_libvirtd() { [ -n "$LV_PID" ] && kill -CONT "$LV_PID" 2>/dev/null; LV_PID=; }
hd_at_exit resume_libvirtd

# Keepalive must outlast the stall: 5 s x (30 + 1).
write_config '"libvirt_keepalive": { "interval_s": 5, "count": 30 }'
start_hocusd
accelerator >/dev/null # chosen before libvirtd stalls, so the stall is the define's
new_name ws slow
new_name ws2 gaveup

LV_PID=$(pgrep -xo libvirtd)
[ -n "$LV_PID" ] || fail "no libvirtd"
note "libvirtd $LV_PID stopped for 35 s while creating $ws"
kill -STOP "$LV_PID"
t0=$(now)
hocusctl create "$ws" > "$E2E_DIR/create.out" 2>&1 &
create_pid=$!
hocusctl create "$ws2" --timeout 5 > "$E2E_DIR/gaveup.out" 2>&1 &
gaveup_pid=$!
rc=0
wait "$gaveup_pid" || rc=$?
[ "$rc" = 9 ] || fail "create --timeout 5 exited $rc, want 9: $(cat "$E2E_DIR/gaveup.out")"
grep -q "gave up waiting after 5 s (--timeout); hocusd goes on with: creating workspace $ws2" \
    "$E2E_DIR/gaveup.out" || fail "create --timeout 5 said: $(cat "$E2E_DIR/gaveup.out")"
grep -qi "fail" "$E2E_DIR/gaveup.out" && fail "a client that gave up was told 'failed'"
sleep 30
kill -0 "$create_pid" 2>/dev/null || fail "hocusctl create ended while libvirtd was stopped: $(cat "$E2E_DIR/create.out")"
resume_libvirtd
rc=0
wait "$create_pid" || rc=$?
took=$(elapsed "$t0")
measure "create_seconds_with_libvirtd_stopped_35s=$took"
[ "$rc" = 0 ] || fail "create exited $rc after libvirtd resumed: $(cat "$E2E_DIR/create.out")"
grep -q "Created workspace $ws" "$E2E_DIR/create.out" || fail "create said: $(cat "$E2E_DIR/create.out")"
awk -v t="$took" 'BEGIN { exit !(t >= 35) }' || fail "the create returned after $took s, before libvirtd resumed"
virsh -c $URI dominfo "$ws" >/dev/null || fail "$ws is not defined in libvirt"

note "the create the client gave up on went on in hocusd"
poll 100 0.2 listed "$ws2" || fail "$ws2 was not created after the client gave up"
[ "$(state_of "$ws2")" = shutoff ] || fail "$ws2 is $(state_of "$ws2")"
grep -q "Lost the libvirt connection" "$E2E_DIR/hocusd.log" && fail "the stall dropped the connection"
echo PASS
