#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hocus-agent's lines arrive on the host side of dev.hocus.agent.0, parse, stay
# within the protocol's bounds, and report the recipe as the guest kernel sees it.
. "$(dirname "$0")/lib.sh"

# This test reads the wire itself; QEMU serves one client per channel, so
# hocusd must leave the socket alone.
E2E_AGENT_CHANNEL=false
write_config '"metrics": { "agent_channel": false }'
start_hocusd
new_name ws agent
hocusctl create "$ws" >/dev/null
measure "boot_seconds=$(boot "$ws")"
sock=$(agent_socket "$ws")

coproc LINES { exec socat -u "UNIX-CONNECT:$sock" - 2>/dev/null; }
prev=-1
for i in 1 2 3 4; do
    IFS= read -r -t 10 line <&"${LINES[0]}" || fail "no line $i within 10 s"
    [ ${#line} -lt 4096 ] || fail "line $i is ${#line} bytes long"
    jq -e . >/dev/null <<< "$line" || fail "line $i is not JSON: $line"
    [ "$(jq -r .v <<< "$line")" = 1 ] || fail "protocol version is not 1"
    [ "$(jq -r .type <<< "$line")" = telemetry ] || fail "line $i is not telemetry"
    seq=$(jq -r .seq <<< "$line")
    [ "$seq" -gt "$prev" ] || fail "seq did not increase ($prev -> $seq)"
    prev=$seq
done
kill "$LINES_PID" 2>/dev/null || true
wait "$LINES_PID" 2>/dev/null || true
note "last line: $line"

# Nobody reads for 6 s: the agent drops lines instead of blocking or queueing
# them, and counts what it dropped.
dropped0=$(jq -r .dropped_lines <<< "$line")
sleep 6
guest_run "$ws" 10 "true" || fail "the guest's shell does not answer while its agent is unread"
coproc LINES { exec socat -u "UNIX-CONNECT:$sock" - 2>/dev/null; }
IFS= read -r -t 10 line <&"${LINES[0]}" || fail "no line after reconnecting"
kill "$LINES_PID" 2>/dev/null || true
note "first line after 6 s unread: seq $(jq -r .seq <<< "$line"), dropped_lines $(jq -r .dropped_lines <<< "$line")"
[ "$(jq -r .seq <<< "$line")" -ge $((prev + 5)) ] ||
    fail "the agent did not keep going while unread (seq $prev -> $(jq -r .seq <<< "$line"))"
[ "$(jq -r .dropped_lines <<< "$line")" -gt "$dropped0" ] ||
    fail "the agent did not count the lines it dropped ($dropped0 -> $(jq -r .dropped_lines <<< "$line"))"

check() { [ "$(jq -r "$1" <<< "$line")" = "$2" ] || fail "$1 is $(jq -c "$1" <<< "$line"), want $2"; }
check .recipe.ok true
check .recipe.page_reporting_order 0
check .recipe.thp never
check .recipe.balloon true
check .recipe.free_page_reporting true
check .recipe.psi true
check .recipe.cgroup2_memory true
check .reclaim.enabled true
check '.recipe.missing | length' 0
check '.mem.total > 900000000' true
check '.psi.some.total_us >= 0' true
check '.lock.files >= 1' true      # busybox, the test image's shell
# The guest tells the same as its own sysfs.
thp=$(guest_run "$ws" 10 "cat /sys/kernel/mm/transparent_hugepage/enabled") ||
    fail "reading THP's setting in the guest failed (exit $?): '$thp'"
[ "$thp" = "always madvise [never]" ] || fail "THP is not off in the guest: enabled reads '$thp'"
echo PASS
