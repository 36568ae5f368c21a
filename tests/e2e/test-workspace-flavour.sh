#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The "workspace" flavour: a Debian 12 disk booted through the shared
# initramfs (hocus.root=/dev/vda), systemd, sshd and hocus-agent as a service.
# The agent must find the recipe in place and keep sshd resident, and the idle
# workspace must give back what its boot touched.
. "$(dirname "$0")/lib.sh"

base="$GUEST_DIR/workspace.qcow2"
[ -s "$base" ] || skip "no workspace image in $GUEST_DIR (scripts/setup.sh builds it)"
write_config
start_hocusd
new_name ws debian
hocusctl create "$ws" --base-image "$base" --cmdline "hocus.root=/dev/vda" --disk 8G >/dev/null
t0=$(now)
hocusctl start "$ws" >/dev/null
line=$(first_agent_line "$ws" 300)
[ -n "$line" ] || fail "the Debian guest's agent sent nothing within 300 s"
measure "debian_boot_to_agent_seconds=$(elapsed "$t0")"
rss_boot=$(domain_rss "$ws")

check() { [ "$(jq -r "$1" <<< "$line")" = "$2" ] || fail "$1 is $(jq -c "$1" <<< "$line"), want $2"; }
check .recipe.ok true
check .recipe.page_reporting_order 0
check .recipe.thp never
check .recipe.cgroup2_memory true
# sshd and systemd with their libraries: several files, megabytes.
check '.lock.files >= 5' true
check '.lock.bytes > 4000000' true
# The overlay disk: its backing file is the shared image, and it stays unwritten.
xml=$(virsh -c $URI dumpxml "$ws")
grep -qF "<source file='$base'" <<< "$xml" || fail "the disk is not an overlay of $base"

sleep 60
line=$(first_agent_line "$ws" 10)
rss_idle=$(domain_rss "$ws")
measure "debian_rss_mib after_boot=$(mib "$rss_boot") after_60s_idle=$(mib "$rss_idle") guest_cached_mib=$(( $(jq -r .mem.cached <<< "$line") / 1048576 )) agent_reclaimed_mib=$(( $(jq -r .reclaim.reclaimed_bytes <<< "$line") / 1048576 ))"
[ "$rss_idle" -lt "$rss_boot" ] || fail "the idle workspace did not give back any of its boot memory"
echo PASS
