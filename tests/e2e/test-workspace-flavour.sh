#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The "workspace" flavour: a Debian 12 disk booted through the shared
# initramfs (hocus.root=/dev/vda), systemd, sshd and hocus-agent as a service.
# The agent must find the recipe in place and keep sshd resident. When hocusd
# chose TCG (docs/accelerator.md) it bounds QEMU's translation cache
# (tcg_tb_cache_mib, 64 MiB by default): a control domain with QEMU's default 1 GiB cache, booted alongside, must end
# up with a larger footprint for the same guest.
. "$(dirname "$0")/lib.sh"

base="$GUEST_DIR/workspace.qcow2"
[ -s "$base" ] || skip "no workspace image in $GUEST_DIR (scripts/setup.sh builds it)"
write_config
start_hocusd
new_name ws debian
hocusctl create "$ws" --base-image "$base" --cmdline "hocus.root=/dev/vda" --disk 8G >/dev/null
xml=$(virsh -c $URI dumpxml --inactive "$ws")
kvm=false
[ "$(accelerator)" = kvm ] && kvm=true
if $kvm; then
    grep -q "<tb-cache" <<< "$xml" && fail "a KVM domain got a TCG translation cache size"
else
    grep -qF "<tb-cache unit='KiB'>65536</tb-cache>" <<< "$xml" ||
        fail "the TCG domain has no 64 MiB translation cache: $(grep -A2 '<features>' <<< "$xml")"
fi
# The overlay disk: its backing file is the shared image.
grep -qF "<source file='$E2E_IMAGES/$ws.qcow2'" <<< "$xml" || fail "the disk is not in the pool"
backing=$(qemu-img info -U --output=json "$E2E_IMAGES/$ws.qcow2" | jq -r '."backing-filename"')
[ "$backing" = "$base" ] || fail "the overlay's backing file is '$backing', want $base"

new_name ctl debctl
define_variant "$ws" "$ctl" "/<tcg>/,/<\/tcg>/d"
t0=$(now)
hocusctl start "$ws" >/dev/null
$kvm || virsh -c $URI start "$ctl" >/dev/null
line=$(first_agent_line "$ws" 300)
[ -n "$line" ] || fail "the Debian guest's agent sent nothing within 300 s"
measure "debian_boot_to_agent_seconds=$(elapsed "$t0")"

check() { [ "$(jq -r "$1" <<< "$line")" = "$2" ] || fail "$1 is $(jq -c "$1" <<< "$line"), want $2"; }
check .recipe.ok true
check .recipe.page_reporting_order 0
check .recipe.thp never
check .recipe.cgroup2_memory true
# sshd and systemd with their libraries: several files, megabytes.
check '.lock.files >= 5' true
check '.lock.bytes > 4000000' true

$kvm && { echo PASS; exit 0; }
[ -n "$(first_agent_line "$ctl" 300)" ] || fail "the control guest's agent sent nothing within 300 s"
rss_boot=$(domain_rss "$ws")
ctl_boot=$(domain_rss "$ctl")
sleep 60
line=$(first_agent_line "$ws" 10)
rss_idle=$(domain_rss "$ws")
ctl_idle=$(domain_rss "$ctl")
used=$(( ($(jq -r .mem.total <<< "$line") - $(jq -r .mem.free <<< "$line") - $(jq -r .mem.cached <<< "$line")) / 1048576 ))
measure "debian_rss_mib tb_cache_64=$(mib "$rss_boot")->$(mib "$rss_idle") qemu_default=$(mib "$ctl_boot")->$(mib "$ctl_idle") (after boot -> after 60 s idle) guest_used_mib=$used"
# The bounded cache must save more than noise: at least 64 MiB here.
[ $(( ctl_idle - rss_idle )) -gt $(( 64 * 1024 )) ] ||
    fail "the 64 MiB translation cache saved $(( (ctl_idle - rss_idle) / 1024 )) MiB, want > 64"
echo PASS
