#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job, from a fresh Debian 12 machine, as root: set everything up,
# start hocusd, create and boot a demo workspace, and show it with hocusctl
# and virsh. hocusd and the workspace keep running afterwards.
#   scripts/demo.sh           set up and run the demo
#   scripts/demo.sh --stop    stop the demo workspace, hocusd and the services
#                             these scripts started
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
name=demo
hocusctl=$HOCUS_PREFIX/bin/hocusctl

stop_hocusd() {
    if systemd_is_init; then
        systemctl stop hocusd.service || true
    elif [ -f "$HOCUS_RUN/hocusd.pid" ]; then
        kill "$(cat "$HOCUS_RUN/hocusd.pid")" 2>/dev/null || true
        rm -f "$HOCUS_RUN/hocusd.pid"
    fi
}

if [ "${1:-}" = --stop ]; then
    "$hocusctl" stop "$name" --force 2>/dev/null || true
    stop_hocusd
    "$HOCUS_ROOT/scripts/services.sh" stop
    exit 0
fi

"$HOCUS_ROOT/scripts/setup.sh"
"$HOCUS_ROOT/scripts/services.sh" start
mkdir -p "$HOCUS_RUN"

say "Starting hocusd"
if systemd_is_init; then
    systemctl daemon-reload
    systemctl restart hocusd.service
elif ! { [ -f "$HOCUS_RUN/hocusd.pid" ] && kill -0 "$(cat "$HOCUS_RUN/hocusd.pid")" 2>/dev/null; }; then
    # No systemd here: run it in the background, logging to /var/log/hocusd.log.
    nohup "$HOCUS_PREFIX/sbin/hocusd" >> /var/log/hocusd.log 2>&1 &
    echo $! > "$HOCUS_RUN/hocusd.pid"
fi
wait_hocusd || die "hocusd did not come up; see /var/log/hocusd.log"

# hocusd chooses KVM or TCG once per host (a first start probes KVM by
# booting a guest: seconds); creates wait for the choice.
mgr_get() {
    busctl --system --json=short get-property dev.hocus.Hocusd1 /dev/hocus/Hocusd1 \
        dev.hocus.Hocusd1.Manager "$1" | jq -r .data
}
virt=
for _ in $(seq 1 600); do
    virt=$(mgr_get Virtualization)
    [ -n "$virt" ] && break
    sleep 0.2
done
say "Accelerator: ${virt:-not chosen yet} ($(mgr_get VirtualizationReason))"

if ! "$hocusctl" show "$name" >/dev/null 2>&1; then
    say "Creating workspace '$name' (1 GiB, 1 vCPU, 4 GiB disk)"
    t0=$(date +%s.%N)
    "$hocusctl" create "$name" --memory 1G --vcpus 1 --disk 4G
    say "Created in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
fi
if [ "$("$hocusctl" --json show "$name" | jq -r .state)" != running ]; then
    say "Starting workspace '$name'"
    t0=$(date +%s.%N)
    "$hocusctl" start "$name"
    # The guest's first line on its agent channel means it has booted; hocusd
    # reads the channel and publishes the line as the AgentLine property.
    line=
    for _ in $(seq 1 900); do
        line=$(busctl --system --json=short get-property dev.hocus.Hocusd1 \
            "/dev/hocus/Hocusd1/workspace/${name//-/_}" dev.hocus.Hocusd1.Workspace AgentLine |
            jq -r .data)
        [ -n "$line" ] && break
        sleep 0.2
    done
    t1=$(date +%s.%N)
    [ -n "$line" ] || die "the guest sent nothing on its agent channel within 180 s"
    say "Booted in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; first agent line: ${line:0:160}"
fi

say "hocusctl list"
"$hocusctl" list
say "hocusctl show $name"
"$hocusctl" show "$name"
sleep 3 # a few samples, for CPU use and the figures that need two
say "hocusctl status"
"$hocusctl" status
say "virsh list --all"
virsh -c qemu:///system list --all
say "The memory recipe in virsh dumpxml $name"
virsh -c qemu:///system dumpxml "$name" |
    grep -E "memballoon|stats period|discard=|<cmdline>|dev\.hocus\.agent|hocus:workspace" |
    sed 's/^ */  /' | cut -c1-200
pid=$(cat "/run/libvirt/qemu/$name.pid")
say "QEMU (pid $pid) $(grep VmRSS "/proc/$pid/status")"
cat <<MSG

The workspace keeps running. Try:
  virsh console $name                  (leave with Ctrl-])
  $hocusctl --json show $name
  $hocusctl stop $name
  scripts/demo.sh --stop              stop it all again
MSG
